// What deploys stand on: the bootstrap's templates (bootstrap/templates.ts) create exactly the
// policies of iam/, and every packaged stack passes its stage's execution role, uploads to its
// stage's deployment bucket, and gives every role it creates the stage's path, boundary and tag.
// osls generates no role or custom resource function of its own (with a deployment role set, osls
// would give its own custom-resource function that role, which cannot work).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { accountTemplate, iamFiles, readPolicy, stageTemplate, type Template } from '../bootstrap/templates';
import {
  deploymentBucketName,
  executionRoleArn,
  legacyDeploymentBucket,
  legacyDeploymentBucketFromArgv,
  permissionsBoundaryArn,
  stagePath,
} from '../resources/deployment';
import { settingsFor } from '../resources/stage';
import { bootstrapSteps } from '../scripts/bootstrap';
import { projectRoot, readServiceState, readTemplate, testedStacks } from './package-stage';

const prod = settingsFor('prod');
const templates = {
  account: accountTemplate({ global: true, deployer: 'shared-stage' }),
  sandboxAccount: accountTemplate({ global: true, deployer: 'sandbox' }),
  accountSecondRegion: accountTemplate({ global: false, deployer: 'shared-stage' }),
  stage: stageTemplate(prod, prod.regions[0], { global: true }),
  stageSecondRegion: stageTemplate(prod, prod.regions[1], { global: false }),
};

/** Every permissions policy a template creates: inline role policies and managed policies (not trust or bucket policies). */
function permissionPolicies(template: Template): unknown[] {
  return Object.values(template.Resources).flatMap((resource) => {
    const properties = resource.Properties ?? {};
    if (resource.Type === 'AWS::IAM::ManagedPolicy') return [properties.PolicyDocument];
    if (resource.Type === 'AWS::IAM::Role')
      return ((properties.Policies as { PolicyDocument: unknown }[]) ?? []).map((policy) => policy.PolicyDocument);
    return [];
  });
}

/** IAM counts a policy's size without whitespace. */
const policySize = (policy: unknown) => JSON.stringify(policy).replace(/\s/g, '').length;

describe('the bootstrap creates the policies of iam/, one file per principal', () => {
  const created = Object.values(templates).flatMap(permissionPolicies);

  it('holds no other file than the policies it creates, and creates no policy that is not one of them', () => {
    expect(readdirSync(join(projectRoot, 'iam')).sort()).toEqual(Object.values(iamFiles).sort());
    for (const file of Object.values(iamFiles)) {
      expect(created.filter((policy) => JSON.stringify(policy) === JSON.stringify(readPolicy(file))).length, file).toBeGreaterThan(0);
    }
    const files = Object.values(iamFiles).map((file) => JSON.stringify(readPolicy(file)));
    expect(created.map((policy) => JSON.stringify(policy)).filter((policy) => !files.includes(policy))).toEqual([]);
  });

  it('writes the stage as a policy variable AWS resolves from the principal, and nothing CloudFormation would', () => {
    for (const file of Object.values(iamFiles)) {
      const text = readFileSync(join(projectRoot, 'iam', file), 'utf8');
      expect(
        [...text.matchAll(/\$\{([^}]+)\}/g)].map((match) => match[1]).filter((name) => name !== 'aws:PrincipalTag/stage'),
        file,
      ).toEqual([]);
    }
  });

  it("tags the execution role with its stage (the variable's value) and fits IAM's size limits", () => {
    expect(templates.stage.Resources.ExecutionRole.Properties?.Tags).toContainEqual({ Key: 'stage', Value: 'prod' });
    expect(policySize(readPolicy(iamFiles.executionRole))).toBeLessThanOrEqual(10240); // a role's inline policies
    expect(policySize(readPolicy(iamFiles.permissionsBoundary))).toBeLessThanOrEqual(6144); // a managed policy
    for (const file of [iamFiles.stackAdministrator, iamFiles.sandboxDeployer, iamFiles.sharedStageDeployer, iamFiles.failoverOperator]) {
      expect([file, policySize(readPolicy(file)) <= 6144]).toEqual([file, true]);
    }
  });

  it('creates what IAM keeps once per account in one region only, and a deployment bucket in every region', () => {
    const types = (template: Template) => Object.values(template.Resources).map((resource) => resource.Type);
    expect(types(templates.accountSecondRegion)).toEqual(['AWS::ApiGateway::Account']);
    expect(types(templates.account)).toEqual(
      expect.arrayContaining(['AWS::IAM::Role', 'AWS::IAM::ServiceLinkedRole', 'AWS::ApiGateway::Account']),
    );
    expect(types(templates.stageSecondRegion).sort()).toEqual(['AWS::S3::Bucket', 'AWS::S3::BucketPolicy']);
    expect(templates.stageSecondRegion.Resources.DeploymentBucket.Properties?.BucketName).toBe(
      deploymentBucketName(prod, 'ap-southeast-1'),
    );
    const bucket = templates.stage.Resources.DeploymentBucket.Properties ?? {};
    expect(bucket).toMatchObject({
      BucketName: deploymentBucketName(prod, 'ap-south-1'),
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
    });
  });

  it("gives the administrator the commands of each account's and stage's regions, and refuses what it cannot bootstrap", () => {
    const stage = bootstrapSteps(['stage', 'prod']);
    expect(stage.account).toBe(prod.accountId);
    expect(stage.steps.map((step) => [step.stackName, step.region, step.protect])).toEqual([
      ['movement-pass-bootstrap-prod', 'ap-south-1', true],
      ['movement-pass-bootstrap-prod', 'ap-southeast-1', true],
      // The failover control stack's deployment bucket.
      ['movement-pass-bootstrap-prod', 'us-east-1', true],
    ]);
    const sandbox = bootstrapSteps(['stage', 'alice', '--param=secondary-region=ap-southeast-1']);
    expect(sandbox.account).toBe(settingsFor('alice').accountId);
    expect(sandbox.steps.map((step) => step.region)).toEqual(['ap-south-1', 'ap-southeast-1']);
    expect(bootstrapSteps(['account', 'sandboxes', '--region', 'eu-west-1']).steps.map((step) => step.region)).toEqual([
      'ap-south-1',
      'eu-west-1',
    ]);
    expect(() => bootstrapSteps(['account', 'alice'])).toThrow(/Which account\? Name a shared stage \(prod\) or "sandboxes"/);
    expect(() => bootstrapSteps(['stage', 'Alice'])).toThrow(/Invalid stage name "Alice"/);
    expect(() => bootstrapSteps(['account', 'sandboxes', '--region', 'mars-1'])).toThrow(/--region mars-1 is not an AWS region code/);
  });
});

describe.each(Object.keys(testedStacks))('what the packaged stack %s stands on', (stack) => {
  const template = readTemplate(stack);
  const state = readServiceState(stack);
  const settings = settingsFor(state.provider.stage);

  it("passes the stage's execution role and uploads to the stage's deployment bucket of its region", () => {
    expect(state.provider.iam.deploymentRole).toBe(executionRoleArn(settings));
    expect(state.provider.deploymentBucket).toBe(deploymentBucketName(settings, state.provider.region));
    const functions = Object.values(template.Resources).filter((resource) => resource.Type === 'AWS::Lambda::Function');
    expect(functions.length).toBeGreaterThan(0);
    for (const fn of functions) expect(fn.Properties.Code.S3Bucket).toBe(deploymentBucketName(settings, state.provider.region));
    expect(template.Resources.ServerlessDeploymentBucket).toBeUndefined();
  });

  it("gives every role the stage's path, permissions boundary and tag", () => {
    const roles = Object.entries(template.Resources).filter(([, resource]) => resource.Type === 'AWS::IAM::Role');
    expect(roles.length).toBeGreaterThan(0);
    for (const [id, role] of roles) {
      expect([id, role.Properties.Path, role.Properties.PermissionsBoundary]).toEqual([
        id,
        stagePath(settings.stage),
        permissionsBoundaryArn(settings),
      ]);
      expect(role.Properties.Tags, id).toContainEqual({ Key: 'stage', Value: settings.stage });
      expect(role.Properties.ManagedPolicyArns, id).toBeUndefined();
    }
  });

  it('holds no role or custom resource function osls would generate: every custom resource is served by a function of serverless.ts', () => {
    const ours = Object.keys(state.functions).map((name) => `${name.charAt(0).toUpperCase()}${name.slice(1)}LambdaFunction`);
    expect(Object.keys(template.Resources).filter((id) => /^(IamRole|CustomDashresource)/.test(id))).toEqual([]);
    for (const [id, resource] of Object.entries(template.Resources)) {
      if (!resource.Type.startsWith('Custom::')) continue;
      expect([id, resource.Properties.ServiceToken['Fn::GetAtt']?.[0]]).toEqual([id, expect.toBeOneOf(ours)]);
    }
  });
});

describe('a stack deployed before the bootstrap', () => {
  it('keeps its old deployment bucket retained for one deploy, under the ids osls gave it, so the next deploy lets it go', () => {
    expect(legacyDeploymentBucketFromArgv(['deploy'])).toBe(false);
    expect(legacyDeploymentBucketFromArgv(['deploy', '--param=legacy-deployment-bucket=retain'])).toBe(true);
    expect(() => legacyDeploymentBucketFromArgv(['deploy', '--param=legacy-deployment-bucket=keep'])).toThrow(
      /--param=legacy-deployment-bucket=keep is not a choice: write --param=legacy-deployment-bucket=retain/,
    );
    const { Resources } = legacyDeploymentBucket();
    expect(Object.keys(Resources)).toEqual(['ServerlessDeploymentBucket', 'ServerlessDeploymentBucketPolicy']);
    for (const resource of Object.values(Resources))
      expect(resource).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });
});
