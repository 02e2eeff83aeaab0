// What a regional stack reads from resources it does not own: its replica of each global table
// (the home stack's), the photo distribution and the photo URL public keys (global CloudFront
// resources, also the home stack's). One small function looks them up at deploy time
// (handlers/regional-lookup); each lookup is a custom resource whose attributes the template reads.
// None of them calls the home region: DynamoDB answers for the local replica, CloudFront is global.
import { type CfnResource, type Intrinsic, sub } from './cloudformation';
import { customResourceFunction, serviceToken } from './functions';
import { physicalName } from './names';
import type { StageSettings } from './stage';

export const regionalLookupFunctionName = 'regionalLookup';

/** The lookups, by custom resource type, with the attributes each answers. */
export const lookupTypes = {
  /** DescribeTable in the stack's region: the local replica of a global table. */
  tableReplica: { type: 'Custom::TableReplica', attributes: ['TableArn', 'StreamArn'] },
  /** The one distribution whose origins include the home photo bucket. */
  photoDistribution: { type: 'Custom::PhotoDistribution', attributes: ['Id', 'Arn', 'DomainName'] },
  /** A CloudFront public key by name: the photo URL key of one rotation. */
  cloudFrontPublicKey: { type: 'Custom::CloudFrontPublicKey', attributes: ['Id'] },
} as const;

/** Logical ids of the lookups, so the modules that read them agree on the names. */
export const lookupIds = {
  applicantsTable: 'ApplicantsTableReplica',
  passesTable: 'PassesTableReplica',
  photoDistribution: 'PhotoDistributionLookup',
  photoUrlPublicKey: 'PhotoUrlPublicKeyLookup',
} as const;

/**
 * A lookup runs when CloudFormation creates or updates it, that is when its properties change.
 * The home stack created anew (a recovery, a sandbox's home removed and deployed again) has new
 * resources under the same names: at deploy time plugins/regional-lookups.js sets `Refresh` to a
 * digest of what the lookups would find, so they read again exactly when that has changed.
 */
function lookup(type: string, properties: Record<string, Intrinsic>): CfnResource {
  return {
    Type: type,
    Properties: {
      ServiceToken: serviceToken(regionalLookupFunctionName),
      ServiceTimeout: 120, // function timeout + a minute
      ...properties,
    },
  };
}

/** The local replica of the home stack's global table `name` (`applicants`, `passes`). */
export const tableReplicaLookup = (settings: StageSettings, name: string): CfnResource =>
  lookup(lookupTypes.tableReplica.type, { TableName: physicalName(settings, name) });

/** The distribution serving the home photo bucket, found by that bucket's regional domain name. */
export const photoDistributionLookup = (originDomainName: Intrinsic): CfnResource =>
  lookup(lookupTypes.photoDistribution.type, { OriginDomainName: originDomainName });

/** The CloudFront public key of the photo URL key of one rotation, by its name. */
export const cloudFrontPublicKeyLookup = (name: string): CfnResource => lookup(lookupTypes.cloudFrontPublicKey.type, { Name: name });

/** The lookup function: read-only, on the tables of this stage and CloudFront's lists. */
export function regionalLookupFunction(settings: StageSettings) {
  const tableArn = (name: string) =>
    sub(`arn:\${AWS::Partition}:dynamodb:\${AWS::Region}:\${AWS::AccountId}:table/${physicalName(settings, name)}`);
  return customResourceFunction(settings, {
    name: regionalLookupFunctionName,
    handler: 'handlers/regional-lookup/index.handler',
    description: "Looks up this region's table replicas and the home stack's CloudFront resources",
    memorySize: 256,
    timeout: 60,
    statements: [
      { Effect: 'Allow', Action: 'dynamodb:DescribeTable', Resource: ['applicants', 'passes'].map(tableArn) },
      // List actions of CloudFront take no resource ARN.
      { Effect: 'Allow', Action: ['cloudfront:ListDistributions', 'cloudfront:ListPublicKeys'], Resource: '*' },
    ],
  });
}
