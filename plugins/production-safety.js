// @ts-check
// Local osls plugin: a shared stage (custom.movementPassProductionSafety, from resources/production-safety.ts)
// cannot be damaged by mistake.
// - Removal guard: `sls remove`, `sls remove-cert` and `sls delete_domain` of a shared stage stop
//   in this constructor, before any hook or AWS call, unless `--param=confirm-remove=<stage>`.
// - Deploy gate: before anything is written, the packaged template is diffed against the
//   deployed one; replacing, removing or orphaning a stateful resource stops the deploy unless
//   `--param=allow-replace=<LogicalId,...>` names it. A missing stack whose retained data still
//   exists is recovered by import, not created over it. A pinned account is checked first.
// - After every deploy: the stack policy (no replacement or deletion of stateful resources,
//   narrowed only for the duration of an allowed replacement) and termination protection.
// Must be listed before the certificate and domain plugins, which write to ACM, Route 53 and SSM.
const { mkdirSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { compareTemplates, describeDanger, isStateful, renderComparison } = require('./lib/template-diff');
const { regionsOf } = require('./lib/service');

/**
 * Commands that delete what a shared stage is made of, or change it without the deploy gate,
 * and the confirmation (`confirmations` of resources/production-safety.ts) each needs. A
 * secondary region's stack is guarded like the home one; `secondaryWhat` says what it loses there.
 * @type {Record<string, { what: string, secondaryWhat?: string, confirmation: 'remove' | 'rollback' }>}
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
};

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

/** @param {any} value @param {{ accountId: string, region: string }} pseudo */
function resolvePseudo(value, pseudo) {
  const names = {
    'AWS::AccountId': pseudo.accountId,
    'AWS::Region': pseudo.region,
    'AWS::Partition': 'aws',
    'AWS::URLSuffix': 'amazonaws.com',
  };
  if (typeof value === 'string') return value;
  if (value && typeof value['Fn::Sub'] === 'string') {
    return value['Fn::Sub'].replace(/\$\{([^}]+)\}/g, (/** @type {string} */ whole, /** @type {string} */ name) => {
      if (!(name in names)) throw new Error(`cannot resolve ${whole} outside CloudFormation`);
      return names[/** @type {keyof typeof names} */ (name)];
    });
  }
  if (value && typeof value.Ref === 'string' && value.Ref in names) return names[/** @type {keyof typeof names} */ (value.Ref)];
  throw new Error(`cannot resolve ${JSON.stringify(value)} outside CloudFormation`);
}

/** @param {any} value @param {{ accountId: string, region: string }} pseudo @returns {string | undefined} */
function resolvableName(value, pseudo) {
  try {
    return value === undefined ? undefined : resolvePseudo(value, pseudo);
  } catch {
    return undefined;
  }
}

/** @param {any} node @param {{ accountId: string, region: string }} pseudo @returns {any} */
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

/** Whether an intrinsic function refers to a resource outside `kept` (pseudo parameters are fine). @param {any} node @param {Set<string>} kept */
function refersOutside(node, kept) {
  const outside = (/** @type {string} */ id) => !id.startsWith('AWS::') && !kept.has(id);
  if (typeof node?.Ref === 'string') return outside(node.Ref);
  if (Array.isArray(node?.['Fn::GetAtt'])) return outside(node['Fn::GetAtt'][0]);
  const sub = node?.['Fn::Sub'];
  const text = typeof sub === 'string' ? sub : Array.isArray(sub) ? sub[0] : undefined;
  if (typeof text === 'string') return [...text.matchAll(/\$\{([^}!.]+)[^}]*\}/g)].some(([, id]) => outside(id));
  return false;
}

/** Whether a value refers, anywhere inside it, to a resource outside `kept`. @param {any} node @param {Set<string>} kept @returns {boolean} */
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
 * @param {any} resource @param {Set<string>} kept @returns {any}
 */
function withoutForeignReferences(resource, kept) {
  const { DependsOn, Properties, ...rest } = resource;
  const dependsOn = (Array.isArray(DependsOn) ? DependsOn : DependsOn ? [DependsOn] : []).filter((/** @type {string} */ id) =>
    kept.has(id),
  );
  return {
    ...rest,
    ...(Properties && {
      Properties: Object.fromEntries(Object.entries(Properties).filter(([, value]) => !refersOutsideDeep(value, kept))),
    }),
    ...(dependsOn.length && { DependsOn: dependsOn }),
  };
}

class ProductionSafety {
  /**
   * @param {import('./lib/service').Serverless} serverless
   * @param {Record<string, any>} options
   * @param {{ log?: any, progress?: any }} [utils]
   */
  constructor(serverless, options, utils) {
    this.serverless = serverless;
    this.options = options;
    this.log = utils?.log ?? { notice: console.log, info: console.log, warning: console.warn, error: console.error };
    /** Set while the stack policy is narrowed for an allowed replacement: restored after the deploy and on error. */
    this.policyNarrowed = false;
    /** Set once termination protection is off for a confirmed removal: back on if the removal fails. */
    this.protectionLifted = false;
    /** @type {{ allowed: string[], dangers: import('./lib/template-diff').Danger[] } | undefined} */
    this.allowedDangers = undefined;
    /**
     * What serverless.ts built, kept from load time: `sls deploy --package <dir>` replaces
     * `service.custom` (this plugin's config included) with the package's before the deploy hooks run.
     */
    this.built = { config: this.config, regions: this.serverless.service.custom?.movementPassRegions };
    this.guardDestructiveCommand();
    this.hooks = {
      'before:deploy:deploy': () => this.beforeDeploy(),
      'before:aws:deploy:deploy:updateStack': () => this.beforeStackUpdate(),
      'after:deploy:deploy': () => this.afterDeploy(),
      // A confirmed rollback leaves the stack with the same protection as a deploy.
      'after:rollback:rollback': () => this.afterDeploy(),
      'before:remove:remove': () => this.beforeRemove(),
      error: () => this.onError(),
    };
  }

  /** @returns {import('../resources/production-safety').ProductionSafetyConfig} */
  get config() {
    return this.serverless.service.custom?.movementPassProductionSafety;
  }

  get provider() {
    return this.serverless.getProvider('aws');
  }

  get stackName() {
    return this.provider.naming.getStackName();
  }

  /**
   * The region this stack is built for (`custom.movementPassRegions`, resources/regions.ts).
   * @returns {import('../resources/regions').RegionsPluginConfig}
   */
  get regions() {
    return regionsOf(this.serverless);
  }

  /** How the messages name this stack: the stage, and its region when it is not home. */
  get where() {
    const { home, region } = this.regions;
    return home ? `"${this.config.stage}"` : `"${this.config.stage}" in ${region} (its secondary region)`;
  }

  get command() {
    return this.serverless.processedInput.commands.join(' ');
  }

  /** `--param` values (`key=value`, repeatable), by key. */
  get params() {
    const raw = this.options.param;
    const list = Array.isArray(raw) ? raw : raw ? [raw] : [];
    return new Map(
      list.map((/** @type {string} */ entry) => {
        const at = entry.indexOf('=');
        return at < 0 ? [entry, ''] : [entry.slice(0, at), entry.slice(at + 1)];
      }),
    );
  }

  /** @param {string} message */
  error(message) {
    return new this.serverless.classes.Error(message);
  }

  /**
   * Runs while osls loads the plugins, before any hook: osls's own `initialize` hooks of `remove`
   * already start an AWS call, and the domain plugin deletes the domain in `before:remove:remove`.
   */
  guardDestructiveCommand() {
    if (this.serverless.processedInput.isHelpRequest || !this.config) return;
    // serverless.ts reads the stage from the command line itself; osls must act on that same stage.
    const stage = this.provider.getStage();
    if (stage !== this.config.stage) {
      throw this.error(
        `osls is working on stage "${stage}" but serverless.ts was built for "${this.config.stage}". Nothing was done. ` +
          'Give the stage once, as --stage <name>.',
      );
    }
    // serverless.ts reads --region itself too: a stack of one region must never act on another's.
    const region = this.provider.getRegion();
    if (region !== this.regions.region) {
      throw this.error(
        `osls is working on region ${region} but serverless.ts was built for ${this.regions.region}. Nothing was done. ` +
          'Give the region once, as --region <region>.',
      );
    }
    const guarded = guardedCommands[/** @type {keyof typeof guardedCommands} */ (this.command)];
    if (!guarded || !this.config.shared) return;
    const param = this.config.confirmations[guarded.confirmation];
    if (this.params.get(param) === stage) return;
    const what = (!this.regions.home && guarded.secondaryWhat) || guarded.what;
    throw this.error(
      `${this.where} is a shared stage: \`sls ${this.command}\` in ${region} ${what}. Nothing was done. ` +
        `Deploy a fix instead, or do it deliberately: add --param=${param}=${stage} ` +
        '(see "Protecting prod" in the README for what is kept and what is lost).',
    );
  }

  async beforeDeploy() {
    this.assertPackageIsForThisStack();
    if (!this.config.shared) return;
    this.assertPolicyCoversPackage();
    await this.assertAccount();
    const deployed = await this.deployedTemplate();
    if (!deployed) {
      await this.assertNothingToRecover();
      return;
    }
    const proposed = this.serverless.service.provider.compiledCloudFormationTemplate;
    const comparison = compareTemplates(deployed, proposed, this.config);
    const allowed = this.allowedReplacements(comparison.dangers);
    const blocked = comparison.dangers.filter((danger) => !allowed.includes(danger.logicalId));
    if (blocked.length) {
      const ids = blocked.map((danger) => danger.logicalId).join(',');
      throw this.error(
        `This deploy of the shared stage ${this.where} would lose data, so nothing was deployed:\n` +
          `${blocked.map((danger) => `  - ${describeDanger(danger)}`).join('\n')}\n\n${renderComparison(comparison)}\n` +
          'A key schema change needs a new table and a migration, not a replacement. If this is really meant, deploy again with ' +
          `--param=${this.config.confirmations.replace}=${ids} (see "Protecting prod" in the README).`,
      );
    }
    // Narrowed just before CloudFormation is called, not across the certificate step's long waits.
    this.allowedDangers = { allowed, dangers: comparison.dangers };
  }

  /**
   * `sls deploy --package <dir>` deploys what was packaged for the stage and region of that
   * package, whatever --stage and --region say: osls takes the package's template and settings
   * (its stage's protection included) and puts them on the stack it is asked to act on. A package
   * of another stage (a sandbox, without a deploy gate) or another region (the home stack's tables
   * in a secondary region) stops here.
   */
  assertPackageIsForThisStack() {
    const stage = this.provider.getStage();
    const region = this.provider.getRegion();
    const packaged = { stage: this.config?.stage ?? stage, region: this.serverless.service.custom?.movementPassRegions?.region ?? region };
    if (packaged.stage === stage && packaged.region === region) return;
    const options = this.built.regions?.stackOptions ?? `--stage ${stage}`;
    throw this.error(
      `The package to deploy was built for stage "${packaged.stage}" in ${packaged.region}, but this deploy acts on the stack of stage "${stage}" in ${region}. ` +
        `Nothing was deployed. Package for that stack and deploy it: \`npx sls package ${options} --package <dir>\`, then \`npx sls deploy ${options} --package <dir>\`.`,
    );
  }

  /**
   * The stack policy comes from serverless.ts; `sls deploy --package <dir>` deploys a template
   * packaged elsewhere. A stateful resource of that template the policy does not name stops it.
   */
  assertPolicyCoversPackage() {
    const { Resources = {} } = this.serverless.service.provider.compiledCloudFormationTemplate;
    const unprotected = Object.entries(Resources)
      .filter(([id, resource]) => isStateful(id, resource, this.config) && !this.built.config.protectedResources.includes(id))
      .map(([id]) => id);
    if (unprotected.length) {
      throw this.error(
        `The template to deploy holds stateful resources the stack policy of this serverless.ts does not protect: ${unprotected.join(', ')}. ` +
          'Nothing was deployed. Package and deploy from the same commit (plain `sls deploy`, or `sls package` then `sls deploy --package` of that package).',
      );
    }
  }

  async beforeStackUpdate() {
    if (!this.config.shared || !this.allowedDangers?.allowed.length) return;
    await this.narrowStackPolicy(this.allowedDangers.allowed, this.allowedDangers.dangers);
  }

  /**
   * Logical ids of `--param=allow-replace=...`, each a protected resource or one at risk in this deploy.
   * @param {import('./lib/template-diff').Danger[]} dangers
   */
  allowedReplacements(dangers) {
    const raw = this.params.get(this.config.confirmations.replace);
    if (raw === undefined) return [];
    const ids = raw
      .split(',')
      .map((id) => id.trim())
      .filter(Boolean);
    const known = [...this.config.protectedResources, ...dangers.map((danger) => danger.logicalId)];
    const unknown = ids.filter((id) => !known.includes(id));
    if (!ids.length || unknown.length) {
      throw this.error(
        `--param=${this.config.confirmations.replace}= takes the logical ids of protected resources, comma-separated; ` +
          `${unknown.length ? `${unknown.join(', ')} is not one` : 'none was given'}. Protected: ${this.config.protectedResources.join(', ')}.`,
      );
    }
    return ids;
  }

  /**
   * @param {string[]} allowed
   * @param {import('./lib/template-diff').Danger[]} dangers
   */
  async narrowStackPolicy(allowed, dangers) {
    const replaced = dangers.filter((danger) => allowed.includes(danger.logicalId));
    this.log.warning(
      `Allowed by --param=${this.config.confirmations.replace}: ${replaced.length ? replaced.map(describeDanger).join('; ') : 'nothing at risk in this deploy'}. ` +
        'The stack policy lets exactly these through until the deploy ends.',
    );
    await this.setStackPolicy(this.narrowedPolicy(allowed));
    this.policyNarrowed = true;
  }

  /** The stack policy without the deny of `allowed`; the same statements otherwise. @param {string[]} allowed */
  narrowedPolicy(allowed) {
    const policy = /** @type {{ Statement: any[] }} */ (structuredClone(this.config.stackPolicy));
    for (const statement of policy.Statement) {
      if (statement.Effect !== 'Deny') continue;
      statement.Resource = statement.Resource.filter(
        (/** @type {string} */ resource) => !allowed.includes(resource.replace(/^LogicalResourceId\//, '')),
      );
    }
    policy.Statement = policy.Statement.filter((statement) => statement.Effect !== 'Deny' || statement.Resource.length);
    return policy;
  }

  async afterDeploy() {
    if (!this.config.shared) return;
    // Also after a deploy osls skipped for no changes: the policy and the protection are checked every time.
    await this.setStackPolicy(this.config.stackPolicy);
    this.policyNarrowed = false;
    await this.setTerminationProtection(true);
    this.log.notice(
      `Shared stage ${this.where}: stack policy protects ${this.config.protectedResources.length} stateful resources, termination protection on.`,
    );
  }

  async beforeRemove() {
    if (!this.config.shared) return;
    // Confirmed in the constructor; lifted just before osls and the domain plugin delete anything.
    if (!(await this.stackExists())) return;
    await this.setTerminationProtection(false);
    this.protectionLifted = true;
  }

  async onError() {
    if (!this.config?.shared) return;
    if (this.policyNarrowed) {
      await this.setStackPolicy(this.config.stackPolicy);
      this.policyNarrowed = false;
      this.log.notice('The stack policy is whole again after the failed deploy.');
    }
    if (this.protectionLifted && (await this.stackExists())) {
      await this.setTerminationProtection(true);
      this.protectionLifted = false;
      this.log.notice('The removal failed: termination protection is back on.');
    }
  }

  /** @param {unknown} policy */
  async setStackPolicy(policy) {
    await this.provider.request('CloudFormation', 'setStackPolicy', { StackName: this.stackName, StackPolicyBody: JSON.stringify(policy) });
  }

  /** @param {boolean} enabled */
  async setTerminationProtection(enabled) {
    try {
      await this.provider.request('CloudFormation', 'updateTerminationProtection', {
        StackName: this.stackName,
        EnableTerminationProtection: enabled,
      });
    } catch (error) {
      throw this.error(
        `Could not turn termination protection ${enabled ? 'on' : 'off'} for ${this.stackName}: ${/** @type {Error} */ (error).message}. ` +
          `The deploying principal needs cloudformation:UpdateTerminationProtection; run the command again once it has it.`,
      );
    }
  }

  /** The stack's status, or undefined when it does not exist. */
  async stackStatus() {
    try {
      const { Stacks = [] } = await this.provider.request('CloudFormation', 'describeStacks', { StackName: this.stackName });
      return /** @type {string} */ (Stacks[0]?.StackStatus ?? 'UNKNOWN');
    } catch (error) {
      if (/does not exist/.test(String(/** @type {Error} */ (error)?.message))) return undefined;
      throw error;
    }
  }

  async stackExists() {
    return (await this.stackStatus()) !== undefined;
  }

  async deployedTemplate() {
    const status = await this.stackStatus();
    if (status === undefined) return undefined;
    if (status === 'ROLLBACK_COMPLETE') {
      // What a failed first deploy leaves: CloudFormation can only delete such a stack.
      throw this.error(
        `The stack ${this.stackName} in ${this.regions.region} is in ROLLBACK_COMPLETE (its first deploy failed) and CloudFormation cannot update it. ` +
          `Delete it with \`npx sls remove ${this.regions.stackOptions} --param=${this.config.confirmations.remove}=${this.config.stage}\`, ` +
          'then deploy again: what the stage keeps (tables, buckets, log groups) is then found and brought back by import (see "When the first prod deploy fails" in the README).',
      );
    }
    const { TemplateBody } = await this.provider.request('CloudFormation', 'getTemplate', {
      StackName: this.stackName,
      TemplateStage: 'Original',
    });
    return typeof TemplateBody === 'string' ? JSON.parse(TemplateBody) : TemplateBody;
  }

  async accountId() {
    if (!this.callerAccount) {
      const { Account } = await this.provider.request('STS', 'getCallerIdentity', {});
      this.callerAccount = Account;
    }
    return this.callerAccount;
  }

  async assertAccount() {
    const pinned = this.config.accountId;
    if (!pinned) return;
    const account = await this.accountId();
    if (account !== pinned) {
      throw this.error(
        `The shared stage ${this.where} lives in AWS account ${pinned}, but these credentials are of account ${account}. ` +
          'Nothing was deployed. Use credentials of the right account (AWS_PROFILE=...).',
      );
    }
  }

  /**
   * A shared stage whose stack is gone but whose retained resources exist cannot be created over
   * them (fixed names): stop, and write what a CloudFormation import needs to bring them back.
   */
  async assertNothingToRecover() {
    const template = this.serverless.service.provider.compiledCloudFormationTemplate;
    const pseudo = { accountId: await this.accountId(), region: this.provider.getRegion() };
    const found = [];
    for (const [logicalId, resource] of Object.entries(template.Resources ?? {})) {
      if (!['Retain', 'RetainExceptOnCreate'].includes(resource.DeletionPolicy)) continue;
      const identifier = importIdentifiers[/** @type {keyof typeof importIdentifiers} */ (resource.Type)];
      if (!identifier) continue;
      // A name made of another resource's id (an execution log group of the old API) is new with
      // the new stack: the old one is left aside and cannot collide.
      const name = resolvableName(resource.Properties?.[identifier], pseudo);
      if (name && (await this.resourceExists(resource.Type, name))) found.push({ logicalId, resource, identifier, name });
    }
    if (!found.length) return;
    const files = this.writeRecoveryFiles(found, pseudo);
    throw this.error(
      `The stack ${this.stackName} does not exist in ${this.regions.region}, but the shared stage's retained data does: ${found.map((item) => `${item.logicalId} (${item.name})`).join(', ')}. ` +
        'Creating the stack over it would fail on the names, so nothing was deployed. Bring the data back into a new stack by import, then deploy:\n\n' +
        this.recoveryCommands(files).join('\n') +
        '\n\nThe signing keys need no import: the key rings find and keep the stage\'s stored keys. See "Protecting prod" in the README.',
    );
  }

  /** @param {string} type @param {string} name */
  async resourceExists(type, name) {
    try {
      if (type === 'AWS::S3::Bucket') {
        await this.provider.request('S3', 'headBucket', { Bucket: name });
        return true;
      }
      if (type === 'AWS::Logs::LogGroup') {
        const { logGroups = [] } = await this.provider.request('CloudWatchLogs', 'describeLogGroups', { logGroupNamePrefix: name });
        return logGroups.some((/** @type {any} */ group) => group.logGroupName === name);
      }
      await this.provider.request('DynamoDB', 'describeTable', { TableName: name });
      return true;
    } catch (error) {
      const { providerError, providerErrorCodeExtension } = /** @type {any} */ (error) ?? {};
      if (providerError?.statusCode === 404 || /NOT_FOUND/.test(String(providerErrorCodeExtension))) return false;
      throw error;
    }
  }

  /**
   * The import template holds only the retained resources (CloudFormation refuses an import that
   * adds anything else, outputs included), with names resolved for this account and region.
   * @param {{ logicalId: string, resource: any, identifier: string, name: string }[]} found
   * @param {{ accountId: string, region: string }} pseudo
   */
  writeRecoveryFiles(found, pseudo) {
    // Per region: a secondary region's files never overwrite the home ones (kept where they always were).
    const folder = join(this.serverless.serviceDir, '.serverless', 'recovery', ...(this.regions.home ? [] : [this.regions.region]));
    mkdirSync(folder, { recursive: true });
    const template = {
      AWSTemplateFormatVersion: '2010-09-09',
      Description: `Import of the retained resources of ${this.stackName}`,
      Resources: Object.fromEntries(
        found.map(({ logicalId, resource }) => [
          logicalId,
          withoutForeignReferences(resolvePseudoDeep(resource, pseudo), new Set(found.map((item) => item.logicalId))),
        ]),
      ),
    };
    const resourcesToImport = found.map(({ logicalId, resource, identifier, name }) => ({
      ResourceType: resource.Type,
      LogicalResourceId: logicalId,
      ResourceIdentifier: { [identifier]: name },
    }));
    // osls deploys into a stack only through its deployment bucket, which an import cannot
    // create: a plain update adds it (osls's own create-stack template) before `sls deploy`.
    const core = this.serverless.service.provider.coreCloudFormationTemplate;
    const withBucket = {
      ...template,
      Resources: { ...core.Resources, ...template.Resources },
      Outputs: core.Outputs,
    };
    const templateFile = join(folder, 'import-template.json');
    const resourcesFile = join(folder, 'resources-to-import.json');
    const bucketTemplateFile = join(folder, 'with-deployment-bucket.json');
    writeFileSync(templateFile, `${JSON.stringify(template, null, 2)}\n`);
    writeFileSync(resourcesFile, `${JSON.stringify(resourcesToImport, null, 2)}\n`);
    writeFileSync(bucketTemplateFile, `${JSON.stringify(withBucket, null, 2)}\n`);
    return { templateFile, resourcesFile, bucketTemplateFile };
  }

  /** @param {{ templateFile: string, resourcesFile: string, bucketTemplateFile: string }} files */
  recoveryCommands({ templateFile, resourcesFile, bucketTemplateFile }) {
    const region = this.provider.getRegion();
    const common = `--region ${region} --stack-name ${this.stackName} --change-set-name recover-retained-data`;
    return [
      `  aws cloudformation create-change-set ${common} --change-set-type IMPORT \\`,
      `    --template-body file://${templateFile} --resources-to-import file://${resourcesFile}`,
      `  aws cloudformation wait change-set-create-complete ${common}`,
      `  aws cloudformation execute-change-set ${common}`,
      `  aws cloudformation wait stack-import-complete --region ${region} --stack-name ${this.stackName}`,
      `  aws cloudformation update-stack --region ${region} --stack-name ${this.stackName} --template-body file://${bucketTemplateFile}`,
      `  aws cloudformation wait stack-update-complete --region ${region} --stack-name ${this.stackName}`,
      `  npx sls deploy ${this.regions.stackOptions}`,
    ];
  }
}

module.exports = ProductionSafety;
