// Photos: a private bucket read only by this stage's CloudFront distribution
// (Origin Access Control), uploads by presigned PUT from the web origins, downloads by signed
// URL through a key group whose keys the key ring custom resource generates.
import {
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
import { physicalName, type StageSettings } from './stage';

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
}

/** The sandbox-only function that empties the bucket so `sls remove` can delete it. */
export function bucketEmptierFunction(settings: StageSettings) {
  const bucketArn = sub(`arn:\${AWS::Partition}:s3:::${bucketName(settings)}`);
  const objectsArn = sub(`arn:\${AWS::Partition}:s3:::${bucketName(settings)}/*`);
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

/** Globally unique: S3 names are shared by every account, so the account id is part of it. */
const bucketName = (settings: StageSettings) => `${physicalName(settings, 'photos')}-\${AWS::AccountId}`;

export function photos(settings: StageSettings, options: PhotoOptions = {}): Fragment {
  const alias = options.certificateArn !== undefined;
  const rotation = settings.photos.keyRotation;
  const publicKeyId = (keyRotation: number) => `PhotoUrlPublicKey${keyRotation}`;
  const currentKeyId = publicKeyId(rotation);
  const baseUrl = alias ? `https://${photoHostname(settings)}` : sub('https://${PhotoDistribution.DomainName}');
  const bucketArn = getAtt('PhotoBucket', 'Arn');

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

  const fragment: Fragment = {
    Resources: {
      PhotoBucket: {
        Type: 'AWS::S3::Bucket',
        ...dataPolicies(settings),
        Properties: {
          BucketName: sub(bucketName(settings)),
          ...privateBucket,
          // SSE-S3: CloudFront's OAC cannot read SSE-KMS objects under the AWS managed key, and a
          // customer managed key would cost every sandbox 1 USD/month.
          BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
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
        },
      },
      PhotoBucketPolicy: {
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
                Condition: {
                  StringEquals: {
                    'AWS:SourceArn': sub('arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${PhotoDistribution}'),
                  },
                },
              },
            ],
          },
        },
      },
      PhotoOriginAccessControl: {
        Type: 'AWS::CloudFront::OriginAccessControl',
        Properties: {
          OriginAccessControlConfig: {
            Name: physicalName(settings, 'photos'),
            Description: 'CloudFront reads the photo bucket with SigV4',
            OriginAccessControlOriginType: 's3',
            SigningBehavior: 'always',
            SigningProtocol: 'sigv4',
          },
        },
      },
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
                Id: 'photo-bucket',
                DomainName: getAtt('PhotoBucket', 'RegionalDomainName'),
                OriginAccessControlId: getAtt('PhotoOriginAccessControl', 'Id'),
                // Empty: OAC signs the requests, not the legacy origin access identity.
                S3OriginConfig: { OriginAccessIdentity: '' },
              },
            ],
            DefaultCacheBehavior: {
              TargetOriginId: 'photo-bucket',
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

  if (!settings.retainData) {
    // Deleted before the bucket (it references it), so the bucket is empty when its turn comes.
    fragment.Resources.PhotoBucketEmptier = {
      Type: 'Custom::BucketEmptier',
      Properties: { ServiceToken: serviceToken(bucketEmptierFunctionName), ServiceTimeout: 960, BucketName: ref('PhotoBucket') },
    };
  }
  return fragment;
}
