// The bootstrap, as `cdk bootstrap` does it: what an administrator creates once, before any deploy,
// as CloudFormation templates. Per account and region (`accountTemplate`): the API Gateway role and
// account setting every API of the region logs with, the service-linked roles a fresh account needs,
// and the stack administrator's policy. Per stage and region (`stageTemplate`): the stage's
// deployment bucket; in its home region also its CloudFormation execution role and the permissions
// boundary of every role its stacks create. The policies are the files under iam/, as they are.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CfnResource, denyInsecureTransport, getAtt, privateBucket, ref } from '../resources/cloudformation';
import {
  artifactBucketProperties,
  bootstrapPath,
  deploymentBucketName,
  executionRoleName,
  permissionsBoundaryName,
  stageTag,
} from '../resources/deployment';
import { app } from '../resources/names';

/** The policy documents, one file per principal, read as they are committed. */
export const iamFiles = {
  executionRole: 'execution-role.json',
  permissionsBoundary: 'permissions-boundary.json',
  stackAdministrator: 'stack-administrator.json',
  sandboxDeployer: 'sandbox-deployer.json',
  sharedStageDeployer: 'shared-stage-deployer.json',
  failoverOperator: 'failover-operator.json',
} as const;

/**
 * Who deploys in an account: a developer to their own sandbox (development account), or the CI
 * role or a release engineer to a shared stage. Either is bound to one stage by its `stage`
 * principal tag (an IAM Identity Center attribute for access control, or the CI role's tag).
 */
export const deployers = {
  sandbox: { file: iamFiles.sandboxDeployer, policyName: `${app}-sandbox-deployer` },
  'shared-stage': { file: iamFiles.sharedStageDeployer, policyName: `${app}-shared-stage-deployer` },
} as const;
export type DeployerKind = keyof typeof deployers;

export const readPolicy = (file: string): Record<string, unknown> => JSON.parse(readFileSync(join(__dirname, '..', 'iam', file), 'utf8'));

export interface Template {
  AWSTemplateFormatVersion: '2010-09-09';
  Description: string;
  Parameters?: Record<string, unknown>;
  Conditions?: Record<string, unknown>;
  Resources: Record<string, CfnResource>;
  Outputs?: Record<string, unknown>;
}

export const accountStackName = `${app}-bootstrap-account`;
export const stageStackName = (stage: string): string => `${app}-bootstrap-${stage}`;

/** The account's role for API Gateway's CloudWatch logs: one per account, shared by every region's setting. */
export const apiGatewayCloudWatchRoleName = `${app}-apigateway-cloudwatch`;
const accountPath = `/${app}-bootstrap/`;
export const stackAdministratorPolicyName = `${app}-stack-administrator`;
export const failoverOperatorPolicyName = `${app}-failover-operator`;

/** Service-linked roles take no boundary, so only the bootstrap creates them (the execution role may not). */
export const serviceLinkedRoles = {
  DynamoDbReplicationServiceLinkedRole: 'replication.dynamodb.amazonaws.com',
  ApiGatewayServiceLinkedRole: 'ops.apigateway.amazonaws.com',
} as const;

/**
 * The account's pieces in one region. `global`: the region that also holds what IAM keeps once per
 * account (the stage's home region), the deployers' policy among them. A service-linked role that
 * already exists makes its creation fail: `CreateServiceLinkedRoles=false` skips them.
 */
export function accountTemplate({ global, deployer }: { global: boolean; deployer: DeployerKind }): Template {
  const role = { 'Fn::Sub': `arn:\${AWS::Partition}:iam::\${AWS::AccountId}:role${accountPath}${apiGatewayCloudWatchRoleName}` };
  return {
    AWSTemplateFormatVersion: '2010-09-09',
    Description: `Movement Pass bootstrap of the account${global ? ' (IAM and this region)' : ' (this region)'}: API Gateway logging, service-linked roles, the deployers' and stack administrators' policies`,
    ...(global && {
      Parameters: {
        CreateServiceLinkedRoles: {
          Type: 'String',
          AllowedValues: ['true', 'false'],
          Default: 'true',
          Description: 'false when AWSServiceRoleForDynamoDBReplication and AWSServiceRoleForAPIGateway already exist in the account',
        },
      },
      Conditions: { CreateServiceLinkedRoles: { 'Fn::Equals': [{ Ref: 'CreateServiceLinkedRoles' }, 'true'] } },
    }),
    Resources: {
      ...(global && {
        ApiGatewayCloudWatchRole: {
          Type: 'AWS::IAM::Role',
          Properties: {
            RoleName: apiGatewayCloudWatchRoleName,
            Path: accountPath,
            Description: 'Lets API Gateway write CloudWatch logs for every API of this account',
            AssumeRolePolicyDocument: {
              Version: '2012-10-17',
              Statement: [{ Effect: 'Allow', Principal: { Service: 'apigateway.amazonaws.com' }, Action: 'sts:AssumeRole' }],
            },
            ManagedPolicyArns: [{ 'Fn::Sub': 'arn:${AWS::Partition}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs' }],
          },
        },
        ...Object.fromEntries(
          Object.entries(serviceLinkedRoles).map(([id, service]) => [
            id,
            { Type: 'AWS::IAM::ServiceLinkedRole', Condition: 'CreateServiceLinkedRoles', Properties: { AWSServiceName: service } },
          ]),
        ),
        DeployerPolicy: {
          Type: 'AWS::IAM::ManagedPolicy',
          Properties: {
            ManagedPolicyName: deployers[deployer].policyName,
            Path: accountPath,
            Description: `What a ${deployer} deployer does, on the stage its stage tag names (iam/${deployers[deployer].file})`,
            PolicyDocument: readPolicy(deployers[deployer].file),
          },
        },
        // `sls failover` (plugins/failover.js): the operator of a stage that fails over, in the shared stages' account.
        ...(deployer === 'shared-stage' && {
          FailoverOperatorPolicy: {
            Type: 'AWS::IAM::ManagedPolicy',
            Properties: {
              ManagedPolicyName: failoverOperatorPolicyName,
              Path: accountPath,
              Description:
                'sls failover on the stage its stage tag names: checks, the gate, replication metrics and marker items (iam/failover-operator.json)',
              PolicyDocument: readPolicy(iamFiles.failoverOperator),
            },
          },
        }),
        StackAdministratorPolicy: {
          Type: 'AWS::IAM::ManagedPolicy',
          Properties: {
            ManagedPolicyName: stackAdministratorPolicyName,
            Path: accountPath,
            Description:
              "The administrator's step on shared stacks: termination protection and stack policy (iam/stack-administrator.json)",
            PolicyDocument: readPolicy(iamFiles.stackAdministrator),
          },
        },
      }),
      ApiGatewayAccount: {
        Type: 'AWS::ApiGateway::Account',
        ...(global && { DependsOn: ['ApiGatewayCloudWatchRole'] }),
        Properties: { CloudWatchRoleArn: role },
      },
    },
  };
}

/**
 * A stage's pieces in one region: its deployment bucket; in its home region (`global`) also its
 * execution role and permissions boundary, both tagged with the stage, which their policies read.
 */
export function stageTemplate(settings: { stage: string; accountId: string }, region: string, { global }: { global: boolean }): Template {
  const { stage } = settings;
  const tags = [
    { Key: 'app', Value: app },
    { Key: stageTag, Value: stage },
  ];
  return {
    AWSTemplateFormatVersion: '2010-09-09',
    Description: `Movement Pass bootstrap of stage ${stage}${global ? ' (IAM and this region)' : ' (this region)'}: deployment bucket${global ? ', CloudFormation execution role, permissions boundary' : ''}`,
    Resources: {
      DeploymentBucket: {
        Type: 'AWS::S3::Bucket',
        Properties: { BucketName: deploymentBucketName(settings, region), ...artifactBucketProperties, ...privateBucket, Tags: tags },
      },
      DeploymentBucketPolicy: {
        Type: 'AWS::S3::BucketPolicy',
        Properties: {
          Bucket: ref('DeploymentBucket'),
          PolicyDocument: { Version: '2012-10-17', Statement: [denyInsecureTransport(getAtt('DeploymentBucket', 'Arn'))] },
        },
      },
      ...(global && {
        PermissionsBoundary: {
          Type: 'AWS::IAM::ManagedPolicy',
          Properties: {
            ManagedPolicyName: permissionsBoundaryName(stage),
            Path: bootstrapPath(stage),
            Description: `The most any role of stage ${stage}'s stacks may do (iam/permissions-boundary.json)`,
            PolicyDocument: readPolicy(iamFiles.permissionsBoundary),
          },
        },
        ExecutionRole: {
          Type: 'AWS::IAM::Role',
          Properties: {
            RoleName: executionRoleName(stage),
            Path: bootstrapPath(stage),
            Description: `CloudFormation acts on stage ${stage}'s stacks with this role (iam/execution-role.json)`,
            AssumeRolePolicyDocument: {
              Version: '2012-10-17',
              Statement: [{ Effect: 'Allow', Principal: { Service: 'cloudformation.amazonaws.com' }, Action: 'sts:AssumeRole' }],
            },
            // Inline: the policy is longer than a managed policy may be (6,144 characters), and only this role holds it.
            Policies: [{ PolicyName: 'execution-role', PolicyDocument: readPolicy(iamFiles.executionRole) }],
            Tags: tags,
          },
        },
      }),
    },
    Outputs: {
      DeploymentBucketName: { Value: { Ref: 'DeploymentBucket' } },
      ...(global && {
        ExecutionRoleArn: { Value: { 'Fn::GetAtt': ['ExecutionRole', 'Arn'] } },
        PermissionsBoundaryArn: { Value: { Ref: 'PermissionsBoundary' } },
      }),
    },
  };
}
