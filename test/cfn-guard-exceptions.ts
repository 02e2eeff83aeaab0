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
    resources: ['KeyRingLogGroup'],
    stages: ['alice'],
    reason: 'Sandboxes keep logs 7 days so that a forgotten sandbox costs nothing; prod keeps them 365 days.',
  },
  {
    control: 'CT.CLOUDWATCH.PR.3',
    resources: ['KeyRingLogGroup'],
    reason:
      'A customer managed KMS key costs 1 USD/month per stage, against the 0 USD idle sandbox; the log group holds no secret (the handlers never log key material or the presigned URL) and is encrypted by CloudWatch Logs by default.',
  },
  {
    control: 'CT.LAMBDA.PR.3',
    resources: ['KeyRingLambdaFunction'],
    reason:
      'The custom resource functions talk only to SSM, S3 and CloudFormation public endpoints; a VPC would add NAT or interface endpoints (a fixed monthly cost) and no protection.',
  },
];
