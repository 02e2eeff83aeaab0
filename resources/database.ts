// Database: `applicants` and `passes` as global tables from day one, so adding a
// replica region is an in-place update, not a migration. The home stack owns them; a secondary
// region's stack only looks up its replica and publishes it in that region's contract.
// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-dynamodb-globaltable.html
import { type CfnResource, contractParameter, dataPolicies, type Fragment, getAtt, output, ref, sub } from './cloudformation';
import { physicalName } from './names';
import { lookupIds, tableReplicaLookup } from './regional-lookup';
import { isHomeRegion, type StageSettings } from './stage';

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

/** The tables of the stage in the region `settings` is built for: owned at home, looked up elsewhere. */
export function database(settings: StageSettings): Fragment {
  return isHomeRegion(settings) ? globalTables(settings) : tableReplicas(settings);
}

function globalTables(settings: StageSettings): Fragment {
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

/**
 * A secondary region: no table resource, ever (the home global table adds and removes the replica;
 * a table resource here would try to create a second table of that name). The names are the
 * home's; the stream ARNs are the local replica's, which only DescribeTable in this region gives
 * (`Fn::GetAtt` of the global table answers for the home stack's region alone).
 */
function tableReplicas(settings: StageSettings): Fragment {
  const applicantsTable = physicalName(settings, 'applicants');
  const passesTable = physicalName(settings, 'passes');
  const applicantsStream = getAtt(lookupIds.applicantsTable, 'StreamArn');
  const passesStream = getAtt(lookupIds.passesTable, 'StreamArn');
  return {
    Resources: {
      [lookupIds.applicantsTable]: tableReplicaLookup(settings, 'applicants'),
      [lookupIds.passesTable]: tableReplicaLookup(settings, 'passes'),
      ApplicantsTableParameter: contractParameter(
        settings,
        'applicantsTable',
        applicantsTable,
        'Name of the applicants table (a replica of the home global table in this region)',
      ),
      ApplicantsTableStreamArnParameter: contractParameter(
        settings,
        'applicantsTableStreamArn',
        applicantsStream,
        "Stream ARN of the applicants table (this region's replica)",
      ),
      PassesTableParameter: contractParameter(
        settings,
        'passesTable',
        passesTable,
        'Name of the passes table (a replica of the home global table in this region)',
      ),
      PassesTableStreamArnParameter: contractParameter(
        settings,
        'passesTableStreamArn',
        passesStream,
        "Stream ARN of the passes table (this region's replica)",
      ),
    },
    Outputs: {
      ApplicantsTableName: output('Name of the applicants table', applicantsTable),
      ApplicantsTableStreamArn: output("Stream ARN of this region's replica of the applicants table", applicantsStream),
      PassesTableName: output('Name of the passes table', passesTable),
      PassesTableStreamArn: output("Stream ARN of this region's replica of the passes table", passesStream),
    },
  };
}
