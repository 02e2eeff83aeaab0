// @ts-check
// Local osls plugin: `sls failover`, the operator's view and control of where `public-api.<domain>`
// answers, for a stage that fails over (custom.movementPassFailover, resources/failover-control.ts).
//   sls failover --stage prod                    where traffic goes, the checks, the gate, replication lag, the RTO
//   sls failover --stage prod --to home          opens the gate, once the secondary's writes have reached home
//   sls failover --stage prod --to secondary     closes the gate: traffic moves to the secondary (a planned failover)
// Route 53 moves traffic away from home on its own; the latch (handlers/failover-latch) then
// closes the gate, so it comes back only through `--to home`, which refuses while home is
// unhealthy or replication from the secondary is behind: the newest ReplicationLatency of each
// table (secondary to home) above the limit, a marker item written in the secondary not readable at
// home in time, or photos pending replication. On a deploy of the control stack it keeps a closed
// gate closed (CloudFormation would reopen it if the gate's properties ever changed).
// https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-complex-configs.html

const { randomUUID } = require('node:crypto');

/**
 * @typedef {import('../resources/failover-control').FailoverPluginConfig} FailoverConfig
 * @typedef {{ id: string, healthy: boolean, checkers: number, reportingHealthy: number }} CheckStatus
 * @typedef {{ table: string, latencyMs: number | undefined }} TableLag
 * @typedef {{ home: CheckStatus, secondary: CheckStatus, gateClosed: boolean, traffic: string,
 *   tables: TableLag[], photosPending: number | undefined }} FailoverStatus
 */

/** Route 53 calls an endpoint healthy when more than 18% of its checkers do. */
const healthyShare = 0.18;

class Failover {
  /**
   * @param {import('./lib/service').Serverless} serverless
   * @param {Record<string, any>} options
   * @param {{ log: { notice: (m: string) => void, info: (m: string) => void, warning: (m: string) => void } }} utils
   */
  constructor(serverless, options, utils) {
    this.serverless = serverless;
    this.options = options;
    this.log = utils.log;
    /** Waits between marker reads; replaceable by tests. */
    this.sleep = (/** @type {number} */ ms) => new Promise((resolve) => setTimeout(resolve, ms));
    /** The clock of the marker's deadline; replaceable by tests. */
    this.now = () => Date.now();
    this.commands = {
      failover: {
        usage:
          "Shows where public-api answers, both regions' health checks, the failover gate, replication lag from the " +
          'secondary and the RTO the settings give; with --to, moves traffic (see "Region failure" in docs/runbooks.md).',
        lifecycleEvents: ['failover'],
        options: {
          to: {
            usage: '"home" opens the gate once replication has caught up; "secondary" closes it (a planned failover)',
            type: 'string',
          },
        },
      },
    };
    this.hooks = {
      'failover:failover': () => this.run(),
      // After osls restored the packaged template, before the stack is deployed.
      'before:deploy:deploy': () => this.pinClosedGate(),
    };
  }

  get provider() {
    return this.serverless.getProvider('aws');
  }

  /** @returns {FailoverConfig | undefined} */
  get config() {
    const config = this.serverless.service.custom?.movementPassFailover;
    if (!config?.enabled) return undefined;
    const missing = ['homeRegion', 'secondaryRegion', 'controlRegion', 'homeDownAlarm', 'gateLogicalId'].filter(
      (key) => !config[/** @type {keyof FailoverConfig} */ (key)],
    );
    if (config.tables.length === 0) missing.push('tables');
    if (missing.length > 0) {
      throw this.error(
        `custom.movementPassFailover of serverless.ts lacks ${missing.join(', ')}. It comes from failoverPluginConfig in resources/failover-control.ts; fix it there.`,
      );
    }
    return config;
  }

  /** @param {string} message */
  error(message) {
    return new this.serverless.classes.Error(message);
  }

  async run() {
    const config = this.config;
    if (!config) {
      throw this.error(
        `Stage "${this.serverless.service.provider.stage}" does not fail over: only a stage with a custom domain and a second ` +
          'region has a failover gate (see "Region failure" in docs/runbooks.md).',
      );
    }
    const to = this.options.to;
    if (to !== undefined && to !== 'home' && to !== 'secondary') {
      throw this.error(`--to ${to} is not a direction: write --to home (failback) or --to secondary (planned failover).`);
    }
    const ids = await this.controlIds(config);
    const status = await this.status(config, ids);
    this.report(config, status);
    if (to === 'home') await this.failback(config, ids, status);
    if (to === 'secondary') await this.failAway(config, ids, status);
  }

  /**
   * The health check ids, outputs of the control stack.
   * @param {FailoverConfig} config @param {{ optional?: boolean }} [options] optional: undefined when the stack does not exist
   * @returns {Promise<Record<keyof FailoverConfig['outputs'], string>>}
   */
  async controlIds(config, options = {}) {
    const StackName = this.provider.naming.getStackName();
    const { Stacks = [] } = await this.provider
      .request('CloudFormation', 'describeStacks', { StackName }, { region: config.controlRegion })
      .catch((/** @type {Error} */ error) => {
        if (/does not exist/.test(error.message)) return {};
        throw error;
      });
    const outputs = Object.fromEntries(
      (Stacks[0]?.Outputs ?? []).map((/** @type {{ OutputKey: string, OutputValue: string }} */ o) => [o.OutputKey, o.OutputValue]),
    );
    if (Stacks.length === 0 && options.optional) return /** @type {any} */ (undefined);
    const ids = /** @type {Record<keyof FailoverConfig['outputs'], string>} */ (
      Object.fromEntries(Object.entries(config.outputs).map(([key, output]) => [key, outputs[output]]))
    );
    const missing = Object.entries(config.outputs).filter(([key]) => !ids[/** @type {keyof FailoverConfig['outputs']} */ (key)]);
    if (missing.length > 0) {
      throw this.error(
        `The failover control stack ${StackName} in ${config.controlRegion} lacks ${missing.map(([, output]) => output).join(', ')}: ` +
          `deploy it with \`npx sls deploy --stage ${config.stage} --region ${config.controlRegion}\`.`,
      );
    }
    return ids;
  }

  /**
   * @param {FailoverConfig} config @param {Record<keyof FailoverConfig['outputs'], string>} ids
   * @returns {Promise<FailoverStatus>}
   */
  async status(config, ids) {
    const [home, secondary, gateClosed, tables, photosPending] = await Promise.all([
      this.checkStatus(ids.homeCheck),
      this.checkStatus(ids.secondaryCheck),
      this.isGateClosed(ids.gate),
      this.tableLags(config),
      this.photosPending(config),
    ]);
    const traffic = home.healthy && !gateClosed ? config.homeRegion : config.secondaryRegion;
    return { home, secondary, gateClosed, traffic, tables, photosPending };
  }

  /** @param {string} id @returns {Promise<CheckStatus>} */
  async checkStatus(id) {
    const { HealthCheckObservations = [] } = await this.provider.request('Route53', 'getHealthCheckStatus', { HealthCheckId: id });
    const reportingHealthy = HealthCheckObservations.filter((/** @type {{ StatusReport?: { Status?: string } }} */ o) =>
      /^Success/.test(o.StatusReport?.Status ?? ''),
    ).length;
    const checkers = HealthCheckObservations.length;
    return { id, checkers, reportingHealthy, healthy: checkers > 0 && reportingHealthy / checkers > healthyShare };
  }

  /**
   * The home-down alarm's state, in the control region.
   * @param {FailoverConfig} config @returns {Promise<string>}
   */
  async homeDownAlarmState(config) {
    const { MetricAlarms = [] } = await this.provider.request(
      'CloudWatch',
      'describeAlarms',
      { AlarmNames: [config.homeDownAlarm] },
      { region: config.controlRegion },
    );
    return MetricAlarms[0]?.StateValue ?? 'missing';
  }

  /** @param {string} id */
  async isGateClosed(id) {
    const { HealthCheck } = await this.provider.request('Route53', 'getHealthCheck', { HealthCheckId: id });
    return HealthCheck?.HealthCheckConfig?.Inverted === true;
  }

  /**
   * The newest ReplicationLatency of each table from the secondary to home (published in the secondary).
   * @param {FailoverConfig} config @returns {Promise<TableLag[]>}
   */
  async tableLags(config) {
    const values = await this.latestMetrics(
      config.secondaryRegion,
      config.tables.map((table) => ({
        Namespace: 'AWS/DynamoDB',
        MetricName: 'ReplicationLatency',
        Dimensions: [
          { Name: 'TableName', Value: table },
          { Name: 'ReceivingRegion', Value: config.homeRegion },
        ],
      })),
      'Maximum',
    );
    return config.tables.map((table, index) => ({ table, latencyMs: values[index] }));
  }

  /**
   * Photos of the secondary not yet copied home (S3 replication metrics of the secondary's rule).
   * @param {FailoverConfig} config
   */
  async photosPending(config) {
    const { sourceBucket, destinationBucket, ruleId } = config.photoReplication;
    const [pending] = await this.latestMetrics(
      config.secondaryRegion,
      [
        {
          Namespace: 'AWS/S3',
          MetricName: 'OperationsPendingReplication',
          Dimensions: [
            { Name: 'SourceBucket', Value: sourceBucket },
            { Name: 'DestinationBucket', Value: destinationBucket },
            { Name: 'RuleId', Value: ruleId },
          ],
        },
      ],
      'Maximum',
    );
    return pending;
  }

  /**
   * The newest datapoint of each metric over the last 15 minutes, undefined where there is none.
   * @param {string} region @param {{ Namespace: string, MetricName: string, Dimensions: { Name: string, Value: string }[] }[]} metrics
   * @param {string} stat @returns {Promise<(number | undefined)[]>}
   */
  async latestMetrics(region, metrics, stat) {
    const now = Date.now();
    const { MetricDataResults = [] } = await this.provider.request(
      'CloudWatch',
      'getMetricData',
      {
        StartTime: new Date(now - 15 * 60_000),
        EndTime: new Date(now),
        ScanBy: 'TimestampDescending',
        MetricDataQueries: metrics.map((metric, index) => ({ Id: `m${index}`, MetricStat: { Metric: metric, Period: 60, Stat: stat } })),
      },
      { region },
    );
    return metrics.map(
      (_, index) => MetricDataResults.find((/** @type {{ Id: string }} */ result) => result.Id === `m${index}`)?.Values?.[0],
    );
  }

  /** @param {FailoverConfig} config @param {FailoverStatus} status */
  report(config, status) {
    const check = (/** @type {CheckStatus} */ c) =>
      `${c.healthy ? 'healthy' : 'UNHEALTHY'} (${c.reportingHealthy} of ${c.checkers} checkers report success)`;
    const lag = (/** @type {TableLag} */ t) =>
      `${t.table} ${t.latencyMs === undefined ? 'no recent writes' : `${(t.latencyMs / 1000).toFixed(1)} s`}`;
    const { figures } = config;
    const lines = [
      `public-api answers from ${status.traffic}${status.traffic === config.homeRegion ? ' (home)' : ' (secondary)'}`,
      `  ${config.homeRegion} (home): ${check(status.home)}`,
      `  ${config.secondaryRegion} (secondary): ${check(status.secondary)}`,
      `  gate: ${status.gateClosed ? `CLOSED, traffic held in ${config.secondaryRegion} until \`sls failover --stage ${config.stage} --to home\`` : 'open'}`,
      `  replication ${config.secondaryRegion} -> ${config.homeRegion}: ${status.tables.map(lag).join(', ')}; photos pending: ${status.photosPending ?? 'none reported'}`,
      `  RTO of the API: about ${figures.apiRtoSeconds} s (${figures.detectionSeconds} s for Route 53 to see home fail, ${figures.apiRtoSeconds - figures.detectionSeconds} s of DNS TTL); ` +
        `photos: ${figures.photoFailoverSeconds} s per read at most; table RPO: the replication lag above (alarmed beyond ${figures.tableRpoAlarmSeconds} s)`,
    ];
    for (const line of lines) this.log.notice(line);
  }

  /**
   * Opens the gate once home is healthy and the secondary's writes have reached it.
   * @param {FailoverConfig} config @param {Record<keyof FailoverConfig['outputs'], string>} ids @param {FailoverStatus} status
   */
  async failback(config, ids, status) {
    if (!status.gateClosed) {
      this.log.notice(`The gate is open: public-api answers from ${status.traffic} as the health checks say. Nothing to do.`);
      return;
    }
    const refusals = [];
    if (!status.home.healthy) refusals.push(`${config.homeRegion} fails its health check`);
    // The latch closes the gate on the alarm's OK -> ALARM only: opened while it is still in ALARM,
    // a new failure would not close it again, and traffic would come back home by itself.
    const alarm = await this.homeDownAlarmState(config);
    if (alarm !== 'OK') {
      refusals.push(`the alarm ${config.homeDownAlarm} is ${alarm}, not OK yet (Route 53 needs 3 good checks, the alarm a minute more)`);
    }
    const limitMs = config.limits.maxReplicationLatencySeconds * 1000;
    const behind = status.tables.filter((t) => t.latencyMs !== undefined && t.latencyMs > limitMs);
    for (const t of behind) {
      refusals.push(
        `${t.table} replicates to ${config.homeRegion} ${(Number(t.latencyMs) / 1000).toFixed(1)} s late (limit ${config.limits.maxReplicationLatencySeconds} s)`,
      );
    }
    if (status.photosPending !== undefined && status.photosPending > 0) {
      refusals.push(`${status.photosPending} photo operations of ${config.secondaryRegion} still wait to replicate`);
    }
    if (refusals.length === 0) {
      const late = await this.markersMissingAtHome(config);
      if (late.length > 0) {
        refusals.push(
          `a marker written in ${config.secondaryRegion} did not reach ${config.homeRegion} within ${config.limits.markerWaitSeconds} s (${late.join(', ')})`,
        );
      }
    }
    if (refusals.length > 0) {
      throw this.error(
        `Traffic stays in ${config.secondaryRegion}: ${refusals.join('; ')}. Nothing was changed. Run the same command again ` +
          'once this clears; `sls failover` shows the figures.',
      );
    }
    await this.provider.request('Route53', 'updateHealthCheck', { HealthCheckId: ids.gate, Inverted: false });
    this.log.notice(
      `Gate open: public-api answers from ${config.homeRegion} again within about ${config.figures.apiRtoSeconds - config.figures.detectionSeconds + 30} s ` +
        '(the routing check turns healthy, then resolvers let go of the old answer).',
    );
  }

  /**
   * Writes a marker item into each table in the secondary region and waits until home reads it;
   * returns the tables whose marker did not arrive. The markers are deleted either way.
   * @param {FailoverConfig} config @returns {Promise<string[]>}
   */
  async markersMissingAtHome(config) {
    const key = { id: { S: `${config.markerPrefix}${randomUUID()}` } };
    const writtenAt = new Date().toISOString();
    let missing = [...config.tables];
    const deadline = this.now() + config.limits.markerWaitSeconds * 1000;
    try {
      await Promise.all(
        config.tables.map((TableName) =>
          this.provider.request(
            'DynamoDB',
            'putItem',
            { TableName, Item: { ...key, writtenAt: { S: writtenAt } } },
            { region: config.secondaryRegion },
          ),
        ),
      );
      for (;;) {
        const found = await Promise.all(
          missing.map(async (TableName) => {
            const { Item } = await this.provider.request(
              'DynamoDB',
              'getItem',
              { TableName, Key: key, ConsistentRead: true },
              { region: config.homeRegion },
            );
            return Item ? TableName : undefined;
          }),
        );
        missing = missing.filter((table) => !found.includes(table));
        if (missing.length === 0 || this.now() >= deadline) return missing;
        await this.sleep(2000);
      }
    } finally {
      await Promise.all(
        config.tables.map((TableName) =>
          this.provider.request('DynamoDB', 'deleteItem', { TableName, Key: key }, { region: config.secondaryRegion }),
        ),
      );
    }
  }

  /**
   * Closes the gate: a planned failover (a rehearsal, or home about to be worked on).
   * @param {FailoverConfig} config @param {Record<keyof FailoverConfig['outputs'], string>} ids @param {FailoverStatus} status
   */
  async failAway(config, ids, status) {
    if (!status.secondary.healthy) {
      throw this.error(`${config.secondaryRegion} fails its health check: moving public-api there would break it. Nothing was changed.`);
    }
    if (status.gateClosed) {
      this.log.notice(`The gate is already closed: public-api answers from ${config.secondaryRegion}.`);
      return;
    }
    await this.provider.request('Route53', 'updateHealthCheck', { HealthCheckId: ids.gate, Inverted: true });
    this.log.notice(
      `Gate closed: public-api answers from ${config.secondaryRegion} within about ${config.figures.apiRtoSeconds - config.figures.detectionSeconds + 30} s, ` +
        `until \`sls failover --stage ${config.stage} --to home\`.`,
    );
  }

  /**
   * A deploy of the control stack while the gate is closed: the template says so too
   * (`Inverted: true`), so CloudFormation never opens it, even for a moment, whatever else of
   * the gate changes. The operator alone opens it (`--to home`).
   */
  async pinClosedGate() {
    const config = this.config;
    if (!config?.control) return;
    const ids = await this.controlIds(config, { optional: true });
    // A control stack not deployed yet has no gate to keep.
    if (!ids || !(await this.isGateClosed(ids.gate))) return;
    const gate = this.serverless.service.provider.compiledCloudFormationTemplate?.Resources?.[config.gateLogicalId];
    if (!gate?.Properties?.HealthCheckConfig) {
      throw this.error(
        `The control stack's template has no ${config.gateLogicalId} to keep closed: resources/failover-control.ts changed it.`,
      );
    }
    gate.Properties.HealthCheckConfig.Inverted = true;
    this.log.notice(`The failover gate is closed: this deploy keeps it closed (traffic stays in ${config.secondaryRegion}).`);
  }
}

module.exports = Failover;
