// @ts-check
// Local osls plugin: a shared stage (custom.movementPassProductionSafety, from resources/production-safety.ts)
// cannot be damaged by mistake.
// - Removal guard: `sls remove`, `sls remove-cert` and `sls delete_domain` of a shared stage stop
//   in this constructor, before any hook or AWS call, unless `--param=confirm-remove=<stage>`.
// - Deploy gate: before anything is written, the packaged template is diffed against the
//   deployed one; replacing, removing or orphaning a stateful resource stops the deploy unless
//   `--param=allow-replace=<LogicalId,...>` names it. A missing stack whose retained data still
//   exists is recovered by import, not created over it.
// - Protection set once, checked on every deploy: termination protection and the stack policy (no
//   replacement or deletion of stateful resources) are set by an administrator (lib/stack-protection.js);
//   a deploy stops when either is not what it needs, a removal while termination protection is on.
// Must be listed before the certificate and domain plugins, which write to ACM, Route 53 and SSM.
// This class holds what every job reads of the stack; the guard (lib/removal-guard.js), the gate
// (lib/deploy-gate.js), the protection (lib/stack-protection.js) and the recovery (lib/recovery.js) are theirs.
const { beforeDeploy } = require('./lib/deploy-gate');
const { guardDestructiveCommand } = require('./lib/removal-guard');
const { assertRemovable, remindAdministrator } = require('./lib/stack-protection');
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
    /** What the deploy gate let through: a stack it creates, the replacements allowed. */
    /** @type {{ created: boolean, allowed: string[] } | undefined} */
    this.deployment = undefined;
    /**
     * What serverless.ts built, kept from load time: `sls deploy --package <dir>` replaces
     * `service.custom` (this plugin's config included) with the package's before the deploy hooks run.
     */
    this.built = { config: this.config, regions: this.serverless.service.custom?.movementPassRegions };
    guardDestructiveCommand(this);
    this.hooks = {
      'before:deploy:deploy': () => beforeDeploy(this),
      'after:deploy:deploy': () => this.afterDeploy(),
      'before:remove:remove': () => this.beforeRemove(),
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

  afterDeploy() {
    if (!this.config.shared || !this.deployment) return;
    remindAdministrator(this, this.deployment);
  }

  async beforeRemove() {
    if (!this.config.shared) return;
    // Confirmed in the constructor; checked just before osls and the domain plugin delete anything.
    if (!(await this.stackExists())) return;
    await assertRemovable(this);
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
          'then deploy again: what the stage keeps (tables, buckets, log groups) is then found and brought back by import (see "When the first prod deploy fails" in docs/deploying.md).',
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
}

module.exports = ProductionSafety;
