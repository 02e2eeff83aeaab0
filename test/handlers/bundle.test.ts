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
    await runKeyRing({
      events: [update('prod', jwtRing('prod', 'RS256', 1), jwtRing('prod', 'RS256', 0))],
      endpoint: ssm.url,
      environment: keyRingEnvironment('prod'),
    });
    regions['ap-south-1'] = 'down';

    const homeDown = await runKeyRing({
      ...follower,
      events: [
        { ...update('prod', jwtRing('prod', 'RS256', 0), jwtRing('prod', 'RS256', 0)), ...secondary },
        { ...update('prod', jwtRing('prod', 'RS256', 1), jwtRing('prod', 'RS256', 0)), ...secondary },
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
