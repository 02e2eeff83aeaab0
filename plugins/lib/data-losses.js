// @ts-check
// What an update in place loses of a stateful resource's data, or of what keeps it: the changes
// CloudFormation makes without a replacement or a deletion, which a stack policy cannot refuse
// (it only tells Update:Replace and Update:Delete from Update:Modify). The diff names each, and
// the deploy gate stops it until `--param=allow-replace=<LogicalId>` confirms it (lib/deploy-gate.js).

/**
 * @typedef {import('./template-node').TemplateNode} TemplateNode
 * @typedef {import('./template-node').TemplateObject} TemplateObject
 * @typedef {{ Type?: string, Properties?: TemplateObject, [key: string]: TemplateNode }} Resource
 */

/** @param {TemplateNode} node @returns {TemplateObject} */
const object = (node) => (node && typeof node === 'object' && !Array.isArray(node) ? node : {});
/** @param {TemplateNode} node @returns {TemplateNode[]} */
const array = (node) => (Array.isArray(node) ? node : []);
/** @param {TemplateNode} node @param {...string} path @returns {TemplateNode} */
const at = (node, ...path) => path.reduce((value, key) => object(value)[key], node);
/** @param {TemplateNode} a @param {TemplateNode} b */
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
/** A number of the template (CloudFormation accepts numbers as strings too), or undefined. @param {TemplateNode} value */
const number = (value) => (typeof value === 'number' || (typeof value === 'string' && /^\d+$/.test(value)) ? Number(value) : undefined);
/** A replica's region as the template names it. @param {TemplateNode} replica */
const regionOf = (replica) => {
  const region = at(replica, 'Region');
  return typeof region === 'string' ? region : JSON.stringify(region);
};

/** Days until an enabled lifecycle rule expires current versions, the shortest of the rules; undefined: none does. @param {TemplateObject} properties */
function currentVersionExpiry(properties) {
  const days = array(at(properties, 'LifecycleConfiguration', 'Rules'))
    .filter((rule) => at(rule, 'Status') === 'Enabled')
    .map((rule) => number(at(rule, 'ExpirationInDays')) ?? (at(rule, 'ExpirationDate') !== undefined ? 0 : undefined))
    .filter((value) => value !== undefined);
  return days.length ? Math.min(...days) : undefined;
}

/** SQS keeps a message 4 days unless told otherwise. */
const defaultQueueRetention = 345_600;

/**
 * The data-loss changes of one resource, each said as what would be lost.
 * @type {Record<string, (old: TemplateObject, updated: TemplateObject) => string[]>}
 */
const lossesByType = {
  'AWS::DynamoDB::GlobalTable': (old, updated) => {
    const losses = [];
    const newReplicas = array(updated.Replicas);
    for (const replica of array(old.Replicas)) {
      const kept = newReplicas.find((candidate) => regionOf(candidate) === regionOf(replica));
      const wasOn = at(replica, 'PointInTimeRecoverySpecification', 'PointInTimeRecoveryEnabled') === true;
      if (kept && wasOn && at(kept, 'PointInTimeRecoverySpecification', 'PointInTimeRecoveryEnabled') !== true) {
        losses.push(
          `point-in-time recovery of its replica in ${regionOf(replica)} would be turned off: its 35 days of restorable history are lost`,
        );
      }
    }
    losses.push(...tableStreamAndTtlLosses(old, updated));
    return losses;
  },
  'AWS::DynamoDB::Table': (old, updated) => {
    const losses = [];
    if (
      at(old, 'PointInTimeRecoverySpecification', 'PointInTimeRecoveryEnabled') === true &&
      at(updated, 'PointInTimeRecoverySpecification', 'PointInTimeRecoveryEnabled') !== true
    ) {
      losses.push('point-in-time recovery would be turned off: its 35 days of restorable history are lost');
    }
    losses.push(...tableStreamAndTtlLosses(old, updated));
    return losses;
  },
  'AWS::S3::Bucket': (old, updated) => {
    const losses = [];
    if (at(old, 'VersioningConfiguration', 'Status') === 'Enabled' && at(updated, 'VersioningConfiguration', 'Status') !== 'Enabled') {
      losses.push('versioning would be suspended: an overwritten or deleted object could no longer be brought back');
    }
    const before = currentVersionExpiry(old);
    const after = currentVersionExpiry(updated);
    if (after !== undefined && (before === undefined || after < before)) {
      losses.push(
        `a lifecycle rule would expire its objects after ${after} days${before === undefined ? ' (none expired before)' : ` instead of ${before}`}: older objects are deleted`,
      );
    }
    return losses;
  },
  'AWS::KMS::Key': (old, updated) => {
    const losses = [];
    if (old.Enabled !== false && updated.Enabled === false)
      losses.push('the key would be disabled: nothing encrypted under it can be read until it is enabled');
    if (old.EnableKeyRotation === true && updated.EnableKeyRotation !== true) losses.push('its automatic rotation would be turned off');
    const oldWindow = number(old.PendingWindowInDays) ?? 30;
    const newWindow = number(updated.PendingWindowInDays) ?? 30;
    if (newWindow < oldWindow) losses.push(`its deletion waiting period would shrink from ${oldWindow} to ${newWindow} days`);
    if (!same(old.KeyPolicy, updated.KeyPolicy))
      losses.push('its key policy would change: who may use or administer the key (review the policy diff below)');
    return losses;
  },
  'AWS::SQS::Queue': (old, updated) => {
    const before = number(old.MessageRetentionPeriod) ?? defaultQueueRetention;
    const after = number(updated.MessageRetentionPeriod) ?? defaultQueueRetention;
    return after < before ? [`its messages would be kept ${after} s instead of ${before} s: older messages are deleted`] : [];
  },
  'AWS::Logs::LogGroup': (old, updated) => {
    const before = number(old.RetentionInDays);
    const after = number(updated.RetentionInDays);
    const lowered = after !== undefined && (before === undefined || after < before);
    return lowered ? [`its logs would be kept ${after} days instead of ${before ?? 'forever'}: older logs are deleted`] : [];
  },
};

/** @param {TemplateObject} old @param {TemplateObject} updated @returns {string[]} */
function tableStreamAndTtlLosses(old, updated) {
  const losses = [];
  const oldStream = at(old, 'StreamSpecification', 'StreamViewType');
  const newStream = at(updated, 'StreamSpecification', 'StreamViewType');
  if (oldStream !== undefined && newStream === undefined) {
    losses.push('its stream would be turned off: consumers lose every change not yet read, and a new stream gets a new ARN');
  } else if (oldStream !== undefined && !same(oldStream, newStream)) {
    losses.push(
      `its stream would change from ${String(oldStream)} to ${String(newStream)}: a new stream with a new ARN, consumers lose what they had not read`,
    );
  }
  if (!same(old.TimeToLiveSpecification, updated.TimeToLiveSpecification) && old.TimeToLiveSpecification !== undefined) {
    losses.push('its time-to-live setting would change: items would expire by another attribute, or no longer at all');
  } else if (old.TimeToLiveSpecification === undefined && at(updated, 'TimeToLiveSpecification', 'Enabled') === true) {
    losses.push(`items would start expiring by the attribute ${String(at(updated, 'TimeToLiveSpecification', 'AttributeName'))}`);
  }
  return losses;
}

/**
 * @param {Resource} old @param {Resource} updated
 * @returns {string[]} what the update in place would lose, in words
 */
function dataLosses(old, updated) {
  const type = old.Type ?? '';
  if (!Object.hasOwn(lossesByType, type) || type !== updated.Type) return [];
  return lossesByType[type](object(old.Properties), object(updated.Properties));
}

module.exports = { dataLosses };
