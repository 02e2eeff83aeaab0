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
// This class holds the protection after a deploy and what every job reads of the stack; the guard
// (lib/removal-guard.js), the gate (lib/deploy-gate.js) and the recovery (lib/recovery.js) are theirs.
const { beforeDeploy, beforeStackUpdate } = require('./lib/deploy-gate');
const { guardDestructiveCommand } = require('./lib/removal-guard');
const { regionsOf } = require('./lib/service');

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
    guardDestructiveCommand(this);
    this.hooks = {
      'before:deploy:deploy': () => beforeDeploy(this),
      'before:aws:deploy:deploy:updateStack': () => beforeStackUpdate(this),
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
}

module.exports = ProductionSafety;
