// The deployed artifact itself: the key ring zip that `sls package` built, run by Node with the
// real AWS SDK against a local SSM endpoint, answering a local CloudFormation response server.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { offlineEnv, packageRoot } from '../package-stage';
import { MemoryParameterStore, makeEvent, startResponseServer, startSsmEndpoint } from './support';

const bundleDir = join(packageRoot, 'bundles', 'keyRing');

function runBundle(
  event: unknown,
  endpoints: Record<string, string> | string,
  entry = join(bundleDir, 'handlers/key-ring/index.js'),
): Promise<{ code: number | null; output: string }> {
  const script =
    'require(process.argv[1]).handler(JSON.parse(process.argv[2]), { getRemainingTimeInMillis: () => 60000 })' +
    '.then(() => process.exit(0), (error) => { console.error(error); process.exit(1); })';
  const endpointEnv = typeof endpoints === 'string' ? { AWS_ENDPOINT_URL_SSM: endpoints } : endpoints;
  const child = spawn(process.execPath, ['-e', script, entry, JSON.stringify(event)], {
    env: {
      ...offlineEnv(),
      AWS_REGION: 'ap-south-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      ...endpointEnv,
    },
  });
  let output = '';
  child.stdout.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr.on('data', (chunk) => {
    output += chunk;
  });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, output })));
}

describe('the packaged key ring bundle', () => {
  const store = new MemoryParameterStore();
  let ssm: Awaited<ReturnType<typeof startSsmEndpoint>>;
  let cloudFormation: Awaited<ReturnType<typeof startResponseServer>>;

  beforeAll(async () => {
    rmSync(bundleDir, { recursive: true, force: true });
    mkdirSync(bundleDir, { recursive: true });
    // Unpacked inside the project, so its external `@aws-sdk/*` resolves as the Lambda runtime's would.
    execFileSync('unzip', ['-q', join(packageRoot, 'alice', 'keyRing.zip'), '-d', bundleDir]);
    ssm = await startSsmEndpoint(store);
    cloudFormation = await startResponseServer();
  });
  afterAll(async () => {
    await ssm.close();
    await cloudFormation.close();
  });

  it('creates the JWT keys through SSM and answers CloudFormation, logging no secret', async () => {
    const properties = {
      Algorithm: 'RS256',
      Rotation: '0',
      KeyStoreParameter: '/movement-pass-keys/alice/jwt',
      PrivateKeyParameter: '/movement-pass/alice/jwtPrivateKey',
      PublicKeysParameter: '/movement-pass/alice/jwks',
      PublicKeyParameter: '/movement-pass/alice/jwtPublicKey',
      KeyIdParameter: '/movement-pass/alice/jwtKeyId',
    };

    const { code, output } = await runBundle(
      makeEvent({ RequestType: 'Create', ResourceProperties: properties, ResponseURL: cloudFormation.url }),
      ssm.url,
    );

    expect(code, output).toBe(0);
    expect(cloudFormation.received.map((r) => r.body)).toEqual([
      expect.objectContaining({ Status: 'SUCCESS', PhysicalResourceId: '/movement-pass-keys/alice/jwt' }),
    ]);
    expect(store.latest('/movement-pass/alice/jwtPrivateKey')?.type).toBe('SecureString');
    expect(cloudFormation.received[0].body.Data.KeyId).toBe(store.latest('/movement-pass/alice/jwtKeyId')?.value);
    expect(ssm.operations).toEqual(expect.arrayContaining(['GetParameters', 'PutParameter', 'LabelParameterVersion']));
    expect(output).not.toContain('PRIVATE KEY');
    expect(output).toContain('"answered CloudFormation"');
  });
});

/** A local CloudWatch Logs endpoint (AWS JSON 1.1): records each operation and answers as the service would. */
async function startLogsEndpoint() {
  const calls: { operation: string; input: Record<string, unknown> }[] = [];
  const answers: Partial<Record<string, (input: Record<string, unknown>) => unknown>> = {
    PutDeliverySource: (input) => ({ deliverySource: { name: input.name } }),
    PutDeliveryDestination: (input) => ({
      deliveryDestination: { name: input.name, arn: `arn:aws:logs:us-east-1:123456789012:delivery-destination:${input.name}` },
    }),
    DescribeDeliveries: () => ({ deliveries: [] }),
    CreateDelivery: () => ({ delivery: { id: 'delivery-from-local-endpoint' } }),
  };
  const server = createServer((request, response) => {
    let text = '';
    request.on('data', (chunk) => {
      text += chunk;
    });
    request.on('end', () => {
      const operation = String(request.headers['x-amz-target'] ?? '').replace('Logs_20140328.', '');
      const input = JSON.parse(text || '{}');
      calls.push({ operation, input });
      const answer = answers[operation];
      response
        .writeHead(answer ? 200 : 400, { 'content-type': 'application/x-amz-json-1.1' })
        .end(JSON.stringify(answer ? answer(input) : { __type: 'InvalidOperationException', message: operation }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, calls, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('the packaged access-log setup bundle (prod)', () => {
  const dir = join(packageRoot, 'bundles', 'accessLogSetup');
  const zip = join(packageRoot, 'prod', 'accessLogSetup.zip');
  let logs: Awaited<ReturnType<typeof startLogsEndpoint>>;
  let cloudFormation: Awaited<ReturnType<typeof startResponseServer>>;

  beforeAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    execFileSync('unzip', ['-q', zip, '-d', dir]);
    logs = await startLogsEndpoint();
    cloudFormation = await startResponseServer();
  });
  afterAll(async () => {
    await logs.close();
    await cloudFormation.close();
  });

  it('is a minified artifact of at most 150 KB, the AWS SDK left to the Lambda runtime', () => {
    expect(statSync(zip).size).toBeLessThanOrEqual(150 * 1024);
  });

  it('sets up the CloudFront log delivery through CloudWatch Logs and answers CloudFormation', async () => {
    const name = 'movement-pass-prod-photo-access-logs';
    const event = makeEvent({
      RequestType: 'Create',
      ResourceType: 'Custom::CloudFrontLogDelivery',
      LogicalResourceId: 'PhotoAccessLogDelivery',
      ResponseURL: cloudFormation.url,
      ResourceProperties: {
        Name: name,
        DistributionArn: 'arn:aws:cloudfront::123456789012:distribution/E2EXAMPLE123',
        DestinationArn: 'arn:aws:s3:::movement-pass-prod-access-logs-123456789012/cloudfront',
        OutputFormat: 'json',
        RecordFields: ['date', 'c-ip'],
      },
    });

    const { code, output } = await runBundle(
      event,
      { AWS_ENDPOINT_URL_CLOUDWATCH_LOGS: logs.url },
      join(dir, 'handlers/access-logs/index.js'),
    );

    expect(code, output).toBe(0);
    expect(logs.calls.map((call) => call.operation)).toEqual([
      'PutDeliverySource',
      'PutDeliveryDestination',
      'DescribeDeliveries',
      'CreateDelivery',
    ]);
    expect(logs.calls[0].input).toMatchObject({ name, logType: 'ACCESS_LOGS' });
    expect(cloudFormation.received.map((r) => r.body)).toEqual([
      expect.objectContaining({
        Status: 'SUCCESS',
        PhysicalResourceId: name,
        Data: expect.objectContaining({ DeliveryId: 'delivery-from-local-endpoint' }),
      }),
    ]);
  });
});
