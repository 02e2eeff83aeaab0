// Database: `applicants` and `passes` as global tables from day one, so adding a
// replica region is an in-place update, not a migration.
// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-dynamodb-globaltable.html
import { type CfnResource, contractParameter, dataPolicies, type Fragment, getAtt, output, ref, sub } from './cloudformation';
import { physicalName, type StageSettings } from './stage';

const stringKey = (name: string) => ({ AttributeName: name, AttributeType: 'S' });

function globalTable(settings: StageSettings, name: string, properties: Record<string, unknown>): CfnResource {
  const replica = (region: unknown) => ({
    Region: region,
    PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    DeletionProtectionEnabled: settings.retainData,
  });
  return {
    Type: 'AWS::DynamoDB::GlobalTable',
    // Deletion protection refuses the rollback's delete: keep even a failed first create's tables.
    ...dataPolicies(settings, { retainOnFailedCreate: true }),
    Properties: {
      TableName: physicalName(settings, name),
      BillingMode: 'PAY_PER_REQUEST',
      // NEW_AND_OLD_IMAGES: the analytics part needs both, and replication requires streams.
      StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
      // KMS with the AWS-managed key: encrypted at rest and auditable in CloudTrail, no key to run.
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS' },
      ...properties,
      // The home stack owns the tables; every other region of the stage holds a replica.
      Replicas: [replica(sub('${AWS::Region}')), ...settings.regions.slice(1).map(replica)],
    },
  };
}

const byApplicant = (indexName: string, sortKey: string) => ({
  IndexName: indexName,
  KeySchema: [
    { AttributeName: 'applicantId', KeyType: 'HASH' },
    { AttributeName: sortKey, KeyType: 'RANGE' },
  ],
  Projection: { ProjectionType: 'ALL' },
});

export function database(settings: StageSettings): Fragment {
  return {
    Resources: {
      ApplicantsTable: globalTable(settings, 'applicants', {
        AttributeDefinitions: [stringKey('id')],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      }),
      PassesTable: globalTable(settings, 'passes', {
        AttributeDefinitions: [stringKey('id'), stringKey('applicantId'), stringKey('endAt'), stringKey('status')],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        GlobalSecondaryIndexes: [byApplicant('ix_applicantId-endAt', 'endAt'), byApplicant('ix_applicantId-status', 'status')],
      }),
      ApplicantsTableParameter: contractParameter(settings, 'applicantsTable', ref('ApplicantsTable'), 'Name of the applicants table'),
      ApplicantsTableStreamArnParameter: contractParameter(
        settings,
        'applicantsTableStreamArn',
        getAtt('ApplicantsTable', 'StreamArn'),
        'Stream ARN of the applicants table (home region)',
      ),
      PassesTableParameter: contractParameter(settings, 'passesTable', ref('PassesTable'), 'Name of the passes table'),
      PassesTableStreamArnParameter: contractParameter(
        settings,
        'passesTableStreamArn',
        getAtt('PassesTable', 'StreamArn'),
        'Stream ARN of the passes table (home region)',
      ),
    },
    Outputs: {
      ApplicantsTableName: output('Name of the applicants table', ref('ApplicantsTable')),
      ApplicantsTableStreamArn: output('Stream ARN of the applicants table', getAtt('ApplicantsTable', 'StreamArn')),
      PassesTableName: output('Name of the passes table', ref('PassesTable')),
      PassesTableStreamArn: output('Stream ARN of the passes table', getAtt('PassesTable', 'StreamArn')),
    },
  };
}
