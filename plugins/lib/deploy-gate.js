// @ts-check
// The deploy gate of a shared stage (plugins/production-safety.js): before anything is written, a
// deploy whose template would replace, remove or orphan retained data stops with the diff and the
// override; a package built for another stack stops too, and so does a stack whose protection
// (termination protection, stack policy: lib/stack-protection.js) is not what the deploy needs.
const { compareTemplates, describeDanger, isStateful, renderComparison } = require('./template-diff');
const { assertNothingToRecover } = require('./recovery');
const { assertProtected } = require('./stack-protection');

/** @typedef {import('../production-safety')} Safety */

/**
 * Before the deploy writes anything (the account was checked by plugins/preflight.js): the package is this stack's, and
 * the diff against the deployed stack loses no data (or the stack is gone and nothing is left to recover).
 * @param {Safety} safety the plugin: its settings, the stack, osls's provider
 */
async function beforeDeploy(safety) {
  assertPackageIsForThisStack(safety);
  if (!safety.config.shared) return;
  assertPolicyCoversPackage(safety);
  const deployed = await safety.deployedTemplate();
  if (!deployed) {
    await assertNothingToRecover(safety);
    safety.deployment = { created: true, allowed: [] };
    return;
  }
  const proposed = safety.serverless.service.provider.compiledCloudFormationTemplate;
  const comparison = compareTemplates(deployed, proposed, safety.config);
  const allowed = allowedReplacements(safety, comparison.dangers);
  const blocked = comparison.dangers.filter((danger) => !allowed.includes(danger.logicalId));
  if (blocked.length) {
    const ids = blocked.map((danger) => danger.logicalId).join(',');
    throw safety.error(
      `This deploy of the shared stage ${safety.where} would lose data, so nothing was deployed:\n` +
        `${blocked.map((danger) => `  - ${describeDanger(danger)}`).join('\n')}\n\n${renderComparison(comparison)}\n` +
        'A key schema change needs a new table and a migration, not a replacement. If this is really meant, deploy again with ' +
        `--param=${safety.config.confirmations.replace}=${ids} (see docs/protecting-prod.md).`,
    );
  }
  await assertProtected(safety, allowed);
  const replaced = comparison.dangers.filter((danger) => allowed.includes(danger.logicalId));
  if (allowed.length) {
    safety.log.warning(
      `Allowed by --param=${safety.config.confirmations.replace}: ${replaced.length ? replaced.map(describeDanger).join('; ') : 'nothing at risk in this deploy'}.`,
    );
  }
  safety.deployment = { created: false, allowed };
}

/**
 * `sls deploy --package <dir>` deploys what was packaged for the stage and region of that
 * package, whatever --stage and --region say: osls takes the package's template and settings
 * (its stage's protection included) and puts them on the stack it is asked to act on. A package
 * of another stage (a sandbox, without a deploy gate) or another region (the home stack's tables
 * in a secondary region) stops here.
 * @param {Safety} safety the plugin: its settings, the stack, osls's provider
 */
function assertPackageIsForThisStack(safety) {
  const stage = safety.provider.getStage();
  const region = safety.provider.getRegion();
  const packaged = {
    stage: safety.config?.stage ?? stage,
    region: safety.serverless.service.custom?.movementPassRegions?.region ?? region,
  };
  if (packaged.stage === stage && packaged.region === region) return;
  const options = safety.built.regions?.stackOptions ?? `--stage ${stage}`;
  throw safety.error(
    `The package to deploy was built for stage "${packaged.stage}" in ${packaged.region}, but this deploy acts on the stack of stage "${stage}" in ${region}. ` +
      `Nothing was deployed. Package for that stack and deploy it: \`npx sls package ${options} --package <dir>\`, then \`npx sls deploy ${options} --package <dir>\`.`,
  );
}

/**
 * The stack policy comes from serverless.ts; `sls deploy --package <dir>` deploys a template
 * packaged elsewhere. A stateful resource of that template the policy does not name stops it.
 * @param {Safety} safety the plugin: its settings, the stack, osls's provider
 */
function assertPolicyCoversPackage(safety) {
  const { Resources = {} } = safety.serverless.service.provider.compiledCloudFormationTemplate;
  const unprotected = Object.entries(Resources)
    .filter(([id, resource]) => isStateful(id, resource, safety.config) && !safety.built.config.protectedResources.includes(id))
    .map(([id]) => id);
  if (unprotected.length) {
    throw safety.error(
      `The template to deploy holds stateful resources the stack policy of this serverless.ts does not protect: ${unprotected.join(', ')}. ` +
        'Nothing was deployed. Package and deploy from the same commit (plain `sls deploy`, or `sls package` then `sls deploy --package` of that package).',
    );
  }
}

/**
 * Logical ids of `--param=allow-replace=...`, each a protected resource or one at risk in this deploy.
 * @param {Safety} safety the plugin: its settings, the stack, osls's provider
 * @param {import('./template-diff').Danger[]} dangers
 */
function allowedReplacements(safety, dangers) {
  const raw = safety.params.get(safety.config.confirmations.replace);
  if (raw === undefined) return [];
  const ids = raw
    .split(',')
    .map((id) => id.trim())
    .filter(Boolean);
  const known = [...safety.config.protectedResources, ...dangers.map((danger) => danger.logicalId)];
  const unknown = ids.filter((id) => !known.includes(id));
  if (!ids.length || unknown.length) {
    throw safety.error(
      `--param=${safety.config.confirmations.replace}= takes the logical ids of protected resources, comma-separated; ` +
        `${unknown.length ? `${unknown.join(', ')} is not one` : 'none was given'}. Protected: ${safety.config.protectedResources.join(', ')}.`,
    );
  }
  return ids;
}

module.exports = { beforeDeploy };
