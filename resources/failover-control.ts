// The failover control stack of a stage that fails over: `sls deploy --stage prod --region us-east-1`.
// Route 53 publishes its health checks' metrics in us-east-1 only, and an alarm lives in its
// metric's region, so what watches and latches the failover lives there:
// - a health check of each region's own hostname and health route (resources/region-health.ts);
// - the gate: a calculated check with no child, always healthy until inverted (closed);
// - the routing check of the PRIMARY record of `public-api.<domain>`: AND(home, gate);
// - an alarm on the home check that tells the latch function (through a topic) and the stage;
//   the latch closes the gate on OK -> ALARM, so traffic that failed over stays in the secondary
//   region until an operator runs `sls failover --to home` (plugins/failover.js);
// - alarms on the secondary region's check, and on the latch itself failing: if the latch cannot
//   close the gate, failback becomes automatic again, and the stage must hear of it.
// Route 53 Application Recovery Controller would do the gate's job with routing controls, at
// about 2.50 USD an hour per cluster: some 1,800 USD a month, against about 10 USD for all of this.
// https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/health-checks-creating-values.html
import type { AWS } from '@serverless/typescript';
import { functionLogGroupExtensions } from './access-logs';
import { healthPath } from './api-names';
import { type CfnResource, type Fragment, type Intrinsic, mergeFragments, output, ref, sub } from './cloudformation';
import { accountPluginConfig, bundling, stageProvider } from './deployment';
import { functionName, stageFunction } from './functions';
import { app, physicalName, service } from './names';
import { alarm, alarmTopic, replicationLatencyThresholdMs } from './observability';
import { photoBucketName, replicationRuleId } from './photo-replication';
import { homeOriginFailoverTimeouts, homeOriginReadTimeout } from './photos';
import { productionSafetyConfig } from './production-safety';
import { failsOver, healthHostname } from './region-health';
import { regionsPluginConfig } from './regions';
import { failoverControlRegion, homeRegionOf, isFailoverControl, type StageSettings, secondaryRegionOf } from './stage';
import { StageError } from './stage-validation';

/**
 * Where Route 53's checkers call from: three regions (the fewest Route 53 accepts), in Asia and
 * Oceania like the product's users. Each region's checkers call every 30 seconds, so fewer
 * regions are fewer requests billed by API Gateway and WAF.
 * https://docs.aws.amazon.com/Route53/latest/APIReference/API_HealthCheckConfig.html
 */
export const healthCheckerRegions = ['ap-southeast-1', 'ap-northeast-1', 'ap-southeast-2'];
/** Three failed checks 30 seconds apart: a region is unhealthy after about 90 seconds. */
export const healthCheckIntervalSeconds = 30;
export const healthCheckFailureThreshold = 3;

/** The stack outputs the failover records (plugins/failover-dns.js) and command (plugins/failover.js) read. */
export const controlOutputs = {
  routingCheck: 'RoutingHealthCheckId',
  homeCheck: 'HomeHealthCheckId',
  secondaryCheck: 'SecondaryHealthCheckId',
  gate: 'FailoverGateId',
} as const;

export const latchFunctionName = 'failoverLatch';
const homeDownAlarm = 'failover-home-down';
export const homeDownAlarmName = (settings: StageSettings) => physicalName(settings, homeDownAlarm);
/** The topic the home-down alarm tells the latch through. */
const failoverTopicName = (settings: StageSettings) => physicalName(settings, 'failover');

function endpointCheck(settings: StageSettings, region: string): CfnResource {
  return {
    Type: 'AWS::Route53::HealthCheck',
    Properties: {
      HealthCheckConfig: {
        Type: 'HTTPS',
        FullyQualifiedDomainName: healthHostname(settings, region),
        Port: 443,
        ResourcePath: healthPath,
        EnableSNI: true,
        RequestInterval: healthCheckIntervalSeconds,
        FailureThreshold: healthCheckFailureThreshold,
        Regions: healthCheckerRegions,
      },
      HealthCheckTags: checkTags(settings, `public-api-${region}`),
    },
  };
}

/** The console lists health checks by their Name tag. */
const checkTags = (settings: StageSettings, name: string) => [
  { Key: 'Name', Value: physicalName(settings, name) },
  { Key: 'app', Value: app },
  { Key: 'stage', Value: settings.stage },
];

/** What the control stack holds. */
export function failoverControl(settings: StageSettings): { fragment: Fragment; latch: ReturnType<typeof latchFunction>['definition'] } {
  const home = homeRegionOf(settings);
  const secondary = secondaryRegionOf(settings);
  if (secondary === undefined) throw new Error(`stage ${settings.stage} has no secondary region to fail over to`);
  if (!settings.observability.alarms) {
    throw new StageError(
      `Stage ${settings.stage} fails over but raises no alarms: its latch is told by an alarm, and its failures must be heard. ` +
        'Set observability.alarms in resources/stage.ts.',
    );
  }
  const latch = latchFunction(settings);
  const alarms = alarmTopic(settings);
  const regionDown = (name: string, check: string, description: string, alsoNotify: Intrinsic[] = []) =>
    alarm(settings, name, {
      description,
      namespace: 'AWS/Route53',
      metricName: 'HealthCheckStatus',
      dimensions: [{ Name: 'HealthCheckId', Value: ref(check) }],
      statistic: 'Minimum',
      period: 60,
      threshold: 1,
      comparison: 'LessThanThreshold',
      alsoNotify,
    });
  const checks: Fragment = {
    Resources: {
      HomeHealthCheck: endpointCheck(settings, home),
      SecondaryHealthCheck: endpointCheck(settings, secondary),
      FailoverGate: {
        Type: 'AWS::Route53::HealthCheck',
        Properties: {
          // No child and a threshold of 0: always healthy, unhealthy once inverted. The latch and
          // `sls failover` flip Inverted; a deploy while it is closed says Inverted too
          // (plugins/failover.js), so CloudFormation never opens it.
          HealthCheckConfig: { Type: 'CALCULATED', HealthThreshold: 0, ChildHealthChecks: [], Inverted: false },
          HealthCheckTags: checkTags(settings, 'failover-gate'),
        },
      },
      RoutingHealthCheck: {
        Type: 'AWS::Route53::HealthCheck',
        Properties: {
          // Healthy when both are: home answers and the gate is open.
          HealthCheckConfig: { Type: 'CALCULATED', HealthThreshold: 2, ChildHealthChecks: [ref('HomeHealthCheck'), ref('FailoverGate')] },
          HealthCheckTags: checkTags(settings, 'public-api-routing'),
        },
      },
      FailoverTopic: {
        Type: 'AWS::SNS::Topic',
        Properties: {
          TopicName: failoverTopicName(settings),
          DisplayName: `Movement Pass ${settings.stage} failover latch`,
          KmsMasterKeyId: ref('ObservabilityKey'),
        },
      },
      HomeRegionDownAlarm: regionDown(
        homeDownAlarm,
        'HomeHealthCheck',
        `${home} fails its health check: public-api has moved to ${secondary}, and stays there until \`sls failover --stage ${settings.stage} --to home\` (see "Region failure" in docs/runbooks.md).`,
        [ref('FailoverTopic')],
      ),
      SecondaryRegionDownAlarm: regionDown(
        'failover-secondary-down',
        'SecondaryHealthCheck',
        `${secondary} fails its health check: a failover now would have nowhere to go.`,
      ),
      FailoverLatchErrorsAlarm: alarm(settings, 'failover-latch-errors', {
        description:
          'The failover latch failed: after a failover, traffic may return home on its own. Run `sls failover` to see the gate, and close it with --to secondary.',
        namespace: 'AWS/Lambda',
        metricName: 'Errors',
        dimensions: [{ Name: 'FunctionName', Value: functionName(settings, latchFunctionName) }],
        statistic: 'Sum',
      }),
      FailoverTopicDeliveryAlarm: alarm(settings, 'failover-topic-undelivered', {
        description: 'The failover topic could not deliver to the latch: after a failover, traffic may return home on its own.',
        namespace: 'AWS/SNS',
        metricName: 'NumberOfNotificationsFailed',
        dimensions: [{ Name: 'TopicName', Value: failoverTopicName(settings) }],
        statistic: 'Sum',
      }),
    },
    Outputs: {
      [controlOutputs.routingCheck]: output('Route 53 check of the PRIMARY record of public-api: home AND gate', ref('RoutingHealthCheck')),
      [controlOutputs.homeCheck]: output(`Route 53 check of ${home}`, ref('HomeHealthCheck')),
      [controlOutputs.secondaryCheck]: output(`Route 53 check of ${secondary}`, ref('SecondaryHealthCheck')),
      [controlOutputs.gate]: output('The failover gate: inverted while traffic is held away from home', ref('FailoverGate')),
    },
  };
  return { fragment: mergeFragments(alarms, checks, latch.fragment), latch: latch.definition };
}

function latchFunction(settings: StageSettings) {
  const gateArn = sub('arn:${AWS::Partition}:route53:::healthcheck/${FailoverGate}');
  const fn = stageFunction(settings, {
    name: latchFunctionName,
    handler: 'handlers/failover-latch/index.handler',
    description: 'Closes the failover gate when the home region fails over',
    memorySize: 256,
    timeout: 30,
    statements: [{ Effect: 'Allow', Action: ['route53:GetHealthCheck', 'route53:UpdateHealthCheck'], Resource: gateArn }],
    environment: { FAILOVER_GATE_ID: ref('FailoverGate'), HOME_DOWN_ALARM_NAME: homeDownAlarmName(settings) },
  });
  return {
    definition: { ...fn.definition, events: [{ sns: { arn: ref('FailoverTopic'), topicName: failoverTopicName(settings) } }] },
    fragment: fn.fragment,
  };
}

/** The whole osls service of the control stack: its resources, the latch, and the plugins that apply to it. */
export function failoverControlService(settings: StageSettings): AWS {
  const { fragment: resources, latch } = failoverControl(settings);
  return {
    service,
    frameworkVersion: '3',
    // A deploy here keeps a closed gate closed (plugins/failover.js), and `sls failover` works from here too.
    plugins: ['./plugins/preflight', './plugins/production-safety', './plugins/diff', 'serverless-esbuild', './plugins/failover'],
    provider: stageProvider(settings),
    custom: {
      esbuild: bundling,
      movementPassAccount: accountPluginConfig(settings),
      movementPassRegions: regionsPluginConfig(settings),
      movementPassProductionSafety: productionSafetyConfig(settings, resources.Resources ?? {}),
      movementPassFailover: failoverPluginConfig(settings),
    },
    package: { individually: true },
    functions: { [latchFunctionName]: latch },
    resources: { ...resources, extensions: functionLogGroupExtensions(settings, [latchFunctionName]) },
  };
}

/** The key prefix of the marker items the failback writes in the secondary region and reads at home (consumers of the streams skip it). */
export const replicationMarkerPrefix = 'foundation-replication-marker#';
/**
 * Failback waits for the secondary's table writes to reach home: the newest ReplicationLatency of
 * each table from the secondary to home at most this, and a marker item written in the secondary
 * readable at home within `markerWaitSeconds`.
 */
export const failbackLimits = { maxReplicationLatencySeconds: 10, markerWaitSeconds: 60 };
/** The TTL Route 53 gives an alias to an API Gateway regional domain: resolvers may keep the old answer this long. */
export const aliasTtlSeconds = 60;

/** What a failover costs in time and data, from the settings: the figures docs/runbooks.md states. */
export function recoveryFigures() {
  const detectionSeconds = healthCheckIntervalSeconds * healthCheckFailureThreshold;
  return {
    /** Route 53 sees the home region fail. */
    detectionSeconds,
    /** ... and resolvers have let go of the old answer: the API's recovery time objective. */
    apiRtoSeconds: detectionSeconds + aliasTtlSeconds,
    /** The home-down alarm's period: the latch closes the gate within about this after detection. */
    latchSeconds: 60,
    /** A photo read: one connection attempt to the home bucket, then its read timeout, before the secondary bucket. */
    photoFailoverSeconds:
      homeOriginFailoverTimeouts.ConnectionTimeout * homeOriginFailoverTimeouts.ConnectionAttempts + homeOriginReadTimeout,
    /** Table writes lost with home at most those not yet replicated: the stage hears when that exceeds this. */
    tableRpoAlarmSeconds: replicationLatencyThresholdMs / 1000,
  };
}

export interface FailoverPluginConfig {
  enabled: boolean;
  stage: string;
  homeRegion: string;
  secondaryRegion: string;
  controlRegion: string;
  /** This stack is the control stack: its deploy keeps a closed gate closed. */
  control: boolean;
  outputs: typeof controlOutputs;
  tables: string[];
  /** The secondary bucket's replication rule to home, whose pending operations failback waits for. */
  photoReplication: { sourceBucket: string; destinationBucket: string; ruleId: string };
  markerPrefix: string;
  limits: typeof failbackLimits;
  /** The alarm whose OK -> ALARM closes the gate: failback waits for it to be OK. */
  homeDownAlarm: string;
  /** The gate's logical id: a deploy of the control stack while it is closed keeps it closed. */
  gateLogicalId: string;
  figures: ReturnType<typeof recoveryFigures>;
}

/** `custom.movementPassFailover`: what `sls failover` (plugins/failover.js) reads and acts on. */
export function failoverPluginConfig(settings: StageSettings): FailoverPluginConfig | { enabled: false } {
  const secondary = secondaryRegionOf(settings);
  if (!failsOver(settings) || secondary === undefined) return { enabled: false };
  const home = homeRegionOf(settings);
  const bucket = (region: string) => photoBucketName(settings, region).replace('${AWS::AccountId}', settings.accountId);
  return {
    enabled: true,
    stage: settings.stage,
    homeRegion: home,
    secondaryRegion: secondary,
    controlRegion: failoverControlRegion,
    control: isFailoverControl(settings),
    outputs: controlOutputs,
    tables: (['applicants', 'passes'] as const).map((table) => physicalName(settings, table)),
    photoReplication: { sourceBucket: bucket(secondary), destinationBucket: bucket(home), ruleId: replicationRuleId(home) },
    markerPrefix: replicationMarkerPrefix,
    limits: failbackLimits,
    homeDownAlarm: homeDownAlarmName(settings),
    gateLogicalId: 'FailoverGate',
    figures: recoveryFigures(),
  };
}
