// The skeleton's contract: configuration, tables, queue and outputs, prod against a sandbox.
import { describe, expect, it } from 'vitest';
import { readTemplate } from './package-stage';
import { contractParameters, resource, resourceCountIs, resourcesOfType } from './template';

const prod = readTemplate('prod');
const sandbox = readTemplate('alice');

describe.each([
  ['prod', prod],
  ['alice', sandbox],
])('stage %s', (stage, template) => {
  const parameters = contractParameters(template, stage);

  it('writes the configuration keys of the contract', () => {
    expect(parameters.app.Properties).toMatchObject({ Type: 'String', Value: 'movement-pass' });
    expect(parameters.version.Properties).toMatchObject({ Type: 'String', Value: 'v1' });
    expect(parameters.stage.Properties).toMatchObject({ Type: 'String', Value: stage });
    expect(parameters.domain.Properties).toMatchObject({ Type: 'String', Value: 'movement-pass.com' });
  });

  it('declares applicants and passes as on-demand, encrypted global tables with streams and PITR', () => {
    resourceCountIs(template, 'AWS::DynamoDB::GlobalTable', 2);
    for (const [id, name] of [
      ['ApplicantsTable', 'applicants'],
      ['PassesTable', 'passes'],
    ]) {
      const table = resource(template, id, 'AWS::DynamoDB::GlobalTable');
      expect(table.Properties).toMatchObject({
        TableName: `movement-pass-${stage}-${name}`,
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
        SSESpecification: { SSEEnabled: true },
      });
      for (const replica of table.Properties?.Replicas ?? []) {
        expect(replica.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
      }
    }
  });

  it('indexes passes by applicant and end date, and by applicant and status', () => {
    const passes = resource(template, 'PassesTable').Properties;
    expect(passes?.AttributeDefinitions).toEqual(
      ['id', 'applicantId', 'endAt', 'status'].map((name) => ({ AttributeName: name, AttributeType: 'S' })),
    );
    expect(passes?.GlobalSecondaryIndexes).toEqual(
      [
        ['ix_applicantId-endAt', 'endAt'],
        ['ix_applicantId-status', 'status'],
      ].map(([IndexName, sortKey]) => ({
        IndexName,
        KeySchema: [
          { AttributeName: 'applicantId', KeyType: 'HASH' },
          { AttributeName: sortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      })),
    );
  });

  it('publishes table names and stream ARNs under the contract keys', () => {
    expect(parameters.applicantsTable.Properties?.Value).toEqual({ Ref: 'ApplicantsTable' });
    expect(parameters.applicantsTableStreamArn.Properties?.Value).toEqual({ 'Fn::GetAtt': ['ApplicantsTable', 'StreamArn'] });
    expect(parameters.passesTable.Properties?.Value).toEqual({ Ref: 'PassesTable' });
    expect(parameters.passesTableStreamArn.Properties?.Value).toEqual({ 'Fn::GetAtt': ['PassesTable', 'StreamArn'] });
  });

  it('has a FIFO passes load queue keeping messages 14 days, with long polling, a redrive to a FIFO dead-letter queue, and encryption', () => {
    const queue = resource(template, 'PassesLoadQueue', 'AWS::SQS::Queue').Properties;
    const fourteenDays = 1_209_600; // the longest SQS keeps a message
    expect(resource(template, 'PassesLoadDeadLetterQueue').Properties.MessageRetentionPeriod).toBe(fourteenDays);
    expect(queue).toMatchObject({
      MessageRetentionPeriod: fourteenDays,
      QueueName: `movement-pass-${stage}-passes-load.fifo`,
      FifoQueue: true,
      ContentBasedDeduplication: true,
      DeduplicationScope: 'messageGroup',
      FifoThroughputLimit: 'perMessageGroupId',
      ReceiveMessageWaitTimeSeconds: 20,
      VisibilityTimeout: 300,
      SqsManagedSseEnabled: true,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': ['PassesLoadDeadLetterQueue', 'Arn'] }, maxReceiveCount: 5 },
    });
    const deadLetters = resource(template, 'PassesLoadDeadLetterQueue', 'AWS::SQS::Queue').Properties;
    expect(deadLetters).toMatchObject({
      QueueName: `movement-pass-${stage}-passes-load-dlq.fifo`,
      FifoQueue: true,
      SqsManagedSseEnabled: true,
    });
    expect(JSON.stringify(deadLetters?.RedriveAllowPolicy)).toContain(`movement-pass-${stage}-passes-load.fifo`);
    expect(parameters.passesLoadQueueUrl.Properties?.Value).toEqual({ Ref: 'PassesLoadQueue' });
    expect(parameters.passesLoadQueueArn.Properties?.Value).toEqual({ 'Fn::GetAtt': ['PassesLoadQueue', 'Arn'] });
  });

  it('prints every value a consumer needs as a stack output', () => {
    expect(template.Outputs).toMatchObject({
      SsmRoot: { Value: `/movement-pass/${stage}` },
      ApplicantsTableName: { Value: { Ref: 'ApplicantsTable' } },
      ApplicantsTableStreamArn: { Value: { 'Fn::GetAtt': ['ApplicantsTable', 'StreamArn'] } },
      PassesTableName: { Value: { Ref: 'PassesTable' } },
      PassesTableStreamArn: { Value: { 'Fn::GetAtt': ['PassesTable', 'StreamArn'] } },
      PassesLoadQueueUrl: { Value: { Ref: 'PassesLoadQueue' } },
      PassesLoadQueueArn: { Value: { 'Fn::GetAtt': ['PassesLoadQueue', 'Arn'] } },
    });
  });
});

describe('prod stage', () => {
  const tables = resourcesOfType(prod, 'AWS::DynamoDB::GlobalTable');

  it('retains both tables on stack deletion and replacement', () => {
    for (const table of Object.values(tables)) {
      expect(table).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    }
  });

  it('replicates both tables to the home region and ap-southeast-1, deletion-protected', () => {
    for (const table of Object.values(tables)) {
      const replicas = table.Properties?.Replicas;
      expect(replicas.map((replica: { Region: unknown }) => replica.Region)).toEqual([{ 'Fn::Sub': '${AWS::Region}' }, 'ap-southeast-1']);
      for (const replica of replicas) expect(replica.DeletionProtectionEnabled).toBe(true);
    }
  });
});

describe('sandbox stage', () => {
  const tables = resourcesOfType(sandbox, 'AWS::DynamoDB::GlobalTable');

  it('deletes both tables with the stack', () => {
    for (const table of Object.values(tables)) {
      expect(table).toMatchObject({ DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Delete' });
    }
  });

  it('keeps one unprotected replica, in the home region', () => {
    for (const table of Object.values(tables)) {
      expect(table.Properties?.Replicas).toEqual([
        {
          Region: { 'Fn::Sub': '${AWS::Region}' },
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          DeletionProtectionEnabled: false,
        },
      ]);
    }
  });

  it('shares no physical name with prod', () => {
    const names = (template: typeof prod) =>
      Object.values(template.Resources).flatMap((r) =>
        [r.Properties?.TableName, r.Properties?.QueueName, r.Properties?.Name].filter(Boolean),
      );
    const prodNames = new Set(names(prod));
    expect(names(sandbox).filter((name) => prodNames.has(name))).toEqual([]);
  });
});
