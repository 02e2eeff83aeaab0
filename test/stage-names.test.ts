// No name of one stage matches another stage's: names are `movement-pass-<stage>-<word>...` with
// a word no stage name may hold (resources/stage-validation.ts), the functions'
// `movement-pass-foundation-<stage>-<function>` are named whole in the policies, and SSM and IAM
// paths end in `/`. Checked on every name of the packaged templates, and with the evaluator for
// the sandbox `alice` against `alice-smith`.
import { describe, expect, it } from 'vitest';
import { readPolicy } from '../bootstrap/templates';
import { executionRoleName } from '../resources/deployment';
import { settingsFor } from '../resources/stage';
import { reservedStageWords, stageNameProblem } from '../resources/stage-validation';
import { decide } from './iam-evaluator';
import { readServiceState, readTemplate, testedStacks } from './package-stage';

describe('stage names', () => {
  it.each([
    ['alice-photos', /"photos" is a word of the names that follow a stage's/],
    ['foundation', /"foundation" is a word/],
    ['signing', /"signing" is a word/],
    ['bob-keys', /"keys" is a word/],
  ])('refuses %s, naming the reserved word', (stage, message) => {
    expect(stageNameProblem(stage)).toMatch(message);
    expect(() => settingsFor(stage)).toThrow(/Invalid stage name/);
  });

  it('accepts names with hyphens whose words are not reserved', () => {
    expect(stageNameProblem('alice-smith')).toBeUndefined();
    expect(settingsFor('alice-smith').stage).toBe('alice-smith');
  });
});

describe.each(Object.keys(testedStacks))('the names of the packaged stack %s', (stack) => {
  const stage = stack.split('.')[0];
  const text = JSON.stringify(readTemplate(stack));
  const functions = Object.keys(readServiceState(stack).functions);
  const policyText = JSON.stringify(readPolicy('execution-role.json'));

  it('follow the stage with a reserved word, or are a function the policies name whole', () => {
    const words = [...text.matchAll(new RegExp(`movement-pass-${stage}-([a-z0-9]+)`, 'g'))].map((match) => match[1]);
    expect(words.length).toBeGreaterThan(0);
    expect([...new Set(words)].filter((word) => !(reservedStageWords as readonly string[]).includes(word))).toEqual([]);
    // Not osls's export names (`sls-<stack>-<output>`), which are the stack's own, not a resource's.
    const named = [...text.matchAll(new RegExp(`(?<!sls-)movement-pass-foundation-${stage}-([A-Za-z0-9]+)`, 'g'))].map((match) => match[1]);
    expect([...new Set(named)].sort()).toEqual([...functions].sort());
    for (const fn of functions) expect(policyText).toContain(`function:movement-pass-foundation-\${aws:PrincipalTag/stage}-${fn}"`);
  });
});

describe("the sandbox alice's policies against the sandbox alice-smith", () => {
  const account = '444455556666';
  const session = (role: string) => `arn:aws:sts::${account}:assumed-role/${role}/session`;
  const context = { 'aws:PrincipalTag/stage': 'alice' };
  const everything = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] };
  const theirs: [string, string][] = [
    ['lambda:UpdateFunctionCode', `arn:aws:lambda:ap-south-1:${account}:function:movement-pass-foundation-alice-smith-keyRing`],
    ['dynamodb:DeleteTable', `arn:aws:dynamodb:ap-south-1:${account}:table/movement-pass-alice-smith-passes`],
    ['sqs:DeleteQueue', `arn:aws:sqs:ap-south-1:${account}:movement-pass-alice-smith-passes-load.fifo`],
    ['s3:PutBucketPolicy', `arn:aws:s3:::movement-pass-alice-smith-photos-${account}`],
    ['s3:DeleteObjectVersion', `arn:aws:s3:::movement-pass-alice-smith-photos-${account}/a.jpg`],
    ['ssm:PutParameter', `arn:aws:ssm:ap-south-1:${account}:parameter/movement-pass/alice-smith/jwks`],
    ['ssm:GetParameters', `arn:aws:ssm:ap-south-1:${account}:parameter/movement-pass-signing/alice-smith/jwtPrivateKey`],
    ['logs:DeleteLogGroup', `arn:aws:logs:ap-south-1:${account}:log-group:/aws/lambda/movement-pass-foundation-alice-smith-keyRing`],
    ['kms:DeleteAlias', `arn:aws:kms:ap-south-1:${account}:alias/movement-pass-alice-smith-signing-keys`],
    ['iam:PutRolePolicy', `arn:aws:iam::${account}:role/movement-pass/alice-smith/x`],
  ];

  it.each(theirs)("keeps alice's execution role from %s on %s", async (action, resource) => {
    const decision = await decide({
      principal: session(executionRoleName('alice')),
      identity: [readPolicy('execution-role.json')],
      action,
      resource,
      context,
    });
    expect(decision).not.toBe('Allowed');
  });

  it.each(theirs)('keeps a role of alice bounded by her boundary from %s on %s', async (action, resource) => {
    const decision = await decide({
      principal: session('movement-pass-alice-key-ring-ap-south-1'),
      identity: [everything],
      boundary: readPolicy('permissions-boundary.json'),
      action,
      resource,
      context,
    });
    expect(decision).not.toBe('Allowed');
  });
});
