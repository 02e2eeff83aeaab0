// The deployed key ring itself over many deploys: rotations past what SSM keeps, the largest
// responses, and the upgrade of an older layout (test/handlers/key-ring-bundle.ts).
import { createPublicKey } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { generateSecret } from '../../handlers/lib/signing-keys';
import { jwtRing, names, runKeyRing, useKeyRingBundle } from './key-ring-bundle';
import { awsManagedKey, keyRingEnvironment, type MemoryParameterStore, stageKeyArn } from './support';

describe('the packaged key ring bundle: long rotations, response size, upgrades', () => {
  const { state, event, update, answers, startSsm } = useKeyRingBundle('key-ring-bundle-rotations');
  let store: MemoryParameterStore;
  let ssm: Awaited<ReturnType<typeof startSsm>>;
  let cloudFormation: typeof state.cloudFormation;
  beforeEach(() => {
    ({ store, cloudFormation } = state);
  });

  // The long stretch rotates ES256 keys, which take microseconds to make where an RSA key takes
  // about 150 ms: as many rotations and switches as with a long RS256 stretch, in a fifth of the time.
  it('goes on rotating past 100 key store versions, across RS256 → ES256 → RS256 switches', async () => {
    ssm = await startSsm(store);
    const steps: [string, number][] = [];
    for (let r = 1; r <= 3; r++) steps.push(['RS256', r]);
    for (let r = 0; r <= 120; r++) steps.push(['ES256', r]);
    for (let r = 3; r <= 5; r++) steps.push(['RS256', r]);
    let previous = jwtRing('prod', 'RS256', 0);
    const events: unknown[] = [event('prod', { RequestType: 'Create', ResourceProperties: previous })];
    for (const [algorithm, rotation] of steps) {
      const next = jwtRing('prod', algorithm, rotation);
      // Each deploy configures the function for its algorithm and rotation before the ring.
      const environment = keyRingEnvironment('prod', (settings) => {
        settings.jwt.algorithm = algorithm as typeof settings.jwt.algorithm;
        settings.jwt.rotation = rotation;
      });
      events.push({ event: update('prod', next, previous), environment });
      previous = next;
    }

    const { code, output } = await runKeyRing({ events, endpoint: ssm.url, environment: keyRingEnvironment('prod') });

    expect(code, output).toBe(0);
    const statuses = answers().map((answer) => answer.Status);
    expect(
      statuses.filter((status) => status !== 'SUCCESS'),
      JSON.stringify(answers().find((a) => a.Status !== 'SUCCESS')),
    ).toEqual([]);
    expect(statuses).toHaveLength(events.length);
    // More than 120 rotations, each adding a version: SSM dropped the oldest ones.
    const versions = store.history.get(names('prod').jwtStore) ?? [];
    expect(versions.at(-1)?.version).toBeGreaterThan(120);
    expect(versions.length).toBeLessThanOrEqual(100);
  }, 90_000); // about 6 s alone; a cold whole-suite run on two cores shares the CPU with the packaging of every stack

  it('answers the largest rings (RS256, rotation 1) in under 2048 bytes', async () => {
    ssm = await startSsm(store);
    const { root, photoStore } = names('prod');
    // Each event as a deploy of these rotations configures the function first.
    const deployed = (jwt: number, photo: number) =>
      keyRingEnvironment('prod', (settings) => {
        settings.jwt.rotation = jwt;
        settings.photos.keyRotation = photo;
      });
    const photoRing = (rotation: number) => ({
      Algorithm: 'RS256',
      Rotation: String(rotation),
      KeyStoreParameter: photoStore,
      PublicKeysParameter: `${root}/photoUrlPublicKeys`,
    });

    const { code, output } = await runKeyRing({
      events: [
        { event: event('prod', { RequestType: 'Create', ResourceProperties: jwtRing('prod', 'RS256', 0) }), environment: deployed(0, 0) },
        { event: update('prod', jwtRing('prod', 'RS256', 1), jwtRing('prod', 'RS256', 0)), environment: deployed(1, 0) },
        event('prod', { RequestType: 'Create', LogicalResourceId: 'PhotoUrlKeyRing', ResourceProperties: photoRing(0) }),
        {
          event: event('prod', {
            RequestType: 'Update',
            LogicalResourceId: 'PhotoUrlKeyRing',
            PhysicalResourceId: photoStore,
            ResourceProperties: photoRing(1),
            OldResourceProperties: photoRing(0),
          }),
          environment: deployed(1, 1),
        },
      ],
      endpoint: ssm.url,
      environment: deployed(0, 0),
    });

    expect(code, output).toBe(0);
    const [, jwt, , photo] = cloudFormation.received;
    expect(jwt.body).toMatchObject({ Status: 'SUCCESS' });
    expect(Object.keys(jwt.body.Data).sort()).toEqual(['Jwks', 'KeyId']);
    expect(JSON.parse(jwt.body.Data.Jwks).keys).toHaveLength(3);
    expect(photo.body).toMatchObject({ Status: 'SUCCESS' });
    expect(Object.keys(photo.body.Data).sort()).toEqual(['NextPublicKey', 'PreviousPublicKey', 'PublicKey']);
    expect(jwt.bytes).toBeLessThan(2048);
    expect(photo.bytes).toBeLessThan(2048);
  });

  it('upgrades a stage whose keys were under aws/ssm in the contract root: same keys, no version left under aws/ssm', async () => {
    ssm = await startSsm(store);
    const { root, signing, jwtStore, photoStore } = names('prod');
    // The stage as the earlier layout left it: key stores and private keys under aws/ssm, the
    // private keys in the contract root, and some versions already released.
    const keys = { jwt: [] as string[], photo: [] as string[] };
    for (const [storeName, list] of [
      [jwtStore, keys.jwt],
      [photoStore, keys.photo],
    ] as const) {
      store.PutParameter({ Name: storeName, Value: await generateSecret('RS256'), Type: 'SecureString', Overwrite: true });
      for (let rotation = 0; rotation <= 2; rotation++) {
        const secret = await generateSecret('RS256');
        list.push(secret);
        const { Version } = store.PutParameter({ Name: storeName, Value: secret, Type: 'SecureString', Overwrite: true });
        store.LabelParameterVersion({ Name: storeName, ParameterVersion: Version, Labels: [`RS256-k${rotation}`] });
      }
    }
    store.PutParameter({ Name: `${root}/jwtPrivateKey`, Value: keys.jwt[1], Type: 'SecureString', Overwrite: true });
    store.PutParameter({ Name: `${root}/photoUrlPrivateKey`, Value: keys.photo[1], Type: 'SecureString', Overwrite: true });
    store.PutParameter({ Name: `${root}/photoUrlKeyPairId`, Value: 'K1', Type: 'String', Overwrite: true });
    // The stack's CloudFront public key K1: the public half of the photo key of rotation 1.
    state.cloudFront.hold('K1', createPublicKey(keys.photo[1]).export({ type: 'spki', format: 'pem' }).toString());
    const old = { ...jwtRing('prod', 'RS256', 1), PrivateKeyParameter: `${root}/jwtPrivateKey`, Retain: 'true' };
    const photoKey = { Algorithm: 'RS256', Rotation: '1', KeyStoreParameter: photoStore };
    const oldSigningKey = {
      ...photoKey,
      PrivateKeyParameter: `${root}/photoUrlPrivateKey`,
      KeyIdParameter: `${root}/photoUrlKeyPairId`,
      KeyId: 'K1',
    };
    const photo = (LogicalResourceId: string, PhysicalResourceId: string, properties: object, oldProperties: object) =>
      event('prod', {
        RequestType: 'Update',
        LogicalResourceId,
        PhysicalResourceId,
        ResourceProperties: properties,
        OldResourceProperties: oldProperties,
      });

    const { code, output } = await runKeyRing({
      events: [
        update('prod', jwtRing('prod', 'RS256', 1), old),
        photo(
          'PhotoUrlKeyRing',
          photoStore,
          { ...photoKey, PublicKeysParameter: `${root}/photoUrlPublicKeys` },
          { ...photoKey, PublicKeysParameter: `${root}/photoUrlPublicKeys`, Retain: 'true' },
        ),
        photo(
          'PhotoUrlSigningKey',
          `${root}/photoUrlPrivateKey`,
          { ...oldSigningKey, PrivateKeyParameter: `${signing}/photoUrlPrivateKey` },
          { ...oldSigningKey, Retain: 'true' },
        ),
      ],
      endpoint: ssm.url,
      environment: keyRingEnvironment('prod', (settings) => {
        settings.jwt.rotation = 1;
        settings.photos.keyRotation = 1;
      }),
    });

    expect(code, output).toBe(0);
    expect(answers().map((answer) => [answer.Status, answer.PhysicalResourceId])).toEqual([
      ['SUCCESS', jwtStore],
      ['SUCCESS', photoStore],
      ['SUCCESS', `${root}/photoUrlPrivateKey`],
    ]);
    // The same keys sign, now from the signing root ...
    expect(store.latest(`${signing}/jwtPrivateKey`)?.value).toBe(keys.jwt[1]);
    expect(store.latest(`${signing}/photoUrlPrivateKey`)?.value).toBe(keys.photo[1]);
    for (const [storeName, list] of [
      [jwtStore, keys.jwt],
      [photoStore, keys.photo],
    ] as const) {
      for (const [rotation, secret] of list.entries()) {
        expect(store.GetParameters({ Names: [`${storeName}:RS256-k${rotation}`] }).Parameters[0]?.Value).toBe(secret);
      }
    }
    // ... the contract root holds no private key any more, and no version of anything is under aws/ssm.
    expect(store.latest(`${root}/jwtPrivateKey`)).toBeUndefined();
    expect(store.latest(`${root}/photoUrlPrivateKey`)).toBeUndefined();
    expect(store.encryptedWith(awsManagedKey)).toEqual([]);
    expect(store.encryptedWith(stageKeyArn).sort()).toEqual(
      [jwtStore, photoStore, `${signing}/jwtPrivateKey`, `${signing}/photoUrlPrivateKey`].sort(),
    );
  });
});
