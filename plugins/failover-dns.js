// @ts-check
// Local osls plugin: the Route 53 failover records of `public-api.<domain>` (A and AAAA), one
// pair per region, each written by that region's own deploy: the home region's PRIMARY, with
// the routing check of the stage's failover control stack (us-east-1: home healthy AND the
// failover gate open), and the secondary region's SECONDARY. Each is an alias to the
// API Gateway regional domain serverless-domain-manager made in that region. The simple records
// that plugin used to write are replaced in the same change batch, so the name never stops
// resolving. `sls remove` deletes this region's records; `sls info` lists the name's records.
// Nothing runs on `sls package` or on a stage without custom domain (sandboxes).
// https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-configuring.html
const { findHostedZone } = require('./lib/hosted-zone');

/** Both address families, as serverless-domain-manager wrote them. */
const recordTypes = ['A', 'AAAA'];

/**
 * @typedef {{ enabled: boolean, domain: string, recordName: string, region: string, homeRegion: string,
 *   failover: 'PRIMARY' | 'SECONDARY', setIdentifier: string,
 *   healthCheck?: { region: string, output: string } }} FailoverDnsConfig
 * @typedef {{ Name: string, Type: string, SetIdentifier?: string, Failover?: string, HealthCheckId?: string,
 *   AliasTarget?: { DNSName: string, HostedZoneId: string, EvaluateTargetHealth: boolean }, [key: string]: unknown }} RecordSet
 * @typedef {{ Action: 'CREATE' | 'DELETE', ResourceRecordSet: RecordSet }} Change
 * @typedef {{ regionalDomainName: string, regionalHostedZoneId: string }} ApiDomainTarget
 * @typedef {import('./lib/step-progress').PluginUtils} PluginUtils
 */

class FailoverDns {
  /**
   * @param {import('./lib/service').Serverless} serverless
   * @param {Record<string, unknown>} options
   * @param {PluginUtils} utils
   */
  constructor(serverless, options, utils) {
    this.serverless = serverless;
    this.options = options;
    this.log = utils.log;
    this.hooks = {
      // Before the stack: a secondary region refuses to deploy while the name still has records
      // only the home deploy may replace (a secondary writing over them would move the traffic).
      'before:deploy:deploy': () => this.checkBeforeDeploy(),
      // After serverless-domain-manager's base path mapping (listed before this plugin) and
      // before sls verify calls the JWKS on the name.
      'after:deploy:deploy': () => this.writeRecords(),
      // Before the stack goes: the home stack's health check is referenced by the PRIMARY record.
      'before:remove:remove': () => this.removeRecords(),
      'after:info:info': () => this.showRecords(),
    };
  }

  get provider() {
    return this.serverless.getProvider('aws');
  }

  /**
   * `custom.movementPassFailoverDns`, checked once, before any AWS call.
   * @returns {FailoverDnsConfig | undefined} undefined where the stage has no custom domain
   */
  settings() {
    /** @type {FailoverDnsConfig | undefined} */
    const config = this.serverless.service.custom?.movementPassFailoverDns;
    if (!config?.enabled) return undefined;
    const problems = [];
    if (!['PRIMARY', 'SECONDARY'].includes(config.failover)) problems.push(`failover is "${config.failover}", not PRIMARY or SECONDARY`);
    if (!config.recordName?.endsWith(`.${config.domain}`)) problems.push(`recordName "${config.recordName}" is not under ${config.domain}`);
    if (!config.setIdentifier) problems.push('setIdentifier is empty');
    if (config.failover === 'SECONDARY' && config.healthCheck) problems.push('the SECONDARY record takes no health check');
    if (problems.length > 0) {
      throw new this.serverless.classes.Error(
        `custom.movementPassFailoverDns of serverless.ts is wrong: ${problems.join('; ')}. ` +
          'It comes from failoverDnsPluginConfig in resources/failover-dns.ts; fix it there.',
      );
    }
    return config;
  }

  async checkBeforeDeploy() {
    const config = this.settings();
    if (!config || config.failover === 'PRIMARY') return;
    const zone = await this.zone(config);
    const simple = (await this.recordsOfName(config, zone)).filter((record) => !record.Failover);
    if (simple.length > 0) throw this.homeFirst(config, simple);
  }

  async writeRecords() {
    const config = this.settings();
    if (!config) return;
    const zone = await this.zone(config);
    const target = await this.apiDomainTarget(config);
    const healthCheckId = config.healthCheck ? await this.healthCheckId(config.healthCheck) : undefined;
    const existing = await this.recordsOfName(config, zone);
    const changes = this.changesFor(config, existing, this.wantedRecords(config, target, healthCheckId));
    const what = `${config.recordName} ${config.failover} (${config.region})`;
    if (changes.length === 0) {
      this.log.info(`${what}: failover records already in place`);
      return;
    }
    await this.send(config, zone, changes, `${config.failover} failover records of ${config.region} (movement-pass foundation)`);
    const replaced = changes.filter((change) => change.Action === 'DELETE' && !change.ResourceRecordSet.Failover).length;
    this.log.notice(
      `${what} -> ${target.regionalDomainName}${healthCheckId ? `, health check ${healthCheckId}` : ''}` +
        (replaced > 0 ? ` (replacing ${replaced} record${replaced > 1 ? 's' : ''} without failover)` : ''),
    );
  }

  async removeRecords() {
    const config = this.settings();
    if (!config) return;
    const zone = await this.zoneIfAny(config);
    if (!zone) {
      this.log.info(`No public hosted zone ${config.domain}: ${config.recordName} has no record to remove`);
      return;
    }
    const existing = await this.recordsOfName(config, zone);
    const ours = existing.filter((record) => record.Failover && record.SetIdentifier === config.setIdentifier);
    if (ours.length === 0) {
      this.log.info(`${config.recordName}: no ${config.failover} record of ${config.region} to remove`);
      return;
    }
    /** @type {Change[]} */
    const changes = ours.map((record) => ({ Action: 'DELETE', ResourceRecordSet: record }));
    await this.send(config, zone, changes, `${config.failover} failover records of ${config.region} removed (movement-pass foundation)`);
    this.log.notice(`${config.recordName}: the ${config.failover} records of ${config.region} are removed`);
    const others = existing.filter((record) => record.Failover && record.SetIdentifier !== config.setIdentifier);
    if (config.failover === 'PRIMARY' && others.length > 0) {
      this.log.warning(
        `${config.recordName} now answers from ${others[0].SetIdentifier} only (its SECONDARY record), ` +
          'for the foundation API and the public API service alike, until the home region is deployed again.',
      );
    }
  }

  async showRecords() {
    const config = this.settings();
    if (!config) return;
    const zone = await this.zoneIfAny(config);
    const records = zone ? await this.recordsOfName(config, zone) : [];
    const lines = records.map(
      (record) =>
        `${record.Type} ${record.Failover ?? 'no failover'} ${record.SetIdentifier ?? ''} -> ${record.AliasTarget?.DNSName ?? '(not an alias)'}` +
        (record.HealthCheckId ? ` (health check ${record.HealthCheckId})` : ''),
    );
    this.serverless.serviceOutputs.set(`${config.recordName} failover`, lines.length > 0 ? lines : ['no records: run sls deploy']);
  }

  /**
   * The domain's public hosted zone (a clear error when it is missing).
   * @param {FailoverDnsConfig} config @returns {Promise<{ hostedZoneId: string }>}
   */
  async zone(config) {
    return /** @type {{ hostedZoneId: string }} */ (await findHostedZone(this.provider, config.domain, this.serverless.classes.Error));
  }

  /**
   * The zone if there is one: with no zone, there is no record to remove or list.
   * @param {FailoverDnsConfig} config
   */
  zoneIfAny(config) {
    return findHostedZone(this.provider, config.domain, this.serverless.classes.Error, { optional: true });
  }

  /**
   * Where this region's API domain answers, as API Gateway in this region reports it.
   * @param {FailoverDnsConfig} config
   * @returns {Promise<ApiDomainTarget>}
   */
  async apiDomainTarget(config) {
    const domain = await this.provider
      .request('APIGateway', 'getDomainName', { domainName: config.recordName }, { region: config.region })
      .catch((/** @type {import('./lib/service').ProviderError} */ error) => {
        if (error.providerError?.code === 'NotFoundException') return undefined;
        throw error;
      });
    if (!domain?.regionalDomainName || !domain.regionalHostedZoneId) {
      throw new this.serverless.classes.Error(
        `API Gateway in ${config.region} has no regional custom domain ${config.recordName}, so its failover record cannot ` +
          'point at it. serverless-domain-manager creates it at the start of `sls deploy` (autoDomain): deploy this region again.',
      );
    }
    return { regionalDomainName: domain.regionalDomainName, regionalHostedZoneId: domain.regionalHostedZoneId };
  }

  /**
   * The PRIMARY record's health check: an output of the stage's failover control stack.
   * @param {{ region: string, output: string }} check
   */
  async healthCheckId(check) {
    const StackName = this.provider.naming.getStackName();
    const stage = this.serverless.service.provider.stage;
    const { Stacks = [] } = await this.provider
      .request('CloudFormation', 'describeStacks', { StackName }, { region: check.region })
      .catch((/** @type {import('./lib/service').ProviderError} */ error) => {
        // CloudFormation says a missing stack with a ValidationError.
        if (/does not exist/.test(error.message)) return {};
        throw error;
      });
    const value = Stacks[0]?.Outputs?.find(
      (/** @type {{ OutputKey: string, OutputValue: string }} */ found) => found.OutputKey === check.output,
    )?.OutputValue;
    if (!value) {
      throw new this.serverless.classes.Error(
        `The failover control stack ${StackName} in ${check.region} has no output ${check.output}, the health check of the PRIMARY ` +
          `record. Deploy it first: \`npx sls deploy --stage ${stage} --region ${check.region}\` (\`npm run deploy:regions -- --stage ${stage}\` ` +
          'deploys it before the regions). The stack itself is deployed; run this deploy again afterwards.',
      );
    }
    return value;
  }

  /**
   * Every record of the name among A and AAAA, whatever its routing. Route 53 lists records by
   * name, then type, then set identifier, from the start it is given; the pages stop being
   * ours once another name shows up.
   * @param {FailoverDnsConfig} config @param {{ hostedZoneId: string }} zone
   * @returns {Promise<RecordSet[]>}
   */
  async recordsOfName(config, zone) {
    const name = `${config.recordName}.`;
    /** @type {RecordSet[]} */
    const found = [];
    /** @type {Record<string, string>} */
    let page = { HostedZoneId: zone.hostedZoneId, StartRecordName: config.recordName, StartRecordType: 'A', MaxItems: '100' };
    for (;;) {
      const {
        ResourceRecordSets = [],
        IsTruncated,
        NextRecordName,
        NextRecordType,
        NextRecordIdentifier,
      } = await this.provider.request('Route53', 'listResourceRecordSets', page);
      const sameName = ResourceRecordSets.filter((/** @type {RecordSet} */ record) => record.Name.toLowerCase() === name);
      found.push(...sameName.filter((/** @type {RecordSet} */ record) => recordTypes.includes(record.Type)));
      if (!IsTruncated || sameName.length < ResourceRecordSets.length) break;
      page = {
        HostedZoneId: zone.hostedZoneId,
        StartRecordName: NextRecordName,
        StartRecordType: NextRecordType,
        ...(NextRecordIdentifier && { StartRecordIdentifier: NextRecordIdentifier }),
        MaxItems: '100',
      };
    }
    return found;
  }

  /**
   * This region's records: aliases to its API domain. The PRIMARY is healthy as long as the home
   * region's health check says so; the SECONDARY has no health check and does not evaluate its
   * target, so it answers whenever the PRIMARY does not (see "Custom domain and failover of public-api" in docs/stages-and-regions.md).
   * @param {FailoverDnsConfig} config @param {ApiDomainTarget} target @param {string | undefined} healthCheckId
   * @returns {RecordSet[]}
   */
  wantedRecords(config, target, healthCheckId) {
    return recordTypes.map((Type) => ({
      Name: `${config.recordName}.`,
      Type,
      SetIdentifier: config.setIdentifier,
      Failover: config.failover,
      ...(healthCheckId && { HealthCheckId: healthCheckId }),
      AliasTarget: {
        DNSName: `${target.regionalDomainName}.`,
        HostedZoneId: target.regionalHostedZoneId,
        EvaluateTargetHealth: false,
      },
    }));
  }

  /**
   * One change batch from what is there to what this region wants: Route 53 applies a batch
   * whole or not at all, so deleting a record and creating its replacement never leaves the
   * name without an answer. Per type: this region's record is created, or replaced when it
   * differs; a record of the same role under another identifier (a region the stage left) is
   * deleted; records without failover routing (serverless-domain-manager's simple ones) are
   * deleted by the home region, whose PRIMARY takes their traffic, and refused in a secondary.
   * @param {FailoverDnsConfig} config @param {RecordSet[]} existing @param {RecordSet[]} wanted
   * @returns {Change[]}
   */
  changesFor(config, existing, wanted) {
    const withoutFailover = existing.filter((record) => !record.Failover);
    if (withoutFailover.length > 0 && config.failover === 'SECONDARY') throw this.homeFirst(config, withoutFailover);
    /** @type {Change[]} */
    const deletes = [];
    /** @type {Change[]} */
    const creates = [];
    for (const record of wanted) {
      const sameType = existing.filter((candidate) => candidate.Type === record.Type);
      const ours = sameType.find((candidate) => candidate.Failover && candidate.SetIdentifier === record.SetIdentifier);
      const stale = sameType.filter(
        (candidate) => !candidate.Failover || (candidate.Failover === record.Failover && candidate.SetIdentifier !== record.SetIdentifier),
      );
      for (const candidate of stale) deletes.push({ Action: 'DELETE', ResourceRecordSet: candidate });
      if (ours && sameRecord(ours, record)) continue;
      if (ours) deletes.push({ Action: 'DELETE', ResourceRecordSet: ours });
      creates.push({ Action: 'CREATE', ResourceRecordSet: record });
    }
    return [...deletes, ...creates];
  }

  /**
   * @param {FailoverDnsConfig} config @param {{ hostedZoneId: string }} zone
   * @param {Change[]} changes @param {string} comment
   */
  async send(config, zone, changes, comment) {
    try {
      await this.provider.request('Route53', 'changeResourceRecordSets', {
        HostedZoneId: zone.hostedZoneId,
        ChangeBatch: { Comment: comment, Changes: changes },
      });
    } catch (error) {
      const code = /** @type {import('./lib/service').ProviderError} */ (error).providerError?.code;
      if (code !== 'InvalidChangeBatch' && code !== 'PriorRequestNotComplete') throw error;
      // Another deploy changed the records between the listing and the batch, or Route 53 is
      // still applying the previous change: nothing was changed, and a rerun lists afresh.
      throw new this.serverless.classes.Error(
        `Route 53 refused the failover records of ${config.recordName} in ${config.region} ` +
          `(${/** @type {Error} */ (error).message}); nothing was changed. Was the other region deploying at the same time? ` +
          `Run the same command again. The stack itself is deployed.`,
      );
    }
  }

  /** @param {FailoverDnsConfig} config @param {RecordSet[]} records */
  homeFirst(config, records) {
    const types = [...new Set(records.map((record) => record.Type))].join(' and ');
    return new this.serverless.classes.Error(
      `${config.recordName} still has ${types} records without failover routing, pointing at ` +
        `${records[0].AliasTarget?.DNSName ?? 'another target'}. Only the home region's deploy replaces them (with its PRIMARY ` +
        `record, so the name keeps answering from ${config.homeRegion}): run \`npx sls deploy --stage ` +
        `${this.serverless.service.provider.stage} --region ${config.homeRegion}\` first, then this region again.`,
    );
  }
}

/** Two records are the same when Route 53 would answer the same: names compare without case or final dot. */
function sameRecord(/** @type {RecordSet} */ a, /** @type {RecordSet} */ b) {
  const dns = (/** @type {string | undefined} */ name) => (name ?? '').toLowerCase().replace(/\.$/, '');
  return (
    dns(a.Name) === dns(b.Name) &&
    a.Type === b.Type &&
    a.SetIdentifier === b.SetIdentifier &&
    a.Failover === b.Failover &&
    (a.HealthCheckId ?? '') === (b.HealthCheckId ?? '') &&
    dns(a.AliasTarget?.DNSName) === dns(b.AliasTarget?.DNSName) &&
    a.AliasTarget?.HostedZoneId === b.AliasTarget?.HostedZoneId &&
    Boolean(a.AliasTarget?.EvaluateTargetHealth) === Boolean(b.AliasTarget?.EvaluateTargetHealth)
  );
}

module.exports = FailoverDns;
