// The failover's principals, as AWS decides (test/iam-evaluator.ts): the operator who runs
// `sls failover` (iam/failover-operator.json, bound to its stage by its `stage` tag) reads the
// checks and metrics, flips the gate and writes marker items only, never the tables' data; the
// latch function of the control stack (its role from the packaged template, under the stage's
// permissions boundary) flips the gate and no other health check.
import { describe, expect, it } from 'vitest';
import { readPolicy } from '../bootstrap/templates';
import type { TemplateNode } from '../plugins/lib/template-node';
import { settingsFor } from '../resources/stage';
import { decide } from './iam-evaluator';
import { readTemplate } from './package-stage';
import { resolveTemplate } from './resolve-template';
import { resource } from './template';

const account = settingsFor('prod').accountId;
const table = (stage: string, name = 'passes') => `arn:aws:dynamodb:ap-southeast-1:${account}:table/movement-pass-${stage}-${name}`;
const marker = { 'dynamodb:LeadingKeys': ['foundation-replication-marker#4f1c'] };
const applicant = { 'dynamodb:LeadingKeys': ['applicant-0042'] };

describe('the failover operator of prod, as AWS decides', () => {
  const policy = readPolicy('failover-operator.json');
  const rows: [string, string, Record<string, string | string[]>, boolean][] = [
    ['cloudformation:DescribeStacks', `arn:aws:cloudformation:us-east-1:${account}:stack/movement-pass-foundation-prod/1a2b`, {}, true],
    ['route53:GetHealthCheckStatus', 'arn:aws:route53:::healthcheck/hc-home', {}, true],
    ['route53:UpdateHealthCheck', 'arn:aws:route53:::healthcheck/hc-gate', {}, true],
    ['cloudwatch:GetMetricData', '*', {}, true],
    ['cloudwatch:DescribeAlarms', `arn:aws:cloudwatch:us-east-1:${account}:alarm:movement-pass-prod-failover-home-down`, {}, true],
    ['dynamodb:PutItem', table('prod'), marker, true],
    ['dynamodb:GetItem', table('prod', 'applicants'), marker, true],
    ['dynamodb:DeleteItem', table('prod'), marker, true],
    // Never the tables' own items, nor anything without a key, nor another stage's.
    ['dynamodb:GetItem', table('prod', 'applicants'), applicant, false],
    ['dynamodb:PutItem', table('prod'), applicant, false],
    ['dynamodb:DeleteItem', table('prod'), applicant, false],
    ['dynamodb:Scan', table('prod'), {}, false],
    ['dynamodb:Query', table('prod'), applicant, false],
    ['dynamodb:PutItem', table('prod-x'), marker, false],
    ['cloudformation:DescribeStacks', `arn:aws:cloudformation:us-east-1:${account}:stack/movement-pass-foundation-prod-x/1a2b`, {}, false],
    ['route53:ChangeResourceRecordSets', 'arn:aws:route53:::hostedzone/Z123', {}, false],
    ['route53:DeleteHealthCheck', 'arn:aws:route53:::healthcheck/hc-gate', {}, false],
  ];
  it.each(rows)('%s on %s (%j): allowed %s', async (action, resourceArn, context, allowed) => {
    const decision = await decide({
      principal: `arn:aws:sts::${account}:assumed-role/AWSReservedSSO_failover-operator_0123456789abcdef/operator@movement-pass.com`,
      identity: [policy],
      action,
      resource: resourceArn,
      resourceAccount: account,
      context: { 'aws:PrincipalTag/stage': 'prod', ...context },
    });
    expect(decision === 'Allowed', `${action} on ${resourceArn} was ${decision}`).toBe(allowed);
  });
});

describe("the failover latch's role, under prod's permissions boundary, as AWS decides", () => {
  const control = readTemplate('prod.us-east-1');
  const role = resource(control, 'FailoverLatchRole', 'AWS::IAM::Role').Properties;
  const identity = resolveTemplate(role.Policies[0].PolicyDocument as TemplateNode, {
    pseudo: { 'AWS::AccountId': account, 'AWS::Region': 'us-east-1' },
    refs: { FailoverGate: 'hc-gate' },
  }) as Record<string, unknown>;
  const decideFor = (action: string, resourceArn: string) =>
    decide({
      principal: `arn:aws:sts::${account}:assumed-role/movement-pass-prod-failover-latch/session`,
      identity: [identity],
      boundary: readPolicy('permissions-boundary.json'),
      action,
      resource: resourceArn,
      resourceAccount: account,
      context: { 'aws:PrincipalTag/stage': 'prod' },
    });

  it('closes the gate', async () => {
    expect(await decideFor('route53:UpdateHealthCheck', 'arn:aws:route53:::healthcheck/hc-gate')).toBe('Allowed');
    expect(await decideFor('route53:GetHealthCheck', 'arn:aws:route53:::healthcheck/hc-gate')).toBe('Allowed');
  });

  it('touches no other health check, record or table', async () => {
    for (const [action, resourceArn] of [
      ['route53:UpdateHealthCheck', 'arn:aws:route53:::healthcheck/hc-home'],
      ['route53:DeleteHealthCheck', 'arn:aws:route53:::healthcheck/hc-gate'],
      ['route53:ChangeResourceRecordSets', 'arn:aws:route53:::hostedzone/Z123'],
      ['dynamodb:PutItem', table('prod')],
    ]) {
      expect(await decideFor(action, resourceArn), `${action} on ${resourceArn}`).not.toBe('Allowed');
    }
  });
});
