// What a shared stage tells people: CloudWatch alarms on the passes load dead-letter queue, the
// JWKS, the key ring and, with a second region, the replication of its tables and photos, sent to
// an SNS topic whose subscribers are the stage's alarm emails; and
// the customer managed KMS key that encrypts the topic and the stage's log groups.
import { jwksPath } from './api-names';
import { type CfnResource, dataPolicies, type Fragment, getAtt, type Intrinsic, output, ref, sub } from './cloudformation';
import { functionName } from './functions';
import { keyRingFunctionName } from './key-ring';
import { app, physicalName, service } from './names';
import { photoBucketName, replicationPeer, replicationRuleId } from './photo-replication';
import { isHomeRegion, type StageSettings } from './stage';

export const observabilityKeyId = 'ObservabilityKey';
export const alarmTopicId = 'AlarmTopic';

/** The stage has its own key when it keeps access logs or raises alarms. */
export const hasObservabilityKey = (settings: StageSettings): boolean => settings.observability.accessLogs || settings.observability.alarms;

/** The key's ARN, for `KmsKeyId` of a log group; undefined on a stage without one. */
export const observabilityKeyArn = (settings: StageSettings): Intrinsic | undefined =>
  hasObservabilityKey(settings) ? getAtt(observabilityKeyId, 'Arn') : undefined;

/**
 * One key for the alarm topic and the log groups: 1 USD/month. The AWS managed `aws/sns` key
 * cannot be used by CloudWatch, which then drops every alarm notification without a word; the
 * key policy names the services that encrypt with it.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html
 */
function observabilityKey(settings: StageSettings): CfnResource {
  const logGroupArns = [
    `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/${service}-${settings.stage}-*`,
    `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/apigateway/${app}-${settings.stage}-*`,
    `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:API-Gateway-Execution-Logs_*/${settings.stage}`,
  ];
  return {
    Type: 'AWS::KMS::Key',
    // Encrypted logs outlive a deleted stack on a shared stage: so must the key that reads them.
    ...dataPolicies(settings),
    Properties: {
      Description: `Movement Pass ${settings.stage}: alarm topic and log groups`,
      EnableKeyRotation: true,
      PendingWindowInDays: 30,
      KeyPolicy: {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'AccountAdministersTheKey',
            Effect: 'Allow',
            Principal: { AWS: sub('arn:${AWS::Partition}:iam::${AWS::AccountId}:root') },
            Action: 'kms:*',
            Resource: '*',
          },
          {
            // The statement exactly as documented: a condition CloudWatch does not send would
            // bring back the silent loss of every notification.
            Sid: 'CloudWatchAlarmsPublishToTheTopic',
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
            Resource: '*',
          },
          {
            Sid: 'CloudWatchLogsEncryptsThisStagesLogGroups',
            Effect: 'Allow',
            Principal: { Service: sub('logs.${AWS::Region}.amazonaws.com') },
            Action: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
            Resource: '*',
            Condition: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': logGroupArns.map(sub) } },
          },
          // The access log bucket, and CloudFront's delivery to it, are the home stack's only.
          ...(settings.observability.accessLogs && isHomeRegion(settings)
            ? [
                {
                  // CloudFront's log delivery writes the log bucket, which this key encrypts:
                  // https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/AWS-logs-infrastructure-V2-S3.html
                  Sid: 'LogDeliveryWritesTheAccessLogBucket',
                  Effect: 'Allow',
                  Principal: { Service: 'delivery.logs.amazonaws.com' },
                  Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey'],
                  Resource: '*',
                  Condition: {
                    StringEquals: { 'aws:SourceAccount': ref('AWS::AccountId') },
                    ArnLike: { 'aws:SourceArn': sub('arn:${AWS::Partition}:logs:us-east-1:${AWS::AccountId}:*') },
                  },
                },
              ]
            : []),
          {
            // Grants only for AWS services acting for this account (CT.KMS.PR.3).
            Sid: 'GrantsOnlyForAwsResources',
            Effect: 'Deny',
            Principal: '*',
            Action: 'kms:CreateGrant',
            Resource: '*',
            Condition: { BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' } },
          },
        ],
      },
    },
  };
}

export interface AlarmSpec {
  description: string;
  namespace: string;
  metricName: string;
  dimensions?: { Name: string; Value: Intrinsic }[];
  statistic: 'Sum' | 'Maximum' | 'Minimum' | 'Average';
  /** Above this; 0 (the first occurrence) unless said. */
  threshold?: number;
  /** Periods in a row above it; 1 unless said. */
  evaluationPeriods?: number;
  /** Seconds; 300 unless said. */
  period?: number;
  /** Above the threshold unless said. */
  comparison?: 'GreaterThanThreshold' | 'LessThanThreshold';
  /** Topics told besides the alarm topic, when it fires only. */
  alsoNotify?: Intrinsic[];
}

/** Raised on the first occurrence unless a threshold says otherwise: each of these is zero on a healthy stage. */
export function alarm(settings: StageSettings, name: string, spec: AlarmSpec): CfnResource {
  return {
    Type: 'AWS::CloudWatch::Alarm',
    Properties: {
      AlarmName: physicalName(settings, name),
      AlarmDescription: spec.description,
      Namespace: spec.namespace,
      MetricName: spec.metricName,
      ...(spec.dimensions && { Dimensions: spec.dimensions }),
      Statistic: spec.statistic,
      Period: spec.period ?? 300,
      EvaluationPeriods: spec.evaluationPeriods ?? 1,
      Threshold: spec.threshold ?? 0,
      ComparisonOperator: spec.comparison ?? 'GreaterThanThreshold',
      // No data points means nothing happened (no request, no invocation), not an unknown state.
      TreatMissingData: 'notBreaching',
      ActionsEnabled: true,
      AlarmActions: [ref(alarmTopicId), ...(spec.alsoNotify ?? [])],
      OKActions: [ref(alarmTopicId)],
    },
  };
}

/** Dimensions of the JWKS method's metrics (the API stage has detailed metrics on). */
const jwksMetricDimensions = (settings: StageSettings) => [
  { Name: 'ApiName', Value: physicalName(settings, 'foundation-api') },
  { Name: 'Stage', Value: settings.stage },
  { Name: 'Resource', Value: jwksPath },
  { Name: 'Method', Value: 'GET' },
];

/** A metric filter cannot set a fixed dimension: the stage goes in the namespace instead. */
export const keyRingFailureMetric = (settings: StageSettings) => ({ namespace: `MovementPass/${settings.stage}`, name: 'KeyRingFailures' });

/** The stage's key in this region, and the alarm topic it encrypts with the alarm emails subscribed (when the stage raises alarms). */
export function alarmTopic(settings: StageSettings): Fragment {
  const fragment: Fragment = { Resources: {}, Outputs: {} };
  if (hasObservabilityKey(settings)) {
    fragment.Resources[observabilityKeyId] = observabilityKey(settings);
    fragment.Resources.ObservabilityKeyAlias = {
      Type: 'AWS::KMS::Alias',
      Properties: { AliasName: `alias/${physicalName(settings, 'observability')}`, TargetKeyId: ref(observabilityKeyId) },
    };
  }
  if (!settings.observability.alarms) return fragment;
  Object.assign(fragment.Resources, {
    [alarmTopicId]: {
      Type: 'AWS::SNS::Topic',
      Properties: {
        TopicName: physicalName(settings, 'alarms'),
        DisplayName: `Movement Pass ${settings.stage} alarms`,
        KmsMasterKeyId: ref(observabilityKeyId),
      },
    },
    ...Object.fromEntries(
      settings.observability.alarmEmails.map((email, index) => [
        `AlarmEmailSubscription${index}`,
        { Type: 'AWS::SNS::Subscription', Properties: { TopicArn: ref(alarmTopicId), Protocol: 'email', Endpoint: email } },
      ]),
    ),
  });
  fragment.Outputs = { AlarmTopicArn: output('SNS topic of the stage alarms', ref(alarmTopicId)) };
  return fragment;
}

export function observability(settings: StageSettings): Fragment {
  const fragment = alarmTopic(settings);
  if (!settings.observability.alarms) return fragment;
  const keyRing = functionName(settings, keyRingFunctionName);
  const failures = keyRingFailureMetric(settings);
  Object.assign(fragment.Resources, {
    PassesLoadDeadLetterQueueAlarm: alarm(settings, 'passes-load-dlq-not-empty', {
      description:
        'Passes failed to load five times and wait in the dead-letter queue; see "Alarms and how to subscribe" in docs/observability.md to inspect and redrive them.',
      namespace: 'AWS/SQS',
      metricName: 'ApproximateNumberOfMessagesVisible',
      dimensions: [{ Name: 'QueueName', Value: getAtt('PassesLoadDeadLetterQueue', 'QueueName') }],
      statistic: 'Maximum',
    }),
    JwksServerErrorsAlarm: alarm(settings, 'jwks-5xx', {
      description: 'The JWKS endpoint answered 5xx: token verifiers without a cached JWKS cannot verify logins.',
      namespace: 'AWS/ApiGateway',
      metricName: '5XXError',
      dimensions: jwksMetricDimensions(settings),
      statistic: 'Sum',
    }),
    KeyRingErrorsAlarm: alarm(settings, 'key-ring-errors', {
      description: 'The key ring function crashed or timed out; the deploy that ran it may have failed or hung.',
      namespace: 'AWS/Lambda',
      metricName: 'Errors',
      dimensions: [{ Name: 'FunctionName', Value: keyRing }],
      statistic: 'Sum',
    }),
    // The custom resource answers FAILED without the function itself failing, so Lambda's
    // Errors metric misses it: its "level":"error" log lines are counted instead.
    KeyRingFailureMetricFilter: {
      Type: 'AWS::Logs::MetricFilter',
      Properties: {
        LogGroupName: `/aws/lambda/${keyRing}`,
        FilterName: physicalName(settings, 'key-ring-failures'),
        FilterPattern: '{ $.level = "error" }',
        MetricTransformations: [{ MetricNamespace: failures.namespace, MetricName: failures.name, MetricValue: '1', Unit: 'Count' }],
      },
      // osls names the log group KeyRingLogGroup and creates it with the function.
      DependsOn: ['KeyRingLogGroup'],
    },
    KeyRingFailuresAlarm: alarm(settings, 'key-ring-failures', {
      description: 'The key ring answered CloudFormation FAILED (a key was not generated, rotated or published); read its log group.',
      namespace: failures.namespace,
      metricName: failures.name,
      statistic: 'Sum',
    }),
  });
  Object.assign(fragment.Resources, replicationAlarms(settings));
  return fragment;
}

/** How far behind a table's replica may fall before the stage hears of it: 5 minutes, three periods in a row. */
export const replicationLatencyThresholdMs = 300_000;

/**
 * What a stage in two regions must hear of the copies between them: a table replica that falls
 * behind (DynamoDB publishes ReplicationLatency in the source region, per receiving region: each
 * region's stack watches what it sends), and a photo its bucket failed to replicate (S3's
 * replication metrics of this region's rule).
 */
function replicationAlarms(settings: StageSettings): Record<string, CfnResource> {
  const peer = replicationPeer(settings);
  if (peer === undefined) return {};
  const tables = Object.fromEntries(
    (['applicants', 'passes'] as const).map((table) => [
      `${table.charAt(0).toUpperCase()}${table.slice(1)}ReplicationLatencyAlarm`,
      alarm(settings, `${table}-replication-latency`, {
        description: `The ${table} table's writes in ${settings.region} reach ${peer} more than 5 minutes late: a failover now would miss them (see "Region failure" in docs/runbooks.md).`,
        namespace: 'AWS/DynamoDB',
        metricName: 'ReplicationLatency',
        dimensions: [
          { Name: 'TableName', Value: physicalName(settings, table) },
          { Name: 'ReceivingRegion', Value: peer },
        ],
        statistic: 'Average',
        threshold: replicationLatencyThresholdMs,
        evaluationPeriods: 3,
      }),
    ]),
  );
  return {
    ...tables,
    PhotoReplicationFailuresAlarm: alarm(settings, 'photos-replication-failures', {
      description: `Photos of ${settings.region} failed to replicate to ${peer}: that region would not have them in a failover.`,
      namespace: 'AWS/S3',
      metricName: 'OperationsFailedReplication',
      dimensions: [
        { Name: 'SourceBucket', Value: sub(photoBucketName(settings)) },
        { Name: 'DestinationBucket', Value: sub(photoBucketName(settings, peer)) },
        { Name: 'RuleId', Value: replicationRuleId(peer) },
      ],
      statistic: 'Sum',
    }),
  };
}
