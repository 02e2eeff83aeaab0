// @ts-check
// Recovery of a removed shared stage (plugins/production-safety.js): a stack that is gone while its
// retained resources (tables, buckets, log groups) exist cannot be created over them; the deploy
// stops and writes what a CloudFormation import needs to bring them back.
const { mkdirSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

/** @typedef {import('../production-safety')} Safety */

/**
 * Physical names of the retained resources, per type: what an import needs to find them.
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/resource-import-supported-resources.html
 */
const importIdentifiers = {
  'AWS::DynamoDB::GlobalTable': 'TableName',
  'AWS::DynamoDB::Table': 'TableName',
  'AWS::S3::Bucket': 'BucketName',
  'AWS::Logs::LogGroup': 'LogGroupName',
};

/** @typedef {import('./template-node').TemplateNode} TemplateNode @typedef {import('./template-node').TemplateObject} TemplateObject */

/** A node as the object it is, when it is one. @param {TemplateNode} node @returns {TemplateObject | undefined} */
const asObject = (node) => (node && typeof node === 'object' && !Array.isArray(node) ? node : undefined);

/** @param {TemplateNode} value @param {{ accountId: string, region: string }} pseudo @returns {string} */
function resolvePseudo(value, pseudo) {
  const names = {
    'AWS::AccountId': pseudo.accountId,
    'AWS::Region': pseudo.region,
    'AWS::Partition': 'aws',
    'AWS::URLSuffix': 'amazonaws.com',
  };
  if (typeof value === 'string') return value;
  const sub = asObject(value)?.['Fn::Sub'];
  if (typeof sub === 'string') {
    return sub.replace(/\$\{([^}]+)\}/g, (/** @type {string} */ whole, /** @type {string} */ name) => {
      if (!(name in names)) throw new Error(`cannot resolve ${whole} outside CloudFormation`);
      return names[/** @type {keyof typeof names} */ (name)];
    });
  }
  const ref = asObject(value)?.Ref;
  if (typeof ref === 'string' && ref in names) return names[/** @type {keyof typeof names} */ (ref)];
  throw new Error(`cannot resolve ${JSON.stringify(value)} outside CloudFormation`);
}

/** @param {TemplateNode} value @param {{ accountId: string, region: string }} pseudo @returns {string | undefined} */
function resolvableName(value, pseudo) {
  try {
    return value === undefined ? undefined : resolvePseudo(value, pseudo);
  } catch {
    return undefined;
  }
}

/** @param {TemplateNode} node @param {{ accountId: string, region: string }} pseudo @returns {TemplateNode} */
function resolvePseudoDeep(node, pseudo) {
  if (Array.isArray(node)) return node.map((item) => resolvePseudoDeep(item, pseudo));
  if (node && typeof node === 'object') {
    if ('Fn::Sub' in node || ('Ref' in node && String(node.Ref).startsWith('AWS::'))) {
      try {
        return resolvePseudo(node, pseudo);
      } catch {
        return node;
      }
    }
    return Object.fromEntries(Object.entries(node).map(([key, value]) => [key, resolvePseudoDeep(value, pseudo)]));
  }
  return node;
}

/** Whether an intrinsic function refers to a resource outside `kept` (pseudo parameters are fine). @param {TemplateNode} node @param {Set<string>} kept */
function refersOutside(node, kept) {
  const outside = (/** @type {string} */ id) => !id.startsWith('AWS::') && !kept.has(id);
  const object = asObject(node);
  const getAtt = object?.['Fn::GetAtt'];
  if (typeof object?.Ref === 'string') return outside(object.Ref);
  if (Array.isArray(getAtt)) return outside(String(getAtt[0]));
  const sub = object?.['Fn::Sub'];
  const text = typeof sub === 'string' ? sub : Array.isArray(sub) ? sub[0] : undefined;
  if (typeof text === 'string') return [...text.matchAll(/\$\{([^}!.]+)[^}]*\}/g)].some(([, id]) => outside(id));
  return false;
}

/** Whether a value refers, anywhere inside it, to a resource outside `kept`. @param {TemplateNode} node @param {Set<string>} kept @returns {boolean} */
function refersOutsideDeep(node, kept) {
  if (refersOutside(node, kept)) return true;
  if (Array.isArray(node)) return node.some((item) => refersOutsideDeep(item, kept));
  if (node && typeof node === 'object') return Object.values(node).some((value) => refersOutsideDeep(value, kept));
  return false;
}

/**
 * The resource without the properties that refer, anywhere inside, to a resource left out of the
 * import (a kept log group's KMS key, a kept bucket's replication role): an import template must
 * stand alone, and the deploy that follows the import sets those properties again. A property
 * goes whole, never a part of it: a ReplicationConfiguration without its Role, say, is one
 * CloudFormation refuses.
 * @param {TemplateObject} resource @param {Set<string>} kept @returns {TemplateObject}
 */
function withoutForeignReferences(resource, kept) {
  const { DependsOn, Properties, ...rest } = resource;
  const dependsOn = (Array.isArray(DependsOn) ? DependsOn : DependsOn ? [DependsOn] : []).filter((id) => kept.has(String(id)));
  const properties = asObject(Properties);
  return {
    ...rest,
    ...(properties && {
      Properties: Object.fromEntries(Object.entries(properties).filter(([, value]) => !refersOutsideDeep(value, kept))),
    }),
    ...(dependsOn.length && { DependsOn: dependsOn }),
  };
}

/**
 * A shared stage whose stack is gone but whose retained resources exist cannot be created over
 * them (fixed names): stop, and write what a CloudFormation import needs to bring them back.
 * @param {Safety} safety the plugin: its settings, the stack, osls's provider
 */
async function assertNothingToRecover(safety) {
  const template = safety.serverless.service.provider.compiledCloudFormationTemplate;
  const pseudo = { accountId: await safety.accountId(), region: safety.provider.getRegion() };
  const found = [];
  for (const [logicalId, resource] of Object.entries(template.Resources ?? {})) {
    if (!['Retain', 'RetainExceptOnCreate'].includes(resource.DeletionPolicy)) continue;
    const identifier = importIdentifiers[/** @type {keyof typeof importIdentifiers} */ (resource.Type)];
    if (!identifier) continue;
    // A name made of another resource's id (an execution log group of the old API) is new with
    // the new stack: the old one is left aside and cannot collide.
    const name = resolvableName(resource.Properties?.[identifier], pseudo);
    if (name && (await resourceExists(safety, resource.Type, name))) found.push({ logicalId, resource, identifier, name });
  }
  if (!found.length) return;
  const files = writeRecoveryFiles(safety, found, pseudo);
  throw safety.error(
    `The stack ${safety.stackName} does not exist in ${safety.regions.region}, but the shared stage's retained data does: ${found.map((item) => `${item.logicalId} (${item.name})`).join(', ')}. ` +
      'Creating the stack over it would fail on the names, so nothing was deployed. Bring the data back into a new stack by import, then deploy:\n\n' +
      recoveryCommands(safety, files).join('\n') +
      '\n\nThe signing keys need no import: the key rings find and keep the stage\'s stored keys. See "Recovering a removed stage" in docs/protecting-prod.md.',
  );
}

/**
 * Whether a retained resource of this physical name exists in the account and region.
 * @param {Safety} safety the plugin: its settings, the stack, osls's provider
 * @param {string} type @param {string} name
 */
async function resourceExists(safety, type, name) {
  try {
    if (type === 'AWS::S3::Bucket') {
      await safety.provider.request('S3', 'headBucket', { Bucket: name });
      return true;
    }
    if (type === 'AWS::Logs::LogGroup') {
      const { logGroups = [] } = await safety.provider.request('CloudWatchLogs', 'describeLogGroups', { logGroupNamePrefix: name });
      return logGroups.some((/** @type {{ logGroupName: string }} */ group) => group.logGroupName === name);
    }
    await safety.provider.request('DynamoDB', 'describeTable', { TableName: name });
    return true;
  } catch (error) {
    const { providerError, providerErrorCodeExtension } = /** @type {import('./service').ProviderError} */ (error) ?? {};
    if (providerError?.statusCode === 404 || /NOT_FOUND/.test(String(providerErrorCodeExtension))) return false;
    throw error;
  }
}

/**
 * The import template holds only the retained resources (CloudFormation refuses an import that
 * adds anything else, outputs included), with names resolved for this account and region.
 * @param {Safety} safety the plugin: its settings, the stack, osls's provider
 * @param {{ logicalId: string, resource: any, identifier: string, name: string }[]} found
 * @param {{ accountId: string, region: string }} pseudo
 */
function writeRecoveryFiles(safety, found, pseudo) {
  // Per region: a secondary region's files never overwrite the home ones (kept where they always were).
  const folder = join(safety.serverless.serviceDir, '.serverless', 'recovery', ...(safety.regions.home ? [] : [safety.regions.region]));
  mkdirSync(folder, { recursive: true });
  const template = {
    AWSTemplateFormatVersion: '2010-09-09',
    Description: `Import of the retained resources of ${safety.stackName}`,
    Resources: Object.fromEntries(
      found.map(({ logicalId, resource }) => [
        logicalId,
        withoutForeignReferences(asObject(resolvePseudoDeep(resource, pseudo)) ?? {}, new Set(found.map((item) => item.logicalId))),
      ]),
    ),
  };
  const resourcesToImport = found.map(({ logicalId, resource, identifier, name }) => ({
    ResourceType: resource.Type,
    LogicalResourceId: logicalId,
    ResourceIdentifier: { [identifier]: name },
  }));
  const templateFile = join(folder, 'import-template.json');
  const resourcesFile = join(folder, 'resources-to-import.json');
  writeFileSync(templateFile, `${JSON.stringify(template, null, 2)}\n`);
  writeFileSync(resourcesFile, `${JSON.stringify(resourcesToImport, null, 2)}\n`);
  return { templateFile, resourcesFile };
}

/**
 * The commands that import the retained resources into a new stack, then deploy it.
 * @param {Safety} safety the plugin: its settings, the stack, osls's provider
 * @param {{ templateFile: string, resourcesFile: string }} files
 */
function recoveryCommands(safety, { templateFile, resourcesFile }) {
  const region = safety.provider.getRegion();
  const common = `--region ${region} --stack-name ${safety.stackName} --change-set-name recover-retained-data`;
  // The stage's execution role, as on every operation of the stack: the stack keeps using it after.
  const role = safety.serverless.service.provider.iam?.deploymentRole;
  return [
    `  aws cloudformation create-change-set ${common} --change-set-type IMPORT \\`,
    `    --template-body file://${templateFile} --resources-to-import file://${resourcesFile}${role ? ` --role-arn ${role}` : ''}`,
    `  aws cloudformation wait change-set-create-complete ${common}`,
    `  aws cloudformation execute-change-set ${common}`,
    `  aws cloudformation wait stack-import-complete --region ${region} --stack-name ${safety.stackName}`,
    `  npx sls deploy ${safety.regions.stackOptions}`,
  ];
}

module.exports = { assertNothingToRecover };
