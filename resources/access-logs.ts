// Access logs of a shared stage: the photo distribution's CloudFront standard logs (v2) in an S3
// bucket of the home region; the foundation API's access and execution logs in CloudWatch Logs of
// each region the API runs in. The role API Gateway writes them with belongs to the account, not to
// a stage: the account bootstrap sets it (bootstrap/account.ts).
import type { AWS } from '@serverless/typescript';
import {
  type CfnResource,
  dataPolicies,
  denyInsecureTransport,
  type Fragment,
  getAtt,
  type Intrinsic,
  mergeFragments,
  output,
  privateBucket,
  ref,
  sub,
} from './cloudformation';
import { customResourceFunction, serviceToken } from './functions';
import { app, physicalName } from './names';
import { observabilityKeyArn } from './observability';
import { isHomeRegion, regionCode, type StageSettings } from './stage';

export const accessLogSetupFunctionName = 'accessLogSetup';
export const accessLogGroupId = 'ApiAccessLogGroup';
export const executionLogGroupId = 'ApiExecutionLogGroup';

/** The region CloudFront's log delivery must be configured in, whatever the stack's region. */
export const cloudFrontLogRegion = 'us-east-1';
/** Prefix of the CloudFront logs in the log bucket; the delivery adds the distribution and the date. */
export const cloudFrontLogPrefix = 'cloudfront';
/** Execution logs hold no client address at ERROR level, so they keep the one-year default of the account's controls. */
export const executionLogRetentionDays = 365;

/**
 * The CloudFront fields kept: who (address, agent), what (method, path, status, bytes) and how it
 * was served. Not the query string: it carries the signed URL's signature, a credential until it
 * expires; nor cookies. https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/standard-logs-reference.html
 */
export const cloudFrontLogFields = [
  'date',
  'time',
  'x-edge-location',
  'c-ip',
  'x-forwarded-for',
  'cs-method',
  'cs(Host)',
  'cs-uri-stem',
  'sc-status',
  'sc-bytes',
  'time-taken',
  'cs(Referer)',
  'cs(User-Agent)',
  'x-edge-request-id',
  'x-edge-result-type',
  'x-edge-response-result-type',
  'cs-protocol',
  'cs-protocol-version',
  'ssl-protocol',
];

/**
 * One JSON line per API request: who called (source IP, user agent), what answered (status,
 * latency, WAF verdict) and the request id that finds the execution log lines of the same request.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-variables-for-access-logging.html
 */
export const apiAccessLogFormat = JSON.stringify({
  requestId: '$context.requestId',
  extendedRequestId: '$context.extendedRequestId',
  requestTime: '$context.requestTimeEpoch',
  sourceIp: '$context.identity.sourceIp',
  userAgent: '$context.identity.userAgent',
  httpMethod: '$context.httpMethod',
  path: '$context.path',
  protocol: '$context.protocol',
  status: '$context.status',
  responseLength: '$context.responseLength',
  responseLatency: '$context.responseLatency',
  wafResponseCode: '$context.wafResponseCode',
  error: '$context.error.message',
});

/** Who writes the log bucket: CloudWatch Logs of this account, in the region CloudFront's delivery lives in. */
export const logDeliverySourceArn = sub(`arn:\${AWS::Partition}:logs:${cloudFrontLogRegion}:\${AWS::AccountId}:*`);

/** Named by its region, like the photo buckets: a home promoted elsewhere makes its own, under a name no lost region holds. */
const logBucketName = (settings: StageSettings) =>
  `${physicalName(settings, `access-logs-${regionCode(settings.region)}`)}-\${AWS::AccountId}`;
const deliveryName = (settings: StageSettings) => physicalName(settings, 'photo-access-logs');

/**
 * The function behind the photo distribution's log delivery (us-east-1), with exactly the rights
 * it uses; the home stack's only, as the distribution is.
 */
export function accessLogSetupFunction(settings: StageSettings) {
  return customResourceFunction(settings, {
    name: accessLogSetupFunctionName,
    handler: 'handlers/access-logs/index.handler',
    description: 'Sets up the photo distribution log delivery in us-east-1',
    memorySize: 256,
    timeout: 120,
    statements: cloudFrontLogDeliveryStatements(settings),
  });
}

/** Custom::CloudFrontLogDelivery: the delivery source, destination and delivery of the photo distribution. */
function cloudFrontLogDeliveryStatements(settings: StageSettings) {
  const logsArn = (kind: string, name: string) =>
    sub(`arn:\${AWS::Partition}:logs:${cloudFrontLogRegion}:\${AWS::AccountId}:${kind}:${name}`);
  const name = deliveryName(settings);
  return [
    {
      Effect: 'Allow',
      Action: ['logs:PutDeliverySource', 'logs:GetDeliverySource', 'logs:DeleteDeliverySource'],
      Resource: logsArn('delivery-source', name),
    },
    {
      Effect: 'Allow',
      Action: ['logs:PutDeliveryDestination', 'logs:GetDeliveryDestination', 'logs:DeleteDeliveryDestination'],
      Resource: logsArn('delivery-destination', name),
    },
    {
      Effect: 'Allow',
      Action: ['logs:CreateDelivery', 'logs:GetDelivery', 'logs:UpdateDeliveryConfiguration', 'logs:DeleteDelivery'],
      Resource: [logsArn('delivery-source', name), logsArn('delivery-destination', name), logsArn('delivery', '*')],
    },
    // Describe calls have no resource-level permissions.
    { Effect: 'Allow', Action: 'logs:DescribeDeliveries', Resource: '*' },
    {
      // What PutDeliverySource checks for a CloudFront source:
      // https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/AWS-vended-logs-permissions-V2.html
      Effect: 'Allow',
      Action: 'cloudfront:AllowVendedLogDeliveryForResource',
      Resource: sub('arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${PhotoDistribution}'),
    },
    {
      // CreateDelivery reads the log bucket's policy, and would add its statement if it were missing.
      Effect: 'Allow',
      Action: ['s3:GetBucketPolicy', 's3:PutBucketPolicy'],
      Resource: getAtt('AccessLogBucket', 'Arn'),
    },
  ];
}

/** `AccessLogSetting` of the API stage, or undefined where the stage keeps no access logs. */
export function apiAccessLogSetting(settings: StageSettings) {
  if (!settings.observability.accessLogs) return undefined;
  return { DestinationArn: getAtt(accessLogGroupId, 'Arn'), Format: apiAccessLogFormat };
}

/** What the API stage waits for before it may log: its log groups (the account's role is the bootstrap's). */
export const apiLoggingDependencies = (settings: StageSettings): string[] =>
  settings.observability.accessLogs ? [accessLogGroupId, executionLogGroupId] : [];

function logGroup(settings: StageSettings, name: Intrinsic, retentionInDays: number): CfnResource {
  return {
    Type: 'AWS::Logs::LogGroup',
    // The logs of a shared stage outlive its stack, like its other data.
    ...dataPolicies(settings),
    Properties: { LogGroupName: name, RetentionInDays: retentionInDays, KmsKeyId: observabilityKeyArn(settings) },
  };
}

export function accessLogs(settings: StageSettings): Fragment {
  if (!settings.observability.accessLogs) return { Resources: {} };
  const retention = settings.observability.accessLogRetentionDays;
  const api = apiAccessLogs(settings, retention);
  // The photo distribution is global and the home stack's: its logs go to the home region only.
  if (!isHomeRegion(settings)) return api;
  const bucketArn = getAtt('AccessLogBucket', 'Arn');
  return mergeFragments(api, {
    Resources: {
      AccessLogBucket: {
        Type: 'AWS::S3::Bucket',
        ...dataPolicies(settings),
        Properties: {
          BucketName: sub(logBucketName(settings)),
          ...privateBucket,
          BucketEncryption: {
            ServerSideEncryptionConfiguration: [
              {
                ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: observabilityKeyArn(settings) },
                BucketKeyEnabled: true,
              },
            ],
          },
          VersioningConfiguration: { Status: 'Enabled' },
          LifecycleConfiguration: {
            Rules: [
              {
                Id: 'expire-access-logs',
                Status: 'Enabled',
                ExpirationInDays: retention,
                // An overwritten log's earlier version stays as long as the logs do.
                NoncurrentVersionExpiration: { NoncurrentDays: retention },
              },
              { Id: 'abort-incomplete-uploads', Status: 'Enabled', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } },
            ],
          },
        },
      },
      AccessLogBucketPolicy: {
        Type: 'AWS::S3::BucketPolicy',
        Properties: {
          Bucket: ref('AccessLogBucket'),
          PolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              denyInsecureTransport(bucketArn),
              // Nobody but log delivery writes a log, and nobody deletes one: they expire by the
              // lifecycle rule, which is no principal. Erasing one early is an administrator's
              // break-glass step (lift this statement first), as docs/observability.md says.
              {
                Sid: 'OnlyLogDeliveryWritesLogs',
                Effect: 'Deny',
                Principal: '*',
                Action: 's3:PutObject',
                Resource: { 'Fn::Join': ['', [bucketArn, '/*']] },
                Condition: { StringNotEqualsIfExists: { 'aws:PrincipalServiceName': 'delivery.logs.amazonaws.com' } },
              },
              {
                Sid: 'NobodyDeletesLogs',
                Effect: 'Deny',
                Principal: '*',
                Action: ['s3:DeleteObject', 's3:DeleteObjectVersion'],
                Resource: { 'Fn::Join': ['', [bucketArn, '/*']] },
              },
              // CloudWatch Logs' delivery of this account's us-east-1 sources, in the form documented in
              // https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/AWS-logs-infrastructure-V2-S3.html
              // (CreateDelivery would otherwise append it to this policy behind CloudFormation's back).
              {
                Sid: 'AWSLogDeliveryWrite',
                Effect: 'Allow',
                Principal: { Service: 'delivery.logs.amazonaws.com' },
                Action: 's3:PutObject',
                Resource: { 'Fn::Join': ['', [bucketArn, `/${cloudFrontLogPrefix}/*`]] },
                Condition: {
                  StringEquals: { 's3:x-amz-acl': 'bucket-owner-full-control', 'aws:SourceAccount': ref('AWS::AccountId') },
                  ArnLike: { 'aws:SourceArn': logDeliverySourceArn },
                },
              },
              {
                Sid: 'AWSLogDeliveryAclCheck',
                Effect: 'Allow',
                Principal: { Service: 'delivery.logs.amazonaws.com' },
                Action: ['s3:GetBucketAcl', 's3:ListBucket'],
                Resource: bucketArn,
                Condition: {
                  StringEquals: { 'aws:SourceAccount': ref('AWS::AccountId') },
                  ArnLike: { 'aws:SourceArn': logDeliverySourceArn },
                },
              },
            ],
          },
        },
      },
      PhotoAccessLogDelivery: {
        Type: 'Custom::CloudFrontLogDelivery',
        DependsOn: ['AccessLogBucketPolicy'],
        Properties: {
          ServiceToken: serviceToken(accessLogSetupFunctionName),
          ServiceTimeout: 180, // function timeout + a minute
          Name: deliveryName(settings),
          DistributionArn: sub('arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${PhotoDistribution}'),
          DestinationArn: { 'Fn::Join': ['', [bucketArn, `/${cloudFrontLogPrefix}`]] },
          OutputFormat: 'json',
          RecordFields: cloudFrontLogFields,
          SuffixPath: '{DistributionId}/{yyyy}/{MM}/{dd}',
        },
      },
    },
    Outputs: { AccessLogBucketName: output('Bucket of the photo distribution access logs', ref('AccessLogBucket')) },
  });
}

/** The foundation API's access and execution logs, in each region the API runs in. */
function apiAccessLogs(settings: StageSettings, retention: number): Fragment {
  return {
    Resources: {
      [accessLogGroupId]: logGroup(settings, `/aws/apigateway/${app}-${settings.stage}-foundation-api-access`, retention),
      // API Gateway would create this group itself, never expiring and unencrypted; declared first, it is ours.
      [executionLogGroupId]: logGroup(
        settings,
        sub(`API-Gateway-Execution-Logs_\${ApiGatewayRestApi}/${settings.stage}`),
        executionLogRetentionDays,
      ),
    },
    Outputs: { ApiAccessLogGroupName: output('Log group of the foundation API access logs', ref(accessLogGroupId)) },
  };
}

/**
 * osls's own log groups on a stage that keeps access logs: encrypted with the stage's key, which
 * already exists for the access logs. `resources.extensions` is how osls lets a template amend
 * the resources it generates.
 */
export function functionLogGroupExtensions(settings: StageSettings, functionNames: string[]): NonNullable<AWS['resources']>['extensions'] {
  const keyArn = observabilityKeyArn(settings);
  if (!keyArn) return {};
  return Object.fromEntries(
    functionNames.map((name) => [`${name.charAt(0).toUpperCase()}${name.slice(1)}LogGroup`, { Properties: { KmsKeyId: keyArn } }]),
  );
}
