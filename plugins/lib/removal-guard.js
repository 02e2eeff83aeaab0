// @ts-check
// The removal guard of a shared stage (plugins/production-safety.js): a command that deletes what
// the stage is made of, or changes it without the deploy gate, stops while osls loads the plugins,
// before any AWS call, unless confirmed with --param naming the stage.

/** @typedef {import('../production-safety')} Safety */

/**
 * Commands that delete what a shared stage is made of, or change it without the deploy gate,
 * and the confirmation (`confirmations` of resources/production-safety.ts) each needs. A
 * secondary region's stack is guarded like the home one; `secondaryWhat` says what it loses there.
 * @type {Record<string, { what: string, secondaryWhat?: string, confirmation: 'remove' | 'rollback' | 'function' }>}
 */
const guardedCommands = {
  remove: {
    what: 'deletes the stack: the queues with their messages, the JWKS API, the photo distribution, every contract parameter',
    secondaryWhat:
      "deletes this region's stack: its queues with their messages, its JWKS API, every contract parameter of the region " +
      '(the services running there lose their configuration, and logins and registrations there stop when the home region is down)',
    confirmation: 'remove',
  },
  'remove-cert': { what: 'deletes the certificate that CloudFront and the API domain serve with', confirmation: 'remove' },
  delete_domain: { what: 'deletes the API custom domain (public-api), which the public API service shares', confirmation: 'remove' },
  rollback: {
    what: 'puts an older template on the stack without the deploy gate (a key ring pointed back at an old store starts over)',
    confirmation: 'rollback',
  },
  // osls replaces a function's code before its configuration, with no diff, gate or review: the key
  // ring's code runs with the role that decrypts the signing keys.
  'deploy function': {
    what: "replaces a function's code with the working tree's, bypassing CloudFormation, the diff and the deploy gate",
    confirmation: 'function',
  },
  'rollback function': { what: "puts an older version of a function's code back, bypassing CloudFormation", confirmation: 'function' },
  invoke: {
    what: 'runs a function with an event of your own: the custom resources act on what the event says, outside any deploy',
    confirmation: 'function',
  },
};

/**
 * Runs while osls loads the plugins, before any hook: osls's own `initialize` hooks of `remove`
 * already start an AWS call, and the domain plugin deletes the domain in `before:remove:remove`.
 * @param {Safety} safety the plugin: its settings, the stack, osls's provider
 */
function guardDestructiveCommand(safety) {
  if (safety.serverless.processedInput.isHelpRequest || !safety.config) return;
  // serverless.ts reads the stage from the command line itself; osls must act on that same stage.
  const stage = safety.provider.getStage();
  if (stage !== safety.config.stage) {
    throw safety.error(
      `osls is working on stage "${stage}" but serverless.ts was built for "${safety.config.stage}". Nothing was done. ` +
        'Give the stage once, as --stage <name>.',
    );
  }
  // serverless.ts reads --region itself too: a stack of one region must never act on another's.
  const region = safety.provider.getRegion();
  if (region !== safety.regions.region) {
    throw safety.error(
      `osls is working on region ${region} but serverless.ts was built for ${safety.regions.region}. Nothing was done. ` +
        'Give the region once, as --region <region>.',
    );
  }
  const guarded = guardedCommands[/** @type {keyof typeof guardedCommands} */ (safety.command)];
  if (!guarded || !safety.config.shared) return;
  const param = safety.config.confirmations[guarded.confirmation];
  if (safety.params.get(param) === stage) return;
  const what = (!safety.regions.home && guarded.secondaryWhat) || guarded.what;
  throw safety.error(
    `${safety.where} is a shared stage: \`sls ${safety.command}\` in ${region} ${what}. Nothing was done. ` +
      `Deploy a fix instead, or do it deliberately: add --param=${param}=${stage} ` +
      '(see "Overrides" in docs/protecting-prod.md for what is kept and what is lost).',
  );
}

module.exports = { guardDestructiveCommand };
