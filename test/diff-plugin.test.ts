// plugins/diff.js against the deployed stack, through a stubbed osls provider: it reads the
// stack's template and never creates a change set, also for a stack that does not exist.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import Diff from '../plugins/diff';
import { dataLossChanges } from './data-loss-changes';
import { readServiceState, readTemplate, type Template, type TestedStack } from './package-stage';

function diffPlugin(deployed: Template | undefined, stack: TestedStack = 'prod') {
  const { custom } = readServiceState(stack);
  const region: string = custom.movementPassRegions.region;
  const request = vi.fn(async (_service: string, method: string, _params: unknown, _options?: { region?: string }) => {
    if (method !== 'getTemplate') throw new Error(`unexpected ${method}`);
    if (!deployed) throw new Error('Stack with id movement-pass-foundation-prod does not exist');
    return { TemplateBody: JSON.stringify(deployed) };
  });
  const serverless: any = {
    service: { custom, provider: { compiledCloudFormationTemplate: readTemplate(stack) } },
    getProvider: () => ({ request, naming: { getStackName: () => 'movement-pass-foundation-prod' }, getRegion: () => region }),
    classes: { Error },
    pluginManager: { spawn: vi.fn() },
  };
  const printed: string[] = [];
  const log = { notice: vi.fn(), warning: vi.fn() };
  const plugin = new Diff(serverless, { stage: 'prod' }, { log, writeText: (text: string) => printed.push(text) });
  return { plugin, request, printed, log, serverless };
}

describe('sls diff against the deployed stack', () => {
  it('reads the deployed template and shows a changed queue setting as an update', async () => {
    const deployed = structuredClone(readTemplate('prod'));
    deployed.Resources.PassesLoadQueue.Properties.VisibilityTimeout = 60;
    const { plugin, request, printed } = diffPlugin(deployed);

    await plugin.hooks['diff:diff']();

    expect(request.mock.calls.map(([service, method]) => `${service}.${method}`)).toEqual(['CloudFormation.getTemplate']);
    expect(printed.join('')).toMatch(/\[~\] AWS::SQS::Queue PassesLoadQueue/);
    expect(printed.join('')).not.toContain('!!!');
  });

  it('ignores what only packaging changes: the artifact keys', async () => {
    const deployed = structuredClone(readTemplate('prod'));
    deployed.Resources.KeyRingLambdaFunction.Properties.Code.S3Key =
      'serverless/movement-pass-foundation/prod/1700000000000-old/keyRing.zip';
    const { plugin, printed } = diffPlugin(deployed);

    await plugin.hooks['diff:diff']();

    expect(printed.join('')).toContain('There were no differences');
  });

  it('says a missing stack does not exist yet and lists every resource as added, without a change set', async () => {
    const { plugin, request, printed, log } = diffPlugin(undefined);

    await plugin.hooks['diff:diff']();

    expect(log.notice).toHaveBeenCalledWith(expect.stringContaining('does not exist yet'));
    expect(printed.join('')).toMatch(/\[\+\] AWS::DynamoDB::GlobalTable ApplicantsTable/);
    expect(request.mock.calls.map(([, method]) => method)).not.toContain('createChangeSet');
  });
});

describe('sls diff --against <file>, offline', () => {
  it('explains a file it cannot read, and one that is not a template, without asking AWS', async () => {
    const missing = diffPlugin(undefined);
    missing.plugin.options.against = '/nonexistent/template.json';
    const notTemplate = diffPlugin(undefined);
    notTemplate.plugin.options.against = __filename;

    await expect(missing.plugin.hooks['diff:diff']()).rejects.toThrow(
      'Cannot read the template to compare with (--against /nonexistent/template.json): ENOENT',
    );
    await expect(notTemplate.plugin.hooks['diff:diff']()).rejects.toThrow(`${__filename} is not a CloudFormation JSON template`);
    expect(missing.request).not.toHaveBeenCalled();
    expect(notTemplate.request).not.toHaveBeenCalled();
  });
});

describe('sls diff --fail, for a CI step that gates on it', () => {
  it('exits with an error when a deploy would change the stack, and passes when it would not', async () => {
    const changed = structuredClone(readTemplate('prod'));
    changed.Resources.PassesLoadQueue.Properties.VisibilityTimeout = 60;
    const differs = diffPlugin(changed);
    differs.plugin.options.fail = true;
    const same = diffPlugin(readTemplate('prod'));
    same.plugin.options.fail = true;

    await expect(differs.plugin.hooks['diff:diff']()).rejects.toThrow(
      /^--fail: a deploy would change movement-pass-foundation-prod in ap-south-1/,
    );
    expect(differs.printed.join('')).toMatch(/\[~\] AWS::SQS::Queue PassesLoadQueue/);
    await expect(same.plugin.hooks['diff:diff']()).resolves.toBeUndefined();
  });
});

describe('sls diff --stage prod --against <template> of a change that loses data in place', () => {
  it.each(dataLossChanges)('names %s as a loss, first', async (_, _id, change, says) => {
    const dir = mkdtempSync(join(tmpdir(), 'against-'));
    const against = join(dir, 'template.json');
    writeFileSync(against, JSON.stringify(readTemplate('prod')));
    const { plugin, request, printed, serverless } = diffPlugin(undefined);
    change(serverless.service.provider.compiledCloudFormationTemplate);
    plugin.options.against = against;

    await plugin.hooks['diff:diff']();

    const text = printed.join('');
    expect(text).toMatch(/^!!! Stateful resources at risk/);
    expect(text).toMatch(says);
    expect(request).not.toHaveBeenCalled();
  });
});

describe('sls diff --region <secondary>', () => {
  it("compares with the stack of that region, named so, and shows the regional stack's own resources", async () => {
    const deployed = structuredClone(readTemplate('prod.ap-southeast-1'));
    delete deployed.Resources.PassesTableReplica;
    const { plugin, request, printed, log } = diffPlugin(deployed, 'prod.ap-southeast-1');

    await plugin.hooks['diff:diff']();

    expect(request.mock.calls.map(([service, method, , options]) => [`${service}.${method}`, options?.region])).toEqual([
      ['CloudFormation.getTemplate', 'ap-southeast-1'],
    ]);
    expect(log.notice).toHaveBeenCalledWith(
      'Changes a deploy would make to the stack movement-pass-foundation-prod in ap-southeast-1 (secondary region of prod):',
    );
    expect(printed.join('')).toMatch(/\[\+\] Custom::TableReplica PassesTableReplica/);
    expect(printed.join('')).not.toMatch(/AWS::DynamoDB::/);
  });
});

describe('values the deploy resolved', () => {
  it('compares the certificate reference of the package with the literal ARN the deploy sent', async () => {
    const deployed = structuredClone(readTemplate('prod'));
    const certificate = deployed.Resources.PhotoDistribution.Properties.DistributionConfig.ViewerCertificate;
    expect(certificate.AcmCertificateArn).toMatch(/^\{\{resolve:ssm:/);
    certificate.AcmCertificateArn = 'arn:aws:acm:us-east-1:123456789012:certificate/abc';
    const { plugin, printed } = diffPlugin(deployed);

    await plugin.hooks['diff:diff']();

    expect(printed.join('')).toContain('There were no differences');
  });
});
