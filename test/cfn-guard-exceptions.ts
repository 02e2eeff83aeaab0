// Every AWS Control Tower proactive control the templates knowingly do not meet, with why.
// An exception names the resources it covers: the same control failing elsewhere still fails.

export interface AcceptedFinding {
  control: string;
  resources: string[];
  /** Only these stages; every stage when absent. */
  stages?: string[];
  reason: string;
}

const deploymentBucket = ['ServerlessDeploymentBucket'];
const logGroups = ['KeyRingLogGroup', 'PhotoBucketEmptierLogGroup'];
const functions = ['KeyRingLambdaFunction', 'PhotoBucketEmptierLambdaFunction'];
const sandbox = ['alice'];

export const acceptedFindings: AcceptedFinding[] = [
  {
    control: 'CT.S3.PR.10',
    resources: deploymentBucket,
    reason:
      'osls creates its artifact bucket with SSE-S3 (AES256) and has no setting for SSE-KMS; it holds only deployment zips and templates, no personal data.',
  },
  {
    control: 'CT.S3.PR.2',
    resources: deploymentBucket,
    reason:
      'Server access logs of the artifact bucket would need a log bucket per stage, which a sandbox must not leave behind; CloudTrail already records who deploys.',
  },
  {
    control: 'CT.S3.PR.3',
    resources: deploymentBucket,
    reason:
      'osls prunes old deployment artifacts itself and `sls remove` deletes every version; osls exposes no lifecycle setting for this bucket.',
  },
  {
    control: 'CT.S3.PR.4',
    resources: deploymentBucket,
    reason: 'Nothing consumes events of deployment artifacts; notifications would have no target.',
  },
  {
    control: 'CT.S3.PR.6',
    resources: deploymentBucket,
    reason: 'osls prunes old deployment artifacts itself; osls exposes no lifecycle setting for this bucket.',
  },
  {
    control: 'CT.S3.PR.8',
    resources: ['ServerlessDeploymentBucketPolicy'],
    reason:
      'osls writes a Deny-unless-aws:SecureTransport policy on both bucket and objects, but as Fn::Join ARNs and a boolean false, which the rule does not recognise; the request is TLS-only all the same.',
  },
  {
    control: 'CT.S3.PR.9',
    resources: deploymentBucket,
    reason:
      'Object Lock would stop osls from pruning artifacts and `sls remove` from deleting a sandbox; deployment artifacts are reproducible from git.',
  },
  {
    control: 'CT.APIGATEWAY.PR.1',
    resources: ['ApiStage'],
    reason:
      'Execution logging needs the account-wide API Gateway CloudWatch role (AWS::ApiGateway::Account), which one stage stack must not own for the whole account; the JWKS is a static MOCK response with metrics and X-Ray tracing on.',
  },
  {
    control: 'CT.CLOUDWATCH.PR.2',
    resources: logGroups,
    stages: sandbox,
    reason: 'Sandboxes keep logs 7 days so that a forgotten sandbox costs nothing; prod keeps them 365 days.',
  },
  {
    control: 'CT.CLOUDWATCH.PR.3',
    resources: logGroups,
    reason:
      'A customer managed KMS key costs 1 USD/month per stage, against the 0 USD idle sandbox; the log group holds no secret (the handlers never log key material or the presigned URL) and is encrypted by CloudWatch Logs by default.',
  },
  {
    control: 'CT.LAMBDA.PR.3',
    resources: functions,
    reason:
      'The custom resource functions talk only to SSM, S3 and CloudFormation public endpoints; a VPC would add NAT or interface endpoints (a fixed monthly cost) and no protection.',
  },
  {
    control: 'CT.S3.PR.10',
    resources: ['PhotoBucket'],
    reason:
      'CloudFront Origin Access Control cannot read objects encrypted with the AWS managed KMS key, and a customer managed key costs 1 USD/month per stage; photos are encrypted with SSE-S3 (AES-256).',
  },
  {
    control: 'CT.S3.PR.2',
    resources: ['PhotoBucket'],
    reason:
      'Server access logs need a log bucket per stage that a sandbox must not leave behind; CloudTrail data events can be turned on per account when an audit needs them.',
  },
  {
    control: 'CT.S3.PR.4',
    resources: ['PhotoBucket'],
    reason: 'No service consumes upload events yet; the services that will (photo checks) add their own notification target.',
  },
  {
    control: 'CT.S3.PR.9',
    resources: ['PhotoBucket'],
    reason:
      "Object Lock would make an applicant's photo undeletable; photos must be erasable on request, and versioning already protects against accidental overwrites.",
  },
  {
    control: 'CT.CLOUDFRONT.PR.1',
    resources: ['PhotoDistribution'],
    reason: 'A photo store has no index document; a request for / is refused like any unsigned request, by the trusted key group.',
  },
  {
    control: 'CT.CLOUDFRONT.PR.4',
    resources: ['PhotoDistribution'],
    reason:
      'Origin failover needs a replica bucket in a second region; the photos have one origin until the multi-region plan adds a replica.',
  },
  {
    control: 'CT.CLOUDFRONT.PR.5',
    resources: ['PhotoDistribution'],
    reason:
      'Standard logging writes to an S3 bucket with ACLs enabled, against the BucketOwnerEnforced setting every bucket here has; CloudFront metrics cover operations.',
  },
  ...['CT.CLOUDFRONT.PR.6', 'CT.CLOUDFRONT.PR.7', 'CT.CLOUDFRONT.PR.9'].map((control) => ({
    control,
    resources: ['PhotoDistribution'],
    stages: sandbox,
    reason:
      'Sandboxes have no custom domain and so no certificate: the default *.cloudfront.net certificate serves them. Prod has its own certificate, SNI and TLSv1.2_2021, and is checked.',
  })),
];
