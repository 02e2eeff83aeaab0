// The custom resources' Lambda functions, each with its own least-privilege role: logs to its
// own log group, and only the SSM parameters or the bucket it manages.
import type { AWS } from '@serverless/typescript';
import { stackIdVariable } from '../handlers/lib/environment';
import { type CfnResource, type Fragment, getAtt, type Intrinsic, ref, sub } from './cloudformation';
import { stageRoleProperties } from './deployment';
import { service } from './names';
import type { StageSettings } from './stage';

type FunctionDefinition = NonNullable<AWS['functions']>[string];

/** The logical id osls gives a function's resource, for `Fn::GetAtt <id>.Arn` as a ServiceToken. */
export const functionLogicalId = (name: string): string => `${name.charAt(0).toUpperCase()}${name.slice(1)}LambdaFunction`;
export const serviceToken = (name: string) => getAtt(functionLogicalId(name), 'Arn');

export const functionName = (settings: StageSettings, name: string) => `${service}-${settings.stage}-${name}`;

export interface StageFunction {
  name: string;
  handler: string;
  description: string;
  memorySize: number;
  /** Seconds; CloudFormation's ServiceTimeout of its resources must be longer. */
  timeout: number;
  /** What the function may do beyond writing its own logs. */
  statements: Record<string, unknown>[];
  /** A fixed role name, for a role that a key policy names by ARN (generated when absent). */
  roleName?: Intrinsic;
  /** The function's configuration, from the template (values may be intrinsic functions). */
  environment?: Record<string, Intrinsic>;
}

/** Its own stack only: each event is checked against what the stack records (handlers/lib/stack-check.ts). */
export const ownStackRecords = {
  Effect: 'Allow',
  Action: ['cloudformation:DescribeStackResource', 'cloudformation:DescribeStacks'],
  Resource: ref('AWS::StackId'),
};

/** The osls function definition and its role, for one custom resource function: it acts on events of its own stack only. */
export function customResourceFunction(settings: StageSettings, fn: StageFunction): { definition: FunctionDefinition; fragment: Fragment } {
  return stageFunction(settings, {
    ...fn,
    statements: [...fn.statements, ownStackRecords],
    environment: { [stackIdVariable]: ref('AWS::StackId'), ...fn.environment },
  });
}

/** The osls function definition and its role, for one function of the stage. */
export function stageFunction(settings: StageSettings, fn: StageFunction): { definition: FunctionDefinition; fragment: Fragment } {
  const roleId = `${functionLogicalId(fn.name).replace(/LambdaFunction$/, '')}Role`;
  const logGroupArn = sub(
    `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/${functionName(settings, fn.name)}:*`,
  );
  const role: CfnResource = {
    Type: 'AWS::IAM::Role',
    Properties: {
      ...(fn.roleName !== undefined && { RoleName: fn.roleName }),
      ...stageRoleProperties(settings),
      Description: `Role of ${functionName(settings, fn.name)}: ${fn.description}`,
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
      },
      Policies: [
        {
          PolicyName: fn.name,
          PolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: logGroupArn },
              ...fn.statements,
            ],
          },
        },
      ],
    },
  };
  return {
    definition: {
      handler: fn.handler,
      description: fn.description,
      memorySize: fn.memorySize,
      timeout: fn.timeout,
      role: roleId,
      logRetentionInDays: settings.logRetentionDays,
      ...(fn.environment && { environment: fn.environment as FunctionDefinition['environment'] }),
    },
    fragment: { Resources: { [roleId]: role } },
  };
}
