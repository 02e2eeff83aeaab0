// The deployed artifact itself: the key ring zip that `sls package` built, run by Node with the
// real AWS SDK against a local SSM endpoint, answering a local CloudFormation response server.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { offlineEnv, packageRoot } from '../package-stage';
import { MemoryParameterStore, makeEvent, startResponseServer, startSsmEndpoint } from './support';

const bundleDir = join(packageRoot, 'bundles', 'keyRing');

function runBundle(event: unknown, endpoint: string): Promise<{ code: number | null; output: string }> {
  const script =
    'require(process.argv[1]).handler(JSON.parse(process.argv[2]), { getRemainingTimeInMillis: () => 60000 })' +
    '.then(() => process.exit(0), (error) => { console.error(error); process.exit(1); })';
  const child = spawn(process.execPath, ['-e', script, join(bundleDir, 'handlers/key-ring/index.js'), JSON.stringify(event)], {
    env: {
      ...offlineEnv(),
      AWS_REGION: 'ap-south-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_ENDPOINT_URL_SSM: endpoint,
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
