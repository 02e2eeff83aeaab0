// osls's deployment bucket (`ServerlessDeploymentBucket`), amended through `resources.extensions`,
// the way osls lets a template change the resources it generates: its encryption stated here,
// and a lifecycle osls has no setting for.
import type { AWS } from '@serverless/typescript';
import { denyInsecureTransport, getAtt } from './cloudformation';

type Extensions = NonNullable<NonNullable<AWS['resources']>['extensions']>;

/** Days an artifact replaced by a newer deploy is kept: enough to roll back by hand. */
export const noncurrentArtifactDays = 30;

export function deploymentBucketExtensions(): Extensions {
  const bucketArn = getAtt('ServerlessDeploymentBucket', 'Arn');
  return {
    ServerlessDeploymentBucket: {
      Properties: {
        // SSE-KMS under the AWS managed aws/s3 key: no key to pay for or to share, and the S3
        // Bucket Key keeps KMS requests to a few per deploy.
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms' }, BucketKeyEnabled: true }],
        },
        // osls prunes artifacts with DeleteObjects without version ids: on this versioned bucket
        // that only adds delete markers, and every old version would stay forever.
        LifecycleConfiguration: {
          Rules: [
            {
              Id: 'expire-replaced-artifacts',
              Status: 'Enabled',
              NoncurrentVersionExpiration: { NoncurrentDays: noncurrentArtifactDays },
              ExpiredObjectDeleteMarker: true,
            },
            { Id: 'abort-incomplete-uploads', Status: 'Enabled', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } },
          ],
        },
      },
    },
    // osls's own TLS-only policy, in the form AWS's controls read (a GetAtt ARN and the
    // string "false"): the same statement, now checked by cfn-guard instead of excepted.
    ServerlessDeploymentBucketPolicy: {
      Properties: {
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [denyInsecureTransport(bucketArn)],
        },
      },
    },
  };
}
