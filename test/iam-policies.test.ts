// The bootstrap's policies (iam/) as AWS evaluates them, by an evaluator that implements AWS's
// evaluation logic (test/iam-evaluator.ts), not by matching strings: the execution role cannot
// make itself or anything else administrator, nor lift or change the boundary; a role carrying the
// boundary cannot reach another stage, whatever its own policy says.
import { describe, expect, it } from 'vitest';
import { readPolicy } from '../bootstrap/templates';
import { executionRoleName, permissionsBoundaryArn } from '../resources/deployment';
import { decide } from './iam-evaluator';

const account = '444455556666';
const stage = 'alice';
const executionRole = readPolicy('execution-role.json');
const boundary = readPolicy('permissions-boundary.json');
const boundaryArn = permissionsBoundaryArn({ accountId: account, stage });
const session = (role: string) => `arn:aws:sts::${account}:assumed-role/${role}/session`;
const stageTag = (value: string) => ({ 'aws:PrincipalTag/stage': value });
const role = (path: string) => `arn:aws:iam::${account}:role${path}`;

/** A request made by CloudFormation with alice's execution role. */
const asExecutionRole = (action: string, resource: string, context: Record<string, string | string[]> = {}) =>
  decide({
    principal: session(executionRoleName(stage)),
    identity: [executionRole],
    ...withKeyPolicy(action),
    action,
    resource,
    context: { ...stageTag(stage), ...context },
  });

/** AWS's default key policy: the account's IAM policies decide who uses and administers the key. */
const defaultKeyPolicy = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${account}:root` }, Action: 'kms:*', Resource: '*' }],
};
const withKeyPolicy = (action: string) => (action.startsWith('kms:') ? { resourcePolicy: defaultKeyPolicy } : {});

const everything = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] };
/** A role of alice's stacks whose own policy allows everything: only the boundary holds it. */
const asBoundedRole = (action: string, resource: string, context: Record<string, string | string[]> = {}) =>
  decide({
    principal: session('movement-pass-alice-key-ring-ap-south-1'),
    identity: [everything],
    boundary,
    ...withKeyPolicy(action),
    action,
    resource,
    context: { ...stageTag(stage), ...context },
  });

describe('the execution role (iam/execution-role.json)', () => {
  it('creates and changes the roles of its stage only with the stage boundary and tag', async () => {
    const own = role('/movement-pass/alice/movement-pass-alice-key-ring-ap-south-1');
    const withBoundary = { 'iam:PermissionsBoundary': boundaryArn, 'aws:RequestTag/stage': stage, 'aws:TagKeys': ['stage'] };
    expect(await asExecutionRole('iam:CreateRole', own, withBoundary)).toBe('Allowed');
    expect(await asExecutionRole('iam:PutRolePolicy', own, { 'iam:PermissionsBoundary': boundaryArn })).toBe('Allowed');
    expect(await asExecutionRole('iam:PassRole', own, { 'iam:PassedToService': 'lambda.amazonaws.com' })).toBe('Allowed');

    expect(await asExecutionRole('iam:CreateRole', own, { 'aws:RequestTag/stage': stage, 'aws:TagKeys': ['stage'] })).toBe(
      'ImplicitlyDenied',
    );
    const bobBoundary = permissionsBoundaryArn({ accountId: account, stage: 'bob' });
    expect(await asExecutionRole('iam:CreateRole', own, { ...withBoundary, 'iam:PermissionsBoundary': bobBoundary })).toBe(
      'ImplicitlyDenied',
    );
    expect(await asExecutionRole('iam:CreateRole', own, { ...withBoundary, 'aws:RequestTag/stage': 'prod' })).toBe('ImplicitlyDenied');
    expect(await asExecutionRole('iam:CreateRole', role('/movement-pass/prod/x'), withBoundary)).toBe('ImplicitlyDenied');
  });

  it('cannot attach AdministratorAccess or put an inline policy on a role without the boundary', async () => {
    const admin = 'arn:aws:iam::aws:policy/AdministratorAccess';
    for (const target of [
      role('/movement-pass/alice/x'),
      role('/Admin'),
      role(`/movement-pass-bootstrap/alice/${executionRoleName(stage)}`),
    ]) {
      expect(
        await asExecutionRole('iam:AttachRolePolicy', target, { 'iam:PolicyARN': admin, 'iam:PermissionsBoundary': boundaryArn }),
      ).not.toBe('Allowed');
      expect(await asExecutionRole('iam:AttachRolePolicy', target, { 'iam:PolicyARN': admin })).not.toBe('Allowed');
      expect(await asExecutionRole('iam:PutRolePolicy', target)).not.toBe('Allowed');
    }
    // Its own role carries no boundary, and the bootstrap's path is denied outright.
    expect(
      await asExecutionRole('iam:PutRolePolicy', role(`/movement-pass-bootstrap/alice/${executionRoleName(stage)}`), {
        'iam:PermissionsBoundary': boundaryArn,
      }),
    ).toBe('ExplicitlyDenied');
  });

  it('cannot remove a boundary, change the boundary policy or create service-linked roles', async () => {
    expect(
      await asExecutionRole('iam:DeleteRolePermissionsBoundary', role('/movement-pass/alice/x'), {
        'iam:PermissionsBoundary': boundaryArn,
      }),
    ).toBe('ExplicitlyDenied');
    for (const action of ['iam:CreatePolicyVersion', 'iam:SetDefaultPolicyVersion', 'iam:DeletePolicy']) {
      expect(await asExecutionRole(action, boundaryArn)).toBe('ExplicitlyDenied');
    }
    expect(
      await asExecutionRole('iam:PutRolePermissionsBoundary', role('/movement-pass/alice/x'), {
        'iam:PermissionsBoundary': `arn:aws:iam::${account}:policy/open`,
      }),
    ).toBe('ImplicitlyDenied');
    expect(
      await asExecutionRole(
        'iam:CreateServiceLinkedRole',
        role('/aws-service-role/replication.dynamodb.amazonaws.com/AWSServiceRoleForDynamoDBReplication'),
      ),
    ).toBe('ExplicitlyDenied');
  });

  it("passes its stage's roles only, and only to Lambda and S3", async () => {
    expect(await asExecutionRole('iam:PassRole', role('/movement-pass/prod/x'), { 'iam:PassedToService': 'lambda.amazonaws.com' })).toBe(
      'ImplicitlyDenied',
    );
    expect(await asExecutionRole('iam:PassRole', role('/movement-pass/alice/x'), { 'iam:PassedToService': 'ec2.amazonaws.com' })).toBe(
      'ImplicitlyDenied',
    );
  });

  it("acts on its own stage's resources, never on another stage's", async () => {
    const cases: [string, string, string][] = [
      [
        'ssm:PutParameter',
        `arn:aws:ssm:ap-south-1:${account}:parameter/movement-pass/alice/jwks`,
        `arn:aws:ssm:ap-south-1:${account}:parameter/movement-pass/prod/jwks`,
      ],
      [
        'dynamodb:DeleteTable',
        `arn:aws:dynamodb:ap-south-1:${account}:table/movement-pass-alice-passes`,
        `arn:aws:dynamodb:ap-south-1:${account}:table/movement-pass-prod-passes`,
      ],
      [
        'lambda:UpdateFunctionCode',
        `arn:aws:lambda:ap-south-1:${account}:function:movement-pass-foundation-alice-keyRing`,
        `arn:aws:lambda:ap-south-1:${account}:function:movement-pass-foundation-prod-keyRing`,
      ],
      [
        'lambda:InvokeFunction',
        `arn:aws:lambda:ap-south-1:${account}:function:movement-pass-foundation-alice-keyRing`,
        `arn:aws:lambda:ap-south-1:${account}:function:movement-pass-foundation-bob-keyRing`,
      ],
      ['s3:PutBucketPolicy', `arn:aws:s3:::movement-pass-alice-photos-${account}`, `arn:aws:s3:::movement-pass-prod-photos-${account}`],
      [
        's3:GetObject',
        `arn:aws:s3:::movement-pass-alice-deployments-aps1-${account}/a.zip`,
        `arn:aws:s3:::movement-pass-bob-deployments-aps1-${account}/a.zip`,
      ],
    ];
    for (const [action, own, other] of cases) {
      expect([action, await asExecutionRole(action, own)]).toEqual([action, 'Allowed']);
      expect([action, await asExecutionRole(action, other)]).toEqual([action, 'ImplicitlyDenied']);
    }
    const key = `arn:aws:kms:ap-south-1:${account}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
    expect(await asExecutionRole('kms:PutKeyPolicy', key, { 'aws:ResourceTag/stage': stage })).toBe('Allowed');
    expect(await asExecutionRole('kms:PutKeyPolicy', key, { 'aws:ResourceTag/stage': 'prod' })).toBe('ImplicitlyDenied');
    expect(await asExecutionRole('kms:CreateKey', '*', { 'aws:RequestTag/stage': stage, 'aws:TagKeys': ['stage'] })).toBe('Allowed');
    expect(await asExecutionRole('kms:CreateKey', '*', { 'aws:RequestTag/stage': 'prod', 'aws:TagKeys': ['stage'] })).toBe(
      'ImplicitlyDenied',
    );
  });

  it("makes each region's health hostname, never the records or domain of public-api itself", async () => {
    const names = (name: string) => ({ 'route53:ChangeResourceRecordSetsNormalizedRecordNames': [name] });
    const zone = 'arn:aws:route53:::hostedzone/Z123';
    expect(await asExecutionRole('route53:ChangeResourceRecordSets', zone, names('public-api-ap-south-1.movement-pass.com'))).toBe(
      'Allowed',
    );
    expect(await asExecutionRole('route53:ChangeResourceRecordSets', zone, names('public-api.movement-pass.com'))).not.toBe('Allowed');
    const domains = 'arn:aws:apigateway:ap-south-1::/domainnames';
    expect(await asExecutionRole('apigateway:POST', `${domains}/public-api-ap-south-1.movement-pass.com/basepathmappings`)).toBe('Allowed');
    expect(await asExecutionRole('apigateway:DELETE', `${domains}/public-api.movement-pass.com`)).not.toBe('Allowed');
    expect(await asExecutionRole('apigateway:PATCH', `${domains}/public-api.movement-pass.com/basepathmappings/foundation`)).not.toBe(
      'Allowed',
    );
  });

  it("reads and writes none of its own stage's data", async () => {
    const table = `arn:aws:dynamodb:ap-south-1:${account}:table/movement-pass-alice-passes`;
    for (const action of ['dynamodb:Scan', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem']) {
      expect([action, await asExecutionRole(action, table)]).toEqual([action, 'ImplicitlyDenied']);
    }
    expect(await asExecutionRole('s3:GetObject', `arn:aws:s3:::movement-pass-alice-photos-${account}/a.jpg`)).toBe('ExplicitlyDenied');
    for (const action of ['sqs:ReceiveMessage', 'sqs:PurgeQueue']) {
      expect([action, await asExecutionRole(action, `arn:aws:sqs:ap-south-1:${account}:movement-pass-alice-passes-load.fifo`)]).toEqual([
        action,
        'ImplicitlyDenied',
      ]);
    }
  });

  it('grants nothing to a session without the stage tag', async () => {
    const decision = await decide({
      principal: session(executionRoleName(stage)),
      identity: [executionRole],
      action: 'ssm:PutParameter',
      resource: `arn:aws:ssm:ap-south-1:${account}:parameter/movement-pass/alice/jwks`,
    });
    expect(decision).toBe('ImplicitlyDenied');
  });
});

describe('the permissions boundary (iam/permissions-boundary.json)', () => {
  it("lets a role of the stage do its work on the stage's own resources", async () => {
    expect(await asBoundedRole('ssm:PutParameter', `arn:aws:ssm:ap-south-1:${account}:parameter/movement-pass-keys/alice/jwt`)).toBe(
      'Allowed',
    );
    expect(await asBoundedRole('s3:DeleteObjectVersion', `arn:aws:s3:::movement-pass-alice-photos-${account}/a.jpg`)).toBe('Allowed');
    expect(
      await asBoundedRole('kms:Decrypt', `arn:aws:kms:ap-south-1:${account}:key/1234abcd-12ab-34cd-56ef-1234567890ab`, {
        'kms:ViaService': 'ssm.ap-south-1.amazonaws.com',
      }),
    ).toBe('Allowed');
  });

  it('holds a role whose own policy allows everything away from other stages, IAM and the account', async () => {
    const denied: [string, string, Record<string, string>?][] = [
      ['ssm:PutParameter', `arn:aws:ssm:ap-south-1:${account}:parameter/movement-pass/prod/jwks`],
      ['ssm:GetParameters', `arn:aws:ssm:ap-south-1:${account}:parameter/movement-pass-signing/prod/jwtPrivateKey`],
      ['ssm:PutParameter', `arn:aws:ssm:ap-south-1:${account}:parameter/movement-pass/alice-smith/jwks`],
      ['s3:DeleteObjectVersion', `arn:aws:s3:::movement-pass-prod-photos-${account}/a.jpg`],
      ['s3:PutBucketPolicy', `arn:aws:s3:::movement-pass-bob-photos-${account}`],
      ['dynamodb:Scan', `arn:aws:dynamodb:ap-south-1:${account}:table/movement-pass-alice-passes`],
      ['dynamodb:DescribeTable', `arn:aws:dynamodb:ap-south-1:${account}:table/movement-pass-prod-passes`],
      ['lambda:UpdateFunctionCode', `arn:aws:lambda:ap-south-1:${account}:function:movement-pass-foundation-prod-keyRing`],
      ['iam:CreateRole', role('/movement-pass/alice/x')],
      ['iam:AttachRolePolicy', role('/movement-pass/alice/x')],
      ['sts:AssumeRole', role('/Admin')],
      // Keys are used through SSM only (each stage key's policy names the roles and parameters itself).
      [
        'kms:Decrypt',
        `arn:aws:kms:ap-south-1:${account}:key/1234abcd-12ab-34cd-56ef-1234567890ab`,
        { 'kms:ViaService': 'lambda.ap-south-1.amazonaws.com' },
      ],
    ];
    for (const [action, resource, context] of denied) {
      expect([action, resource, await asBoundedRole(action, resource, context)]).toEqual([action, resource, 'ImplicitlyDenied']);
    }
  });
});
