// The regional lookups through the AWS SDK clients the handler uses, against local endpoints:
// dynalite (a DynamoDB implementation) for tables that are missing, being created or without a
// stream; a DynamoDB JSON endpoint answering a global table's replica per signed region; a
// CloudFront REST-XML endpoint that pages its lists. CloudFormation's side is a local server.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { makeHandler } from '../../handlers/lib/custom-resource';
import { regionalLookup } from '../../handlers/regional-lookup/regional-lookup';
import { lookupIds, lookupTypes } from '../../resources/regional-lookup';
import { unpackedBundle } from '../package-stage';
import { type Distribution, type ReplicaTable, startCloudFrontEndpoint, startDynamoDbEndpoint } from './regional-lookup-endpoints';
import { startCloudFormationEndpoint } from './stack-endpoints';
import { type ChildRun, context, makeEvent, memoryLogger, runBundledHandler, startResponseServer } from './support';

const home = 'ap-south-1';
const secondary = 'ap-southeast-1';
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const passes = 'movement-pass-prod-passes';
const streamArn = (region: string, label: string) => `arn:aws:dynamodb:${region}:123456789012:table/${passes}/stream/${label}`;
const homeBucket = 'movement-pass-prod-photos-123456789012.s3.ap-south-1.amazonaws.com';
const secondaryBucket = 'movement-pass-prod-photos-apse1-123456789012.s3.ap-southeast-1.amazonaws.com';

/** The global table as both regions describe it: each its own stream. */
const globalPasses = (secondaryStatus = 'ACTIVE'): Record<string, Record<string, ReplicaTable>> => ({
  [home]: {
    [passes]: {
      TableStatus: 'ACTIVE',
      LatestStreamArn: streamArn(home, 'home'),
      Replicas: [{ RegionName: secondary, ReplicaStatus: secondaryStatus }],
    },
  },
  [secondary]: {
    [passes]: {
      TableStatus: 'ACTIVE',
      LatestStreamArn: streamArn(secondary, 'replica'),
      Replicas: [
        { RegionName: home, ReplicaStatus: 'ACTIVE' },
        { RegionName: secondary, ReplicaStatus: secondaryStatus },
      ],
    },
  },
});

const photoDistributions = (count = 5, matching = [4]): Distribution[] =>
  Array.from({ length: count }, (_, i) => ({
    id: `E${i}DISTRIBUTION`,
    domainName: `d${i}.cloudfront.net`,
    // The photo distribution's origin group: the home bucket, then the secondary.
    origins: matching.includes(i) ? [homeBucket, secondaryBucket] : [`other-${i}.s3.ap-south-1.amazonaws.com`],
  }));

describe('regional lookups', () => {
  let cloudFormation: Awaited<ReturnType<typeof startResponseServer>>;
  let dynamodbEndpoint: { url: string; close: () => Promise<void> } | undefined;
  let cloudFront: Awaited<ReturnType<typeof startCloudFrontEndpoint>> | undefined;
  let logger: ReturnType<typeof memoryLogger>;

  beforeEach(async () => {
    cloudFormation = await startResponseServer();
    logger = memoryLogger();
  });
  afterEach(async () => {
    await cloudFormation.close();
    await dynamodbEndpoint?.close();
    await cloudFront?.close();
    dynamodbEndpoint = undefined;
    cloudFront = undefined;
  });

  /** The handler as its entry builds it, in the secondary region, with endpoints of this test. */
  function lookupHandler(endpoints: { dynamodb?: string; cloudfront?: string }) {
    const dynamodb = new DynamoDBClient({ region: secondary, endpoint: endpoints.dynamodb ?? 'http://127.0.0.1:1', credentials });
    const cloudfront = new CloudFrontClient({ region: 'us-east-1', endpoint: endpoints.cloudfront ?? 'http://127.0.0.1:1', credentials });
    return makeHandler(regionalLookup({ dynamodb, cloudfront, region: secondary, logger }), { logger });
  }

  const event = (type: keyof typeof lookupTypes, properties: Record<string, unknown>, partial: Record<string, unknown> = {}) =>
    makeEvent({
      RequestType: 'Create',
      ResponseURL: cloudFormation.url,
      LogicalResourceId: {
        tableReplica: lookupIds.passesTable,
        photoDistribution: lookupIds.photoDistribution,
        cloudFrontPublicKey: lookupIds.photoUrlPublicKey,
      }[type],
      ResourceType: lookupTypes[type].type,
      ResourceProperties: { ServiceToken: 'token', ...properties },
      ...partial,
    });
  const answer = () => {
    expect(cloudFormation.received).toHaveLength(1);
    return cloudFormation.received[0].body;
  };

  describe('Custom::TableReplica', () => {
    it("answers the table ARN and the stream of this region's replica, asking DynamoDB in this region only", async () => {
      const endpoint = await startDynamoDbEndpoint(globalPasses());
      dynamodbEndpoint = endpoint;

      await lookupHandler({ dynamodb: endpoint.url })(event('tableReplica', { TableName: passes }), context());

      expect(answer()).toMatchObject({
        Status: 'SUCCESS',
        PhysicalResourceId: `arn:aws:dynamodb:${secondary}:123456789012:table/${passes}`,
        Data: { TableArn: `arn:aws:dynamodb:${secondary}:123456789012:table/${passes}`, StreamArn: streamArn(secondary, 'replica') },
      });
      expect(Object.keys(answer().Data).sort()).toEqual([...lookupTypes.tableReplica.attributes].sort());
      expect(endpoint.received.map(({ operation, region }) => [operation, region])).toEqual([['DescribeTable', secondary]]);
    });

    it('answers while the table is UPDATING (an index being built still serves its stream)', async () => {
      const tables = globalPasses('UPDATING');
      tables[secondary][passes].TableStatus = 'UPDATING';
      const endpoint = await startDynamoDbEndpoint(tables);
      dynamodbEndpoint = endpoint;

      await lookupHandler({ dynamodb: endpoint.url })(event('tableReplica', { TableName: passes }), context());

      expect(answer()).toMatchObject({ Status: 'SUCCESS', Data: { StreamArn: streamArn(secondary, 'replica') } });
    });

    it('fails while the replica in this region is still being created', async () => {
      const endpoint = await startDynamoDbEndpoint(globalPasses('CREATING'));
      dynamodbEndpoint = endpoint;

      await lookupHandler({ dynamodb: endpoint.url })(event('tableReplica', { TableName: passes }), context());

      expect(answer()).toMatchObject({
        Status: 'FAILED',
        Reason: expect.stringContaining(`replica of table ${passes} in ${secondary} is CREATING`),
      });
    });

    describe('against dynalite', () => {
      let server: Server;
      let url: string;
      let admin: DynamoDBClient;
      beforeAll(async () => {
        // A table takes a second to become ACTIVE, as DynamoDB's own take a while.
        server = dynalite({ createTableMs: 1000 });
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
        url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
        admin = new DynamoDBClient({ region: secondary, endpoint: url, credentials });
      });
      afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

      const createTable = (TableName: string) =>
        admin.send(
          new CreateTableCommand({
            TableName,
            AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
            KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
            BillingMode: 'PAY_PER_REQUEST',
          }),
        );

      it('fails naming the table and the region when this region has no replica: deploy the home region first', async () => {
        await lookupHandler({ dynamodb: url })(event('tableReplica', { TableName: 'movement-pass-bob-passes' }), context());

        const { Status, Reason } = answer();
        expect(Status).toBe('FAILED');
        expect(Reason).toContain(`Table movement-pass-bob-passes has no replica in ${secondary}`);
        expect(Reason).toContain('Deploy the home region first: its global table adds the replica');
      });

      it('fails while the table is not ACTIVE', async () => {
        await createTable('movement-pass-carol-passes');

        await lookupHandler({ dynamodb: url })(event('tableReplica', { TableName: 'movement-pass-carol-passes' }), context());

        expect(answer()).toMatchObject({
          Status: 'FAILED',
          Reason: expect.stringContaining(`Table movement-pass-carol-passes in ${secondary} is CREATING, not ACTIVE`),
        });
      });

      it('fails for an ACTIVE table without a stream: not a replica of the home global table', async () => {
        await createTable('movement-pass-dave-passes');
        await new Promise((resolve) => setTimeout(resolve, 1500));

        await lookupHandler({ dynamodb: url })(event('tableReplica', { TableName: 'movement-pass-dave-passes' }), context());

        expect(answer()).toMatchObject({ Status: 'FAILED', Reason: expect.stringContaining('has no stream') });
      });
    });

    it('refuses a malformed event before any AWS call', async () => {
      const endpoint = await startDynamoDbEndpoint(globalPasses());
      dynamodbEndpoint = endpoint;

      await lookupHandler({ dynamodb: endpoint.url })(event('tableReplica', { TableName: 'no spaces allowed' }), context());

      expect(answer()).toMatchObject({ Status: 'FAILED', Reason: expect.stringContaining('TableName must be a DynamoDB table name') });
      expect(endpoint.received).toEqual([]);
    });
  });

  describe('Custom::PhotoDistribution', () => {
    it('finds the one distribution with the origin across pages and answers its Id, Arn and DomainName', async () => {
      const endpoint = await startCloudFrontEndpoint({ distributions: photoDistributions(), publicKeys: [] });
      cloudFront = endpoint;

      await lookupHandler({ cloudfront: endpoint.url })(event('photoDistribution', { OriginDomainName: homeBucket }), context());

      expect(answer()).toMatchObject({
        Status: 'SUCCESS',
        PhysicalResourceId: 'E4DISTRIBUTION',
        Data: {
          Id: 'E4DISTRIBUTION',
          Arn: 'arn:aws:cloudfront::123456789012:distribution/E4DISTRIBUTION',
          DomainName: 'd4.cloudfront.net',
        },
      });
      // Three pages of two: every page read, each from the marker the last one gave.
      expect(endpoint.received.map(({ marker }) => marker)).toEqual([null, '2', '4']);
    });

    it('fails when no distribution has the origin', async () => {
      cloudFront = await startCloudFrontEndpoint({ distributions: photoDistributions(5, []), publicKeys: [] });

      await lookupHandler({ cloudfront: cloudFront.url })(event('photoDistribution', { OriginDomainName: homeBucket }), context());

      expect(answer()).toMatchObject({
        Status: 'FAILED',
        Reason: expect.stringContaining(`No CloudFront distribution has the origin ${homeBucket}`),
      });
    });

    it('fails naming both when two distributions have the origin, even on different pages', async () => {
      cloudFront = await startCloudFrontEndpoint({ distributions: photoDistributions(5, [0, 3]), publicKeys: [] });

      await lookupHandler({ cloudfront: cloudFront.url })(event('photoDistribution', { OriginDomainName: homeBucket }), context());

      expect(answer()).toMatchObject({ Status: 'FAILED', Reason: expect.stringContaining('2 CloudFront distributions have the origin') });
      expect(answer().Reason).toContain('E0DISTRIBUTION, E3DISTRIBUTION');
    });

    it('refuses an origin that is not a domain name before any AWS call', async () => {
      const endpoint = await startCloudFrontEndpoint({ distributions: photoDistributions(), publicKeys: [] });
      cloudFront = endpoint;

      await lookupHandler({ cloudfront: endpoint.url })(
        event('photoDistribution', { OriginDomainName: { 'Fn::GetAtt': 'unresolved' } }),
        context(),
      );

      expect(answer()).toMatchObject({
        Status: 'FAILED',
        Reason: expect.stringContaining('OriginDomainName must be the domain name of an origin'),
      });
      expect(endpoint.received).toEqual([]);
    });
  });

  describe('Custom::CloudFrontPublicKey', () => {
    const keys = [
      { id: 'K1AAAA', name: 'movement-pass-alice-photo-url-0' },
      { id: 'K2BBBB', name: 'movement-pass-prod-photo-url-0' },
      { id: 'K3CCCC', name: 'movement-pass-prod-photo-url-1' },
    ];

    it('finds the key by name on a later page and answers its Id', async () => {
      const endpoint = await startCloudFrontEndpoint({ distributions: [], publicKeys: keys });
      cloudFront = endpoint;

      await lookupHandler({ cloudfront: endpoint.url })(
        event('cloudFrontPublicKey', { Name: 'movement-pass-prod-photo-url-1' }),
        context(),
      );

      expect(answer()).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'K3CCCC', Data: { Id: 'K3CCCC' } });
      expect(endpoint.received.map(({ path, marker }) => [path, marker])).toEqual([
        ['/2020-05-31/public-key', null],
        ['/2020-05-31/public-key', '2'],
      ]);
    });

    it('fails when no key has the name', async () => {
      cloudFront = await startCloudFrontEndpoint({ distributions: [], publicKeys: keys });

      await lookupHandler({ cloudfront: cloudFront.url })(
        event('cloudFrontPublicKey', { Name: 'movement-pass-prod-photo-url-2' }),
        context(),
      );

      expect(answer()).toMatchObject({
        Status: 'FAILED',
        Reason: expect.stringContaining('No CloudFront public key is named movement-pass-prod-photo-url-2. Deploy the home region first'),
      });
      expect(cloudFront.received).toHaveLength(2);
    });
  });

  it('does nothing on Delete: a lookup owns nothing', async () => {
    const endpoint = await startDynamoDbEndpoint({});
    dynamodbEndpoint = endpoint;

    await lookupHandler({ dynamodb: endpoint.url })(
      event(
        'tableReplica',
        { TableName: passes },
        { RequestType: 'Delete', PhysicalResourceId: 'arn:aws:dynamodb:ap-southeast-1:123456789012:table/x' },
      ),
      context(),
    );

    expect(answer()).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'arn:aws:dynamodb:ap-southeast-1:123456789012:table/x' });
    expect(endpoint.received).toEqual([]);
  });

  it('refuses a resource type it does not answer', async () => {
    await lookupHandler({})(
      makeEvent({ RequestType: 'Create', ResponseURL: cloudFormation.url, ResourceType: 'Custom::Something' }),
      context(),
    );

    expect(answer()).toMatchObject({ Status: 'FAILED', Reason: expect.stringContaining('unknown resource type Custom::Something') });
  });
});

describe('the packaged regional lookup bundle (prod, ap-southeast-1)', () => {
  let bundleDir: string;
  beforeAll(() => {
    bundleDir = unpackedBundle('prod.ap-southeast-1', 'regionalLookup');
  });

  /** Runs one event through the bundle as Lambda would in ap-southeast-1, with the given endpoints. */
  const runBundle = (
    event: { StackId: string },
    endpoints: Record<string, string> & { AWS_ENDPOINT_URL_CLOUDFORMATION: string },
  ): Promise<ChildRun> => runBundledHandler(join(bundleDir, 'handlers/regional-lookup/index.js'), event, secondary, endpoints);

  it("answers the replica's stream from this region and the photo distribution from CloudFront", async () => {
    const cloudFormation = await startResponseServer();
    const dynamodb = await startDynamoDbEndpoint(globalPasses());
    const cloudFront = await startCloudFrontEndpoint({ distributions: photoDistributions(), publicKeys: [] });
    const stack = await startCloudFormationEndpoint();
    const endpoints = {
      AWS_ENDPOINT_URL_DYNAMODB: dynamodb.url,
      AWS_ENDPOINT_URL_CLOUDFRONT: cloudFront.url,
      AWS_ENDPOINT_URL_CLOUDFORMATION: stack.url,
    };
    try {
      const base = { ResponseURL: cloudFormation.url, RequestType: 'Create' };
      const table = await runBundle(
        makeEvent({
          ...base,
          LogicalResourceId: lookupIds.passesTable,
          ResourceType: 'Custom::TableReplica',
          ResourceProperties: { TableName: passes },
        }),
        endpoints,
      );
      const distribution = await runBundle(
        makeEvent({
          ...base,
          LogicalResourceId: lookupIds.photoDistribution,
          ResourceType: 'Custom::PhotoDistribution',
          ResourceProperties: { OriginDomainName: homeBucket },
        }),
        endpoints,
      );

      expect(table.code, table.output).toBe(0);
      expect(distribution.code, distribution.output).toBe(0);
      const [tableAnswer, distributionAnswer] = cloudFormation.received.map((r) => r.body);
      expect(tableAnswer).toMatchObject({ Status: 'SUCCESS', Data: { StreamArn: streamArn(secondary, 'replica') } });
      expect(distributionAnswer).toMatchObject({ Status: 'SUCCESS', Data: { Id: 'E4DISTRIBUTION' } });
      // The Lambda's own region: DynamoDB answers for the replica there.
      expect(dynamodb.received.map((r) => r.region)).toEqual([secondary]);
    } finally {
      await Promise.all([cloudFormation.close(), dynamodb.close(), cloudFront.close(), stack.close()]);
    }
  });
});
