// @ts-check
// Which resources hold data, declared once for both sides of the TypeScript/JavaScript seam:
// resources/production-safety.ts builds the stack policy with it, and plugins/lib/template-diff.js
// (plain JavaScript, loaded by osls without a compiler) the diff and the deploy gate. A plain
// CommonJS module with JSDoc types is what both can load as it is.

/**
 * Resource types that hold data or keys whatever their deletion policy: replacing one loses
 * what it holds (messages, keys) or fails on its fixed name. Anything retained on deletion is
 * stateful too, whatever its type.
 */
const statefulTypes = /** @type {const} */ ([
  'AWS::DynamoDB::GlobalTable',
  'AWS::DynamoDB::Table',
  'AWS::S3::Bucket',
  'AWS::SQS::Queue',
  'AWS::KMS::Key',
  'Custom::KeyRing',
  'Custom::SigningKey',
]);

/** osls's own bucket holds deployment artifacts only, rebuilt by every deploy. */
const frameworkResources = ['ServerlessDeploymentBucket'];

const retainPolicies = ['Retain', 'RetainExceptOnCreate'];

/**
 * @typedef {{ Type?: string, DeletionPolicy?: string }} ResourceOrExtension a resource, or osls's
 *   amendment of one of its own (`resources.extensions`, which has no Type)
 * @typedef {{ statefulTypes: readonly string[], frameworkResources?: readonly string[] }} StatefulRules
 */

/** @param {ResourceOrExtension | undefined} resource */
const isRetained = (resource) => retainPolicies.includes(resource?.DeletionPolicy ?? '');

/**
 * @param {string} logicalId
 * @param {ResourceOrExtension} resource
 * @param {StatefulRules} [rules] the rules a stage was built with; these by default
 */
const isStateful = (logicalId, resource, rules = { statefulTypes, frameworkResources }) =>
  !rules.frameworkResources?.includes(logicalId) && (isRetained(resource) || rules.statefulTypes.includes(resource.Type ?? ''));

module.exports = { statefulTypes, frameworkResources, isRetained, isStateful };
