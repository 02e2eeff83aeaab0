// Access logs, the JWKS's per-client protection, alarms and the deployment bucket, as packaged
// for prod (a shared stage: all of it) and a sandbox (none of the paid parts).
import { describe, expect, it } from 'vitest';
import { apiAccessLogFormat, cloudFrontLogFields } from '../resources/access-logs';
import { settingsFor } from '../resources/stage';
import { readTemplate, type Template } from './package-stage';
import { resource, resourceCountIs, resourcesOfType } from './template';

const prod = readTemplate('prod');
const sandbox = readTemplate('alice');

const alarms = (template: Template) => Object.values(resourcesOfType(template, 'AWS::CloudWatch::Alarm')).map((alarm) => alarm.Properties);
const stageSettings = (template: Template) => resource(template, 'ApiStage', 'AWS::ApiGateway::Stage');

describe('prod stage', () => {
  describe('access logs', () => {
    it('delivers the photo distribution logs through a us-east-1 custom resource to a bucket of the home region', () => {
      const delivery = resource(prod, 'PhotoAccessLogDelivery', 'Custom::CloudFrontLogDelivery');
      expect(delivery.Properties).toMatchObject({
        ServiceToken: { 'Fn::GetAtt': ['AccessLogSetupLambdaFunction', 'Arn'] },
        Name: 'movement-pass-prod-photo-access-logs',
        DistributionArn: { 'Fn::Sub': 'arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${PhotoDistribution}' },
        DestinationArn: { 'Fn::Join': ['', [{ 'Fn::GetAtt': ['AccessLogBucket', 'Arn'] }, '/cloudfront']] },
        OutputFormat: 'json',
      });
      // The bucket policy exists before the delivery that needs it.
      expect(delivery.DependsOn).toContain('AccessLogBucketPolicy');
      expect(resource(prod, 'AccessLogBucket', 'AWS::S3::Bucket').Properties.BucketName).toEqual({
        'Fn::Sub': 'movement-pass-prod-access-logs-aps1-${AWS::AccountId}',
      });
    });

    it('never logs the query string (the URL signature) or cookies of a photo request', () => {
      const fields = resource(prod, 'PhotoAccessLogDelivery').Properties.RecordFields;
      expect(fields).toEqual(cloudFrontLogFields);
      expect(fields).toEqual(expect.arrayContaining(['c-ip', 'cs-uri-stem', 'sc-status', 'date', 'time']));
      expect(fields).not.toContain('cs-uri-query');
      expect(fields).not.toContain('cs(Cookie)');
    });

    it('keeps the photo logs 180 days in a private, KMS-encrypted, retained bucket written only by log delivery', () => {
      const bucket = resource(prod, 'AccessLogBucket');
      expect(bucket).toMatchObject({ DeletionPolicy: 'RetainExceptOnCreate', UpdateReplacePolicy: 'Retain' });
      expect(bucket.Properties.OwnershipControls).toEqual({ Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] });
      expect(bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault).toEqual({
        SSEAlgorithm: 'aws:kms',
        KMSMasterKeyID: { 'Fn::GetAtt': ['ObservabilityKey', 'Arn'] },
      });
      expect(bucket.Properties.LifecycleConfiguration.Rules).toContainEqual(
        expect.objectContaining({ Status: 'Enabled', ExpirationInDays: settingsFor('prod').observability.accessLogRetentionDays }),
      );
      const statements = resource(prod, 'AccessLogBucketPolicy').Properties.PolicyDocument.Statement;
      const write = statements.find((statement: { Sid: string }) => statement.Sid === 'AWSLogDeliveryWrite');
      expect(write).toMatchObject({
        Principal: { Service: 'delivery.logs.amazonaws.com' },
        Action: 's3:PutObject',
        Condition: {
          StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
          ArnLike: { 'aws:SourceArn': { 'Fn::Sub': 'arn:${AWS::Partition}:logs:us-east-1:${AWS::AccountId}:*' } },
        },
      });
      expect(statements).toContainEqual(
        expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      );
    });

    it('gives the setup function exactly the log delivery, distribution and bucket rights it uses', () => {
      const statements = resource(prod, 'AccessLogSetupRole', 'AWS::IAM::Role').Properties.Policies[0].PolicyDocument.Statement;
      const actions = statements.flatMap((statement: { Action: string | string[] }) => [statement.Action].flat());
      expect(actions).toEqual(
        expect.arrayContaining([
          'logs:PutDeliverySource',
          'logs:PutDeliveryDestination',
          'logs:CreateDelivery',
          'cloudfront:AllowVendedLogDeliveryForResource',
        ]),
      );
      expect(actions).not.toContain('iam:PassRole');
      for (const statement of statements) {
        if (statement.Resource === '*') expect(statement.Action).toBe('logs:DescribeDeliveries');
      }
      const deliverySource = statements.find((statement: { Action: string[] }) =>
        [statement.Action].flat().includes('logs:PutDeliverySource'),
      );
      expect(deliverySource.Resource).toEqual({
        'Fn::Sub': 'arn:${AWS::Partition}:logs:us-east-1:${AWS::AccountId}:delivery-source:movement-pass-prod-photo-access-logs',
      });
    });

    it('writes a JSON access log line per API request with request id, source IP, status and latency', () => {
      const setting = stageSettings(prod).Properties.AccessLogSetting;
      expect(setting.DestinationArn).toEqual({ 'Fn::GetAtt': ['ApiAccessLogGroup', 'Arn'] });
      const format = JSON.parse(setting.Format);
      expect(setting.Format).toBe(apiAccessLogFormat);
      expect(format).toMatchObject({
        requestId: '$context.requestId',
        sourceIp: '$context.identity.sourceIp',
        status: '$context.status',
        responseLatency: '$context.responseLatency',
      });
    });

    it('keeps API access logs 180 days and execution logs (errors only) a year, encrypted and retained', () => {
      expect(resource(prod, 'ApiAccessLogGroup', 'AWS::Logs::LogGroup')).toMatchObject({
        DeletionPolicy: 'RetainExceptOnCreate',
        Properties: {
          LogGroupName: '/aws/apigateway/movement-pass-prod-foundation-api-access',
          RetentionInDays: 180,
          KmsKeyId: { 'Fn::GetAtt': ['ObservabilityKey', 'Arn'] },
        },
      });
      expect(resource(prod, 'ApiExecutionLogGroup', 'AWS::Logs::LogGroup').Properties).toMatchObject({
        LogGroupName: { 'Fn::Sub': 'API-Gateway-Execution-Logs_${ApiGatewayRestApi}/prod' },
        RetentionInDays: 365,
      });
      expect(stageSettings(prod).Properties.MethodSettings[0]).toMatchObject({ LoggingLevel: 'ERROR', DataTraceEnabled: false });
    });

    it("waits for its log groups, and leaves the account's API Gateway role and setting to the account bootstrap", () => {
      expect(stageSettings(prod).DependsOn).toEqual(expect.arrayContaining(['ApiAccessLogGroup', 'ApiExecutionLogGroup']));
      resourceCountIs(prod, 'AWS::ApiGateway::Account', 0);
      resourceCountIs(prod, 'Custom::ApiGatewayCloudWatchRole', 0);
      expect(Object.keys(resourcesOfType(prod, 'AWS::IAM::Role'))).not.toContain('ApiGatewayCloudWatchRole');
    });

    it("encrypts osls's function log groups with the stage's key", () => {
      for (const id of ['KeyRingLogGroup', 'AccessLogSetupLogGroup']) {
        expect(resource(prod, id, 'AWS::Logs::LogGroup').Properties.KmsKeyId).toEqual({ 'Fn::GetAtt': ['ObservabilityKey', 'Arn'] });
      }
    });
  });

  describe('JWKS protection', () => {
    it('blocks a source IP above its rate with a WAF web ACL on the API stage', () => {
      const acl = resource(prod, 'ApiWebAcl', 'AWS::WAFv2::WebACL').Properties;
      expect(acl).toMatchObject({ Scope: 'REGIONAL', DefaultAction: { Allow: {} } });
      expect(acl.Rules).toEqual([
        expect.objectContaining({
          Statement: {
            RateBasedStatement: {
              Limit: settingsFor('prod').api.requestsPer5MinPerIp,
              EvaluationWindowSec: 300,
              AggregateKeyType: 'IP',
            },
          },
          Action: { Block: { CustomResponse: { ResponseCode: 429 } } },
        }),
      ]);
      // The pattern of AWS::WAFv2::WebACL's Description: CloudFormation checks it at deploy time only.
      // https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-wafv2-webacl.html
      const wafDescription = /^[a-zA-Z0-9=:#@/\-,.][a-zA-Z0-9+=:#@/\-,.\s]+[a-zA-Z0-9+=:#@/\-,.]{1,256}$/;
      for (const template of [prod, readTemplate('prod.ap-southeast-1')]) {
        expect(resource(template, 'ApiWebAcl').Properties.Description).toMatch(wafDescription);
      }
      expect(resource(prod, 'ApiWebAclAssociation', 'AWS::WAFv2::WebACLAssociation').Properties).toEqual({
        ResourceArn: { 'Fn::Sub': 'arn:${AWS::Partition}:apigateway:${AWS::Region}::/restapis/${ApiGatewayRestApi}/stages/${ApiStage}' },
        WebACLArn: { 'Fn::GetAtt': ['ApiWebAcl', 'Arn'] },
      });
    });

    it('throttles the stage at the rate the stage settings give', () => {
      const { rateLimit, burstLimit } = settingsFor('prod').api.throttle;
      expect(stageSettings(prod).Properties.MethodSettings).toContainEqual(
        expect.objectContaining({ ResourcePath: '/*', HttpMethod: '*', ThrottlingRateLimit: rateLimit, ThrottlingBurstLimit: burstLimit }),
      );
    });
  });

  describe('alarms', () => {
    const topicAction = [{ Ref: 'AlarmTopic' }];

    it.each([
      ['the dead-letter queue holds a message', 'AWS/SQS', 'ApproximateNumberOfMessagesVisible'],
      ['the JWKS answers 5xx', 'AWS/ApiGateway', '5XXError'],
      ['the key ring function fails', 'AWS/Lambda', 'Errors'],
      ['the key ring answers FAILED', 'MovementPass/prod', 'KeyRingFailures'],
    ])('raises an alarm to the topic when %s', (_, namespace, metricName) => {
      const alarm = alarms(prod).find((properties) => properties.Namespace === namespace && properties.MetricName === metricName);
      expect(alarm).toMatchObject({
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        AlarmActions: topicAction,
        OKActions: topicAction,
        ActionsEnabled: true,
      });
    });

    it('watches the right dead-letter queue, JWKS method and function', () => {
      const dimensions = (metricName: string) => alarms(prod).find((properties) => properties.MetricName === metricName)?.Dimensions;
      expect(dimensions('ApproximateNumberOfMessagesVisible')).toEqual([
        { Name: 'QueueName', Value: { 'Fn::GetAtt': ['PassesLoadDeadLetterQueue', 'QueueName'] } },
      ]);
      expect(dimensions('5XXError')).toEqual(
        expect.arrayContaining([
          { Name: 'ApiName', Value: 'movement-pass-prod-foundation-api' },
          { Name: 'Resource', Value: '/.well-known/jwks.json' },
          { Name: 'Stage', Value: 'prod' },
        ]),
      );
      expect(dimensions('Errors')).toEqual([{ Name: 'FunctionName', Value: 'movement-pass-foundation-prod-keyRing' }]);
      expect(resource(prod, 'KeyRingFailureMetricFilter', 'AWS::Logs::MetricFilter').Properties).toMatchObject({
        LogGroupName: '/aws/lambda/movement-pass-foundation-prod-keyRing',
        FilterPattern: '{ $.level = "error" }',
      });
    });

    it("subscribes the stage's alarm emails to a topic under a customer managed key CloudWatch may use", () => {
      expect(resource(prod, 'AlarmTopic', 'AWS::SNS::Topic').Properties.KmsMasterKeyId).toEqual({ Ref: 'ObservabilityKey' });
      const subscriptions = Object.values(resourcesOfType(prod, 'AWS::SNS::Subscription')).map((subscription) => subscription.Properties);
      expect(subscriptions).toEqual(
        settingsFor('prod').observability.alarmEmails.map((email) => ({
          TopicArn: { Ref: 'AlarmTopic' },
          Protocol: 'email',
          Endpoint: email,
        })),
      );
      const key = resource(prod, 'ObservabilityKey', 'AWS::KMS::Key');
      expect(key).toMatchObject({ DeletionPolicy: 'RetainExceptOnCreate', Properties: { EnableKeyRotation: true } });
      expect(key.Properties.KeyPolicy.Statement).toContainEqual(
        expect.objectContaining({
          Effect: 'Allow',
          Principal: { Service: 'cloudwatch.amazonaws.com' },
          Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        }),
      );
    });
  });
});

describe('sandbox stage', () => {
  it.each([
    'AWS::WAFv2::WebACL',
    'AWS::WAFv2::WebACLAssociation',
    'AWS::CloudWatch::Alarm',
    'AWS::SNS::Topic',
    'AWS::KMS::Key',
    'Custom::CloudFrontLogDelivery',
    'Custom::ApiGatewayCloudWatchRole',
    'AWS::IAM::Role',
  ])('holds no %s beyond its custom resource roles', (type) => {
    const roles = ['KeyRingRole', 'PhotoBucketEmptierRole'];
    expect(Object.keys(resourcesOfType(sandbox, type)).filter((id) => !roles.includes(id))).toEqual([]);
  });

  it('keeps no access logs and still throttles the stage', () => {
    expect(stageSettings(sandbox).Properties.AccessLogSetting).toBeUndefined();
    expect(stageSettings(sandbox).Properties.MethodSettings[0].LoggingLevel).toBeUndefined();
    expect(Object.keys(resourcesOfType(sandbox, 'AWS::S3::Bucket')).sort()).toEqual(['PhotoBucket']);
    const { rateLimit } = settingsFor('alice').api.throttle;
    expect(stageSettings(sandbox).Properties.MethodSettings[0].ThrottlingRateLimit).toBe(rateLimit);
  });

  it('still refuses plain HTTP for photos', () => {
    expect(resource(sandbox, 'PhotoDistribution').Properties.DistributionConfig.DefaultCacheBehavior.ViewerProtocolPolicy).toBe(
      'https-only',
    );
  });
});

describe('replication alarms of a stage in two regions', () => {
  const regional = readTemplate('prod.ap-southeast-1');

  it.each([
    [
      'home',
      prod,
      'ap-south-1',
      'ap-southeast-1',
      'movement-pass-prod-photos-aps1-${AWS::AccountId}',
      'movement-pass-prod-photos-apse1-${AWS::AccountId}',
    ],
    [
      'secondary',
      regional,
      'ap-southeast-1',
      'ap-south-1',
      'movement-pass-prod-photos-apse1-${AWS::AccountId}',
      'movement-pass-prod-photos-aps1-${AWS::AccountId}',
    ],
  ])(
    'watch, in the %s stack, what it sends to the other region: table replicas and photos',
    (_, template, region, peer, source, destination) => {
      for (const [id, table] of [
        ['ApplicantsReplicationLatencyAlarm', 'movement-pass-prod-applicants'],
        ['PassesReplicationLatencyAlarm', 'movement-pass-prod-passes'],
      ]) {
        expect(resource(template, id, 'AWS::CloudWatch::Alarm').Properties).toMatchObject({
          Namespace: 'AWS/DynamoDB',
          MetricName: 'ReplicationLatency',
          Dimensions: [
            { Name: 'TableName', Value: table },
            { Name: 'ReceivingRegion', Value: peer },
          ],
          Statistic: 'Average',
          Threshold: 300_000,
          EvaluationPeriods: 3,
          AlarmActions: [{ Ref: 'AlarmTopic' }],
        });
      }
      expect(resource(template, 'PhotoReplicationFailuresAlarm').Properties).toMatchObject({
        Namespace: 'AWS/S3',
        MetricName: 'OperationsFailedReplication',
        Dimensions: [
          { Name: 'SourceBucket', Value: { 'Fn::Sub': source } },
          { Name: 'DestinationBucket', Value: { 'Fn::Sub': destination } },
          { Name: 'RuleId', Value: `photos-to-${peer}` },
        ],
      });
      // The rule the alarm reads publishes its metrics.
      const [rule] = resource(template, 'PhotoBucket').Properties.ReplicationConfiguration.Rules;
      expect([rule.Id, rule.Destination.Metrics]).toEqual([`photos-to-${peer}`, { Status: 'Enabled' }]);
      expect(region).not.toBe(peer);
    },
  );

  it('are none on a sandbox in two regions: its idle cost stays 0 USD', () => {
    const bob = readTemplate('bob');
    expect(Object.keys(resourcesOfType(bob, 'AWS::CloudWatch::Alarm'))).toEqual([]);
    expect(resource(bob, 'PhotoBucket').Properties.ReplicationConfiguration.Rules[0].Destination.Metrics).toBeUndefined();
  });
});
