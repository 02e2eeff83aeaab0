// The access-log bucket's policy as AWS evaluates it (test/iam-evaluator.ts), on prod's packaged
// template: CloudWatch Logs' delivery writes the logs; no one else writes or deletes one, not even
// an account administrator; reading them stays possible. The lifecycle rule, no principal, expires them.
import { describe, expect, it } from 'vitest';
import type { TemplateNode } from '../plugins/lib/template-node';
import { settingsFor } from '../resources/stage';
import { decide } from './iam-evaluator';
import { readTemplate } from './package-stage';
import { resolveTemplate } from './resolve-template';
import { resource } from './template';

const account = settingsFor('prod').accountId;
const bucket = `movement-pass-prod-access-logs-aps1-${account}`;
const template = readTemplate('prod');
const policy = resolveTemplate(resource(template, 'AccessLogBucketPolicy').Properties.PolicyDocument as TemplateNode, {
  pseudo: { 'AWS::AccountId': account, 'AWS::Region': 'ap-south-1' },
  refs: { AccessLogBucket: bucket },
  attributes: { 'AccessLogBucket.Arn': `arn:aws:s3:::${bucket}` },
}) as Record<string, unknown>;
const log = `arn:aws:s3:::${bucket}/cloudfront/E2EXAMPLE123/2026/12/07/a.log.gz`;
const administrator = {
  principal: `arn:aws:sts::${account}:assumed-role/AWSReservedSSO_AdministratorAccess_0123456789abcdef/admin`,
  identity: [{ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] }],
};
const overTls = { 'aws:SecureTransport': 'true' };

describe("prod's access-log bucket policy", () => {
  it('lets CloudWatch Logs delivery of this account write the logs', async () => {
    const decision = await decide({
      principal: 'delivery.logs.amazonaws.com',
      identity: [],
      resourcePolicy: policy,
      action: 's3:PutObject',
      resource: log,
      context: {
        ...overTls,
        'aws:PrincipalServiceName': 'delivery.logs.amazonaws.com',
        'aws:SourceAccount': account,
        'aws:SourceArn': `arn:aws:logs:us-east-1:${account}:delivery-source:movement-pass-prod-photo-access-logs`,
        's3:x-amz-acl': 'bucket-owner-full-control',
      },
    });
    expect(decision).toBe('Allowed');
  });

  it.each(['s3:PutObject', 's3:DeleteObject', 's3:DeleteObjectVersion'])(
    'denies %s of a log to an account administrator',
    async (action) => {
      const decision = await decide({ ...administrator, resourcePolicy: policy, action, resource: log, context: overTls });
      expect(decision).toBe('ExplicitlyDenied');
    },
  );

  it('still lets the administrator read the logs', async () => {
    expect(await decide({ ...administrator, resourcePolicy: policy, action: 's3:GetObject', resource: log, context: overTls })).toBe(
      'Allowed',
    );
  });

  it('keeps an overwritten version as long as the logs', () => {
    const [rule] = resource(template, 'AccessLogBucket').Properties.LifecycleConfiguration.Rules;
    expect(rule.NoncurrentVersionExpiration.NoncurrentDays).toBe(rule.ExpirationInDays);
  });
});
