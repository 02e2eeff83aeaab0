// Photos in two regions, as packaged: each secondary region's own bucket, the two-way replication
// with a least-privilege role per direction, and the home distribution's origin group that fails
// over from the home bucket to the secondary one. `alice` runs in one region and has none of it.

import { describe, expect, it } from 'vitest';
import { awsRegions } from '../resources/aws-regions';
import { deploymentBucketName } from '../resources/deployment';
import { photoBucketName, photoReplicationFromArgv, photoReplicationPluginConfig } from '../resources/photo-replication';
import { failoverStatusCodes, photos } from '../resources/photos';
import { regionCode, settingsFor } from '../resources/stage';
import { maxStageLength } from '../resources/stage-validation';
import { readTemplate } from './package-stage';
import { contractParameters, ownStackStatement, resource, resourceCountIs, resourcesOfType } from './template';

const arn = (bucket: string) => ({ 'Fn::Sub': `arn:\${AWS::Partition}:s3:::${bucket}` });
const objects = (bucket: string) => ({ 'Fn::Join': ['', [arn(bucket), '/*']] });
const homeBucket = (stage: string) => `movement-pass-${stage}-photos-aps1-\${AWS::AccountId}`;
const secondaryBucket = (stage: string) => `movement-pass-${stage}-photos-apse1-\${AWS::AccountId}`;

/** Each opted-in stage with its two stacks: home first, then the secondary region's. */
const pairs = [
  ['prod', readTemplate('prod'), readTemplate('prod.ap-southeast-1')],
  ['bob', readTemplate('bob'), readTemplate('bob.ap-southeast-1')],
] as const;

describe.each(pairs)('stage %s, secondary region ap-southeast-1', (stage, home, regional) => {
  const bucket = resource(regional, 'PhotoBucket', 'AWS::S3::Bucket');
  const homeBucketResource = resource(home, 'PhotoBucket', 'AWS::S3::Bucket');
  const distribution = resource(home, 'PhotoDistribution', 'AWS::CloudFront::Distribution').Properties.DistributionConfig;

  it('has its own photo bucket, named with the region code, configured like the home one', () => {
    expect(bucket.Properties.BucketName).toEqual({ 'Fn::Sub': secondaryBucket(stage) });
    const { BucketName: _home, ReplicationConfiguration: _homeRule, ...homeConfiguration } = homeBucketResource.Properties;
    const { BucketName: _regional, ReplicationConfiguration: _regionalRule, ...regionalConfiguration } = bucket.Properties;
    // Private, owner-enforced, SSE-S3, versioned, the same lifecycle and the same CORS rule for presigned PUTs.
    expect(regionalConfiguration).toEqual(homeConfiguration);
    expect(regionalConfiguration.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(regionalConfiguration.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault).toEqual({
      SSEAlgorithm: 'AES256',
    });
    expect(regionalConfiguration.CorsConfiguration.CorsRules[0]).toMatchObject({
      AllowedMethods: ['PUT'],
      AllowedOrigins: settingsFor(stage).photos.webOrigins,
    });
    expect(bucket.DeletionPolicy).toBe(homeBucketResource.DeletionPolicy);
  });

  it('lets only the home photo distribution read it, found by the regional lookup, over TLS only', () => {
    const lookup = resource(regional, 'PhotoDistributionLookup', 'Custom::PhotoDistribution').Properties;
    expect(lookup).toMatchObject({
      ServiceToken: { 'Fn::GetAtt': ['RegionalLookupLambdaFunction', 'Arn'] },
      // The home bucket's RegionalDomainName, as the home distribution names its origin.
      OriginDomainName: { 'Fn::Sub': `${homeBucket(stage)}.s3.ap-south-1.amazonaws.com` },
    });
    const policy = resource(regional, 'PhotoBucketPolicy', 'AWS::S3::BucketPolicy').Properties;
    expect(policy.Bucket).toEqual({ Ref: 'PhotoBucket' });
    const [deny, allow] = policy.PolicyDocument.Statement;
    expect(deny).toMatchObject({ Effect: 'Deny', Principal: '*', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } });
    expect(allow).toEqual({
      Sid: 'AllowThisStagesDistributionToRead',
      Effect: 'Allow',
      Principal: { Service: 'cloudfront.amazonaws.com' },
      Action: 's3:GetObject',
      Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': ['PhotoBucket', 'Arn'] }, '/*']] },
      Condition: { StringEquals: { 'AWS:SourceArn': { 'Fn::GetAtt': ['PhotoDistributionLookup', 'Arn'] } } },
    });
    expect(policy.PolicyDocument.Statement).toHaveLength(2);
    // The distribution is the home stack's: the regional stack creates none, nor keys or an OAC.
    resourceCountIs(regional, 'AWS::CloudFront::Distribution', 0);
    resourceCountIs(regional, 'AWS::CloudFront::OriginAccessControl', 0);
  });

  it("publishes the region's own bucket, and the same upload lifetime and photo base URL as home", () => {
    const regionalContract = contractParameters(regional, stage);
    const homeContract = contractParameters(home, stage);
    expect(regionalContract.photoBucketName.Properties.Value).toEqual({ Ref: 'PhotoBucket' });
    expect(regionalContract.photoUploadExpiration.Properties.Value).toBe(homeContract.photoUploadExpiration.Properties.Value);
    if (settingsFor(stage).customDomain) {
      expect(regionalContract.photoBaseUrl.Properties.Value).toBe('https://photos.movement-pass.com');
      expect(homeContract.photoBaseUrl.Properties.Value).toBe('https://photos.movement-pass.com');
    } else {
      // The home stack's own distribution domain, read here through the lookup.
      expect(homeContract.photoBaseUrl.Properties.Value).toEqual({ 'Fn::Sub': 'https://${PhotoDistribution.DomainName}' });
      expect(regionalContract.photoBaseUrl.Properties.Value).toEqual({ 'Fn::Sub': 'https://${PhotoDistributionLookup.DomainName}' });
    }
    expect(regional.Outputs?.PhotoBucketName.Value).toEqual({ Ref: 'PhotoBucket' });
  });

  it.each([
    ['home', home, homeBucket(stage), secondaryBucket(stage), 'ap-southeast-1'],
    ['secondary', regional, secondaryBucket(stage), homeBucket(stage), 'ap-south-1'],
  ] as const)(
    'replicates the %s bucket to the other region, delete markers and replica modifications included',
    (_side, template, source, destination, peer) => {
      const replication = resource(template, 'PhotoBucket').Properties.ReplicationConfiguration;
      expect(resource(template, 'PhotoBucket').Properties.BucketName).toEqual({ 'Fn::Sub': source });
      expect(replication).toEqual({
        Role: { 'Fn::GetAtt': ['PhotoReplicationRole', 'Arn'] },
        Rules: [
          {
            Id: `photos-to-${peer}`,
            Status: 'Enabled',
            Priority: 0,
            Filter: { Prefix: '' },
            DeleteMarkerReplication: { Status: 'Enabled' },
            SourceSelectionCriteria: { ReplicaModifications: { Status: 'Enabled' } },
            // Replication metrics where the stage has alarms (shared stages): billed as custom metrics.
            Destination: { Bucket: arn(destination), ...(stage === 'prod' && { Metrics: { Status: 'Enabled' } }) },
          },
        ],
      });
    },
  );

  it.each([
    ['home', home, homeBucket(stage), secondaryBucket(stage)],
    ['secondary', regional, secondaryBucket(stage), homeBucket(stage)],
  ] as const)(
    'gives the %s direction its own role: reads the source bucket, writes replicas to the destination, nothing else',
    (_side, template, source, destination) => {
      const role = resource(template, 'PhotoReplicationRole', 'AWS::IAM::Role').Properties;
      expect(role.RoleName).toBeUndefined();
      expect(role.AssumeRolePolicyDocument.Statement).toEqual([
        { Effect: 'Allow', Principal: { Service: 's3.amazonaws.com' }, Action: 'sts:AssumeRole' },
      ]);
      expect(role.ManagedPolicyArns).toBeUndefined();
      expect(role.Policies).toHaveLength(1);
      expect(role.Policies[0].PolicyDocument.Statement).toEqual([
        { Effect: 'Allow', Action: ['s3:GetReplicationConfiguration', 's3:ListBucket'], Resource: arn(source) },
        {
          Effect: 'Allow',
          Action: ['s3:GetObjectVersionForReplication', 's3:GetObjectVersionAcl', 's3:GetObjectVersionTagging'],
          Resource: objects(source),
        },
        { Effect: 'Allow', Action: ['s3:ReplicateObject', 's3:ReplicateDelete', 's3:ReplicateTags'], Resource: objects(destination) },
      ]);
      // Nowhere in the template does anything else take these actions.
      const others = Object.entries(resourcesOfType(template, 'AWS::IAM::Role')).filter(([id]) => id !== 'PhotoReplicationRole');
      expect(JSON.stringify(others)).not.toMatch(/s3:Replicate/);
    },
  );

  it('reads photos through an origin group: the home bucket first, the secondary bucket on 403, 404 and 5xx', () => {
    expect(distribution.OriginGroups).toEqual({
      Quantity: 1,
      Items: [
        {
          Id: 'photo-buckets',
          FailoverCriteria: { StatusCodes: { Quantity: 6, Items: [403, 404, 500, 502, 503, 504] } },
          Members: { Quantity: 2, Items: [{ OriginId: 'photo-bucket' }, { OriginId: 'photo-bucket-ap-southeast-1' }] },
        },
      ],
    });
    expect(failoverStatusCodes).toContain(403);
    expect(distribution.DefaultCacheBehavior).toMatchObject({ TargetOriginId: 'photo-buckets', AllowedMethods: ['GET', 'HEAD'] });
  });

  it('reaches each bucket with its own origin access control', () => {
    expect(distribution.Origins).toEqual([
      {
        Id: 'photo-bucket',
        DomainName: { 'Fn::GetAtt': ['PhotoBucket', 'RegionalDomainName'] },
        OriginAccessControlId: { 'Fn::GetAtt': ['PhotoOriginAccessControl', 'Id'] },
        // A home bucket that accepts the connection and hangs is given up after 5 s, not CloudFront's 30.
        S3OriginConfig: { OriginAccessIdentity: '', OriginReadTimeout: 5 },
        ConnectionAttempts: 1,
        ConnectionTimeout: 3,
      },
      {
        Id: 'photo-bucket-ap-southeast-1',
        DomainName: { 'Fn::Sub': `${secondaryBucket(stage)}.s3.ap-southeast-1.amazonaws.com` },
        OriginAccessControlId: { 'Fn::GetAtt': ['PhotoSecondaryOriginAccessControl', 'Id'] },
        S3OriginConfig: { OriginAccessIdentity: '' },
      },
    ]);
    const controls = resourcesOfType(home, 'AWS::CloudFront::OriginAccessControl');
    expect(Object.keys(controls).sort()).toEqual(['PhotoOriginAccessControl', 'PhotoSecondaryOriginAccessControl']);
    const names = Object.values(controls).map((control) => control.Properties.OriginAccessControlConfig.Name);
    expect(names.sort()).toEqual([`movement-pass-${stage}-photos`, `movement-pass-${stage}-photos-apse1`]);
    for (const control of Object.values(controls)) {
      expect(control.Properties.OriginAccessControlConfig).toMatchObject({
        OriginAccessControlOriginType: 's3',
        SigningBehavior: 'always',
        SigningProtocol: 'sigv4',
      });
    }
  });
});

describe('sandbox bob in ap-southeast-1', () => {
  const regional = readTemplate('bob.ap-southeast-1');

  it('empties its bucket before removal, so removing the region leaves nothing', () => {
    expect(resource(regional, 'PhotoBucket')).toMatchObject({ DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Delete' });
    expect(resource(regional, 'PhotoBucketEmptier', 'Custom::BucketEmptier').Properties).toEqual({
      ServiceToken: { 'Fn::GetAtt': ['PhotoBucketEmptierLambdaFunction', 'Arn'] },
      ServiceTimeout: 960,
      BucketName: { Ref: 'PhotoBucket' },
    });
    const statements = resource(regional, 'PhotoBucketEmptierRole', 'AWS::IAM::Role').Properties.Policies[0].PolicyDocument.Statement;
    expect(statements.slice(1)).toEqual([
      { Effect: 'Allow', Action: 's3:ListBucketVersions', Resource: arn(secondaryBucket('bob')) },
      {
        Effect: 'Allow',
        Action: ['s3:DeleteObject', 's3:DeleteObjectVersion'],
        Resource: { 'Fn::Sub': `arn:\${AWS::Partition}:s3:::${secondaryBucket('bob')}/*` },
      },
      ownStackStatement,
    ]);
  });
});

describe('prod in ap-southeast-1', () => {
  it('retains its bucket and has no emptier', () => {
    const regional = readTemplate('prod.ap-southeast-1');
    expect(resource(regional, 'PhotoBucket')).toMatchObject({ DeletionPolicy: 'RetainExceptOnCreate', UpdateReplacePolicy: 'Retain' });
    expect(regional.Resources.PhotoBucketEmptier).toBeUndefined();
    expect(regional.Resources.PhotoBucketEmptierLambdaFunction).toBeUndefined();
  });
});

describe('alice, a sandbox in one region', () => {
  const alice = readTemplate('alice');
  const distribution = resource(alice, 'PhotoDistribution').Properties.DistributionConfig;

  it('has no replication, no origin group and one origin', () => {
    expect(resource(alice, 'PhotoBucket').Properties.ReplicationConfiguration).toBeUndefined();
    expect(alice.Resources.PhotoReplicationRole).toBeUndefined();
    expect(distribution.OriginGroups).toBeUndefined();
    expect(distribution.Origins.map((origin: { Id: string }) => origin.Id)).toEqual(['photo-bucket']);
    expect(distribution.DefaultCacheBehavior.TargetOriginId).toBe('photo-bucket');
    resourceCountIs(alice, 'AWS::CloudFront::OriginAccessControl', 1);
  });
});

describe('the home replication switch (--param=photo-replication)', () => {
  const prod = settingsFor('prod');

  it('is on by default, so `sls package --stage prod` writes the rule', () => {
    expect(photoReplicationFromArgv(['package', '--stage', 'prod'], prod)).toBe(true);
    expect(resource(readTemplate('prod'), 'PhotoBucket').Properties.ReplicationConfiguration).toBeDefined();
  });

  it('off leaves the home bucket without its rule, and everything else in place', () => {
    const on = photos(prod, { replication: photoReplicationFromArgv(['--param=photo-replication=on'], prod) });
    const off = photos(prod, { replication: photoReplicationFromArgv(['--param', 'photo-replication=off'], prod) });

    expect(off.Resources.PhotoBucket.Properties?.ReplicationConfiguration).toBeUndefined();
    const { ReplicationConfiguration, ...rest } = on.Resources.PhotoBucket.Properties ?? {};
    expect(ReplicationConfiguration).toBeDefined();
    expect(off.Resources.PhotoBucket.Properties).toEqual(rest);
    // The role stays, so switching the rule on again only adds the rule.
    expect(off.Resources.PhotoReplicationRole).toEqual(on.Resources.PhotoReplicationRole);
    expect(off.Resources.PhotoDistribution).toEqual(on.Resources.PhotoDistribution);
  });

  it('is refused with a clear message where it means nothing', () => {
    expect(() => photoReplicationFromArgv(['--param=photo-replication=no'], prod)).toThrow(
      '--param=photo-replication=no is not a choice: write on (the default) or off.',
    );
    expect(() => photoReplicationFromArgv(['--param=photo-replication=off'], settingsFor('alice'))).toThrow(
      /stage "alice" runs in one region only\. Drop the parameter/,
    );
    expect(() => photoReplicationFromArgv(['--param=photo-replication=off'], settingsFor('prod', { region: 'ap-southeast-1' }))).toThrow(
      /applies to the home region's stack \(ap-south-1\) only/,
    );
  });
});

describe('bucket names', () => {
  it('fit the 63 characters of S3 for the longest stage name, in every region the stage settings accept', () => {
    const stage = 'a'.repeat(maxStageLength);
    // Every region a stage may run in (resources/aws-regions.ts), the home one included.
    for (const region of awsRegions) {
      const settings = settingsFor(stage, { secondaryRegion: region === 'ap-south-1' ? undefined : region });
      for (const name of [photoBucketName(settings, region), deploymentBucketName(settings, region)]) {
        const resolved = name.replace('${AWS::AccountId}', '123456789012');
        expect(resolved.length, resolved).toBeLessThanOrEqual(63);
      }
    }
    expect(regionCode('us-gov-northwest-1')).toBe('usgovnw1');
  });

  it('tell the plugin where each region keeps its bucket', () => {
    expect(photoReplicationPluginConfig(settingsFor('prod')).buckets).toEqual({
      'ap-south-1': homeBucket('prod'),
      'ap-southeast-1': secondaryBucket('prod'),
    });
  });
});
