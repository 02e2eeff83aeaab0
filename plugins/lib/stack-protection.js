// @ts-check
// The protection of a shared stage's stack, set once by an administrator and checked on every deploy
// (plugins/production-safety.js). No IAM condition tells turning termination protection on from
// turning it off, nor a protective stack policy from a narrowing one, so no deployer may call
// UpdateTerminationProtection or SetStackPolicy: the administrator's step does (iam/stack-administrator.json),
// right after the stack's first deploy, and for the break-glass steps (a confirmed removal, a deliberate replacement).
const { mkdirSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

/** @typedef {import('../production-safety')} Safety */

/** A JSON value with its object keys sorted, so two policies compare by content. @param {unknown} value @returns {unknown} */
const canonical = (value) =>
  Array.isArray(value)
    ? value.map(canonical)
    : value && typeof value === 'object'
      ? Object.fromEntries(
          Object.keys(value)
            .sort()
            .map((key) => [key, canonical(/** @type {Record<string, unknown>} */ (value)[key])]),
        )
      : value;

/**
 * The stack policy without the deny of `allowed`; the same statements otherwise: what the
 * administrator sets for one deliberate replacement.
 * @param {Safety} safety the plugin: its settings, the stack, osls's provider
 * @param {string[]} allowed
 */
function narrowedPolicy(safety, allowed) {
  const policy = /** @type {{ Statement: any[] }} */ (structuredClone(safety.config.stackPolicy));
  for (const statement of policy.Statement) {
    if (statement.Effect !== 'Deny') continue;
    statement.Resource = statement.Resource.filter(
      (/** @type {string} */ resource) => !allowed.includes(resource.replace(/^LogicalResourceId\//, '')),
    );
  }
  policy.Statement = policy.Statement.filter((statement) => statement.Effect !== 'Deny' || statement.Resource.length);
  return policy;
}

/**
 * The administrator's commands that set the stack's protection: termination protection on and
 * `policy` as the stack policy (written to a file beside the package for them).
 * @param {Safety} safety the plugin: its settings, the stack, osls's provider
 * @param {unknown} policy
 * @param {{ protection: boolean }} options
 */
function administratorCommands(safety, policy, { protection }) {
  const folder = join(safety.serverless.serviceDir, '.serverless');
  mkdirSync(folder, { recursive: true });
  const file = join(folder, `stack-policy-${safety.config.stage}${safety.regions.home ? '' : `.${safety.regions.region}`}.json`);
  writeFileSync(file, `${JSON.stringify(policy, null, 2)}\n`);
  const where = `--region ${safety.regions.region} --stack-name ${safety.stackName}`;
  return [
    `  aws cloudformation update-termination-protection ${where} --${protection ? '' : 'no-'}enable-termination-protection`,
    `  aws cloudformation set-stack-policy ${where} --stack-policy-body file://${file}`,
  ].join('\n');
}

/**
 * Before a deploy of an existing shared stack: termination protection on, and the stack policy the
 * one this deploy needs (the full one, or the one narrowed for exactly the allowed replacements).
 * @param {Safety} safety the plugin: its settings, the stack, osls's provider
 * @param {string[]} allowed
 */
async function assertProtected(safety, allowed) {
  const expected = allowed.length ? narrowedPolicy(safety, allowed) : safety.config.stackPolicy;
  const { Stacks = [] } = await safety.provider.request('CloudFormation', 'describeStacks', { StackName: safety.stackName });
  const protection = Stacks[0]?.EnableTerminationProtection === true;
  const { StackPolicyBody } = await safety.provider.request('CloudFormation', 'getStackPolicy', { StackName: safety.stackName });
  const current = StackPolicyBody ? JSON.parse(StackPolicyBody) : undefined;
  const policyHolds = JSON.stringify(canonical(current)) === JSON.stringify(canonical(expected));
  if (protection && policyHolds) return;
  const missing = [
    ...(protection ? [] : ['termination protection is off']),
    ...(policyHolds ? [] : [current ? 'the stack policy is not the one this deploy needs' : 'the stack has no stack policy']),
  ].join(' and ');
  const why = allowed.length
    ? `This deploy replaces or removes ${allowed.join(', ')} (--param=${safety.config.confirmations.replace}), which the stack policy lets through only once an administrator has narrowed it for exactly these.`
    : 'A shared stack is deployed only while its protection is whole.';
  throw safety.error(
    `The shared stage ${safety.where}: ${missing}. Nothing was deployed. ${why} An administrator of the account runs (break-glass steps: "Accounts and the bootstrap" in docs/deploying.md):\n` +
      administratorCommands(safety, expected, { protection: true }),
  );
}

/**
 * After a deploy: a stack just created has no protection yet, and one deployed with an allowed
 * replacement still has the narrowed policy; the administrator's step closes either.
 * @param {Safety} safety the plugin: its settings, the stack, osls's provider
 * @param {{ created: boolean, allowed: string[] }} deploy
 */
function remindAdministrator(safety, { created, allowed }) {
  if (!created && !allowed.length) return;
  const what = created
    ? 'was just created: until an administrator protects it, no further deploy of it will run'
    : `still has the stack policy narrowed for ${allowed.join(', ')}: until an administrator restores it, no further deploy of it will run`;
  safety.log.warning(
    `The shared stage ${safety.where} ${what}. An administrator of the account runs now:\n${administratorCommands(safety, safety.config.stackPolicy, { protection: true })}`,
  );
}

/**
 * Before a confirmed removal: the administrator lifts termination protection first (a break-glass
 * step), or CloudFormation refuses the deletion after the domain and certificates are gone.
 * @param {Safety} safety the plugin: its settings, the stack, osls's provider
 */
async function assertRemovable(safety) {
  const { Stacks = [] } = await safety.provider.request('CloudFormation', 'describeStacks', { StackName: safety.stackName });
  if (Stacks[0]?.EnableTerminationProtection !== true) return;
  throw safety.error(
    `The shared stage ${safety.where} keeps termination protection on, so nothing was removed. Removing a shared stage is a break-glass step: ` +
      'an administrator of the account lifts the protection, then the removal runs again (see docs/protecting-prod.md):\n' +
      `  aws cloudformation update-termination-protection --region ${safety.regions.region} --stack-name ${safety.stackName} --no-enable-termination-protection`,
  );
}

module.exports = { assertProtected, assertRemovable, narrowedPolicy, remindAdministrator };
