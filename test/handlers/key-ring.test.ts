import { createPrivateKey } from 'node:crypto';
import { GetParameterHistoryCommand, PutParameterCommand, UnlabelParameterVersionCommand } from '@aws-sdk/client-ssm';
import { createLocalJWKSet, type JSONWebKeySet, jwtVerify, SignJWT } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { keyRingResources } from '../../handlers/key-ring/index';
import type { KeyRingProperties } from '../../handlers/key-ring/key-ring';
import { parameters } from '../../handlers/key-ring/parameters';
import { failedCreateId, makeHandler } from '../../handlers/lib/custom-resource';
import { generateSigningKey } from '../../handlers/lib/signing-keys';
import {
  awsManagedKey,
  cloudFrontKeys,
  context,
  fakeParameterStore,
  keyPool,
  keyRingEnvironment,
  makeEvent,
  memoryLogger,
  stackId,
  stackInProgress,
  stageKeyArn,
  startResponseServer,
} from './support';

const root = '/movement-pass/alice';
const signing = '/movement-pass-signing/alice';
const keyStore = '/movement-pass-keys/alice/jwt';
const asymmetric = (algorithm: 'RS256' | 'ES256', rotation = 0): KeyRingProperties => ({
  Algorithm: algorithm,
  Rotation: String(rotation),
  KeyStoreParameter: keyStore,
  PrivateKeyParameter: `${signing}/jwtPrivateKey`,
  PublicKeysParameter: `${root}/jwks`,
  PublicKeyParameter: `${root}/jwtPublicKey`,
  KeyIdParameter: `${root}/jwtKeyId`,
});
const symmetric = (rotation = 0): KeyRingProperties => ({
  Algorithm: 'HS256',
  Rotation: String(rotation),
  KeyStoreParameter: keyStore,
  PrivateKeyParameter: `${signing}/jwtSecret`,
  PublicKeysParameter: `${root}/jwks`,
  KeyIdParameter: `${root}/jwtKeyId`,
});

const keys = keyPool();
beforeEach(() => keys.reset());

describe('key ring custom resource', () => {
  let server: Awaited<ReturnType<typeof startResponseServer>>;
  let store: ReturnType<typeof fakeParameterStore>;
  let logger: ReturnType<typeof memoryLogger>;
  let handler: ReturnType<typeof makeHandler>;
  let environment: Record<string, string>;
  let stack: ReturnType<typeof stackInProgress>;

  beforeEach(async () => {
    stack = stackInProgress();
    server = await startResponseServer();
    store = fakeParameterStore();
    logger = memoryLogger();
    environment = keyRingEnvironment('alice');
    handler = makeHandler(
      keyRingResources({ ssm: store.ssm, logger, environment, generate: keys.generate, stack, publicKeys: cloudFrontKeys() }),
      { logger },
    );
  });
  afterEach(async () => {
    store.mock.restore();
    await server.close();
  });

  const lastResponse = () => server.received[server.received.length - 1].body;
  /** The function as the template of a stage with this JWT algorithm configures it (a deploy updates it before the ring). */
  /** The function as the template of a stage with this JWT algorithm and rotation configures it (a deploy updates it before the ring). */
  const deployFor = (algorithm: string, rotation = 0) =>
    Object.assign(
      environment,
      keyRingEnvironment('alice', (settings) => {
        settings.jwt.algorithm = algorithm as typeof settings.jwt.algorithm;
        settings.jwt.rotation = rotation;
      }),
    );
  const create = async (properties: KeyRingProperties, deployed: string = properties.Algorithm) => {
    deployFor(deployed, Number(properties.Rotation));
    await handler(makeEvent({ RequestType: 'Create', ResourceProperties: properties, ResponseURL: server.url }), context());
    return lastResponse();
  };
  const update = async (properties: KeyRingProperties, old: KeyRingProperties) => {
    deployFor(properties.Algorithm, Number(properties.Rotation));
    await handler(
      makeEvent({
        RequestType: 'Update',
        PhysicalResourceId: keyStore,
        ResourceProperties: properties,
        OldResourceProperties: old,
        ResponseURL: server.url,
      }),
      context(),
    );
    return lastResponse();
  };
  const sign = (algorithm: string) =>
    new SignJWT({ sub: 'applicant-1' })
      .setProtectedHeader({ alg: algorithm, kid: store.value(`${root}/jwtKeyId`) })
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(createPrivateKey(store.value(`${signing}/jwtPrivateKey`) as string));
  const verify = (token: string, jwks: string) => jwtVerify(token, createLocalJWKSet(JSON.parse(jwks) as JSONWebKeySet));

  /** Nothing secret may leave the handler: not in the response, not in a log line. */
  const expectNoSecretOutside = () => {
    const secrets = [store.value(`${signing}/jwtPrivateKey`), store.value(`${signing}/jwtSecret`)].filter((s): s is string => !!s);
    const outside = [JSON.stringify(server.received), ...logger.lines].join('\n');
    expect(outside).not.toContain('PRIVATE KEY');
    for (const secret of secrets)
      expect(outside).not.toContain(
        secret
          .replace(/-----[A-Z ]+-----/g, '')
          .trim()
          .slice(0, 64),
      );
  };

  describe.each(['RS256', 'ES256'] as const)('%s', (algorithm) => {
    it('Create writes the private key as a SecureString and answers only public data', async () => {
      const response = await create(asymmetric(algorithm));

      expect(server.received).toHaveLength(1);
      expect(response).toMatchObject({
        Status: 'SUCCESS',
        PhysicalResourceId: keyStore,
        RequestId: 'request-1',
        LogicalResourceId: 'JwtKeyRing',
      });
      expect(store.parameters.get(`${signing}/jwtPrivateKey`)?.Type).toBe('SecureString');
      for (const key of ['jwks', 'jwtPublicKey', 'jwtKeyId']) expect(store.parameters.get(`${root}/${key}`)?.Type).toBe('String');
      const jwks = JSON.parse(response.Data.Jwks);
      // The current key, and the next one, published a deploy before it signs.
      expect(jwks.keys).toEqual([
        expect.objectContaining({ kid: response.Data.KeyId, alg: algorithm, use: 'sig' }),
        expect.objectContaining({ alg: algorithm, use: 'sig' }),
      ]);
      expect(store.parameters.get(keyStore)?.Type).toBe('SecureString');
      expect(jwks.keys[0]).not.toHaveProperty('d');
      // Only what the template reads (the JWKS endpoint, the JwtKeyId output).
      expect(Object.keys(response.Data).sort()).toEqual(['Jwks', 'KeyId']);
      expect(store.value(`${root}/jwtPublicKey`)).toContain('BEGIN PUBLIC KEY');
      // Nothing secret under the contract root: every service loads it whole.
      expect(
        [...store.parameters.keys()].filter((name) => name.startsWith(`${root}/`) && store.parameters.get(name)?.Type !== 'String'),
      ).toEqual([]);
      // A sandbox keeps SSM's AWS managed key.
      expect(store.store.latest(`${signing}/jwtPrivateKey`)?.keyId).toBe(awsManagedKey);
      expect(store.value(`${root}/jwks`)).toBe(response.Data.Jwks);
      expectNoSecretOutside();
    });

    it('signs tokens that verify against the published JWKS', async () => {
      const response = await create(asymmetric(algorithm));

      const { payload, protectedHeader } = await verify(await sign(algorithm), response.Data.Jwks);

      expect(payload.sub).toBe('applicant-1');
      expect(protectedHeader.kid).toBe(response.Data.KeyId);
    });

    it('Update without rotation keeps the keys and writes nothing', async () => {
      const created = await create(asymmetric(algorithm));
      const privateKey = store.value(`${signing}/jwtPrivateKey`);
      const writes = store.mock.commandCalls(PutParameterCommand).length;

      const updated = await update({ ...asymmetric(algorithm), ServiceTimeout: '360' } as KeyRingProperties, asymmetric(algorithm));

      expect(updated).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: created.PhysicalResourceId, Data: created.Data });
      expect(store.value(`${signing}/jwtPrivateKey`)).toBe(privateKey);
      expect(store.mock.commandCalls(PutParameterCommand)).toHaveLength(writes);
    });

    it('signs after a rotation only with a key the JWKS published before it', async () => {
      const before = await create(asymmetric(algorithm, 0));

      await update(asymmetric(algorithm, 1), asymmetric(algorithm, 0));

      await expect(verify(await sign(algorithm), before.Data.Jwks)).resolves.toBeDefined();
    });

    it('keeps the previous key trusted for one rotation, not two', async () => {
      await create(asymmetric(algorithm, 0));
      const firstToken = await sign(algorithm);

      const afterOne = await update(asymmetric(algorithm, 1), asymmetric(algorithm, 0));
      expect(JSON.parse(afterOne.Data.Jwks).keys).toHaveLength(3);
      await expect(verify(firstToken, afterOne.Data.Jwks)).resolves.toBeDefined();
      await expect(verify(await sign(algorithm), afterOne.Data.Jwks)).resolves.toBeDefined();

      const afterTwo = await update(asymmetric(algorithm, 2), asymmetric(algorithm, 1));
      const trustedAfterTwo = JSON.parse(afterTwo.Data.Jwks).keys.map((k: { kid: string }) => k.kid);
      expect(trustedAfterTwo).toHaveLength(3);
      expect(trustedAfterTwo).toEqual(expect.arrayContaining([afterTwo.Data.KeyId, afterOne.Data.KeyId]));
      await expect(verify(firstToken, afterTwo.Data.Jwks)).rejects.toThrow();
      expectNoSecretOutside();
    });
  });

  it('restores the same keys when a rotation is rolled back, so published keys never change under a template', async () => {
    const before = await create(asymmetric('RS256', 0));
    const privateKey = store.value(`${signing}/jwtPrivateKey`);

    const rotated = await update(asymmetric('RS256', 1), asymmetric('RS256', 0));
    // CloudFormation's rollback: the same Update with old and new properties swapped.
    const rolledBack = await update(asymmetric('RS256', 0), asymmetric('RS256', 1));
    const again = await update(asymmetric('RS256', 1), asymmetric('RS256', 0));

    expect(rotated.Data.KeyId).not.toBe(before.Data.KeyId);
    expect(rolledBack.Data).toEqual(before.Data);
    expect(store.value(`${signing}/jwtPrivateKey`)).not.toBe(privateKey);
    expect(again.Data).toEqual(rotated.Data);
  });

  it('restores a retained ring when its stack is created again, instead of replacing the keys', async () => {
    const first = await create(asymmetric('RS256', 2));

    const second = await create(asymmetric('RS256', 2));

    expect(second.Data).toEqual(first.Data);
    // Keys 1, 2 and 3 into the store, four contract parameters; nothing the second time.
    expect(store.mock.commandCalls(PutParameterCommand)).toHaveLength(7);
  });

  it('keeps an HS256 secret across a rotation and back', async () => {
    await create(symmetric(0));
    const first = store.value(`${signing}/jwtSecret`);
    await update(symmetric(1), symmetric(0));
    expect(store.value(`${signing}/jwtSecret`)).not.toBe(first);

    await update(symmetric(0), symmetric(1));

    expect(store.value(`${signing}/jwtSecret`)).toBe(first);
  });

  it('HS256 keeps a 256-bit secret in jwtSecret and publishes an empty JWKS', async () => {
    const response = await create(symmetric());

    const secret = store.parameters.get(`${signing}/jwtSecret`);
    expect(secret?.Type).toBe('SecureString');
    expect(Buffer.from(secret?.Value as string, 'base64url').length).toBeGreaterThanOrEqual(32);
    expect(JSON.parse(response.Data.Jwks)).toEqual({ keys: [] });
    expect(store.value(`${root}/jwtKeyId`)).toBe(response.Data.KeyId);
    expect(store.parameters.has(`${root}/jwtPublicKey`)).toBe(false);
    expectNoSecretOutside();
  });

  const remove = (properties: KeyRingProperties) =>
    handler(
      makeEvent({
        RequestType: 'Delete',
        PhysicalResourceId: keyStore,
        ResourceProperties: properties,
        ResponseURL: server.url,
      }),
      context(),
    );

  it('switching RS256 to HS256 removes the private and public key it no longer uses, keeping them in the store', async () => {
    await create(asymmetric('RS256'));

    const response = await update(symmetric(), asymmetric('RS256'));

    expect(response.Status).toBe('SUCCESS');
    expect(store.parameters.has(`${signing}/jwtPrivateKey`)).toBe(false);
    expect(store.parameters.has(`${root}/jwtPublicKey`)).toBe(false);
    expect(store.parameters.has(`${signing}/jwtSecret`)).toBe(true);
    expect(store.parameters.has(keyStore)).toBe(true);
    expect(JSON.parse(response.Data.Jwks)).toEqual({ keys: [] });
  });

  it('a rolled-back algorithm switch finds its keys again', async () => {
    const before = await create(asymmetric('RS256'));
    await update(symmetric(), asymmetric('RS256'));

    const rolledBack = await update(asymmetric('RS256'), symmetric());

    expect(rolledBack.Data).toEqual(before.Data);
  });

  it('refuses a rotation that skips the pre-published key, and still rolls back to where it was', async () => {
    await create(asymmetric('RS256', 0));
    const one = await update(asymmetric('RS256', 1), asymmetric('RS256', 0));

    const jump = await update(asymmetric('RS256', 3), asymmetric('RS256', 1));
    const rolledBack = await update(asymmetric('RS256', 1), asymmetric('RS256', 3));

    expect(jump).toMatchObject({
      Status: 'FAILED',
      Reason: expect.stringContaining('Rotation may move by one per deploy (asked 3; the RS256 keys go up to 2)'),
    });
    expect(rolledBack).toMatchObject({ Status: 'SUCCESS', Data: one.Data });
  });

  it('never writes a private key into the contract root, even for the rollback of the upgrade that moved it', async () => {
    await create(asymmetric('RS256', 0));
    const signingKey = store.value(`${signing}/jwtPrivateKey`);
    const earlierLayout = { ...asymmetric('RS256', 0), PrivateKeyParameter: `${root}/jwtPrivateKey` };

    const rolledBack = await update(earlierLayout, asymmetric('RS256', 0));

    expect(rolledBack.Status).toBe('SUCCESS');
    expect(store.parameters.has(`${root}/jwtPrivateKey`)).toBe(false);
    expect(store.value(`${signing}/jwtPrivateKey`)).toBe(signingKey);
  });

  it('answers FAILED, naming the fix, when its own configuration is missing', async () => {
    const { STACK_ID: _, ...environment } = keyRingEnvironment('alice');
    const unconfigured = makeHandler(
      keyRingResources({ ssm: store.ssm, logger, environment, generate: keys.generate, stack, publicKeys: cloudFrontKeys() }),
      { logger },
    );

    await unconfigured(makeEvent({ RequestType: 'Create', ResourceProperties: asymmetric('RS256'), ResponseURL: server.url }), context());

    expect(lastResponse()).toMatchObject({
      Status: 'FAILED',
      Reason: expect.stringContaining("no STACK_ID in its environment; deploy it with the stack's template"),
    });
    expect(store.parameters.size).toBe(0);
  });

  it('judges a rotation by the key store, not by OldResourceProperties a forged event may bring', async () => {
    await create(asymmetric('RS256', 0));
    const writes = store.mock.commandCalls(PutParameterCommand).length;

    const jump = await update(asymmetric('RS256', 2), asymmetric('RS256', 1));

    expect(jump).toMatchObject({ Status: 'FAILED', Reason: expect.stringContaining('Rotation may move by one per deploy') });
    expect(store.mock.commandCalls(PutParameterCommand)).toHaveLength(writes);
  });

  it('refuses an event from another stack, and one naming parameters outside its configuration', async () => {
    await create(asymmetric('RS256', 0));
    const before = JSON.stringify([...store.store.history]);

    await handler(
      makeEvent({ RequestType: 'Create', StackId: stackId('mallory'), ResourceProperties: asymmetric('RS256'), ResponseURL: server.url }),
      context(),
    );
    const otherStack = lastResponse();
    const elsewhere = await create({ ...asymmetric('RS256'), PrivateKeyParameter: '/movement-pass/alice/jwtPrivateKey2' });
    await handler(
      makeEvent({ RequestType: 'Delete', PhysicalResourceId: keyStore, StackId: stackId('mallory'), ResponseURL: server.url }),
      context(),
    );
    const otherDelete = lastResponse();

    expect(otherStack).toMatchObject({ Status: 'FAILED', Reason: expect.stringContaining('serves the stack') });
    expect(elsewhere).toMatchObject({
      Status: 'FAILED',
      Reason: expect.stringContaining(
        'PrivateKeyParameter must be /movement-pass-signing/alice/jwtPrivateKey (got /movement-pass/alice/jwtPrivateKey2)',
      ),
    });
    expect(otherDelete).toMatchObject({ Status: 'FAILED', Reason: expect.stringContaining('refusing an event from') });
    expect(JSON.stringify([...store.store.history])).toBe(before);
  });

  it('lets go of keys no rollback can reach any more, so the store never fills up', async () => {
    await create(asymmetric('RS256', 0));
    for (let rotation = 1; rotation <= 4; rotation++) await update(asymmetric('RS256', rotation), asymmetric('RS256', rotation - 1));

    const labeled = (label: string) =>
      store.mock.commandCalls(UnlabelParameterVersionCommand).some((call) => call.args[0].input.Labels?.includes(label));
    expect(labeled('RS256-k0')).toBe(true);
    expect(labeled('RS256-k1')).toBe(true);
    expect(labeled('RS256-k2')).toBe(false);
  });

  it('frees a key store an earlier key ring left stuck at 100 versions with a labeled oldest one', async () => {
    // RS256 was switched to ES256 long ago: its keys are the oldest versions and still labeled.
    const secrets = await Promise.all([generateSigningKey('RS256'), generateSigningKey('ES256')]);
    const memory = store.store;
    for (let version = 1; version <= 100; version++) {
      const secret = version <= 4 ? secrets[0].secret : secrets[1].secret;
      memory.PutParameter({ Name: keyStore, Value: secret, Type: 'SecureString', Overwrite: true });
    }
    for (const [version, label] of [
      [1, 'RS256-k7'],
      [2, 'RS256-k8'],
      [3, 'RS256-k9'],
      [4, 'RS256-k10'],
      [98, 'ES256-k39'],
      [99, 'ES256-k40'],
      [100, 'ES256-k41'],
    ] as const) {
      memory.LabelParameterVersion({ Name: keyStore, ParameterVersion: version, Labels: [label] });
    }
    expect(() => memory.PutParameter({ Name: keyStore, Value: 'x', Type: 'SecureString', Overwrite: true })).toThrow(/labeled/);

    const rotated = await update(asymmetric('ES256', 41), asymmetric('ES256', 40));
    const back = await update(asymmetric('RS256', 9), asymmetric('ES256', 41));

    expect(rotated.Status, rotated.Reason).toBe('SUCCESS');
    // The last RS256 window was carried forward, so switching back still finds it.
    expect(back.Status, back.Reason).toBe('SUCCESS');
    expect(memory.GetParameters({ Names: [`${keyStore}:RS256-k9`] }).Parameters[0]?.Value).toBe(secrets[0].secret);
    expect(memory.history.get(keyStore)?.length).toBeLessThanOrEqual(100);
  });

  it('rotates HS256 more often than SSM has labels per version', async () => {
    await create(symmetric(0));
    for (let rotation = 1; rotation <= 12; rotation++) await update(symmetric(rotation), symmetric(rotation - 1));

    expect(server.received.map((r) => r.body.Status)).toEqual(Array(13).fill('SUCCESS'));
  });

  it('Delete removes every parameter it wrote', async () => {
    await create(asymmetric('RS256'));

    await remove(asymmetric('RS256'));

    expect(lastResponse()).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: keyStore });
    expect([...store.parameters.keys()]).toEqual([]);
  });

  it('a Create that fails on SSM answers FAILED, leaves nothing behind, and its Delete succeeds', async () => {
    store.mock.on(PutParameterCommand, { Type: 'SecureString' }).rejects(new Error('AccessDeniedException: not allowed'));

    const failed = await create(asymmetric('RS256'));
    await handler(
      makeEvent({
        RequestType: 'Delete',
        PhysicalResourceId: failed.PhysicalResourceId,
        ResourceProperties: asymmetric('RS256'),
        ResponseURL: server.url,
      }),
      context(),
    );

    expect(server.received.map((r) => [r.body.Status, r.body.PhysicalResourceId])).toEqual([
      ['FAILED', failedCreateId],
      ['SUCCESS', failedCreateId],
    ]);
    expect(failed.Reason).toContain('AccessDeniedException');
    expect([...store.parameters.keys()]).toEqual([]);
    expectNoSecretOutside();
  });

  /** SSM applies the first put of `name` but its answer never arrives (`retried`: the SDK's retry answers version 2). */
  const loseFirstAnswer = (name: string, retried: boolean) => {
    let lost = false;
    store.mock.on(PutParameterCommand).callsFake((input) => {
      if (input.Name !== name || lost) return store.store.PutParameter(input);
      lost = true;
      store.store.PutParameter(input);
      if (retried) return store.store.PutParameter(input);
      throw Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });
    });
  };

  it('a failed Create removes a parameter SSM wrote though its answer was lost', async () => {
    loseFirstAnswer(`${signing}/jwtPrivateKey`, false);

    const failed = await create(asymmetric('RS256'));

    expect(failed).toMatchObject({ Status: 'FAILED', Reason: expect.stringContaining('socket hang up') });
    expect(store.store.changes.filter((change) => change.name === `${signing}/jwtPrivateKey`).map((c) => c.operation)).toEqual([
      'PutParameter',
      'DeleteParameters',
    ]);
    expect([...store.parameters.keys()]).toEqual([]);
  });

  it('a failed Create removes a parameter whose put was retried (version 2), but nothing that existed before it', async () => {
    store.store.PutParameter({ Name: `${root}/jwtKeyId`, Value: 'kept', Type: 'String' });
    loseFirstAnswer(`${root}/jwks`, true);
    let puts = 0;
    store.mock.on(PutParameterCommand, { Name: `${signing}/jwtPrivateKey` }).callsFake(() => {
      puts++;
      throw Object.assign(new Error('not allowed'), { name: 'AccessDeniedException' });
    });

    const failed = await create(asymmetric('RS256'));

    expect(failed.Status).toBe('FAILED');
    expect(puts).toBe(1);
    expect([...store.parameters.keys()]).toEqual([`${root}/jwtKeyId`]);
  });

  it("writes every parameter in SSM's Standard tier, whatever the account's default", async () => {
    await create(asymmetric('RS256', 0));
    await update(asymmetric('RS256', 1), asymmetric('RS256', 0));

    const tiers = store.mock.commandCalls(PutParameterCommand).map((call) => [call.args[0].input.Name, call.args[0].input.Tier]);
    // The keys and outputs of a Create (3 + 4), then a rotation's new key and outputs.
    expect(tiers.length).toBeGreaterThanOrEqual(8);
    expect(tiers.filter(([, tier]) => tier !== 'Standard')).toEqual([]);
  });

  it.each([
    ['a ring', 'JwtKeyRing', 'Custom::KeyRing', { ...asymmetric('RS256'), Rotation: 'soon' }, /Rotation must be a whole number/],
    [
      'a signing key',
      'PhotoUrlSigningKey',
      'Custom::SigningKey',
      {
        Algorithm: 'RS256',
        Rotation: '0',
        KeyStoreParameter: '/movement-pass-keys/alice/photoUrl',
        PrivateKeyParameter: '/movement-pass-signing/alice/photoUrlPrivateKey',
        KeyIdParameter: '/movement-pass/alice/photoUrlKeyPairId',
        KeyId: '',
      },
      /KeyId must be a non-empty string/,
    ],
  ])('refuses the malformed Create of %s before any AWS call', async (_, LogicalResourceId, ResourceType, properties, reason) => {
    deployFor('RS256');
    await handler(
      makeEvent({ RequestType: 'Create', LogicalResourceId, ResourceType, ResourceProperties: properties, ResponseURL: server.url }),
      context(),
    );

    expect(lastResponse()).toMatchObject({ Status: 'FAILED', Reason: expect.stringMatching(reason) });
    expect(store.mock.calls()).toEqual([]);
  });

  it('answers FAILED, naming the fix, to an algorithm its configuration does not have', async () => {
    const unknown = await create({ ...asymmetric('RS256'), Algorithm: 'none' as 'RS256' }, 'RS256');
    const other = await create(symmetric(), 'RS256');

    expect(unknown).toMatchObject({ Status: 'FAILED', Reason: expect.stringContaining('configured for RS256; refusing Algorithm none') });
    expect(other).toMatchObject({
      Status: 'FAILED',
      Reason: expect.stringContaining(
        "refusing Algorithm HS256. Change the algorithm in the stage settings and deploy the stack's template",
      ),
    });
    expect(store.parameters.size).toBe(0);
  });

  it('writes each value only where its configuration names: a private key never reaches the contract root', async () => {
    await create(asymmetric('RS256', 0));
    const before = JSON.stringify([...store.store.history]);

    const intoContract = await create({ ...asymmetric('RS256', 0), PrivateKeyParameter: `${root}/jwks` });
    const swapped = await create({ ...asymmetric('RS256', 0), PublicKeysParameter: `${signing}/jwtPrivateKey` });
    const withoutPrivateKey = await create({ ...asymmetric('RS256', 0), PrivateKeyParameter: undefined });
    const otherAlgorithmsName = await create({ ...asymmetric('RS256', 0), PrivateKeyParameter: `${signing}/jwtSecret` });

    expect(intoContract).toMatchObject({
      Status: 'FAILED',
      Reason: expect.stringContaining(`PrivateKeyParameter must be ${signing}/jwtPrivateKey (got ${root}/jwks)`),
    });
    expect(swapped).toMatchObject({
      Status: 'FAILED',
      Reason: expect.stringContaining(`PublicKeysParameter must be ${root}/jwks (got ${signing}/jwtPrivateKey)`),
    });
    // Leaving it out would have the ring delete the signing key as unused.
    expect(withoutPrivateKey).toMatchObject({
      Status: 'FAILED',
      Reason: expect.stringContaining(`PrivateKeyParameter must be ${signing}/jwtPrivateKey (got none)`),
    });
    expect(otherAlgorithmsName).toMatchObject({ Status: 'FAILED', Reason: expect.stringContaining('PrivateKeyParameter must be') });
    expect(JSON.stringify([...store.store.history])).toBe(before);
  });

  it('refuses to write a SecureString anywhere but the configured homes of secrets', async () => {
    const ssm = parameters({ ssm: store.ssm, signal: new AbortController().signal, secureNames: [keyStore, `${signing}/jwtPrivateKey`] });

    await expect(ssm.put(`${root}/jwks`, 'secret', 'SecureString', 'x')).rejects.toThrow(`refusing to write a secret to ${root}/jwks`);
    await expect(ssm.put(`${signing}/jwtPrivateKey`, 'secret', 'SecureString', 'x')).resolves.toBe(1);
    expect([...store.parameters.keys()]).toEqual([`${signing}/jwtPrivateKey`]);
  });

  it('answers FAILED before the Lambda timeout when key generation hangs', async () => {
    const hanging = makeHandler(
      keyRingResources({
        ssm: store.ssm,
        logger,
        environment: keyRingEnvironment('alice'),
        generate: () => new Promise(() => undefined),
        stack: stackInProgress(),
        publicKeys: cloudFrontKeys(),
      }),
      { logger, timeoutMarginMs: 1_000, cleanupMarginMs: 0 },
    );

    await hanging(makeEvent({ RequestType: 'Create', ResourceProperties: asymmetric('RS256'), ResponseURL: server.url }), context(1_100));

    expect(server.received.map((r) => r.body.Status)).toEqual(['FAILED']);
  });

  it('generates RSA keys of at least 2048 bits', async () => {
    const key = await generateSigningKey('RS256');

    expect(createPrivateKey(key.secret).asymmetricKeyDetails?.modulusLength).toBeGreaterThanOrEqual(2048);
  });
});

describe('key ring of a stage that keeps its keys (prod)', () => {
  const prodRoot = '/movement-pass/prod';
  const prodSigning = '/movement-pass-signing/prod';
  const prodStore = '/movement-pass-keys/prod/jwt';
  const prodRing = (rotation = 0) => ({
    Algorithm: 'RS256',
    Rotation: String(rotation),
    KeyStoreParameter: prodStore,
    PrivateKeyParameter: `${prodSigning}/jwtPrivateKey`,
    PublicKeysParameter: `${prodRoot}/jwks`,
    PublicKeyParameter: `${prodRoot}/jwtPublicKey`,
    KeyIdParameter: `${prodRoot}/jwtKeyId`,
  });
  let server: Awaited<ReturnType<typeof startResponseServer>>;
  let store: ReturnType<typeof fakeParameterStore>;
  let handler: ReturnType<typeof makeHandler>;
  let environment: Record<string, string>;

  beforeEach(async () => {
    server = await startResponseServer();
    store = fakeParameterStore();
    const logger = memoryLogger();
    environment = keyRingEnvironment('prod');
    handler = makeHandler(
      keyRingResources({
        ssm: store.ssm,
        logger,
        environment,
        generate: keys.generate,
        stack: stackInProgress(),
        publicKeys: cloudFrontKeys(),
      }),
      { logger },
    );
  });
  afterEach(async () => {
    store.mock.restore();
    await server.close();
  });

  const send = async (RequestType: string, properties: { Rotation?: string; [key: string]: unknown }) => {
    const PhysicalResourceId = RequestType === 'Create' ? undefined : prodStore;
    // The function as a deploy of this rotation configures it, before the ring.
    Object.assign(
      environment,
      keyRingEnvironment('prod', (settings) => Object.assign(settings.jwt, { rotation: Number(properties.Rotation ?? 0) })),
    );
    await handler(
      makeEvent({ RequestType, PhysicalResourceId, StackId: stackId('prod'), ResourceProperties: properties, ResponseURL: server.url }),
      context(),
    );
    return server.received[server.received.length - 1].body;
  };

  it('encrypts the private key and the key store with the stage key', async () => {
    await send('Create', prodRing());

    expect(store.store.latest(`${prodSigning}/jwtPrivateKey`)?.keyId).toBe(stageKeyArn);
    expect(store.store.history.get(prodStore)?.map((v) => v.keyId)).toEqual([stageKeyArn, stageKeyArn]);
    expect(store.store.encryptedWith(awsManagedKey)).toEqual([]);
  });

  it('removes nothing on a Delete, whatever the event says about retention', async () => {
    await send('Create', prodRing());

    const deleted = await send('Delete', { ...prodRing(), Retain: 'false' });

    expect(deleted.Status).toBe('SUCCESS');
    expect(store.parameters.size).toBe(5);
  });

  it('never deletes what existed before a re-creation that cannot even read SSM', async () => {
    await send('Create', prodRing());
    store.mock.on(GetParameterHistoryCommand).rejects(new Error('ThrottlingException'));

    const failed = await send('Create', prodRing());

    expect(failed.Status).toBe('FAILED');
    expect(store.parameters.size).toBe(5);
  });

  it('re-encrypts a full store so that a failed write of the next rotation loses no key', async () => {
    // 100 versions under aws/ssm (the store before the stage had its key), the window on top.
    const memory = store.store;
    const secrets: string[] = [];
    for (let version = 1; version <= 100; version++) {
      const secret = version <= 97 ? 'filler' : (await generateSigningKey('RS256')).secret;
      memory.PutParameter({ Name: prodStore, Value: secret, Type: 'SecureString', Overwrite: true });
      if (version > 97) {
        secrets.push(secret);
        memory.LabelParameterVersion({ Name: prodStore, ParameterVersion: version, Labels: [`RS256-k${version - 98}`] });
      }
    }
    const reencrypted = await send('Create', prodRing(1));
    expect(reencrypted.Status, reencrypted.Reason).toBe('SUCCESS');
    expect(memory.encryptedWith(awsManagedKey)).toEqual([]);
    // SSM throttles one write of the next rotation.
    let throttled = false;
    store.mock.on(PutParameterCommand).callsFake((input) => {
      if (input.Name === prodStore && !throttled) {
        throttled = true;
        throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
      }
      return memory.PutParameter(input);
    });

    const failed = await send('Update', prodRing(2));

    expect(failed).toMatchObject({ Status: 'FAILED', Reason: expect.stringContaining('ThrottlingException') });
    const stored = (rotation: number) => memory.GetParameters({ Names: [`${prodStore}:RS256-k${rotation}`] }).Parameters[0]?.Value;
    expect([0, 1, 2].map(stored)).toEqual(secrets);
    const retried = await send('Update', prodRing(2));
    expect(retried.Status, retried.Reason).toBe('SUCCESS');
    expect([1, 2].map(stored)).toEqual(secrets.slice(1));
  });

  it('keeps the key store a failed first Create made (its role may not delete it), and removes the rest', async () => {
    store.mock.on(PutParameterCommand, { Name: `${prodSigning}/jwtPrivateKey` }).rejects(new Error('AccessDeniedException'));

    const failed = await send('Create', prodRing());

    expect(failed).toMatchObject({ Status: 'FAILED', PhysicalResourceId: failedCreateId });
    expect([...store.parameters.keys()]).toEqual([prodStore]);
  });
});
