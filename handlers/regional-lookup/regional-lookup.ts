// Read-only lookups of a regional stack: what it needs from resources other stacks own (the local
// replica of a home global table, the home stack's photo distribution and CloudFront public keys).
// A lookup owns nothing: Create and Update read, Delete does nothing. None calls the home region:
// DynamoDB answers for the replica in this region, CloudFront is a global service.
import { type CloudFrontClient, ListDistributionsCommand, ListPublicKeysCommand } from '@aws-sdk/client-cloudfront';
import { DescribeTableCommand, type DynamoDBClient, type TableDescription } from '@aws-sdk/client-dynamodb';
import type { CustomResourceEvent, CustomResourceResult, Invocation, Logger } from '../lib/custom-resource';

export interface RegionalLookupDeps {
  dynamodb: Pick<DynamoDBClient, 'send'>;
  cloudfront: Pick<CloudFrontClient, 'send'>;
  /** The region the function runs in, which is the stack's: where the replica must be. */
  region: string;
  logger: Logger;
}

/** The custom resource types this function answers (resources/regional-lookup.ts builds them). */
export const lookupResourceTypes = ['Custom::TableReplica', 'Custom::PhotoDistribution', 'Custom::CloudFrontPublicKey'] as const;
type LookupType = (typeof lookupResourceTypes)[number];

/** A lookup that cannot answer: the message says what is missing and what to do. */
export class LookupFailed extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LookupFailed';
  }
}

/** Properties of a malformed event: checked before any AWS call. */
function property(event: CustomResourceEvent, name: string, pattern: RegExp, what: string): string {
  const value = event.ResourceProperties[name];
  if (typeof value !== 'string' || !pattern.test(value)) {
    throw new LookupFailed(`${event.ResourceType} ${event.LogicalResourceId}: ${name} must be ${what} (got ${JSON.stringify(value)})`);
  }
  return value;
}

// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.NamingRulesDataTypes.html
const tableName = /^[a-zA-Z0-9_.-]{3,255}$/;
const domainName = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
// https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_PublicKeyConfig.html: 1 to 128 of these.
const publicKeyName = /^[\w-]{1,128}$/;

/** Table and replica states whose table serves its stream. */
const usable = ['ACTIVE', 'UPDATING'];
const isNotFound = (error: unknown) => (error as { name?: string })?.name === 'ResourceNotFoundException';

export function regionalLookup(deps: RegionalLookupDeps) {
  const { dynamodb, cloudfront, region, logger } = deps;

  async function tableReplica(event: CustomResourceEvent, signal: AbortSignal): Promise<CustomResourceResult> {
    const name = property(event, 'TableName', tableName, 'a DynamoDB table name');
    const deployHomeFirst =
      `Deploy the home region first: its global table adds the replica in ${region} ` +
      "(the stage's regions in resources/stage.ts), then deploy this region again.";
    let table: TableDescription | undefined;
    try {
      ({ Table: table } = await dynamodb.send(new DescribeTableCommand({ TableName: name }), { abortSignal: signal }));
    } catch (error) {
      if (isNotFound(error)) throw new LookupFailed(`Table ${name} has no replica in ${region}. ${deployHomeFirst}`);
      throw error;
    }
    // UPDATING (an index being built, a setting changing) still serves reads, writes and its stream.
    if (!usable.includes(table?.TableStatus ?? '')) {
      throw new LookupFailed(
        `Table ${name} in ${region} is ${table?.TableStatus ?? 'in no known state'}, not ACTIVE. ${deployHomeFirst} ` +
          'A replica being created takes minutes: wait until it is ACTIVE.',
      );
    }
    // The regions DescribeTable lists as replicas; where it lists this one, its own status counts too.
    const local = table?.Replicas?.find((replica) => replica.RegionName === region);
    if (local && !usable.includes(local.ReplicaStatus ?? '')) {
      throw new LookupFailed(`The replica of table ${name} in ${region} is ${local.ReplicaStatus}, not ACTIVE. ${deployHomeFirst}`);
    }
    if (!table?.TableArn || !table.LatestStreamArn) {
      throw new LookupFailed(
        `Table ${name} in ${region} has no stream: a replica of the home global table always has one (replication needs it). ${deployHomeFirst}`,
      );
    }
    logger.info('found table replica', { table: name, region, streamArn: table.LatestStreamArn });
    return { physicalResourceId: table.TableArn, data: { TableArn: table.TableArn, StreamArn: table.LatestStreamArn } };
  }

  async function photoDistribution(event: CustomResourceEvent, signal: AbortSignal): Promise<CustomResourceResult> {
    const origin = property(event, 'OriginDomainName', domainName, 'the domain name of an origin (a bucket regional domain name)');
    const found: { Id: string; ARN: string; DomainName: string }[] = [];
    let Marker: string | undefined;
    do {
      const { DistributionList: page } = await cloudfront.send(new ListDistributionsCommand({ Marker }), { abortSignal: signal });
      for (const distribution of page?.Items ?? []) {
        if (distribution.Origins?.Items?.some((item) => item.DomainName === origin)) {
          found.push({ Id: distribution.Id ?? '', ARN: distribution.ARN ?? '', DomainName: distribution.DomainName ?? '' });
        }
      }
      Marker = page?.IsTruncated ? page.NextMarker : undefined;
    } while (Marker);
    if (found.length !== 1) {
      throw new LookupFailed(
        found.length === 0
          ? `No CloudFront distribution has the origin ${origin}. Deploy the home region first: its stack owns the photo distribution.`
          : `${found.length} CloudFront distributions have the origin ${origin} (${found.map((d) => d.Id).join(', ')}); ` +
              'the photo distribution must be the only one. Remove the others from that origin.',
      );
    }
    const [distribution] = found;
    logger.info('found photo distribution', { origin, id: distribution.Id });
    return {
      physicalResourceId: distribution.Id,
      data: { Id: distribution.Id, Arn: distribution.ARN, DomainName: distribution.DomainName },
    };
  }

  async function cloudFrontPublicKey(event: CustomResourceEvent, signal: AbortSignal): Promise<CustomResourceResult> {
    const name = property(event, 'Name', publicKeyName, 'a CloudFront public key name (1 to 128 letters, digits, - and _)');
    let Marker: string | undefined;
    do {
      const { PublicKeyList: page } = await cloudfront.send(new ListPublicKeysCommand({ Marker }), { abortSignal: signal });
      const key = page?.Items?.find((item) => item.Name === name);
      if (key?.Id) {
        logger.info('found CloudFront public key', { name, id: key.Id });
        return { physicalResourceId: key.Id, data: { Id: key.Id } };
      }
      // ListPublicKeys has no IsTruncated: a NextMarker is the next page.
      Marker = page?.NextMarker || undefined;
    } while (Marker);
    throw new LookupFailed(
      `No CloudFront public key is named ${name}. Deploy the home region first: its stack creates the photo URL key of this rotation.`,
    );
  }

  const byType: Record<LookupType, (event: CustomResourceEvent, signal: AbortSignal) => Promise<CustomResourceResult>> = {
    'Custom::TableReplica': tableReplica,
    'Custom::PhotoDistribution': photoDistribution,
    'Custom::CloudFrontPublicKey': cloudFrontPublicKey,
  };

  return async function onEvent(event: CustomResourceEvent, { signal }: Invocation): Promise<CustomResourceResult> {
    // A lookup owns nothing: removing it (or the old one after a replacement) leaves everything as it is.
    if (event.RequestType === 'Delete') return { physicalResourceId: event.PhysicalResourceId };
    const lookup = byType[event.ResourceType as LookupType];
    if (!lookup) {
      throw new LookupFailed(`unknown resource type ${event.ResourceType}; this function answers ${lookupResourceTypes.join(', ')}`);
    }
    return lookup(event, signal);
  };
}
