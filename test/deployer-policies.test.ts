// Which deployer may do what, on which stage, as AWS decides it (test/iam-evaluator.ts), in one
// table: every call a deploy makes with the deployer's own credentials is allowed to the deployer
// that makes it on its own stage; IAM writes, other roles, custom-resource invocations and other
// stages' code are denied to both; the sandbox deployer alice reaches nothing of prod, bob or
// alice-smith. The principal's `stage` tag (an IAM Identity Center attribute, or the CI role's tag)
// binds each to its stage. Then the signing key: only the key ring and each signer for its own key decrypt.
import { describe, expect, it } from 'vitest';
import { readPolicy } from '../bootstrap/templates';
import type { TemplateNode } from '../plugins/lib/template-node';
import { executionRoleArn } from '../resources/deployment';
import { keyRingRoleArn } from '../resources/key-ring';
import { settingsFor } from '../resources/stage';
import { stageKeyPolicy } from '../resources/stage-key';
import { type Decision, decide } from './iam-evaluator';
import { resolveTemplate } from './resolve-template';

const sandboxAccount = settingsFor('alice').accountId;
const prodAccount = settingsFor('prod').accountId;
const region = 'ap-south-1';

interface Deployer {
  name: string;
  policy: Record<string, unknown>;
  stage: string;
  account: string;
}
const alice: Deployer = {
  name: 'sandbox deployer alice',
  policy: readPolicy('sandbox-deployer.json'),
  stage: 'alice',
  account: sandboxAccount,
};
const release: Deployer = {
  name: 'shared-stage deployer of prod',
  policy: readPolicy('shared-stage-deployer.json'),
  stage: 'prod',
  account: prodAccount,
};

/** The names of a stage, in an account. */
const of = (stage: string, account: string) => ({
  stack: `arn:aws:cloudformation:${region}:${account}:stack/movement-pass-foundation-${stage}/1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d`,
  executionRole: executionRoleArn({ stage, accountId: account }),
  deployments: `arn:aws:s3:::movement-pass-${stage}-deployments-aps1-${account}`,
  photos: `arn:aws:s3:::movement-pass-${stage}-photos-${account}`,
  contract: `arn:aws:ssm:${region}:${account}:parameter/movement-pass/${stage}`,
  table: `arn:aws:dynamodb:${region}:${account}:table/movement-pass-${stage}-passes`,
  queue: `arn:aws:sqs:${region}:${account}:movement-pass-${stage}-passes-load.fifo`,
  keyRing: `arn:aws:lambda:${region}:${account}:function:movement-pass-foundation-${stage}-keyRing`,
  key: `arn:aws:kms:${region}:${account}:key/1234abcd-12ab-34cd-56ef-1234567890ab`,
  distribution: `arn:aws:cloudfront::${account}:distribution/E2EXAMPLE123`,
  role: `arn:aws:iam::${account}:role/movement-pass/${stage}/movement-pass-${stage}-key-ring-${region}`,
});

/** AWS's default key policy: the account's IAM policies decide. */
const keyPolicyOf = (account: string) => ({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${account}:root` }, Action: 'kms:*', Resource: '*' }],
});

type Row = [who: Deployer, action: string, resource: string, context: Record<string, string | string[]>, expected: Decision | 'Denied'];

function rowsFor(deployer: Deployer): Row[] {
  const own = of(deployer.stage, deployer.account);
  const withRole = { 'cloudformation:RoleArn': own.executionRole };
  const allowed = (action: string, resource: string, context: Record<string, string | string[]> = {}): Row => [
    deployer,
    action,
    resource,
    context,
    'Allowed',
  ];
  const denied = (action: string, resource: string, context: Record<string, string | string[]> = {}): Row => [
    deployer,
    action,
    resource,
    context,
    'Denied',
  ];
  const sandbox = deployer === alice;
  return [
    // What every deploy, info, diff, remove and verify of its own stage calls with its own credentials.
    allowed('sts:GetCallerIdentity', '*'),
    allowed('cloudformation:ValidateTemplate', '*'),
    ...['DescribeStacks', 'DescribeStackEvents', 'DescribeStackResource', 'ListStackResources', 'GetTemplate', 'GetStackPolicy'].map(
      (action) => allowed(`cloudformation:${action}`, own.stack),
    ),
    ...['DescribeChangeSet', 'ExecuteChangeSet', 'DeleteChangeSet'].map((action) => allowed(`cloudformation:${action}`, own.stack)),
    allowed('cloudformation:CreateChangeSet', own.stack, withRole),
    allowed('cloudformation:DeleteStack', own.stack, withRole),
    allowed('iam:PassRole', own.executionRole, { 'iam:PassedToService': 'cloudformation.amazonaws.com' }),
    ...['ListBucket', 'ListBucketVersions'].map((action) => allowed(`s3:${action}`, own.deployments)),
    ...['PutObject', 'GetObject', 'DeleteObject', 'DeleteObjectVersion'].map((action) =>
      allowed(`s3:${action}`, `${own.deployments}/serverless/a.zip`),
    ),
    allowed('ssm:GetParametersByPath', own.contract),
    allowed('ssm:GetParameters', `${own.contract}/jwks`),
    allowed('s3:GetBucketVersioning', own.photos),
    allowed('s3:ListBucket', own.photos),
    allowed('dynamodb:DescribeTable', own.table),
    allowed('logs:DescribeLogGroups', '*'),
    ...(sandbox
      ? [
          allowed('lambda:GetFunction', own.keyRing),
          allowed('lambda:UpdateFunctionCode', own.keyRing),
          allowed('sqs:ReceiveMessage', own.queue),
          allowed('sqs:SendMessage', own.queue),
          allowed('s3:PutObject', `${own.photos}/sls-verify/probe.jpg`),
        ]
      : [
          allowed('route53:ListHostedZonesByName', '*'),
          allowed('route53:ChangeResourceRecordSets', 'arn:aws:route53:::hostedzone/Z123', {
            'route53:ChangeResourceRecordSetsNormalizedRecordNames': ['public-api.movement-pass.com'],
          }),
          allowed('acm:RequestCertificate', '*', { 'aws:RequestedRegion': 'us-east-1' }),
          allowed('ssm:PutParameter', `${own.contract}/serverCertificateArn`),
          allowed('apigateway:POST', 'arn:aws:apigateway:ap-south-1::/domainnames'),
          denied('lambda:UpdateFunctionCode', own.keyRing),
        ]),
    // Never, for either, on its own stage.
    denied('iam:AttachRolePolicy', own.role, { 'iam:PolicyARN': 'arn:aws:iam::aws:policy/AdministratorAccess' }),
    denied('iam:PutRolePolicy', own.role),
    denied('iam:CreateRole', `arn:aws:iam::${deployer.account}:role/movement-pass/${deployer.stage}/x`),
    denied('iam:PassRole', own.role, { 'iam:PassedToService': 'lambda.amazonaws.com' }),
    denied('iam:PassRole', of('bob', deployer.account).executionRole, { 'iam:PassedToService': 'cloudformation.amazonaws.com' }),
    denied('cloudformation:CreateChangeSet', own.stack),
    denied('cloudformation:CreateChangeSet', own.stack, { 'cloudformation:RoleArn': `arn:aws:iam::${deployer.account}:role/Admin` }),
    denied('lambda:InvokeFunction', own.keyRing),
    denied('lambda:UpdateFunctionCode', of(sandbox ? 'bob' : 'alice', deployer.account).keyRing),
    denied('ssm:PutParameter', `${own.contract}/jwks`),
    denied('cloudformation:UpdateTerminationProtection', own.stack),
    denied('cloudformation:SetStackPolicy', own.stack),
    denied('kms:PutKeyPolicy', own.key, { 'aws:ResourceTag/stage': deployer.stage }),
  ];
}

/** What the sandbox deployer alice may never do to another stage, in her own account. */
function othersRows(): Row[] {
  return ['prod', 'bob', 'alice-smith'].flatMap((stage): Row[] => {
    const theirs = of(stage, sandboxAccount);
    const row = (action: string, resource: string, context: Record<string, string | string[]> = {}): Row => [
      alice,
      action,
      resource,
      context,
      'Denied',
    ];
    return [
      row('dynamodb:Scan', theirs.table),
      row('dynamodb:PutItem', theirs.table),
      row('s3:DeleteObjectVersion', `${theirs.photos}/a.jpg`),
      row('s3:PutBucketPolicy', theirs.photos),
      row('ssm:PutParameter', `${theirs.contract}/jwks`),
      row('ssm:PutParameter', `${theirs.contract}/serverCertificateArn`),
      row('kms:PutKeyPolicy', theirs.key, { 'aws:ResourceTag/stage': stage }),
      row('cloudformation:DeleteStack', theirs.stack, { 'cloudformation:RoleArn': theirs.executionRole }),
      row('cloudformation:CreateChangeSet', theirs.stack, { 'cloudformation:RoleArn': theirs.executionRole }),
      row('cloudformation:UpdateTerminationProtection', theirs.stack),
      row('cloudfront:UpdateDistribution', theirs.distribution, { 'aws:ResourceTag/stage': stage }),
      row('sqs:ReceiveMessage', theirs.queue),
      row('lambda:UpdateFunctionCode', theirs.keyRing),
      row('s3:PutObject', `${theirs.deployments}/serverless/a.zip`),
      row('iam:PassRole', theirs.executionRole, { 'iam:PassedToService': 'cloudformation.amazonaws.com' }),
    ];
  });
}

const table: Row[] = [...rowsFor(alice), ...rowsFor(release), ...othersRows()];

describe('the deployers, as AWS decides', () => {
  it.each(table.map((row) => [row[0].name, row[1], row[2], row[4], row] as const))(
    '%s: %s on %s is %s',
    async (_, action, resource, expected, row) => {
      const [who, , , context] = row;
      const decision = await decide({
        principal: `arn:aws:sts::${who.account}:assumed-role/AWSReservedSSO_deployer_0123456789abcdef/${who.stage}@movement-pass.com`,
        identity: [who.policy],
        action,
        resource,
        resourceAccount: resource.split(':')[4] || who.account,
        ...(action.startsWith('kms:') && { resourcePolicy: keyPolicyOf(resource.split(':')[4]) }),
        context: { 'aws:PrincipalTag/stage': who.stage, ...context },
      });
      expect(
        expected === 'Denied' ? decision !== 'Allowed' : decision === expected,
        `${who.name}: ${action} on ${resource} was ${decision}`,
      ).toBe(true);
    },
  );
});

describe("prod's signing key", () => {
  const settings = settingsFor('prod');
  const login = `arn:aws:iam::${prodAccount}:role/services/movement-pass-prod-login`;
  const photo = `arn:aws:iam::${prodAccount}:role/services/movement-pass-prod-photos`;
  settings.signers = { jwt: [login], photoUrl: [photo] };
  const resolve = (value: TemplateNode) => resolveTemplate(value, { pseudo: { 'AWS::AccountId': prodAccount, 'AWS::Region': region } });
  // The evaluator does not take KMS's encryption-context keys (`kms:EncryptionContext:<key>`) into a
  // request; the same condition is evaluated under a key it does take, in the policy and the request alike.
  const contextKey = 'kms:EncryptionContext:PARAMETER_ARN';
  const standIn = 'aws:ResourceTag/parameter-arn';
  const keyPolicy = JSON.parse(JSON.stringify(resolve(stageKeyPolicy(settings) as TemplateNode)).replaceAll(contextKey, standIn));
  const parameter = (name: string) => `arn:aws:ssm:${region}:${prodAccount}:parameter/movement-pass-signing/prod/${name}`;
  const keyRing = String(resolve(keyRingRoleArn(settings) as TemplateNode));
  const anyRole = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kms:*', Resource: '*' }] };
  const principals = {
    'the key ring': keyRing,
    'the login service': login,
    'the photo service': photo,
    'the shared-stage deployer': `arn:aws:iam::${prodAccount}:role/movement-pass-release`,
  };
  const decrypts = {
    jwtPrivateKey: ['the key ring', 'the login service'],
    jwtSecret: ['the key ring', 'the login service'],
    photoUrlPrivateKey: ['the key ring', 'the photo service'],
  };

  it.each(Object.entries(decrypts))('%s is decrypted by %s only', async (name, expected) => {
    const allowed: string[] = [];
    for (const [who, roleArn] of Object.entries(principals)) {
      const [, , , , , role] = roleArn.split(':');
      const decision = await decide({
        principal: `arn:aws:sts::${prodAccount}:assumed-role/${role.split('/').at(-1)}/session`,
        identity: [anyRole],
        resourcePolicy: keyPolicy,
        action: 'kms:Decrypt',
        resource: `arn:aws:kms:${region}:${prodAccount}:key/1234abcd-12ab-34cd-56ef-1234567890ab`,
        context: {
          'aws:PrincipalArn': roleArn,
          'kms:CallerAccount': prodAccount,
          'kms:ViaService': `ssm.${region}.amazonaws.com`,
          [standIn]: parameter(name),
        },
      });
      if (decision === 'Allowed') allowed.push(who);
    }
    expect(allowed).toEqual(expected);
  });
});
