// Every AWS Control Tower proactive control the templates knowingly do not meet, with why.
// An exception names the resources it covers: the same control failing elsewhere still fails,
// and an exception that no longer matches any finding fails too (test/cfn-guard.test.ts).

export interface AcceptedFinding {
  control: string;
  resources: string[];
  /** Only these stacks (package folder names, see test/package-stage.ts); every stack when absent. */
  stages?: string[];
  reason: string;
}

/** The stage's deployment bucket, which the bootstrap creates (bootstrap/templates.ts). */
const deploymentBucket = ['DeploymentBucket'];
const bootstrap = ['bootstrap'];
/** The sandbox stacks the tests package: a home-only sandbox, and both stacks of one opted in to a second region. */
const sandbox = ['alice', 'bob', 'bob.ap-southeast-1'];

export const acceptedFindings: AcceptedFinding[] = [
  {
    control: 'CT.S3.PR.2',
    resources: deploymentBucket,
    stages: bootstrap,
    reason:
      'The artifact bucket holds deployment zips and templates only, reproducible from git; CloudTrail management events already record every deploy (who ran which stack update), which is what an audit of it needs. https://docs.aws.amazon.com/awscloudtrail/latest/userguide/logging-management-events-with-cloudtrail.html',
  },
  {
    control: 'CT.S3.PR.4',
    resources: deploymentBucket,
    stages: bootstrap,
    reason: 'Nothing consumes events of deployment artifacts: osls writes them and CloudFormation reads them in the same deploy.',
  },
  {
    control: 'CT.S3.PR.9',
    resources: deploymentBucket,
    stages: bootstrap,
    reason:
      'Object Lock would stop the lifecycle rule and `sls remove` from deleting replaced artifacts (a locked version cannot be deleted before its retention ends); deployment artifacts are reproducible from git. https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html',
  },
  {
    control: 'CT.APIGATEWAY.PR.1',
    resources: ['ApiStage'],
    stages: sandbox,
    reason:
      'Execution logging needs the account-wide API Gateway CloudWatch role, which only shared stages set (where none is set); a sandbox stays free of account-level changes. Shared stages log errors and every request. https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-logging.html',
  },
  {
    control: 'CT.CLOUDWATCH.PR.2',
    resources: ['KeyRingLogGroup', 'PhotoBucketEmptierLogGroup', 'RegionalLookupLogGroup'],
    stages: sandbox,
    reason: 'Sandboxes keep logs 7 days so that a forgotten sandbox costs nothing; prod keeps them 365 days.',
  },
  {
    control: 'CT.CLOUDWATCH.PR.2',
    resources: ['ApiAccessLogGroup'],
    reason:
      "API access logs hold client IP addresses, personal data kept no longer than needed: 180 days, the rolling period CERT-In's Directions of 28 April 2022 (20(3)/2022-CERT-In) set for a service's logs. The directions also want those logs kept within India: the home region's (ap-south-1) are; the secondary region's (ap-southeast-1) hold what that region served, during a failover, for the same 180 days. https://www.cert-in.org.in/PDF/CERT-In_Directions_70B_28.04.2022.pdf",
  },
  {
    control: 'CT.CLOUDWATCH.PR.3',
    resources: ['KeyRingLogGroup', 'PhotoBucketEmptierLogGroup', 'RegionalLookupLogGroup'],
    stages: sandbox,
    reason:
      'A customer managed KMS key costs 1 USD/month, against the 0 USD idle sandbox; the log group holds no secret (the handlers never log key material or the presigned URL) and CloudWatch Logs encrypts it at rest anyway. Shared stages encrypt every log group with their own key. https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html',
  },
  {
    control: 'CT.LAMBDA.PR.3',
    resources: [
      'KeyRingLambdaFunction',
      'PhotoBucketEmptierLambdaFunction',
      'AccessLogSetupLambdaFunction',
      'RegionalLookupLambdaFunction',
    ],
    reason:
      'The custom resource functions call public AWS endpoints (SSM, S3, CloudWatch Logs, DynamoDB, CloudFront) and PUT their answer to the pre-signed S3 URL CloudFormation gives them (ResponseURL); they reach nothing in a VPC. A VPC would add NAT or interface endpoints (a fixed monthly cost) and no protection. https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html',
  },
  {
    control: 'CT.LAMBDA.PR.3',
    resources: ['FailoverLatchLambdaFunction'],
    reason:
      "The failover latch of the control stack calls Route 53's public API only (GetHealthCheck, UpdateHealthCheck on the gate); it reaches nothing in a VPC, and a VPC would add NAT or an endpoint (a fixed monthly cost) and no protection. https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html",
  },
  {
    control: 'CT.S3.PR.10',
    resources: ['PhotoBucket'],
    reason:
      'Origin Access Control can read SSE-KMS objects only with a customer managed key whose policy admits CloudFront (not the AWS managed aws/s3 key), at 1 USD/month per stage plus KMS requests on cache misses; photos are encrypted with SSE-S3 (AES-256). https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/private-content-restricting-access-to-s3.html#oac-permissions-sse-kms',
  },
  {
    control: 'CT.S3.PR.2',
    resources: ['PhotoBucket'],
    reason:
      "Server access logs would record the bucket's own requests; a shared stage already keeps CloudFront's access logs (standard logging v2, AccessLogBucket) for the reads through the distribution. Nothing in the bucket's policy forces reads through CloudFront or uploads through the photo service: any principal of the account with S3 rights reaches the bucket directly, unlogged but for CloudTrail's management events. Turn on CloudTrail S3 data events for the bucket when an audit needs every object request. https://docs.aws.amazon.com/AmazonS3/latest/userguide/logging-with-S3.html",
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
    control: 'CT.S3.PR.2',
    resources: ['AccessLogBucket'],
    reason:
      'It is the log bucket itself: logging its own requests into itself would loop, and AWS advises against a log bucket that logs. https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html',
  },
  {
    control: 'CT.S3.PR.4',
    resources: ['AccessLogBucket'],
    reason: 'Log files are read on demand (Athena, the console, the CLI); nothing reacts to each new file.',
  },
  {
    control: 'CT.S3.PR.9',
    resources: ['AccessLogBucket'],
    reason:
      'Access logs hold personal data that must be erasable on request and expire after their retention; Object Lock in compliance mode would forbid both. What protects them instead: versioning with noncurrent versions kept as long as the logs, and a bucket policy that denies object writes to every principal but CloudWatch Logs delivery and object deletes to every principal (the lifecycle rule, which is no principal, still expires them). An account administrator can still change that policy; the observability key lets the account administer and use it. https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html',
  },
  {
    control: 'CT.CLOUDFRONT.PR.1',
    resources: ['PhotoDistribution'],
    reason: 'A photo store has no index document; a request for / is refused like any unsigned request, by the trusted key group.',
  },
  {
    control: 'CT.CLOUDFRONT.PR.4',
    resources: ['PhotoDistribution'],
    stages: ['alice'],
    reason:
      "Origin failover needs a replica bucket in a second region: a sandbox runs in one region unless it opts in (--param=secondary-region, as bob does), and then its distribution fails over like prod's.",
  },
  {
    control: 'CT.CLOUDFRONT.PR.5',
    resources: ['PhotoDistribution'],
    reason:
      'The rule reads only legacy logging (DistributionConfig.Logging.Bucket), which needs a bucket with ACLs enabled. Shared stages use standard logging v2 instead (Custom::CloudFrontLogDelivery, through CloudWatch Logs in us-east-1, to an ACL-less bucket), which the rule cannot see; sandboxes keep no access logs. https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/standard-logging.html',
  },
  ...['CT.CLOUDFRONT.PR.6', 'CT.CLOUDFRONT.PR.7', 'CT.CLOUDFRONT.PR.9'].map((control) => ({
    control,
    resources: ['PhotoDistribution'],
    stages: sandbox,
    reason:
      'Sandboxes have no custom domain and so no certificate: the default *.cloudfront.net certificate serves them. Prod has its own certificate, SNI and TLSv1.2_2021, and is checked.',
  })),
];
