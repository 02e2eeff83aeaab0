// The deployed key ring itself: the zip `sls package` built, run by Node with the real AWS SDK
// against a local SSM endpoint, answering a local CloudFormation response server, configured with
// the environment the template gives it (test/handlers/key-ring-bundle.ts).
import { beforeEach, describe, expect, it } from 'vitest';
import { digest, jwtRing, names, runKeyRing, useKeyRingBundle } from './key-ring-bundle';
import { keyRingEnvironment, MemoryParameterStore, secondaryStageKeyArn, stackId } from './support';

describe('the packaged key ring bundle: create, timeouts, forged events, a secondary region', () => {
  const { state, event, update, answers, startSsm } = useKeyRingBundle('key-ring-bundle');
  let store: MemoryParameterStore;
  let ssm: Awaited<ReturnType<typeof startSsm>>;
  let cloudFormation: typeof state.cloudFormation;
  beforeEach(() => {
    ({ store, cloudFormation } = state);
  });

  it('creates the JWT keys through SSM and answers CloudFormation, logging no secret', async () => {
    ssm = await startSsm(store);
    const { root, signing, jwtStore } = names('alice');

    const { code, output } = await runKeyRing({
      events: [event('alice', { RequestType: 'Create', ResourceProperties: jwtRing('alice') })],
      endpoint: ssm.url,
      environment: keyRingEnvironment('alice'),
    });

    expect(code, output).toBe(0);
    expect(answers()).toEqual([expect.objectContaining({ Status: 'SUCCESS', PhysicalResourceId: jwtStore })]);
    expect(store.latest(`${signing}/jwtPrivateKey`)?.type).toBe('SecureString');
    expect(answers()[0].Data.KeyId).toBe(store.latest(`${root}/jwtKeyId`)?.value);
    expect(ssm.operations).toEqual(
      expect.arrayContaining(['GetParameterHistory', 'GetParameters', 'PutParameter', 'LabelParameterVersion']),
    );
    expect(output).not.toContain('PRIVATE KEY');
    expect(output).toContain('"answered CloudFormation"');
  });

  it('writes nothing after answering a timeout, even with a slow SSM, and a failed Create leaves nothing behind', async () => {
    // Every call takes 100 ms; labeling a key store version takes a minute.
    ssm = await startSsm(store, { delayMs: 100, stalled: ['LabelParameterVersion'] });

    // The handler keeps 10 s to answer and 10 s to clean up: 4 s of work before time is up.
    const { code, output } = await runKeyRing({
      events: [event('alice', { RequestType: 'Create', ResourceProperties: jwtRing('alice') })],
      endpoint: ssm.url,
      environment: keyRingEnvironment('alice'),
      remainingMs: 24_000,
      lingerMs: 1_500,
    });

    expect(code, output).toBe(0);
    expect(answers()).toEqual([expect.objectContaining({ Status: 'FAILED', Reason: expect.stringContaining('ran out of time') })]);
    const answeredAt = cloudFormation.received[0].at;
    // It had started writing (the key store, then its label) before time was up ...
    expect(ssm.received.map((request) => request.operation)).toEqual(expect.arrayContaining(['PutParameter', 'LabelParameterVersion']));
    // ... removed it before answering, and sent nothing to SSM afterwards.
    expect(ssm.received.filter((request) => request.at > answeredAt)).toEqual([]);
    expect(store.changes.filter((change) => change.at > answeredAt)).toEqual([]);
    expect([...store.history.keys()]).toEqual([]);
  });

  it('on prod, does nothing for a forged Delete without Retain and refuses an event of another stack', async () => {
    ssm = await startSsm(store);
    const prod = keyRingEnvironment('prod');
    await runKeyRing({
      events: [event('prod', { RequestType: 'Create', ResourceProperties: jwtRing('prod') })],
      endpoint: ssm.url,
      environment: prod,
    });
    const before = JSON.stringify([...store.history]);

    const { code, output } = await runKeyRing({
      events: [
        event('prod', { RequestType: 'Delete', ResourceProperties: { ...jwtRing('prod'), Retain: 'false' } }),
        event('prod', { RequestType: 'Delete', ResourceProperties: jwtRing('prod'), StackId: stackId('alice') }),
        event('prod', { RequestType: 'Create', ResourceProperties: jwtRing('prod', 'RS256', 7), StackId: stackId('alice') }),
      ],
      endpoint: ssm.url,
      environment: prod,
    });

    expect(code, output).toBe(0);
    expect(answers().slice(1)).toEqual([
      expect.objectContaining({ Status: 'SUCCESS' }),
      expect.objectContaining({ Status: 'FAILED', Reason: expect.stringContaining('refusing an event from') }),
      expect.objectContaining({ Status: 'FAILED', Reason: expect.stringContaining('refusing an event from') }),
    ]);
    expect(JSON.stringify([...store.history])).toBe(before);
  });

  it('refuses forged events of prod with a clear reason, writing nothing: a rotation not configured, the previous one outside a rollback, a key pair id CloudFront does not hold, a resource not in progress, a Delete of another physical id', async () => {
    ssm = await startSsm(store);
    const { root, signing, photoStore } = names('prod');
    const photoKey = { Algorithm: 'RS256', KeyStoreParameter: photoStore };
    const photoRing = (rotation: number) => ({
      ...photoKey,
      Rotation: String(rotation),
      PublicKeysParameter: `${root}/photoUrlPublicKeys`,
    });
    const signingKey = (rotation: number, KeyId: string) => ({
      ...photoKey,
      Rotation: String(rotation),
      PrivateKeyParameter: `${signing}/photoUrlPrivateKey`,
      KeyIdParameter: `${root}/photoUrlKeyPairId`,
      KeyId,
    });
    const atRotation = (rotation: number) =>
      keyRingEnvironment('prod', (settings) => {
        settings.jwt.algorithm = 'ES256';
        settings.jwt.rotation = rotation;
        settings.photos.keyRotation = rotation;
      });
    // A real deploy of rotation 1: the rings, then the stack's CloudFront public keys, then the signing key.
    await runKeyRing({
      events: [
        event('prod', { RequestType: 'Create', ResourceProperties: jwtRing('prod', 'ES256', 1) }),
        event('prod', { RequestType: 'Create', LogicalResourceId: 'PhotoUrlKeyRing', ResourceProperties: photoRing(1) }),
      ],
      endpoint: ssm.url,
      environment: atRotation(1),
    });
    const photoData = answers()[1].Data;
    state.cloudFront.hold('K-ROTATION-1', photoData.PublicKey);
    state.cloudFront.hold('K-ROTATION-2', photoData.NextPublicKey);
    await runKeyRing({
      events: [
        event('prod', {
          RequestType: 'Create',
          LogicalResourceId: 'PhotoUrlSigningKey',
          ResourceProperties: signingKey(1, 'K-ROTATION-1'),
        }),
      ],
      endpoint: ssm.url,
      environment: atRotation(1),
    });
    expect(answers().map((answer) => answer.Status)).toEqual(['SUCCESS', 'SUCCESS', 'SUCCESS']);
    const before = JSON.stringify([...store.history]);
    const writesBefore = ssm.operations.filter((operation) => /Put|Delete|Label/.test(operation)).length;

    // Forged: anyone who may invoke the function can send these; none comes from a deploy.
    const forged = [
      update('prod', jwtRing('prod', 'ES256', 2), jwtRing('prod', 'ES256', 1)),
      update('prod', jwtRing('prod', 'ES256', 0), jwtRing('prod', 'ES256', 1)),
      event('prod', {
        RequestType: 'Update',
        LogicalResourceId: 'PhotoUrlSigningKey',
        PhysicalResourceId: `${signing}/photoUrlPrivateKey`,
        ResourceProperties: signingKey(1, 'K-FORGED'),
        OldResourceProperties: signingKey(1, 'K-ROTATION-1'),
      }),
      event('prod', {
        RequestType: 'Update',
        LogicalResourceId: 'PhotoUrlSigningKey',
        PhysicalResourceId: `${signing}/photoUrlPrivateKey`,
        ResourceProperties: signingKey(1, 'K-ROTATION-2'),
        OldResourceProperties: signingKey(1, 'K-ROTATION-1'),
      }),
    ];
    await runKeyRing({ events: forged, endpoint: ssm.url, environment: atRotation(1) });
    // The stack is idle: its resources are complete, and a Delete names what the stack does not hold.
    state.stack.state.stackStatus = 'UPDATE_COMPLETE';
    state.stack.state.resources.set('JwtKeyRing', { status: 'UPDATE_COMPLETE', physicalId: names('prod').jwtStore });
    await runKeyRing({
      events: [update('prod', jwtRing('prod', 'RS256', 1), jwtRing('prod', 'RS256', 1))],
      endpoint: ssm.url,
      environment: atRotation(1),
    });
    state.stack.state.stackStatus = 'UPDATE_IN_PROGRESS';
    state.stack.state.resources.set('JwtKeyRing', { status: 'DELETE_IN_PROGRESS', physicalId: names('prod').jwtStore });
    await runKeyRing({
      events: [
        event('prod', {
          RequestType: 'Delete',
          PhysicalResourceId: '/movement-pass-keys/prod/other',
          ResourceProperties: jwtRing('prod', 'RS256', 1),
        }),
      ],
      endpoint: ssm.url,
      environment: atRotation(1),
    });

    const refused = answers().slice(3);
    expect(refused.map((answer) => answer.Status)).toEqual(Array(6).fill('FAILED'));
    expect(refused.map((answer) => answer.Reason)).toEqual([
      expect.stringContaining('JwtKeyRing is configured for rotation 1; refusing Rotation 2'),
      expect.stringContaining('rotation 0 is only for a rollback of its stack, which is UPDATE_IN_PROGRESS'),
      expect.stringContaining('CloudFront has no public key K-FORGED'),
      expect.stringContaining("The CloudFront public key K-ROTATION-2 is not the key ring's RS256 key of rotation 1"),
      expect.stringContaining("The stack's JwtKeyRing is UPDATE_COMPLETE, not being changed"),
      expect.stringContaining("names /movement-pass-keys/prod/other, but the stack's JwtKeyRing is /movement-pass-keys/prod/jwt"),
    ]);
    expect(JSON.stringify([...store.history])).toBe(before);
    expect(ssm.operations.filter((operation) => /Put|Delete|Label/.test(operation))).toHaveLength(writesBefore);
  });

  it.each([
    ['the custom resource before the function', 1, 'UPDATE_ROLLBACK_IN_PROGRESS'],
    ['the function before the custom resource', 0, 'UPDATE_ROLLBACK_IN_PROGRESS'],
  ])('rolls a rotation back with %s, to the keys it had', async (_, configured, stackStatus) => {
    ssm = await startSsm(store);
    // ES256: keys made in microseconds, where each RSA key takes a noticeable share of a busy machine.
    const atRotation = (rotation: number) =>
      keyRingEnvironment('prod', (settings) => Object.assign(settings.jwt, { algorithm: 'ES256', rotation }));
    await runKeyRing({
      events: [
        { event: event('prod', { RequestType: 'Create', ResourceProperties: jwtRing('prod', 'ES256', 0) }), environment: atRotation(0) },
        { event: update('prod', jwtRing('prod', 'ES256', 1), jwtRing('prod', 'ES256', 0)), environment: atRotation(1) },
      ],
      endpoint: ssm.url,
      environment: atRotation(0),
    });
    state.stack.state.stackStatus = stackStatus;

    // CloudFormation's rollback: the ring's Update back to rotation 0, its function configured for `configured`.
    await runKeyRing({
      events: [update('prod', jwtRing('prod', 'ES256', 0), jwtRing('prod', 'ES256', 1))],
      endpoint: ssm.url,
      environment: atRotation(configured),
    });

    const [created, rotated, rolledBack] = answers();
    expect([created.Status, rotated.Status, rolledBack.Status], rolledBack.Reason).toEqual(['SUCCESS', 'SUCCESS', 'SUCCESS']);
    expect(rolledBack.Data).toEqual(created.Data);
    expect(state.stack.state.received).toEqual(expect.arrayContaining(['DescribeStackResource']));
  });

  it('in a secondary region, copies the home keys (both regions behind one endpoint, by signing region), and with home down keeps only what it holds', async () => {
    const secondaryStore = new MemoryParameterStore();
    const regions: Record<string, MemoryParameterStore | 'down'> = { 'ap-south-1': store, 'ap-southeast-1': secondaryStore };
    ssm = await startSsm(store, { regions });
    const { root, signing, jwtStore } = names('prod');
    const secondary = { StackId: stackId('prod', 'ap-southeast-1') };
    const follower = {
      endpoint: ssm.url,
      environment: keyRingEnvironment('prod', undefined, { region: 'ap-southeast-1' }),
      region: 'ap-southeast-1',
    };
    await runKeyRing({
      events: [event('prod', { RequestType: 'Create', ResourceProperties: jwtRing('prod') })],
      endpoint: ssm.url,
      environment: keyRingEnvironment('prod'),
    });
    const copied = await runKeyRing({
      ...follower,
      events: [event('prod', { RequestType: 'Create', ResourceProperties: jwtRing('prod'), ...secondary })],
    });
    const rotated = (settings: { jwt: { rotation: number } }) => Object.assign(settings.jwt, { rotation: 1 });
    await runKeyRing({
      events: [update('prod', jwtRing('prod', 'RS256', 1), jwtRing('prod', 'RS256', 0))],
      endpoint: ssm.url,
      environment: keyRingEnvironment('prod', rotated),
    });
    regions['ap-south-1'] = 'down';

    const homeDown = await runKeyRing({
      ...follower,
      events: [
        { ...update('prod', jwtRing('prod', 'RS256', 0), jwtRing('prod', 'RS256', 0)), ...secondary },
        // The next deploy of the region: its function configured for rotation 1 first.
        {
          event: { ...update('prod', jwtRing('prod', 'RS256', 1), jwtRing('prod', 'RS256', 0)), ...secondary },
          environment: keyRingEnvironment('prod', rotated, { region: 'ap-southeast-1' }),
        },
      ],
    });

    expect(copied.code, copied.output).toBe(0);
    expect(homeDown.code, homeDown.output).toBe(0);
    const [home, followed, , held, notHeld] = answers();
    expect(followed).toMatchObject({ Status: 'SUCCESS', Data: home.Data });
    // Home has rotated since: the region still signs with the home key of rotation 0, byte for byte.
    const homeKey0 = store.GetParameters({ Names: [`${jwtStore}:RS256-k0`] }).Parameters[0]?.Value;
    expect(digest(secondaryStore.latest(`${signing}/jwtPrivateKey`)?.value)).toBe(digest(homeKey0));
    expect(secondaryStore.latest(`${root}/jwks`)?.value).toBe(home.Data.Jwks);
    expect(secondaryStore.encryptedWith(secondaryStageKeyArn).sort()).toEqual([jwtStore, `${signing}/jwtPrivateKey`].sort());
    expect(held).toMatchObject({ Status: 'SUCCESS', Data: home.Data });
    expect(notHeld).toMatchObject({ Status: 'FAILED', Reason: expect.stringContaining('The home region ap-south-1 did not answer') });
    expect(`${copied.output}${homeDown.output}`).not.toContain('PRIVATE KEY');
  });
});
