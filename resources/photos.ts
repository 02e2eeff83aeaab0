// Photos: a private bucket in each region of the stage, read only by the stage's one CloudFront
// distribution (Origin Access Control), uploads by presigned PUT from the web origins to the
// region's own bucket, downloads by signed URL through a key group whose keys the key ring
// custom resource generates. With a secondary region the buckets replicate both ways
// (resources/photo-replication.ts) and the distribution reads through an origin group that fails
// over from the home bucket to the secondary one.
import {
  type CfnResource,
  contractParameter,
  dataPolicies,
  denyInsecureTransport,
  type Fragment,
  getAtt,
  type Intrinsic,
  output,
  privateBucket,
  ref,
  sub,
} from './cloudformation';
import { customResourceFunction, serviceToken } from './functions';
import { keyRingResource, photoUrlKeyRingProperties, photoUrlKeySlots, photoUrlSigningKeyProperties } from './key-ring';
import { physicalName } from './names';
import {
  photoBucketArn,
  photoBucketDomainName,
  photoBucketName,
  replicationConfiguration,
  replicationRole,
  replicationRoleId,
} from './photo-replication';
import { lookupIds, photoDistributionLookup } from './regional-lookup';
import { homeRegionOf, regionCode, type StageSettings, secondaryRegionOf } from './stage';

// AWS managed policies: https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/using-managed-cache-policies.html
/** Managed-CachingOptimized: TTL 1 day by default, up to 1 year; query strings (the URL signature) out of the key. */
const cachingOptimizedPolicyId = '658327ea-f89d-4fab-a63d-7e88639e58f6';
/** Managed-SecurityHeadersPolicy: HSTS, nosniff, frame options, referrer policy, XSS protection. */
const securityHeadersPolicyId = '67f7725c-6f97-4210-82d7-5512b31e9d03';
/** The hosted zone id of every CloudFront distribution, for Route 53 alias records. */
const cloudFrontHostedZoneId = 'Z2FDTNDATAQYW2';

export const bucketEmptierFunctionName = 'photoBucketEmptier';

export const photoHostname = (settings: StageSettings) => `photos.${settings.domain}`;

export interface PhotoOptions {
  /** ARN of the us-east-1 certificate covering `photos.<domain>`; the alias is on only with it. */
  certificateArn?: Intrinsic;
  /**
   * With a secondary region: the home bucket's replication rule to the secondary bucket. Off
   * only for the first deploy of a new secondary region (`--param=photo-replication=off`).
   */
  replication?: boolean;
}

/** The sandbox-only function that empties the region's bucket so `sls remove` can delete it. */
export function bucketEmptierFunction(settings: StageSettings) {
  const bucketArn = photoBucketArn(settings);
  const objectsArn = sub(`arn:\${AWS::Partition}:s3:::${photoBucketName(settings)}/*`);
  return customResourceFunction(settings, {
    name: bucketEmptierFunctionName,
    handler: 'handlers/empty-bucket/index.handler',
    description: 'Empties the sandbox photo bucket when the stack is removed',
    memorySize: 256,
    // Lambda's maximum: a busy sandbox bucket can hold many versions.
    timeout: 900,
    statements: [
      { Effect: 'Allow', Action: 's3:ListBucketVersions', Resource: bucketArn },
      { Effect: 'Allow', Action: ['s3:DeleteObject', 's3:DeleteObjectVersion'], Resource: objectsArn },
    ],
  });
}

/**
 * The photo bucket of the stack's region, the same in every region: uploads come to it by
 * presigned PUT; with a replication configuration, it copies them to the other region's bucket.
 */
function photoBucket(settings: StageSettings, replication?: Record<string, unknown>): CfnResource {
  return {
    Type: 'AWS::S3::Bucket',
    ...dataPolicies(settings),
    Properties: {
      BucketName: sub(photoBucketName(settings)),
      ...privateBucket,
      // SSE-S3: CloudFront's OAC cannot read SSE-KMS objects under the AWS managed key, and a
      // customer managed key would cost every sandbox 1 USD/month.
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      // Replication needs it on both sides.
      VersioningConfiguration: { Status: 'Enabled' },
      LifecycleConfiguration: {
        Rules: [
          { Id: 'abort-incomplete-uploads', Status: 'Enabled', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } },
          { Id: 'expire-replaced-photos', Status: 'Enabled', NoncurrentVersionExpiration: { NoncurrentDays: 30 } },
        ],
      },
      CorsConfiguration: {
        CorsRules: [
          {
            Id: 'presigned-upload',
            AllowedMethods: ['PUT'],
            AllowedOrigins: settings.photos.webOrigins,
            AllowedHeaders: ['content-type', 'content-md5', 'x-amz-*'],
            ExposedHeaders: ['ETag'],
            MaxAge: settings.photos.uploadExpirationSeconds,
          },
        ],
      },
      ...(replication && { ReplicationConfiguration: replication }),
    },
  };
}

/** TLS only, and reads by the stage's photo distribution only (`distributionArn`), through its OAC. */
function photoBucketPolicy(distributionArn: Intrinsic): CfnResource {
  const bucketArn = getAtt('PhotoBucket', 'Arn');
  return {
    Type: 'AWS::S3::BucketPolicy',
    Properties: {
      Bucket: ref('PhotoBucket'),
      PolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          denyInsecureTransport(bucketArn),
          {
            Sid: 'AllowThisStagesDistributionToRead',
            Effect: 'Allow',
            Principal: { Service: 'cloudfront.amazonaws.com' },
            Action: 's3:GetObject',
            Resource: { 'Fn::Join': ['', [bucketArn, '/*']] },
            Condition: { StringEquals: { 'AWS:SourceArn': distributionArn } },
          },
        ],
      },
    },
  };
}

function originAccessControl(name: string, description: string): CfnResource {
  return {
    Type: 'AWS::CloudFront::OriginAccessControl',
    Properties: {
      OriginAccessControlConfig: {
        Name: name,
        Description: description,
        OriginAccessControlOriginType: 's3',
        SigningBehavior: 'always',
        SigningProtocol: 'sigv4',
      },
    },
  };
}

/** The photo keys of the contract, the same three in every region. */
function photoContract(settings: StageSettings, baseUrl: Intrinsic): Fragment {
  return {
    Resources: {
      PhotoBucketNameParameter: contractParameter(settings, 'photoBucketName', ref('PhotoBucket'), 'Name of the photo bucket'),
      PhotoUploadExpirationParameter: contractParameter(
        settings,
        'photoUploadExpiration',
        String(settings.photos.uploadExpirationSeconds),
        'Lifetime of a presigned photo upload URL, in seconds',
      ),
      PhotoBaseUrlParameter: contractParameter(settings, 'photoBaseUrl', baseUrl, 'Base URL photos are served from'),
    },
    Outputs: {
      PhotoBucketName: output('Name of the photo bucket', ref('PhotoBucket')),
      PhotoBaseUrl: output('Base URL photos are served from', baseUrl),
    },
  };
}

/** Sandboxes only: deleted before the bucket (it references it), so the bucket is empty when its turn comes. */
const bucketEmptier = (): CfnResource => ({
  Type: 'Custom::BucketEmptier',
  Properties: { ServiceToken: serviceToken(bucketEmptierFunctionName), ServiceTimeout: 960, BucketName: ref('PhotoBucket') },
});

/** Ids of the distribution's origins, and of the group that fails over from the first to the second. */
const homeOriginId = 'photo-bucket';
/**
 * How long CloudFront tries the home bucket before the origin group's failover origin: one
 * connection attempt of 3 s (CloudFront's default: three of 10 s), and once connected an answer
 * within 5 s (default 30 s; S3 answers a photo's first byte in well under a second), so a home
 * region that hangs costs a photo at most about 8 s more, one that refuses connections 3 s.
 */
export const homeOriginFailoverTimeouts = { ConnectionAttempts: 1, ConnectionTimeout: 3 } as const;
export const homeOriginReadTimeout = 5;
const secondaryOriginId = (region: string) => `photo-bucket-${region}`;
const originGroupId = 'photo-buckets';
/**
 * When CloudFront asks the secondary bucket instead: 403 is S3's answer for a missing object
 * behind OAC (the distribution may not list the bucket), so a photo uploaded in the secondary
 * region and not replicated yet, or a home bucket that cannot be read, is served from there;
 * 404 in case listing is ever allowed; 5xx for a home region in trouble.
 * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/high_availability_origin_failover.html
 */
export const failoverStatusCodes = [403, 404, 500, 502, 503, 504];

/** The home stack's photos: the home bucket, the distribution, its keys, and the replication towards the secondary region. */
export function photos(settings: StageSettings, options: PhotoOptions = {}): Fragment {
  const alias = options.certificateArn !== undefined;
  const secondary = secondaryRegionOf(settings);
  const rotation = settings.photos.keyRotation;
  const publicKeyId = (keyRotation: number) => `PhotoUrlPublicKey${keyRotation}`;
  const currentKeyId = publicKeyId(rotation);
  const baseUrl = alias ? `https://${photoHostname(settings)}` : sub('https://${PhotoDistribution.DomainName}');
  const replicates = secondary !== undefined && options.replication !== false;

  // The key ring's window, one CloudFront public key per rotation number: a key's encoded value
  // cannot change in place, and each key keeps its resource while it moves from next (trusted a
  // deploy before it signs) to current to previous (trusted until the next rotation).
  const keySlots = photoUrlKeySlots(settings);
  const publicKey = (keyRotation: number, encodedKey: unknown) => ({
    Type: 'AWS::CloudFront::PublicKey',
    Properties: {
      PublicKeyConfig: {
        Name: physicalName(settings, `photo-url-${keyRotation}`),
        CallerReference: physicalName(settings, `photo-url-${keyRotation}`),
        EncodedKey: encodedKey,
        Comment: `Photo URL signing key of rotation ${keyRotation}`,
      },
    },
  });

  const contract = photoContract(settings, baseUrl);
  const fragment: Fragment = {
    Resources: {
      PhotoBucket: photoBucket(settings, replicates ? replicationConfiguration(settings) : undefined),
      PhotoBucketPolicy: photoBucketPolicy(sub('arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${PhotoDistribution}')),
      PhotoOriginAccessControl: originAccessControl(physicalName(settings, 'photos'), 'CloudFront reads the photo bucket with SigV4'),
      PhotoUrlKeyRing: keyRingResource(settings, 'PhotoUrlKeyRing', photoUrlKeyRingProperties(settings)),
      // The private key goes out with CloudFront's id of its public key, which exists only
      // after the ring has run (see handlers/key-ring/signing-key.ts).
      PhotoUrlSigningKey: keyRingResource(settings, 'PhotoUrlSigningKey', photoUrlSigningKeyProperties(settings, ref(currentKeyId))),
      ...Object.fromEntries(
        keySlots.map(({ keyRotation, attribute }) => [
          publicKeyId(keyRotation),
          publicKey(keyRotation, getAtt('PhotoUrlKeyRing', attribute)),
        ]),
      ),
      PhotoUrlKeyGroup: {
        Type: 'AWS::CloudFront::KeyGroup',
        Properties: {
          KeyGroupConfig: {
            Name: physicalName(settings, 'photo-urls'),
            Comment: 'Keys trusted to sign photo URLs: previous, current and next',
            Items: keySlots.map(({ keyRotation }) => ref(publicKeyId(keyRotation))),
          },
        },
      },
      PhotoDistribution: {
        Type: 'AWS::CloudFront::Distribution',
        Properties: {
          DistributionConfig: {
            Enabled: true,
            Comment: `Movement Pass photos (${settings.stage})`,
            HttpVersion: 'http2and3',
            IPV6Enabled: true,
            // PriceClass_200 is the cheapest class whose edges include India (PriceClass_100 does not).
            PriceClass: 'PriceClass_200',
            Origins: [
              {
                Id: homeOriginId,
                DomainName: getAtt('PhotoBucket', 'RegionalDomainName'),
                OriginAccessControlId: getAtt('PhotoOriginAccessControl', 'Id'),
                // Empty: OAC signs the requests, not the legacy origin access identity.
                S3OriginConfig: {
                  OriginAccessIdentity: '',
                  ...(secondary !== undefined && { OriginReadTimeout: homeOriginReadTimeout }),
                },
                // With a failover origin, a home region that does not answer fails over quickly.
                ...(secondary !== undefined && homeOriginFailoverTimeouts),
              },
              ...(secondary === undefined
                ? []
                : [
                    {
                      Id: secondaryOriginId(secondary),
                      // The regional stack's bucket: its name is known, its resource is not this stack's.
                      DomainName: photoBucketDomainName(settings, secondary),
                      OriginAccessControlId: getAtt('PhotoSecondaryOriginAccessControl', 'Id'),
                      S3OriginConfig: { OriginAccessIdentity: '' },
                    },
                  ]),
            ],
            ...(secondary !== undefined && {
              OriginGroups: {
                Quantity: 1,
                Items: [
                  {
                    Id: originGroupId,
                    FailoverCriteria: { StatusCodes: { Quantity: failoverStatusCodes.length, Items: failoverStatusCodes } },
                    Members: {
                      Quantity: 2,
                      Items: [{ OriginId: homeOriginId }, { OriginId: secondaryOriginId(secondary) }],
                    },
                  },
                ],
              },
            }),
            DefaultCacheBehavior: {
              // An origin group serves GET and HEAD only, all this behavior allows.
              TargetOriginId: secondary === undefined ? homeOriginId : originGroupId,
              // Refused, not redirected: a redirect would let the URL and its signature cross in clear text first.
              ViewerProtocolPolicy: 'https-only',
              AllowedMethods: ['GET', 'HEAD'],
              CachedMethods: ['GET', 'HEAD'],
              Compress: true,
              CachePolicyId: cachingOptimizedPolicyId,
              ResponseHeadersPolicyId: securityHeadersPolicyId,
              TrustedKeyGroups: [ref('PhotoUrlKeyGroup')],
            },
            ...(alias
              ? {
                  Aliases: [photoHostname(settings)],
                  ViewerCertificate: {
                    AcmCertificateArn: options.certificateArn,
                    SslSupportMethod: 'sni-only',
                    MinimumProtocolVersion: 'TLSv1.2_2021',
                  },
                }
              : { ViewerCertificate: { CloudFrontDefaultCertificate: true } }),
          },
        },
      },
      ...contract.Resources,
    },
    Outputs: {
      ...contract.Outputs,
      PhotoDistributionId: output('Id of the photo CloudFront distribution', ref('PhotoDistribution')),
      PhotoDistributionDomainName: output('Domain name of the photo CloudFront distribution', getAtt('PhotoDistribution', 'DomainName')),
      PhotoUrlKeyPairId: output('CloudFront public key id for signed photo URLs', ref(currentKeyId)),
    },
  };

  if (alias) {
    for (const type of ['A', 'AAAA']) {
      fragment.Resources[`PhotoAliasRecord${type}`] = {
        Type: 'AWS::Route53::RecordSet',
        Properties: {
          HostedZoneName: `${settings.domain}.`,
          Name: photoHostname(settings),
          Type: type,
          AliasTarget: {
            DNSName: getAtt('PhotoDistribution', 'DomainName'),
            HostedZoneId: cloudFrontHostedZoneId,
            EvaluateTargetHealth: false,
          },
        },
      };
    }
  }

  if (secondary !== undefined) {
    fragment.Resources.PhotoSecondaryOriginAccessControl = originAccessControl(
      physicalName(settings, `photos-${regionCode(secondary)}`),
      `CloudFront reads the ${secondary} photo bucket with SigV4`,
    );
    // Kept while the rule is switched off, so the deploy that switches it on only adds the rule.
    fragment.Resources[replicationRoleId] = replicationRole(settings);
  }
  if (!settings.retainData) fragment.Resources.PhotoBucketEmptier = bucketEmptier();
  return fragment;
}

/**
 * A secondary region's photos: the region's own bucket (uploads there keep working when home is
 * down), replicated to the home bucket, read by the home stack's distribution only (found by the
 * regional lookup, which asks CloudFront, a global service, not the home region).
 */
export function regionalPhotos(settings: StageSettings): Fragment {
  const homeRegion = homeRegionOf(settings);
  const distribution = photoDistributionLookup(photoBucketDomainName(settings, homeRegion));
  // The same base URL as home: the one distribution serves every region's photos.
  const baseUrl = settings.customDomain
    ? `https://${photoHostname(settings)}`
    : sub(`https://\${${lookupIds.photoDistribution}.DomainName}`);
  const contract = photoContract(settings, baseUrl);
  const fragment: Fragment = {
    Resources: {
      PhotoBucket: photoBucket(settings, replicationConfiguration(settings)),
      [replicationRoleId]: replicationRole(settings),
      [lookupIds.photoDistribution]: distribution,
      PhotoBucketPolicy: photoBucketPolicy(getAtt(lookupIds.photoDistribution, 'Arn')),
      ...contract.Resources,
    },
    Outputs: {
      ...contract.Outputs,
      PhotoDistributionId: output("Id of the photo CloudFront distribution (the home stack's)", getAtt(lookupIds.photoDistribution, 'Id')),
    },
  };
  if (!settings.retainData) fragment.Resources.PhotoBucketEmptier = bucketEmptier();
  return fragment;
}
