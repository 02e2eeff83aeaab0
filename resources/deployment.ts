// What a stage's deploys stand on, created once by an administrator's bootstrap (bootstrap/) and
// named here for both sides: the stage's CloudFormation execution role, which osls passes on every
// stack operation, the permissions boundary every role of the stage's stacks carries, and the
// deployment bucket of each region. All of a stage's IAM lives under its own path
// (`/movement-pass/<stage>/`), the bootstrap's own principals under `/movement-pass-bootstrap/<stage>/`,
// so no role or policy of a stage matches another stage's path.
import type { AWS } from '@serverless/typescript';
import { type CfnResource, denyInsecureTransport, type Fragment, getAtt, privateBucket, ref } from './cloudformation';
import { paramFromArgv } from './command-line';
import { app } from './names';
import { regionCode, type StageSettings } from './stage';
import { StageError } from './stage-validation';

/** The IAM path of the roles a stage's stacks create; the boundary allows them nothing elsewhere. */
export const stagePath = (stage: string): string => `/${app}/${stage}/`;
/** The IAM path of what the bootstrap creates for a stage: outside `stagePath`, out of the execution role's reach. */
export const bootstrapPath = (stage: string): string => `/${app}-bootstrap/${stage}/`;

/** The tag every role of the stage carries; the boundary and the execution role read the stage from it (`aws:PrincipalTag/stage`). */
export const stageTag = 'stage';

const iamArn = (settings: Pick<StageSettings, 'accountId'>, kind: 'role' | 'policy', path: string, name: string) =>
  `arn:aws:iam::${settings.accountId}:${kind}${path}${name}`;

export const executionRoleName = (stage: string): string => `${app}-${stage}-cloudformation`;
export const permissionsBoundaryName = (stage: string): string => `${app}-${stage}-boundary`;

/** The role CloudFormation acts with on the stage's stacks (`provider.iam.deploymentRole`). */
export const executionRoleArn = (settings: Pick<StageSettings, 'accountId' | 'stage'>): string =>
  iamArn(settings, 'role', bootstrapPath(settings.stage), executionRoleName(settings.stage));

/** The managed policy every role of the stage's stacks carries as its permissions boundary. */
export const permissionsBoundaryArn = (settings: Pick<StageSettings, 'accountId' | 'stage'>): string =>
  iamArn(settings, 'policy', bootstrapPath(settings.stage), permissionsBoundaryName(settings.stage));

/**
 * The stage's deployment bucket in a region (`provider.deploymentBucket.name`): the stage and the
 * account in the name, so a policy tells one stage's artifacts from another's. At most 61 characters.
 */
export const deploymentBucketName = (settings: Pick<StageSettings, 'accountId' | 'stage'>, region: string): string =>
  `${app}-${settings.stage}-deployments-${regionCode(region)}-${settings.accountId}`;

/** Days an artifact replaced by a newer deploy is kept in the deployment bucket: enough to roll back by hand. */
export const noncurrentArtifactDays = 30;

/** What every role of the stage's stacks carries: the stage's path, its boundary and its tag. */
export function stageRoleProperties(settings: StageSettings): Record<string, unknown> {
  return {
    Path: stagePath(settings.stage),
    PermissionsBoundary: permissionsBoundaryArn(settings),
    Tags: [{ Key: stageTag, Value: settings.stage }],
  };
}

/** `--param=legacy-deployment-bucket=retain`: the one deploy that moves a stack off its in-stack bucket. */
export const legacyDeploymentBucketParam = 'legacy-deployment-bucket';

/** Whether this deploy keeps the stack's old in-stack deployment bucket, retained (see `legacyDeploymentBucket`). */
export function legacyDeploymentBucketFromArgv(argv: readonly string[]): boolean {
  const value = paramFromArgv(argv, legacyDeploymentBucketParam);
  if (value === undefined) return false;
  if (value !== 'retain') {
    throw new StageError(
      `--param=${legacyDeploymentBucketParam}=${value} is not a choice: write --param=${legacyDeploymentBucketParam}=retain, once, ` +
        'on the first deploy of a stack created before the bootstrap (see "Accounts and the bootstrap" in docs/deploying.md).',
    );
  }
  return true;
}

/**
 * A deployment bucket's own settings: SSE-KMS under the AWS managed aws/s3 key (no key to pay for
 * or to share; the Bucket Key keeps KMS requests to a few per deploy), versioned, and a lifecycle:
 * osls prunes artifacts with DeleteObjects without version ids, which on a versioned bucket only
 * adds delete markers, so without it every old version would stay forever.
 */
export const artifactBucketProperties = {
  BucketEncryption: {
    ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms' }, BucketKeyEnabled: true }],
  },
  VersioningConfiguration: { Status: 'Enabled' },
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
};

/**
 * The deployment bucket osls used to create in the stack, exactly as it was deployed, now
 * retained: a stack deployed before the bootstrap keeps it for one deploy (`--param=legacy-deployment-bucket=retain`),
 * so the next deploy drops it from the stack without deleting it (a deletion would fail on its
 * artifacts, and the execution role may not touch it). The administrator then deletes it.
 */
export function legacyDeploymentBucket(): Fragment {
  const retained = { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' } as const;
  const bucket: CfnResource = {
    Type: 'AWS::S3::Bucket',
    ...retained,
    Properties: { ...artifactBucketProperties, PublicAccessBlockConfiguration: privateBucket.PublicAccessBlockConfiguration },
  };
  const policy: CfnResource = {
    Type: 'AWS::S3::BucketPolicy',
    ...retained,
    Properties: {
      Bucket: ref('ServerlessDeploymentBucket'),
      PolicyDocument: { Version: '2012-10-17', Statement: [denyInsecureTransport(getAtt('ServerlessDeploymentBucket', 'Arn'))] },
    },
  };
  return { Resources: { ServerlessDeploymentBucket: bucket, ServerlessDeploymentBucketPolicy: policy } };
}

/** What plugins/preflight.js checks before any command acts on AWS (`custom.movementPassAccount`). */
export interface AccountPluginConfig {
  stage: string;
  accountId: string;
  /** Where the account is set, for the message: `sharedStages.prod.account` or `sandboxAccount` of team.json. */
  setting: string;
}

export function accountPluginConfig(settings: StageSettings): AccountPluginConfig {
  return {
    stage: settings.stage,
    accountId: settings.accountId,
    setting: `${settings.retainData ? `sharedStages.${settings.stage}.account` : 'sandboxAccount'} of team.json`,
  };
}

/**
 * osls's provider settings of every stack of the stage: the runtime, and what the administrator's
 * bootstrap made for the stage (bootstrap/): osls uploads to the stage's own bucket in the stack's
 * region, and CloudFormation acts on the stack with the stage's own role, whose permissions
 * boundary every role of the stack carries.
 */
export function stageProvider(settings: StageSettings) {
  return {
    name: 'aws' as const,
    runtime: 'nodejs24.x' as const,
    architecture: 'arm64' as const,
    region: settings.region as NonNullable<AWS['provider']['region']>,
    // Custom resource functions are called by CloudFormation only: numbered versions would just pile up.
    versionFunctions: false,
    deploymentBucket: { name: deploymentBucketName(settings, settings.region) },
    iam: { deploymentRole: executionRoleArn(settings) },
    stage: settings.stage,
    stackTags: { app, stage: settings.stage },
    tags: { app, stage: settings.stage },
  } satisfies AWS['provider'];
}

/** serverless-esbuild's settings: one minified bundle per function. */
export const bundling = {
  bundle: true,
  minify: true,
  sourcemap: false,
  target: 'node24',
  platform: 'node',
  // The Lambda runtime ships AWS SDK v3; bundling it would only grow the artifacts.
  exclude: ['@aws-sdk/*'],
};
