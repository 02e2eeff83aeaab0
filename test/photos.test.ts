// Photo storage and delivery, as packaged for prod and a sandbox.
import { describe, expect, it } from 'vitest';
import { photos } from '../resources/photos';
import { settingsFor } from '../resources/stage';
import { readTemplate } from './package-stage';
import { contractParameters, ownStackStatement, resource, resourceCountIs, resourcesOfType } from './template';

const prod = readTemplate('prod');
const sandbox = readTemplate('alice');

describe.each([
  ['prod', prod],
  ['alice', sandbox],
])('stage %s', (stage, template) => {
  const bucket = resource(template, 'PhotoBucket', 'AWS::S3::Bucket').Properties;
  const distribution = resource(template, 'PhotoDistribution', 'AWS::CloudFront::Distribution').Properties.DistributionConfig;
  const parameters = contractParameters(template, stage);

  it('keeps the bucket private, owner-enforced and encrypted', () => {
    expect(bucket.BucketName).toEqual({ 'Fn::Sub': `movement-pass-${stage}-photos-aps1-\${AWS::AccountId}` });
    expect(bucket.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(bucket.OwnershipControls).toEqual({ Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] });
    expect(bucket.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm).toBeDefined();
  });

  it('allows presigned PUT uploads from the web origins for as long as an upload URL lives', () => {
    const [rule] = bucket.CorsConfiguration.CorsRules;
    expect(rule).toMatchObject({ AllowedMethods: ['PUT'], MaxAge: 300 });
    expect(rule.AllowedOrigins).toEqual(settingsFor(stage).photos.webOrigins);
    expect(rule.AllowedOrigins).not.toContain('*');
  });

  it('aborts incomplete multipart uploads', () => {
    expect(bucket.LifecycleConfiguration.Rules).toContainEqual(
      expect.objectContaining({ Status: 'Enabled', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }),
    );
  });

  it("denies non-TLS requests and lets only this stage's distribution read", () => {
    const policy = resource(template, 'PhotoBucketPolicy', 'AWS::S3::BucketPolicy').Properties;
    expect(policy.Bucket).toEqual({ Ref: 'PhotoBucket' });
    const [deny, allow] = policy.PolicyDocument.Statement;
    expect(deny).toMatchObject({ Effect: 'Deny', Principal: '*', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } });
    expect(allow).toMatchObject({
      Effect: 'Allow',
      Principal: { Service: 'cloudfront.amazonaws.com' },
      Action: 's3:GetObject',
      Condition: {
        StringEquals: {
          'AWS:SourceArn': { 'Fn::Sub': 'arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${PhotoDistribution}' },
        },
      },
    });
    expect(policy.PolicyDocument.Statement).toHaveLength(2);
  });

  it('reads the bucket through Origin Access Control with SigV4, not an OAI', () => {
    expect(
      resource(template, 'PhotoOriginAccessControl', 'AWS::CloudFront::OriginAccessControl').Properties.OriginAccessControlConfig,
    ).toMatchObject({
      OriginAccessControlOriginType: 's3',
      SigningBehavior: 'always',
      SigningProtocol: 'sigv4',
    });
    // The home bucket first; a stage with a secondary region adds its bucket (test/photos-regions.test.ts).
    expect(distribution.Origins[0]).toEqual(
      expect.objectContaining({
        DomainName: { 'Fn::GetAtt': ['PhotoBucket', 'RegionalDomainName'] },
        OriginAccessControlId: { 'Fn::GetAtt': ['PhotoOriginAccessControl', 'Id'] },
        S3OriginConfig: expect.objectContaining({ OriginAccessIdentity: '' }),
      }),
    );
    resourceCountIs(template, 'AWS::CloudFront::CloudFrontOriginAccessIdentity', 0);
  });

  it('refuses plain HTTP instead of redirecting, so a signed URL never crosses in clear text', () => {
    expect(distribution.DefaultCacheBehavior.ViewerProtocolPolicy).toBe('https-only');
    expect(distribution.CacheBehaviors).toBeUndefined();
  });

  it('serves over HTTPS, HTTP/2 and HTTP/3, long-cached, with security headers, at edges that include India', () => {
    expect(distribution).toMatchObject({ Enabled: true, HttpVersion: 'http2and3', PriceClass: 'PriceClass_200' });
    expect(distribution.DefaultCacheBehavior).toMatchObject({
      CachePolicyId: '658327ea-f89d-4fab-a63d-7e88639e58f6',
      ResponseHeadersPolicyId: '67f7725c-6f97-4210-82d7-5512b31e9d03',
      AllowedMethods: ['GET', 'HEAD'],
    });
    expect(distribution.CustomErrorResponses).toBeUndefined();
    expect(distribution.DefaultRootObject).toBeUndefined();
  });

  it('trusts a key group whose public key comes from the key ring custom resource', () => {
    expect(distribution.DefaultCacheBehavior.TrustedKeyGroups).toEqual([{ Ref: 'PhotoUrlKeyGroup' }]);
    // The current key, and the next one, trusted a deploy before it signs.
    expect(resource(template, 'PhotoUrlKeyGroup').Properties.KeyGroupConfig.Items).toEqual([
      { Ref: 'PhotoUrlPublicKey0' },
      { Ref: 'PhotoUrlPublicKey1' },
    ]);
    expect(resource(template, 'PhotoUrlPublicKey0', 'AWS::CloudFront::PublicKey').Properties.PublicKeyConfig.EncodedKey).toEqual({
      'Fn::GetAtt': ['PhotoUrlKeyRing', 'PublicKey'],
    });
    expect(resource(template, 'PhotoUrlPublicKey1', 'AWS::CloudFront::PublicKey').Properties.PublicKeyConfig.EncodedKey).toEqual({
      'Fn::GetAtt': ['PhotoUrlKeyRing', 'NextPublicKey'],
    });
    expect(resource(template, 'PhotoUrlKeyRing', 'Custom::KeyRing').Properties).toMatchObject({
      Algorithm: 'RS256',
      KeyStoreParameter: `/movement-pass-keys/${stage}/photoUrl`,
      PublicKeysParameter: `/movement-pass/${stage}/photoUrlPublicKeys`,
    });
    expect(JSON.stringify(template)).not.toContain('BEGIN PUBLIC KEY');
  });

  it('publishes the private key with the CloudFront id of its public key, from one resource', () => {
    expect(resource(template, 'PhotoUrlSigningKey', 'Custom::SigningKey').Properties).toEqual({
      ServiceToken: { 'Fn::GetAtt': ['KeyRingLambdaFunction', 'Arn'] },
      ServiceTimeout: 360,
      Algorithm: 'RS256',
      Rotation: '0',
      KeyStoreParameter: `/movement-pass-keys/${stage}/photoUrl`,
      // The private key in the signing root, read by the photo service only; its id in the contract.
      PrivateKeyParameter: `/movement-pass-signing/${stage}/photoUrlPrivateKey`,
      KeyIdParameter: `/movement-pass/${stage}/photoUrlKeyPairId`,
      KeyId: { Ref: 'PhotoUrlPublicKey0' },
    });
    expect(resource(template, 'PhotoUrlKeyRing').Properties.PrivateKeyParameter).toBeUndefined();
  });

  it('publishes the photo keys of the contract', () => {
    expect(parameters.photoBucketName.Properties.Value).toEqual({ Ref: 'PhotoBucket' });
    expect(parameters.photoUploadExpiration.Properties.Value).toBe('300');
    expect(parameters.photoUrlKeyPairId).toBeUndefined();
    expect(parameters.photoBaseUrl.Properties.Value).toEqual(template.Outputs?.PhotoBaseUrl.Value);
    expect(parameters.photoUrlPrivateKey).toBeUndefined();
  });

  it('gives the distribution id and domain as outputs', () => {
    expect(template.Outputs).toMatchObject({
      PhotoDistributionId: { Value: { Ref: 'PhotoDistribution' } },
      PhotoDistributionDomainName: { Value: { 'Fn::GetAtt': ['PhotoDistribution', 'DomainName'] } },
      PhotoBucketName: { Value: { Ref: 'PhotoBucket' } },
    });
  });
});

describe('prod photos', () => {
  const distribution = resource(prod, 'PhotoDistribution').Properties.DistributionConfig;

  it('retains the bucket and has no emptier', () => {
    expect(resource(prod, 'PhotoBucket')).toMatchObject({ DeletionPolicy: 'RetainExceptOnCreate', UpdateReplacePolicy: 'Retain' });
    expect(prod.Resources.PhotoBucketEmptier).toBeUndefined();
    expect(prod.Resources.PhotoBucketEmptierLambdaFunction).toBeUndefined();
  });

  it('serves photos.movement-pass.com with the us-east-1 certificate and TLSv1.2_2021', () => {
    expect(distribution.Aliases).toEqual(['photos.movement-pass.com']);
    expect(distribution.ViewerCertificate).toEqual({
      AcmCertificateArn: '{{resolve:ssm:/movement-pass/prod/clientCertificateArn}}',
      SslSupportMethod: 'sni-only',
      MinimumProtocolVersion: 'TLSv1.2_2021',
    });
    expect(contractParameters(prod, 'prod').photoBaseUrl.Properties.Value).toBe('https://photos.movement-pass.com');
  });

  it('points A and AAAA alias records of photos.movement-pass.com at the distribution', () => {
    const records = Object.values(resourcesOfType(prod, 'AWS::Route53::RecordSet'))
      .map((record) => record.Properties)
      .filter((record) => record.Name === 'photos.movement-pass.com');
    expect(records.map((record) => record.Type).sort()).toEqual(['A', 'AAAA']);
    for (const record of records) {
      expect(record).toMatchObject({
        HostedZoneName: 'movement-pass.com.',
        Name: 'photos.movement-pass.com',
        AliasTarget: { DNSName: { 'Fn::GetAtt': ['PhotoDistribution', 'DomainName'] }, HostedZoneId: 'Z2FDTNDATAQYW2' },
      });
    }
  });
});

describe('sandbox photos', () => {
  const distribution = resource(sandbox, 'PhotoDistribution').Properties.DistributionConfig;

  it('deletes the bucket, emptied first by the emptier custom resource', () => {
    expect(resource(sandbox, 'PhotoBucket')).toMatchObject({ DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Delete' });
    expect(resource(sandbox, 'PhotoBucketEmptier', 'Custom::BucketEmptier').Properties).toEqual({
      ServiceToken: { 'Fn::GetAtt': ['PhotoBucketEmptierLambdaFunction', 'Arn'] },
      ServiceTimeout: 960,
      BucketName: { Ref: 'PhotoBucket' },
    });
  });

  it('lets the emptier list and delete in its own bucket only', () => {
    const statements = resource(sandbox, 'PhotoBucketEmptierRole', 'AWS::IAM::Role').Properties.Policies[0].PolicyDocument.Statement;
    expect(statements.slice(1)).toEqual([
      {
        Effect: 'Allow',
        Action: 's3:ListBucketVersions',
        Resource: { 'Fn::Sub': 'arn:${AWS::Partition}:s3:::movement-pass-alice-photos-aps1-${AWS::AccountId}' },
      },
      {
        Effect: 'Allow',
        Action: ['s3:DeleteObject', 's3:DeleteObjectVersion'],
        Resource: { 'Fn::Sub': 'arn:${AWS::Partition}:s3:::movement-pass-alice-photos-aps1-${AWS::AccountId}/*' },
      },
      ownStackStatement,
    ]);
  });

  it('serves on the default CloudFront hostname, without alias or DNS records', () => {
    expect(distribution.Aliases).toBeUndefined();
    expect(distribution.ViewerCertificate).toEqual({ CloudFrontDefaultCertificate: true });
    resourceCountIs(sandbox, 'AWS::Route53::RecordSet', 0);
    expect(contractParameters(sandbox, 'alice').photoBaseUrl.Properties.Value).toEqual({
      'Fn::Sub': 'https://${PhotoDistribution.DomainName}',
    });
  });
});

describe('photo URL key rotation', () => {
  it('trusts the previous, current and next keys, each in the resource of its rotation number', () => {
    const settings = settingsFor('alice');
    settings.photos.keyRotation = 3;

    const { Resources } = photos(settings);

    expect(Resources.PhotoUrlKeyGroup.Properties?.KeyGroupConfig).toMatchObject({
      Items: [{ Ref: 'PhotoUrlPublicKey2' }, { Ref: 'PhotoUrlPublicKey3' }, { Ref: 'PhotoUrlPublicKey4' }],
    });
    expect(Resources.PhotoUrlPublicKey2.Properties?.PublicKeyConfig).toMatchObject({
      EncodedKey: { 'Fn::GetAtt': ['PhotoUrlKeyRing', 'PreviousPublicKey'] },
    });
    expect(Resources.PhotoUrlPublicKey4.Properties?.PublicKeyConfig).toMatchObject({
      EncodedKey: { 'Fn::GetAtt': ['PhotoUrlKeyRing', 'NextPublicKey'] },
    });
    expect(Resources.PhotoUrlSigningKey.Properties).toMatchObject({ Rotation: '3', KeyId: { Ref: 'PhotoUrlPublicKey3' } });
    expect(Resources.PhotoUrlPublicKey1).toBeUndefined();
  });
});
