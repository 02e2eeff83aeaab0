// @ts-check
// What a deploy would change, as `cdk diff` shows it (the same library, @aws-cdk/cloudformation-diff),
// with the stateful resources that would be replaced, removed or orphaned, or lose data in place
// (lib/data-losses.js), singled out first.
// Shared by `sls diff` (plugins/diff.js) and the deploy gate (plugins/production-safety.js).
const { Writable } = require('node:stream');
const { isRetained, isStateful } = require('../../resources/stateful');
const { dataLosses } = require('./data-losses');

/**
 * The diff library, loaded when a diff is made: every osls command constructs the plugins that
 * use this module, and most (`package`, `info`, `remove`) never diff.
 * @returns {typeof import('@aws-cdk/cloudformation-diff')}
 */
const cfnDiff = () => require('@aws-cdk/cloudformation-diff');

/** Impacts that lose or strand what a stateful resource holds. */
const dangerousImpacts = () => {
  const { ResourceImpact } = cfnDiff();
  return [ResourceImpact.WILL_REPLACE, ResourceImpact.MAY_REPLACE, ResourceImpact.WILL_DESTROY, ResourceImpact.WILL_ORPHAN];
};

/** @returns {Record<string, string>} */
const impactWords = () => {
  const { ResourceImpact } = cfnDiff();
  return {
    [ResourceImpact.WILL_REPLACE]: 'would be REPLACED',
    [ResourceImpact.MAY_REPLACE]: 'may be REPLACED',
    [ResourceImpact.WILL_DESTROY]: 'would be DELETED',
    [ResourceImpact.WILL_ORPHAN]: 'would be REMOVED from the stack (orphaned: kept in the account, no longer managed)',
  };
};

/** Outputs serverless-domain-manager adds to the template at deploy time, never at package time. */
const deployTimeOutputs = /^(DomainName|DistributionDomainName|HostedZoneId)(Http|Websocket)?$/;

/**
 * @typedef {import('./template-node').TemplateNode} TemplateNode
 * @typedef {{
 *   Type?: string,
 *   DeletionPolicy?: string,
 *   Properties?: { DeletionProtectionEnabled?: boolean, Replicas?: { Region: unknown, DeletionProtectionEnabled?: boolean }[] },
 * }} StatefulResource what the gate reads of a resource that holds data
 */

/**
 * @typedef {{ Resources?: Record<string, any>, Outputs?: Record<string, any>, [key: string]: any }} Template
 * @typedef {{ statefulTypes: readonly string[], frameworkResources?: readonly string[], physicalIdProperties: Record<string, string> }} Rules
 * @typedef {{ logicalId: string, type: string, impact: string, retained: boolean }} Danger
 */

/**
 * A `{{resolve:ssm:...}}` reference that the deploy replaced by its value (the certificates
 * plugin puts the validated certificate's literal ARN into the template it sends) is compared
 * as deployed: the packaged template cannot know the value, and it is not a change of the code.
 * @param {TemplateNode} packaged @param {TemplateNode} deployed @returns {TemplateNode}
 */
function asDeployed(packaged, deployed) {
  if (typeof packaged === 'string') {
    return /^\{\{resolve:ssm:[^}]+\}\}$/.test(packaged) && typeof deployed === 'string' && !deployed.startsWith('{{resolve:')
      ? deployed
      : packaged;
  }
  if (Array.isArray(packaged))
    return packaged.map((item, index) => asDeployed(item, Array.isArray(deployed) ? deployed[index] : undefined));
  if (packaged && typeof packaged === 'object') {
    const deployedObject = deployed && typeof deployed === 'object' && !Array.isArray(deployed) ? deployed : undefined;
    return Object.fromEntries(Object.entries(packaged).map(([key, value]) => [key, asDeployed(value, deployedObject?.[key])]));
  }
  return packaged;
}

/**
 * Copies of both templates without the differences packaging alone makes: the artifact key of
 * every function (a new folder per package), the outputs the domain plugin adds on deploy, and
 * the SSM references the deploy resolved into literal values.
 * @param {Template} deployed @param {Template} proposed @param {Rules} rules
 * @returns {[Template, Template]}
 */
function withoutPackagingNoise(deployed, proposed, rules) {
  const before = structuredClone(deployed);
  const after = structuredClone(proposed);
  for (const [id, resource] of Object.entries(after.Resources ?? {})) {
    const old = before.Resources?.[id];
    // Never inside a stateful resource: a reference there hides what the data lives on.
    if (old?.Type === resource.Type && !isStateful(id, old, rules)) resource.Properties = asDeployed(resource.Properties, old.Properties);
  }
  for (const [id, resource] of Object.entries(after.Resources ?? {})) {
    const old = before.Resources?.[id];
    if (
      resource.Type === 'AWS::Lambda::Function' &&
      old?.Type === resource.Type &&
      old.Properties?.Code?.S3Key &&
      resource.Properties?.Code
    ) {
      resource.Properties.Code.S3Key = old.Properties.Code.S3Key;
    }
  }
  for (const [key, output] of Object.entries(before.Outputs ?? {})) {
    if (deployTimeOutputs.test(key) && !after.Outputs?.[key]) after.Outputs = { ...after.Outputs, [key]: output };
  }
  return [before, after];
}

/** @param {StatefulResource | undefined} resource @returns {{ region: string, protected: boolean }[]} */
const replicasOf = (resource) =>
  (resource?.Properties?.Replicas ?? []).map((replica) => ({
    region: typeof replica.Region === 'string' ? replica.Region : JSON.stringify(replica.Region),
    protected: replica.DeletionProtectionEnabled === true,
  }));

/**
 * What an update in place takes away from a stateful resource's protection, so that a later
 * removal or replacement would lose its data: retention, deletion protection, a table replica.
 * @param {StatefulResource} old @param {StatefulResource} updated @returns {string[]}
 */
function protectionLosses(old, updated) {
  const losses = [];
  if (isRetained(old) && !isRetained(updated))
    losses.push(`its DeletionPolicy would go from ${old.DeletionPolicy} to ${updated.DeletionPolicy ?? 'Delete'}`);
  if (old.Properties?.DeletionProtectionEnabled === true && updated.Properties?.DeletionProtectionEnabled !== true) {
    losses.push('its deletion protection would be turned off');
  }
  const newReplicas = replicasOf(updated);
  for (const replica of replicasOf(old)) {
    const kept = newReplicas.find((candidate) => candidate.region === replica.region);
    if (!kept) losses.push(`its replica in ${replica.region} would be DELETED with the data it holds`);
    else if (replica.protected && !kept.protected)
      losses.push(`deletion protection of its replica in ${replica.region} would be turned off`);
  }
  return losses;
}

/**
 * @param {Template} deployed the stack's current template ({} for a stack that does not exist)
 * @param {Template} proposed the packaged template
 * @param {Rules} rules
 */
function compareTemplates(deployed, proposed, rules) {
  const [before, after] = withoutPackagingNoise(deployed, proposed, rules);
  const { fullDiff, ResourceImpact } = cfnDiff();
  const diff = fullDiff(before, after);
  /** @type {Danger[]} */
  const dangers = [];
  diff.resources.forEachDifference((logicalId, change) => {
    const type = change.oldResourceType ?? change.newResourceType ?? '';
    // A custom resource is what one of its properties names (a key ring its key store): changing it replaces it.
    const idProperty = rules.physicalIdProperties[type];
    const idChange = idProperty ? change.propertyUpdates[idProperty] : undefined;
    if (idChange) idChange.changeImpact = ResourceImpact.WILL_REPLACE;

    const old = before.Resources?.[logicalId];
    if (!old || !isStateful(logicalId, old, rules)) return;
    const retained = isRetained(old);
    if (dangerousImpacts().includes(change.changeImpact)) {
      dangers.push({ logicalId, type: old.Type, impact: change.changeImpact, retained });
      return;
    }
    const updated = after.Resources?.[logicalId];
    for (const loss of updated ? [...protectionLosses(old, updated), ...dataLosses(old, updated)] : []) {
      dangers.push({ logicalId, type: old.Type, impact: loss, retained });
    }
  });
  return { diff, dangers };
}

/** @param {Danger} danger */
const describeDanger = (danger) =>
  `${danger.logicalId} (${danger.type}${danger.retained ? ', retained data' : ''})${impactWords()[danger.impact] ? ` ${impactWords()[danger.impact]}` : `: ${danger.impact}`}`;

/**
 * The report `sls diff` prints: dangers first, then the full diff in `cdk diff` form.
 * @param {ReturnType<typeof compareTemplates>} comparison
 */
function renderComparison({ diff, dangers }) {
  let text = '';
  if (dangers.length) {
    text += '!!! Stateful resources at risk: their data would be lost or left behind !!!\n';
    for (const danger of dangers) text += `  - ${describeDanger(danger)}\n`;
    text += '\n';
  }
  if (diff.isEmpty) return `${text}There were no differences.\n`;
  const sink = new Writable({
    write(chunk, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  cfnDiff().formatDifferences(sink, diff);
  return text;
}

module.exports = { compareTemplates, renderComparison, describeDanger, isStateful };
