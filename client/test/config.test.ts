// loadFoundationConfig and loadSigningKeys against an in-memory SSM behind a real SSMClient.
import { GetParametersByPathCommand, GetParametersCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { MemoryParameterStore } from '../../test/handlers/support';
import { ConfigCache, loadFoundationConfig, resolveRegion } from '../src/config';
import { contractKeys, contractRoot, signingRoot } from '../src/contract';
import { FoundationConfigError } from '../src/errors';
import { loadSigningKeys } from '../src/signing';
import { generateStageKeys, type StageKeys, seedStage } from './stage-fixture';

function ssmOver(store: MemoryParameterStore) {
  const ssm = new SSMClient({ region: 'ap-south-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  const mock = mockClient(ssm);
  mock.on(GetParametersByPathCommand).callsFake((input) => store.GetParametersByPath(input));
  mock.on(GetParametersCommand).callsFake((input) => store.GetParameters(input));
  return { ssm, mock };
}

async function rejection(promise: Promise<unknown>): Promise<FoundationConfigError> {
  const error = await promise.then(
    () => undefined,
    (thrown) => thrown,
  );
  expect(error).toBeInstanceOf(FoundationConfigError);
  return error as FoundationConfigError;
}

let rs256: StageKeys;
beforeAll(async () => {
  rs256 = await generateStageKeys('RS256');
});

describe('loadFoundationConfig', () => {
  it('reads every page of the contract root, without decrypting, and types every key', async () => {
    const store = new MemoryParameterStore();
    seedStage(store, rs256);
    const { ssm, mock } = ssmOver(store);

    const config = await loadFoundationConfig({ stage: 'prod', ssm, cache: false });

    const pages = mock.commandCalls(GetParametersByPathCommand).map((call) => call.args[0].input);
    expect(pages.length).toBe(3);
    for (const page of pages) expect(page).toMatchObject({ Path: '/movement-pass/prod', Recursive: true });
    // The contract root holds String parameters only: nothing to decrypt, no kms:Decrypt needed.
    for (const page of pages) expect(page.WithDecryption).toBeUndefined();
    expect(Object.keys(config).sort()).toEqual(Object.keys(contractKeys).sort());
    expect(config.photoUploadExpiration).toBe(300);
    expect(config.jwks.keys[0].kid).toBe(rs256.kid);
    expect(config.jwtAlgorithm).toBe('RS256');
    expect(config.applicantsTable).toBe('movement-pass-prod-applicants');
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.jwks.keys[0])).toBe(true);
  });

  it('never reads the signing root: the contract holds nothing secret', async () => {
    const store = new MemoryParameterStore();
    seedStage(store, rs256);
    const { ssm } = ssmOver(store);

    const config = await loadFoundationConfig({ stage: 'prod', ssm, cache: false });

    expect(config.jwtPrivateKey).toBeUndefined();
    expect(config.photoUrlPrivateKey).toBeUndefined();
  });

  it('leaves out signing keys a stage deployed before the signing root keeps under the contract root', async () => {
    const store = new MemoryParameterStore();
    seedStage(store, rs256);
    store.PutParameter({ Name: `${contractRoot('prod')}jwtPrivateKey`, Value: rs256.jwtPrivateKey!, Type: 'SecureString' });
    const { ssm } = ssmOver(store);

    const config = await loadFoundationConfig({ stage: 'prod', ssm, cache: false });

    expect(Object.keys(config).sort()).toEqual(Object.keys(contractKeys).sort());
    expect(JSON.stringify(config)).not.toContain('PRIVATE KEY');
  });

  it('leaves out any SecureString, declared or not, and never shows its value', async () => {
    const store = new MemoryParameterStore();
    seedStage(store, rs256);
    store.PutParameter({ Name: `${contractRoot('prod')}legacySecret`, Value: 'the-legacy-secret', Type: 'SecureString' });
    const { ssm } = ssmOver(store);

    const config = await loadFoundationConfig({ stage: 'prod', ssm, cache: false });
    expect(Object.keys(config).sort()).toEqual(Object.keys(contractKeys).sort());

    // A declared key stored as a SecureString is named with its type, its value not shown.
    store.PutParameter({
      Name: `${contractRoot('prod')}jwksUrl`,
      Value: 'not a url: secret-material',
      Type: 'SecureString',
      Overwrite: true,
    });
    const error = await rejection(loadFoundationConfig({ stage: 'prod', ssm, cache: false }));
    expect(error.code).toBe('FOUNDATION_VALUE_INVALID');
    expect(error.keys).toEqual(['jwksUrl']);
    expect(error.message).toMatch(/^\/movement-pass\/prod\/jwksUrl is a SecureString; the contract holds it as a String parameter \(url\)/);
    expect(error.message).not.toContain('secret-material');
    expect(error.message).not.toContain('AQICAH');
  });

  it('keeps unknown keys named like Object.prototype members', async () => {
    const store = new MemoryParameterStore();
    seedStage(store, rs256);
    store.PutParameter({ Name: `${contractRoot('prod')}constructor`, Value: 'a future key', Type: 'String' });
    store.PutParameter({ Name: `${contractRoot('prod')}toString`, Value: 'another', Type: 'String' });
    const { ssm } = ssmOver(store);

    const config = (await loadFoundationConfig({ stage: 'prod', ssm, cache: false })) as unknown as Record<string, unknown>;

    expect(Object.hasOwn(config, 'constructor') && config.constructor).toBe('a future key');
    expect(Object.hasOwn(config, 'toString') && config.toString).toBe('another');
  });

  it('names every missing key and the path', async () => {
    const store = new MemoryParameterStore();
    seedStage(store, rs256);
    store.DeleteParameters({ Names: [`${contractRoot('prod')}applicantsTable`, `${contractRoot('prod')}jwks`] });
    const { ssm } = ssmOver(store);

    const error = await rejection(loadFoundationConfig({ stage: 'prod', ssm, cache: false }));

    expect(error.code).toBe('FOUNDATION_KEYS_MISSING');
    expect(error.path).toBe('/movement-pass/prod/');
    expect(error.keys).toEqual(['jwks', 'applicantsTable']);
    expect(error.message).toContain('/movement-pass/prod/ lacks jwks, applicantsTable');
  });

  it('fails for a stage that is not deployed, naming every key', async () => {
    const { ssm } = ssmOver(new MemoryParameterStore());

    const error = await rejection(loadFoundationConfig({ stage: 'nobody', ssm, cache: false }));

    expect(error.path).toBe('/movement-pass/nobody/');
    expect(error.keys).toContain('passesLoadQueueUrl');
  });

  it('names a value that is not of its type', async () => {
    const store = new MemoryParameterStore();
    seedStage(store, rs256);
    store.PutParameter({ Name: `${contractRoot('prod')}photoUploadExpiration`, Value: 'five minutes', Type: 'String', Overwrite: true });
    const { ssm } = ssmOver(store);

    const error = await rejection(loadFoundationConfig({ stage: 'prod', ssm, cache: false }));

    expect(error.code).toBe('FOUNDATION_VALUE_INVALID');
    expect(error.message).toBe('/movement-pass/prod/photoUploadExpiration is not a number: "five minutes".');
  });

  it('accepts a sandbox (no certificates) and HS256 (no public key), and keeps unknown keys as strings', async () => {
    const store = new MemoryParameterStore();
    seedStage(store, await generateStageKeys('HS256'), { stage: 'alice', customDomain: false });
    store.PutParameter({ Name: `${contractRoot('alice')}futureKey`, Value: '42', Type: 'String' });
    const { ssm } = ssmOver(store);

    const config = await loadFoundationConfig({ stage: 'alice', ssm, cache: false });

    expect(config.clientCertificateArn).toBeUndefined();
    expect(config.jwtPublicKey).toBeUndefined();
    expect(config.jwks.keys).toEqual([]);
    expect(config.futureKey).toBe('42');
  });

  it('requires the public key with an asymmetric algorithm', async () => {
    const store = new MemoryParameterStore();
    seedStage(store, rs256);
    store.DeleteParameters({ Names: [`${contractRoot('prod')}jwtPublicKey`] });
    const { ssm } = ssmOver(store);

    expect((await rejection(loadFoundationConfig({ stage: 'prod', ssm, cache: false }))).keys).toEqual(['jwtPublicKey']);
  });

  it('refuses a stage name that cannot be one before any call', async () => {
    const { ssm, mock } = ssmOver(new MemoryParameterStore());

    const error = await rejection(loadFoundationConfig({ stage: '../prod', ssm }));

    expect(error.code).toBe('FOUNDATION_INVALID_ARGUMENT');
    expect(mock.calls()).toHaveLength(0);
  });
});

describe('the region', () => {
  it('is never the home region by default: without a region or a client, loading stops naming the fix', async () => {
    vi.stubEnv('AWS_REGION', '');
    vi.stubEnv('AWS_DEFAULT_REGION', '');
    const error = await rejection(loadFoundationConfig({ stage: 'prod', cache: false }));

    expect(error.code).toBe('FOUNDATION_INVALID_ARGUMENT');
    expect(error.message).toContain('No AWS region to read the foundation in: pass { region } or set AWS_REGION');
    expect(() => resolveRegion()).toThrow(/never falls back to the home region/);
    vi.stubEnv('AWS_REGION', 'ap-southeast-1');
    expect(resolveRegion()).toBe('ap-southeast-1');
  });
});

describe('the config cache', () => {
  it('answers from memory per stage and region until the TTL runs out', async () => {
    const store = new MemoryParameterStore();
    seedStage(store, rs256);
    seedStage(store, rs256, { stage: 'alice' });
    const { ssm, mock } = ssmOver(store);
    let now = 1_000_000;
    const cache = new ConfigCache({ ttlSeconds: 60, now: () => now });
    const load = (stage: string, region = 'ap-south-1') => loadFoundationConfig({ stage, region, ssm, cache });
    const reads = () => mock.commandCalls(GetParametersByPathCommand).filter((call) => call.args[0].input.NextToken === undefined).length;

    const first = await load('prod');
    expect(await load('prod')).toBe(first);
    expect(reads()).toBe(1);
    await load('alice');
    await load('prod', 'ap-southeast-1');
    expect(reads()).toBe(3);

    now += 61_000;
    const later = await load('prod');
    expect(later).not.toBe(first);
    expect(reads()).toBe(4);
  });

  it('never answers one SSM client with what another read (other credentials, another account)', async () => {
    const ours = new MemoryParameterStore();
    seedStage(ours, rs256);
    const theirs = new MemoryParameterStore();
    seedStage(theirs, rs256);
    theirs.PutParameter({ Name: `${contractRoot('prod')}applicantsTable`, Value: 'their-applicants', Type: 'String', Overwrite: true });
    const a = ssmOver(ours);
    const b = ssmOver(theirs);
    const cache = new ConfigCache({ ttlSeconds: 60 });

    const first = await loadFoundationConfig({ stage: 'prod', region: 'ap-south-1', ssm: a.ssm, cache });
    const other = await loadFoundationConfig({ stage: 'prod', region: 'ap-south-1', ssm: b.ssm, cache });

    expect(first.applicantsTable).toBe('movement-pass-prod-applicants');
    expect(other.applicantsTable).toBe('their-applicants');
    expect(b.mock.commandCalls(GetParametersByPathCommand).length).toBeGreaterThan(0);
    // Each client still answers from its own entry.
    expect(await loadFoundationConfig({ stage: 'prod', region: 'ap-south-1', ssm: a.ssm, cache })).toBe(first);
    expect(await loadFoundationConfig({ stage: 'prod', region: 'ap-south-1', ssm: b.ssm, cache })).toBe(other);
  });

  it('does not remember a failed load', async () => {
    const store = new MemoryParameterStore();
    const { ssm } = ssmOver(store);
    const cache = new ConfigCache({ ttlSeconds: 60 });

    await rejection(loadFoundationConfig({ stage: 'prod', ssm, cache }));
    seedStage(store, rs256);

    expect((await loadFoundationConfig({ stage: 'prod', ssm, cache })).stage).toBe('prod');
  });
});

describe('loadSigningKeys', () => {
  it('reads the signing keys by name from the signing root, decrypted', async () => {
    const store = new MemoryParameterStore();
    seedStage(store, rs256);
    const { ssm, mock } = ssmOver(store);

    const keys = await loadSigningKeys({ stage: 'prod', ssm });

    expect(keys).toEqual({ jwtPrivateKey: rs256.jwtPrivateKey, photoUrlPrivateKey: rs256.photoUrlPrivateKey });
    expect(mock.commandCalls(GetParametersCommand)[0].args[0].input).toEqual({
      Names: [
        '/movement-pass-signing/prod/jwtPrivateKey',
        '/movement-pass-signing/prod/jwtSecret',
        '/movement-pass-signing/prod/photoUrlPrivateKey',
      ],
      WithDecryption: true,
    });
  });

  it('asks only for the keys a signer uses', async () => {
    const store = new MemoryParameterStore();
    seedStage(store, rs256);
    const { ssm, mock } = ssmOver(store);

    const keys = await loadSigningKeys({ stage: 'prod', ssm, use: ['photoUrl'] });

    expect(Object.keys(keys)).toEqual(['photoUrlPrivateKey']);
    expect(mock.commandCalls(GetParametersCommand)[0].args[0].input.Names).toEqual(['/movement-pass-signing/prod/photoUrlPrivateKey']);
  });

  it('names the missing signing key and the root', async () => {
    const store = new MemoryParameterStore();
    seedStage(store, rs256);
    store.DeleteParameters({ Names: [`${signingRoot('prod')}photoUrlPrivateKey`] });
    const { ssm } = ssmOver(store);

    const error = await rejection(loadSigningKeys({ stage: 'prod', ssm }));

    expect(error.code).toBe('FOUNDATION_SIGNING_KEYS_MISSING');
    expect(error.message).toContain('/movement-pass-signing/prod/ lacks photoUrlPrivateKey');
  });
});
