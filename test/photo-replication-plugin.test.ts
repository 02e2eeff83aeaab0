// plugins/photo-replication.js as osls loads it (the real plugin manager and AWS provider, the
// plugin list and settings of the packaged serverless.ts), its AWS calls through a stubbed
// provider.request: a deploy whose replication rule has no versioned destination stops before
// anything is written, with the command that deploys the regions in order.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type PhotoReplication from '../plugins/photo-replication';
import { answerTimeoutMs } from '../plugins/photo-replication';
import { initServerless } from './in-process';
import { readTemplate, type TestedStack } from './package-stage';

const account = '123456789012';

/** How osls's request fails when AWS answers an error (lib/aws/request.js). */
const awsError = (code: string, message: string) =>
  Object.assign(new Error(message), { code: `AWS_S3_GET_BUCKET_VERSIONING_${code.toUpperCase()}`, providerError: { code } });

async function loadPlugin(stack: TestedStack, versioning: () => Promise<unknown>, template = readTemplate(stack)) {
  const serverless = await initServerless(stack, 'deploy');
  // What osls's own before:deploy:deploy restored from the package.
  serverless.service.provider.compiledCloudFormationTemplate = template;
  const provider = serverless.getProvider('aws');
  const request = vi.fn(async (service: string, method: string, _params: unknown, _options?: unknown) => {
    if (service === 'STS' && method === 'getCallerIdentity') return { Account: account, Arn: `arn:aws:iam::${account}:user/deployer` };
    if (service === 'S3' && method === 'getBucketVersioning') return versioning();
    throw new Error(`unexpected ${service}.${method}`);
  });
  provider.request = request;
  const found = serverless.pluginManager.plugins.find((loaded) => loaded.constructor.name === 'PhotoReplication');
  expect(found, 'PhotoReplication loaded from the plugins list').toBeDefined();
  const plugin = found as PhotoReplication;
  const warnings: string[] = [];
  plugin.log = { notice: () => undefined, info: () => undefined, warning: (text: string) => warnings.push(text) };
  return { check: () => plugin.hooks['before:deploy:deploy'](), request, warnings };
}

describe('photo replication check on sls deploy', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('lets the home deploy through when the secondary bucket exists and is versioned', async () => {
    const { check, request } = await loadPlugin('prod', async () => ({ Status: 'Enabled' }));

    await check();

    expect(request.mock.calls).toEqual([
      ['STS', 'getCallerIdentity', {}],
      [
        'S3',
        'getBucketVersioning',
        { Bucket: `movement-pass-prod-photos-apse1-${account}`, ExpectedBucketOwner: account },
        { region: 'ap-southeast-1' },
      ],
    ]);
  });

  it('stops a home deploy whose secondary bucket does not exist yet, with the one command and the three steps', async () => {
    const { check } = await loadPlugin('bob', () => Promise.reject(awsError('NoSuchBucket', 'The specified bucket does not exist')));

    const error = await check().then(
      () => undefined,
      (failure: Error) => failure,
    );

    expect(error?.message).toContain(
      `The home photo bucket's replication rule needs the photo bucket movement-pass-bob-photos-apse1-${account} in ap-southeast-1, ` +
        'which does not exist yet (the stack of ap-southeast-1 creates it). Nothing was deployed.',
    );
    expect(error?.message).toContain(
      'Deploy every region in order with one command: npm run deploy:regions -- --stage bob --param=secondary-region=ap-southeast-1\n',
    );
    expect(error?.message).toContain(
      'npx sls deploy --stage bob --param=secondary-region=ap-southeast-1 --param=photo-replication=off; ' +
        'npx sls deploy --stage bob --param=secondary-region=ap-southeast-1 --region ap-southeast-1; ' +
        'npx sls deploy --stage bob --param=secondary-region=ap-southeast-1.',
    );
    // osls's own error class: printed as a user error, not a crash.
    expect(error?.constructor.name).toBe('ServerlessError');
  });

  it('stops a home deploy whose secondary bucket is not versioned', async () => {
    const { check } = await loadPlugin('prod', async () => ({ Status: 'Suspended' }));

    await expect(check()).rejects.toThrow(/movement-pass-prod-photos-apse1-123456789012 in ap-southeast-1, which is not versioned/);
  });

  it('stops a secondary deploy whose home bucket does not exist: home first', async () => {
    const { check, request } = await loadPlugin('prod.ap-southeast-1', () =>
      Promise.reject(awsError('NoSuchBucket', 'The specified bucket does not exist')),
    );

    await expect(check()).rejects.toThrow(
      `The photo bucket of ap-southeast-1 replicates to the home bucket movement-pass-prod-photos-aps1-${account} in ap-south-1, which does not exist yet`,
    );
    await expect(check()).rejects.toThrow(
      'Deploy home first; one command deploys every region in order: npm run deploy:regions -- --stage prod',
    );
    expect(request.mock.calls[1]).toEqual([
      'S3',
      'getBucketVersioning',
      { Bucket: `movement-pass-prod-photos-aps1-${account}`, ExpectedBucketOwner: account },
      { region: 'ap-south-1' },
    ]);
  });

  it('says what the deployer lacks when S3 refuses the question', async () => {
    const { check } = await loadPlugin('prod', () => Promise.reject(awsError('AccessDenied', 'Access Denied')));

    await expect(check()).rejects.toThrow(
      /Could not check the photo bucket movement-pass-prod-photos-apse1-123456789012 in ap-southeast-1.*\(AccessDenied: Access Denied\)\. Nothing was deployed\. The deployer needs s3:GetBucketVersioning.* If it has, the bucket belongs to another account/,
    );
  });

  it("goes on with a warning when the other region's S3 does not answer (that region is down)", async () => {
    const unreachable = Object.assign(new Error('Inaccessible host: `s3.ap-south-1.amazonaws.com`'), {
      code: 'AWS_S3_GET_BUCKET_VERSIONING_UNKNOWN_ENDPOINT',
      providerError: { code: 'UnknownEndpoint', retryable: true },
    });
    const { check, warnings } = await loadPlugin('prod.ap-southeast-1', () => Promise.reject(unreachable));

    await check();

    expect(warnings).toEqual([
      expect.stringMatching(
        /^S3 in ap-south-1 did not answer whether the photo bucket movement-pass-prod-photos-aps1-123456789012 is ready \(UnknownEndpoint: .*Deploying anyway/,
      ),
    ]);
  });

  it('goes on with a warning, within 10 s, when the other region accepts the connection and never answers', async () => {
    vi.useFakeTimers();
    try {
      const { check, warnings } = await loadPlugin('prod.ap-southeast-1', () => new Promise(() => undefined));
      const checked = check();
      await vi.advanceTimersByTimeAsync(answerTimeoutMs);
      await checked;
      expect(warnings).toEqual([
        expect.stringMatching(/^S3 in ap-south-1 did not answer .*\(TimeoutError: no answer in 10 s\)\. Deploying anyway/),
      ]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('goes on with a warning when S3 answers a server error', async () => {
    const { check, warnings } = await loadPlugin('prod', () =>
      Promise.reject(Object.assign(new Error('Service Unavailable'), { providerError: { code: 'ServiceUnavailable', statusCode: 503 } })),
    );

    await check();

    expect(warnings).toHaveLength(1);
  });

  it('asks nothing of AWS for a home template without the rule (--param=photo-replication=off), and warns', async () => {
    const template = structuredClone(readTemplate('prod'));
    delete template.Resources.PhotoBucket.Properties.ReplicationConfiguration;
    const { check, request, warnings } = await loadPlugin('prod', async () => ({ Status: 'Enabled' }), template);

    await check();

    expect(request).not.toHaveBeenCalled();
    expect(warnings).toEqual([
      expect.stringMatching(/^The home photo bucket is deployed without its replication rule .* not copied to ap-southeast-1/),
    ]);
  });

  it('asks nothing of AWS for a stage in one region', async () => {
    const { check, request, warnings } = await loadPlugin('alice', async () => ({ Status: 'Enabled' }));

    await check();

    expect(request).not.toHaveBeenCalled();
    expect(warnings).toEqual([]);
  });

  it('refuses a template that replicates to a bucket the stage does not know', async () => {
    const template = structuredClone(readTemplate('prod'));
    template.Resources.PhotoBucket.Properties.ReplicationConfiguration.Rules[0].Destination.Bucket = {
      'Fn::Sub': 'arn:${AWS::Partition}:s3:::someone-elses-bucket',
    };
    const { check } = await loadPlugin('prod', async () => ({ Status: 'Enabled' }), template);

    await expect(check()).rejects.toThrow(/replicates photos to someone-elses-bucket, which is none of stage "prod"'s photo buckets/);
  });
});
