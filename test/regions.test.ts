// A stage in two regions, as the CLI builds it: the home stack owns the global resources, the
// regional stack of the secondary region what serves there when home is down, and no table.
import { describe, expect, it } from 'vitest';
import { checkParams } from '../resources/params';
import { lookupTypes } from '../resources/regional-lookup';
import { optedInSandbox, readTemplate, secondaryRegionOptIn, type Template } from './package-stage';
import { resourcesOfType } from './template';

const secondary = 'ap-southeast-1';

describe.each([
  ['prod', []],
  [optedInSandbox, [secondaryRegionOptIn]],
])('stage %s in two regions', (stage) => {
  const home = readTemplate(stage);
  const regional = readTemplate(`${stage}.${secondary}`);

  it('keeps every table in the home stack, with a replica in the secondary region', () => {
    for (const table of Object.values(resourcesOfType(home, 'AWS::DynamoDB::GlobalTable'))) {
      expect(table.Properties.Replicas.map((replica: { Region: unknown }) => replica.Region)).toEqual([
        { 'Fn::Sub': '${AWS::Region}' },
        secondary,
      ]);
    }
    expect(Object.values(regional.Resources).filter((resource) => resource.Type.startsWith('AWS::DynamoDB::'))).toEqual([]);
  });

  it('gives the secondary region its own passes load FIFO queue and dead-letter queue', () => {
    const queues = resourcesOfType(regional, 'AWS::SQS::Queue');
    expect(Object.values(queues).map((queue) => queue.Properties.QueueName)).toEqual([
      `movement-pass-${stage}-passes-load-dlq.fifo`,
      `movement-pass-${stage}-passes-load.fifo`,
    ]);
    expect(regional.Resources.PassesLoadQueue.Properties.RedrivePolicy.deadLetterTargetArn).toEqual({
      'Fn::GetAtt': ['PassesLoadDeadLetterQueue', 'Arn'],
    });
  });

  it('copies the signing keys with a follower key ring, which never generates one', () => {
    const environment = regional.Resources.KeyRingLambdaFunction.Properties.Environment.Variables;
    expect(environment.KEY_RING_HOME_REGION).toBe('ap-south-1');
    expect(home.Resources.KeyRingLambdaFunction.Properties.Environment.Variables.KEY_RING_HOME_REGION).toBeUndefined();
    expect(Object.keys(resourcesOfType(regional, 'Custom::KeyRing')).sort()).toEqual(['JwtKeyRing', 'PhotoUrlKeyRing']);
  });

  it('gives the secondary region its own photo bucket, and the two buckets replicate both ways', () => {
    const bucketName = (template: Template) => template.Resources.PhotoBucket.Properties.BucketName['Fn::Sub'];
    expect(bucketName(home)).toBe(`movement-pass-${stage}-photos-aps1-\${AWS::AccountId}`);
    expect(bucketName(regional)).toBe(`movement-pass-${stage}-photos-apse1-\${AWS::AccountId}`);
    const destination = (template: Template) =>
      template.Resources.PhotoBucket.Properties.ReplicationConfiguration.Rules.map(
        (rule: { Destination: { Bucket: { 'Fn::Sub': string } } }) => rule.Destination.Bucket['Fn::Sub'],
      );
    expect(destination(home)).toEqual([`arn:\${AWS::Partition}:s3:::${bucketName(regional)}`]);
    expect(destination(regional)).toEqual([`arn:\${AWS::Partition}:s3:::${bucketName(home)}`]);
  });

  it('reads photos through an origin group failing over from the home bucket to the secondary one', () => {
    const config = home.Resources.PhotoDistribution.Properties.DistributionConfig;
    const [group] = config.OriginGroups.Items;
    expect(config.DefaultCacheBehavior.TargetOriginId).toBe(group.Id);
    const members = group.Members.Items.map((member: { OriginId: string }) => member.OriginId);
    const domainOf = (id: string) => config.Origins.find((origin: { Id: string }) => origin.Id === id).DomainName;
    expect(domainOf(members[0])).toEqual({ 'Fn::GetAtt': ['PhotoBucket', 'RegionalDomainName'] });
    expect(JSON.stringify(domainOf(members[1]))).toContain(`photos-apse1-\${AWS::AccountId}.s3.${secondary}`);
    expect(group.FailoverCriteria.StatusCodes.Items).toEqual(expect.arrayContaining([403, 500, 502, 503, 504]));
    // A home region that does not answer fails over after one short attempt.
    const homeOrigin = config.Origins.find((origin: { Id: string }) => origin.Id === members[0]);
    expect(homeOrigin).toMatchObject({ ConnectionAttempts: 1, ConnectionTimeout: 3 });
    expect(regional.Resources.PhotoDistribution).toBeUndefined();
  });

  it('serves the JWKS from the secondary region too', () => {
    expect(Object.keys(resourcesOfType(regional, 'AWS::ApiGateway::RestApi'))).toEqual(['ApiGatewayRestApi']);
    expect(regional.Resources.JwksMethod.Properties.Integration.Type).toBe('MOCK');
  });
});

describe("a sandbox's secondary region", () => {
  const regional = readTemplate(`${optedInSandbox}.${secondary}`);

  it('leaves nothing behind when removed: nothing retained, its photo bucket emptied first', () => {
    const retained = Object.entries(regional.Resources).filter(
      ([, resource]) => (resource.DeletionPolicy ?? 'Delete') !== 'Delete' || (resource.UpdateReplacePolicy ?? 'Delete') !== 'Delete',
    );
    expect(retained.map(([id]) => id)).toEqual([]);
    const [emptier] = Object.values(resourcesOfType(regional, 'Custom::BucketEmptier'));
    expect(emptier.Properties.BucketName).toEqual({ Ref: 'PhotoBucket' });
  });
});

describe('looking the home stack up again', () => {
  it('leaves Refresh to the deploy (plugins/regional-lookups.js): the packaged lookups carry none, and no flag sets one', () => {
    const regional = readTemplate(`prod.${secondary}`);
    const lookups = Object.values(regional.Resources).filter((resource) =>
      Object.values(lookupTypes).some(({ type }) => type === resource.Type),
    );
    expect(lookups).toHaveLength(4);
    for (const lookup of lookups) expect(lookup.Properties.Refresh).toBeUndefined();
    expect(() => checkParams(['node', 'sls', 'deploy', '--stage', 'prod', '--param=refresh-lookups=1'])).toThrow(
      /Unknown --param=refresh-lookups=1/,
    );
  });
});

describe('a stage in its home region only', () => {
  const sandbox = readTemplate('alice');

  it('has no replica, no replication and no origin group', () => {
    for (const table of Object.values(resourcesOfType(sandbox, 'AWS::DynamoDB::GlobalTable')))
      expect(table.Properties.Replicas).toHaveLength(1);
    expect(sandbox.Resources.PhotoBucket.Properties.ReplicationConfiguration).toBeUndefined();
    const config = sandbox.Resources.PhotoDistribution.Properties.DistributionConfig;
    expect(config.OriginGroups).toBeUndefined();
    // CloudFront's default retries: with no other origin, a slow answer beats a 504.
    expect(config.Origins[0].ConnectionAttempts).toBeUndefined();
  });
});
