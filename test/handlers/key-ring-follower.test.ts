// The key ring of a secondary region (the follower) against two local SSM endpoints, home and
// secondary, each a real SSMClient over HTTP: it copies the home keys, publishes what home does,
// and deploys through a home region that is down only with the keys it already holds.
import { createHash, createPrivateKey } from 'node:crypto';
import { createServer } from 'node:net';
import { SSMClient } from '@aws-sdk/client-ssm';
import { createLocalJWKSet, type JSONWebKeySet, jwtVerify, SignJWT } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { homeRegionBounds, otherRegionSsm } from '../../handlers/key-ring/follower';
import { keyRingResources } from '../../handlers/key-ring/index';
import { makeHandler } from '../../handlers/lib/custom-resource';
import { jwtKeyRingProperties, photoUrlKeyRingProperties, photoUrlSigningKeyProperties } from '../../resources/key-ring';
import { type StackChoice, type StageSettings, settingsFor } from '../../resources/stage';
import {
  awsManagedKey,
  cloudFrontKeys,
  context,
  keyPool,
  keyRingEnvironment,
  MemoryParameterStore,
  makeEvent,
  memoryLogger,
  secondaryStageKeyArn,
  stackId,
  stackInProgress,
  stageKeyArn,
  startResponseServer,
  startSsmEndpoint,
} from './support';

const keys = keyPool();
beforeEach(() => keys.reset());

const home = 'ap-south-1';
const secondary = 'ap-southeast-1';
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

/** A port nothing listens on: connecting to it is refused at once, as to a region that is down. */
async function closedPort(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

type Endpoint = Awaited<ReturnType<typeof startSsmEndpoint>>;

/** The id CloudFront gave the home stack's public key of the photo URL key ring's current rotation. */
const photoKeyPairId = 'K2JCJMDEHXQW5F';

/** One stage in two regions: each region's store behind its own endpoint, each region's key ring. */
function twoRegions(stage: string, choice: { secondaryRegion?: string } = {}) {
  const homeStore = new MemoryParameterStore();
  const secondaryStore = new MemoryParameterStore();
  let homeEndpoint: Endpoint;
  let secondaryEndpoint: Endpoint;
  let cloudFormation: Awaited<ReturnType<typeof startResponseServer>>;
  const logger = memoryLogger();
  /** Settings changes a deploy of both regions carries (an algorithm, a rotation). */
  let change: ((settings: StageSettings) => void) | undefined;
  /** Where the follower reaches the home region (a closed port when home is down). */
  let homeUrl: string;
  /** Where home reaches the secondary region; its endpoint unless the secondary is down. */
  let followerUrl: string | undefined;

  const regionChoice = (region: string): StackChoice => ({ ...choice, ...(region === home ? {} : { region }) });
  const settingsIn = (region: string) => {
    const settings = settingsFor(stage, regionChoice(region));
    change?.(settings);
    return settings;
  };

  /** CloudFront's public keys, global: the stack's are made from the home photo ring's answers. */
  const cloudFront = cloudFrontKeys();

  /** The key ring of a region, as a deploy of `rotation` for the resource configures it (before the resource). */
  const handlerIn = (region: string, logicalId: string, rotation: number) => {
    const deployed = (settings: StageSettings) => {
      change?.(settings);
      if (logicalId === 'JwtKeyRing') settings.jwt.rotation = rotation;
      else settings.photos.keyRotation = rotation;
    };
    const environment = keyRingEnvironment(stage, deployed, regionChoice(region));
    const url = region === home ? homeEndpoint.url : secondaryEndpoint.url;
    const ssm = new SSMClient({ region, endpoint: url, credentials, maxAttempts: 1 });
    const homeSsm = region === home ? undefined : otherRegionSsm(home, { endpoint: homeUrl, credentials });
    // Home asks the secondary region whether it followed the last rotation.
    const followerSsm =
      region === home ? otherRegionSsm(secondary, { endpoint: followerUrl ?? secondaryEndpoint.url, credentials }) : undefined;
    return makeHandler(
      keyRingResources({
        ssm,
        homeSsm,
        followerSsm,
        logger,
        environment,
        generate: keys.generate,
        stack: stackInProgress(),
        publicKeys: cloudFront,
      }),
      { logger },
    );
  };

  /** Sends one event of a resource to a region's key ring; returns CloudFormation's answer. */
  async function send(region: string, RequestType: 'Create' | 'Update' | 'Delete', logicalId: string, properties: Record<string, unknown>) {
    const PhysicalResourceId = RequestType === 'Create' ? undefined : `physical-${logicalId}`;
    await handlerIn(
      region,
      logicalId,
      Number(properties.Rotation),
    )(
      makeEvent({
        RequestType,
        PhysicalResourceId,
        StackId: stackId(stage, region),
        LogicalResourceId: logicalId,
        ResourceType: logicalId === 'PhotoUrlSigningKey' ? 'Custom::SigningKey' : 'Custom::KeyRing',
        ResourceProperties: { ServiceToken: 'token', ...properties },
        ResponseURL: cloudFormation.url,
      }),
      context(),
    );
    const answer = cloudFormation.received[cloudFormation.received.length - 1].body;
    // The home stack's CloudFront public keys, which the key pair id published with the photo URL key names.
    if (region === home && logicalId === 'PhotoUrlKeyRing' && answer.Status === 'SUCCESS')
      cloudFront.hold(photoKeyPairId, answer.Data.PublicKey);
    return answer;
  }

  return {
    homeStore,
    secondaryStore,
    logger,
    settingsIn,
    get homeEndpoint() {
      return homeEndpoint;
    },
    setChange(next: typeof change) {
      change = next;
    },
    /** The secondary region stops answering home (a closed port), or answers again. */
    async secondaryDown(down = true) {
      followerUrl = down ? await closedPort() : undefined;
    },
    async start() {
      homeEndpoint = await startSsmEndpoint(homeStore);
      secondaryEndpoint = await startSsmEndpoint(secondaryStore);
      cloudFormation = await startResponseServer();
      homeUrl = homeEndpoint.url;
    },
    async stop() {
      await homeEndpoint.close();
      await secondaryEndpoint.close();
      await cloudFormation.close();
    },
    /** The home region goes down: its endpoint closes, and the port refuses connections. */
    async homeDown() {
      await homeEndpoint.close();
      homeUrl = await closedPort();
    },
    /** The home region answers, but slower than the follower waits. */
    async homeStalled() {
      await homeEndpoint.close();
      homeEndpoint = await startSsmEndpoint(homeStore, { stalled: ['GetParameterHistory', 'GetParameters'] });
      homeUrl = homeEndpoint.url;
    },
    /** The home region answers with another store (one that refuses this caller, say). */
    async homeServes(store: MemoryParameterStore) {
      await homeEndpoint.close();
      homeEndpoint = await startSsmEndpoint(store);
      homeUrl = homeEndpoint.url;
    },
    /** Deploys the JWT ring of `rotation` in a region (Create the first time, then Update). */
    jwt(region: string, RequestType: 'Create' | 'Update', rotation: number) {
      const settings = settingsIn(region);
      settings.jwt.rotation = rotation;
      return send(region, RequestType, 'JwtKeyRing', jwtKeyRingProperties(settings));
    },
    send,
  };
}

const value = (store: MemoryParameterStore, name: string) => store.latest(name)?.value;
/** Secrets are compared by digest: a failed assertion must not print a key. */
const digest = (secret: string | undefined) => secret && createHash('sha256').update(secret).digest('hex');
/** Every labeled key of a store: label and the digest of its bytes. */
const labeledKeys = (store: MemoryParameterStore, name: string) =>
  Object.fromEntries((store.history.get(name) ?? []).flatMap((v) => [...v.labels].map((label) => [label, digest(v.value)])));

describe('follower key ring of prod in ap-southeast-1', () => {
  const regions = twoRegions('prod');
  const root = '/movement-pass/prod';
  const signing = '/movement-pass-signing/prod';
  const jwtStore = '/movement-pass-keys/prod/jwt';
  const photoStore = '/movement-pass-keys/prod/photoUrl';
  const { homeStore, secondaryStore } = regions;

  beforeEach(async () => {
    for (const store of [homeStore, secondaryStore]) store.history.clear();
    regions.setChange(undefined);
    await regions.start();
  });
  afterEach(() => regions.stop());

  const sign = (store: MemoryParameterStore) =>
    new SignJWT({ sub: 'applicant-1' })
      .setProtectedHeader({ alg: 'RS256', kid: value(store, `${root}/jwtKeyId`) })
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(createPrivateKey(value(store, `${signing}/jwtPrivateKey`) as string));
  const verifyWith = (store: MemoryParameterStore, token: string) =>
    jwtVerify(token, createLocalJWKSet(JSON.parse(value(store, `${root}/jwks`) as string) as JSONWebKeySet));

  it('copies the home keys byte for byte under the same labels, encrypted with its own stage key, and publishes what home does', async () => {
    const atHome = await regions.jwt(home, 'Create', 0);

    const followed = await regions.jwt(secondary, 'Create', 0);

    expect(followed.Status, followed.Reason).toBe('SUCCESS');
    expect(followed.Data).toEqual(atHome.Data);
    expect(Object.keys(followed.Data).sort()).toEqual(['Jwks', 'KeyId']);
    expect(labeledKeys(secondaryStore, jwtStore)).toEqual(labeledKeys(homeStore, jwtStore));
    expect(Object.keys(labeledKeys(secondaryStore, jwtStore)).sort()).toEqual(['RS256-k0', 'RS256-k1']);
    for (const name of [`${signing}/jwtPrivateKey`, `${root}/jwtKeyId`, `${root}/jwks`, `${root}/jwtPublicKey`]) {
      expect(digest(value(secondaryStore, name)), name).toBe(digest(value(homeStore, name)));
      expect(secondaryStore.latest(name)?.type).toBe(homeStore.latest(name)?.type);
    }
    expect(secondaryStore.latest(`${signing}/jwtPrivateKey`)?.value?.startsWith('-----BEGIN PRIVATE KEY-----')).toBe(true);
    // Each region's SecureStrings under its own region's stage key.
    expect(secondaryStore.encryptedWith(secondaryStageKeyArn).sort()).toEqual([jwtStore, `${signing}/jwtPrivateKey`].sort());
    expect(secondaryStore.encryptedWith(stageKeyArn)).toEqual([]);
    expect(secondaryStore.encryptedWith(awsManagedKey)).toEqual([]);
    expect(homeStore.encryptedWith(stageKeyArn).sort()).toEqual([jwtStore, `${signing}/jwtPrivateKey`].sort());
  });

  it('signs tokens that verify with the other region’s JWKS, both ways (jose)', async () => {
    await regions.jwt(home, 'Create', 0);
    await regions.jwt(secondary, 'Create', 0);

    const fromHome = await verifyWith(secondaryStore, await sign(homeStore));
    const fromSecondary = await verifyWith(homeStore, await sign(secondaryStore));

    expect(fromHome.payload.sub).toBe('applicant-1');
    expect(fromSecondary.protectedHeader.kid).toBe(value(homeStore, `${root}/jwtKeyId`));
  });

  it('never generates a key and never writes to the home region: a first deploy before home fails, saying to deploy home first', async () => {
    const first = await regions.jwt(secondary, 'Create', 0);

    expect(first).toMatchObject({
      Status: 'FAILED',
      Reason: expect.stringContaining('The home region ap-south-1 has not deployed RS256 rotation 0 yet'),
    });
    expect(first.Reason).toContain('holds no RS256-k1, RS256-k0');
    expect(first.Reason).toContain('Deploy the home region first');
    // Nothing was written anywhere: no key made here, the failed Create removed what it wrote.
    expect([...secondaryStore.history.keys()]).toEqual([]);
    expect([...homeStore.history.keys()]).toEqual([]);
    expect(new Set(regions.homeEndpoint.operations)).toEqual(new Set(['GetParameterHistory']));
  });

  it('rotates home again only once the secondary region followed the last rotation, and not while it cannot tell', async () => {
    await regions.jwt(home, 'Create', 0);
    await regions.jwt(secondary, 'Create', 0);
    const first = await regions.jwt(home, 'Update', 1);
    const writes = regions.homeStore.changes.length;

    const ahead = await regions.jwt(home, 'Update', 2);
    expect(regions.homeStore.changes.length).toBe(writes);
    await regions.jwt(secondary, 'Update', 1);
    await regions.secondaryDown();
    const blind = await regions.jwt(home, 'Update', 2);
    await regions.secondaryDown(false);
    const second = await regions.jwt(home, 'Update', 2);

    expect(first.Status).toBe('SUCCESS');
    expect(ahead).toMatchObject({
      Status: 'FAILED',
      Reason: expect.stringContaining(
        'The secondary region ap-southeast-1 has not followed rotation 1 yet: its key store /movement-pass-keys/prod/jwt lacks RS256-k2',
      ),
    });
    expect(blind).toMatchObject({
      Status: 'FAILED',
      Reason: expect.stringContaining('The secondary region ap-southeast-1 did not answer'),
    });
    expect(second.Status, second.Reason).toBe('SUCCESS');
  });

  it('follows a rotation deployed home first, and refuses one home has not deployed yet', async () => {
    await regions.jwt(home, 'Create', 0);
    await regions.jwt(secondary, 'Create', 0);
    const tokenBefore = await sign(secondaryStore);
    const rotatedAtHome = await regions.jwt(home, 'Update', 1);

    const followed = await regions.jwt(secondary, 'Update', 1);
    const ahead = await regions.jwt(secondary, 'Update', 2);

    expect(followed.Status, followed.Reason).toBe('SUCCESS');
    expect(followed.Data).toEqual(rotatedAtHome.Data);
    expect(labeledKeys(secondaryStore, jwtStore)).toEqual(labeledKeys(homeStore, jwtStore));
    // The previous key still verifies in both regions; the new one signs in both.
    await expect(verifyWith(homeStore, tokenBefore)).resolves.toBeDefined();
    await expect(verifyWith(secondaryStore, await sign(homeStore))).resolves.toBeDefined();
    expect(ahead).toMatchObject({ Status: 'FAILED', Reason: expect.stringContaining('has not deployed RS256 rotation 2 yet') });
    expect(ahead.Reason).toContain('holds no RS256-k3 (its RS256 keys: 0, 1, 2)');
    expect(value(secondaryStore, `${root}/jwtKeyId`)).toBe(rotatedAtHome.Data.KeyId);
  });

  it('rolls a followed rotation back to the keys it had, as home does', async () => {
    await regions.jwt(home, 'Create', 0);
    const before = await regions.jwt(secondary, 'Create', 0);
    await regions.jwt(home, 'Update', 1);
    await regions.jwt(secondary, 'Update', 1);

    // CloudFormation's rollback of the secondary region's deploy: the same resource, rotation 0 again.
    const rolledBack = await regions.jwt(secondary, 'Update', 0);

    expect(rolledBack).toMatchObject({ Status: 'SUCCESS', Data: before.Data });
    expect(value(secondaryStore, `${root}/jwks`)).toBe(before.Data.Jwks);
  });

  it('with the home region down, deploys a rotation it already holds, and fails clearly for a new one', async () => {
    await regions.jwt(home, 'Create', 0);
    const held = await regions.jwt(secondary, 'Create', 0);
    await regions.jwt(home, 'Update', 1);
    await regions.homeDown();
    const writes = secondaryStore.changes.length;

    const started = Date.now();
    const again = await regions.jwt(secondary, 'Update', 0);
    const rotation = await regions.jwt(secondary, 'Update', 1);

    expect(again.Status, again.Reason).toBe('SUCCESS');
    expect(again.Data).toEqual(held.Data);
    expect(secondaryStore.changes.length).toBe(writes);
    expect(regions.logger.lines.join('\n')).toContain('the home region did not answer: publishing the keys this region holds');
    expect(rotation.Status).toBe('FAILED');
    expect(rotation.Reason).toMatch(/^The home region ap-south-1 did not answer \(.*ECONNREFUSED/);
    expect(rotation.Reason).toContain(
      "RS256 rotation 1 needs keys RS256-k2, RS256-k1, RS256-k0, of which this region's key store /movement-pass-keys/prod/jwt holds RS256-k1, RS256-k0",
    );
    expect(rotation.Reason).toContain('Deploy this region once ap-south-1 is back');
    expect(rotation.Reason).toContain('the home region first, if it has not deployed rotation 1 either');
    // A refused connection is an outage at once, not after the timeouts.
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(value(secondaryStore, `${root}/jwtKeyId`)).toBe(held.Data.KeyId);
  });

  it('counts a home region that does not answer in time as down', async () => {
    await regions.jwt(home, 'Create', 0);
    const held = await regions.jwt(secondary, 'Create', 0);
    await regions.homeStalled();

    const started = Date.now();
    const again = await regions.jwt(secondary, 'Update', 0);
    const took = Date.now() - started;

    expect(again.Status, again.Reason).toBe('SUCCESS');
    expect(again.Data).toEqual(held.Data);
    // Two attempts of the request timeout, well within the budget for the whole read.
    expect(took).toBeGreaterThanOrEqual(homeRegionBounds.requestTimeoutMs);
    expect(took).toBeLessThan(homeRegionBounds.budgetMs + 2_000);
  }, 40_000);

  it('fails loudly when the home region refuses it (a misconfiguration, not an outage), even for a rotation it holds', async () => {
    await regions.jwt(home, 'Create', 0);
    await regions.jwt(secondary, 'Create', 0);
    const refusing = new MemoryParameterStore();
    refusing.GetParameterHistory = () => {
      throw Object.assign(
        new Error('User: arn:aws:sts::123456789012:assumed-role/x is not authorized to perform: ssm:GetParameterHistory'),
        {
          name: 'AccessDeniedException',
        },
      );
    };
    await regions.homeServes(refusing);

    const denied = await regions.jwt(secondary, 'Update', 0);

    expect(denied.Status).toBe('FAILED');
    expect(denied.Reason).toContain('Reading the home key store /movement-pass-keys/prod/jwt in ap-south-1 failed: AccessDeniedException');
    expect(denied.Reason).toContain('not an outage');
  });

  it('copies the photo URL keys: the same public keys and, with the id CloudFront gave home, the same signing key', async () => {
    const settings = regions.settingsIn(home);
    const regional = regions.settingsIn(secondary);
    const atHome = await regions.send(home, 'Create', 'PhotoUrlKeyRing', photoUrlKeyRingProperties(settings));
    await regions.send(home, 'Create', 'PhotoUrlSigningKey', photoUrlSigningKeyProperties(settings, 'K2JCJMDEHXQW5F'));

    const ring = await regions.send(secondary, 'Create', 'PhotoUrlKeyRing', photoUrlKeyRingProperties(regional));
    const signingKey = await regions.send(
      secondary,
      'Create',
      'PhotoUrlSigningKey',
      photoUrlSigningKeyProperties(regional, 'K2JCJMDEHXQW5F'),
    );

    expect(ring.Status, ring.Reason).toBe('SUCCESS');
    expect(signingKey.Status, signingKey.Reason).toBe('SUCCESS');
    // Home answers the public keys its CloudFront keys read; the regional template reads none.
    expect(Object.keys(atHome.Data).sort()).toEqual(['NextPublicKey', 'PublicKey']);
    expect(ring.Data ?? {}).toEqual({});
    expect(labeledKeys(secondaryStore, photoStore)).toEqual(labeledKeys(homeStore, photoStore));
    for (const name of [`${root}/photoUrlPublicKeys`, `${signing}/photoUrlPrivateKey`, `${root}/photoUrlKeyPairId`]) {
      expect(digest(value(secondaryStore, name)), name).toBe(digest(value(homeStore, name)));
    }
    expect(secondaryStore.latest(`${signing}/photoUrlPrivateKey`)?.keyId).toBe(secondaryStageKeyArn);
  });

  it('removes nothing on a Delete, in either region', async () => {
    await regions.jwt(home, 'Create', 0);
    await regions.jwt(secondary, 'Create', 0);
    const before = secondaryStore.history.size;

    const deleted = await regions.send(secondary, 'Delete', 'JwtKeyRing', jwtKeyRingProperties(regions.settingsIn(secondary)));

    expect(deleted.Status).toBe('SUCCESS');
    expect(secondaryStore.history.size).toBe(before);
    expect(homeStore.history.size).toBe(before);
  });
});

describe('follower key ring of an opted-in sandbox (bob in ap-southeast-1)', () => {
  const regions = twoRegions('bob', { secondaryRegion: secondary });
  const root = '/movement-pass/bob';
  const signing = '/movement-pass-signing/bob';
  const jwtStore = '/movement-pass-keys/bob/jwt';
  const { homeStore, secondaryStore } = regions;

  beforeEach(async () => {
    for (const store of [homeStore, secondaryStore]) store.history.clear();
    regions.setChange(undefined);
    await regions.start();
  });
  afterEach(() => regions.stop());

  it('HS256: copies the secret byte for byte, publishes the same key id and an empty JWKS, and tokens verify across regions', async () => {
    regions.setChange((settings) => {
      settings.jwt.algorithm = 'HS256';
    });
    const atHome = await regions.jwt(home, 'Create', 0);

    const followed = await regions.jwt(secondary, 'Create', 0);

    expect(followed.Status, followed.Reason).toBe('SUCCESS');
    expect(followed.Data).toEqual(atHome.Data);
    expect(JSON.parse(followed.Data.Jwks)).toEqual({ keys: [] });
    expect(value(secondaryStore, `${root}/jwks`)).toBe('{"keys":[]}');
    const secret = value(secondaryStore, `${signing}/jwtSecret`) as string;
    expect(digest(secret)).toBe(digest(value(homeStore, `${signing}/jwtSecret`)));
    expect(labeledKeys(secondaryStore, jwtStore)).toEqual(labeledKeys(homeStore, jwtStore));
    expect(Object.keys(labeledKeys(secondaryStore, jwtStore)).sort()).toEqual(['HS256-k0', 'HS256-k1']);
    // A sandbox keeps aws/ssm in both regions.
    expect(secondaryStore.encryptedWith(awsManagedKey).sort()).toEqual([jwtStore, `${signing}/jwtSecret`].sort());
    const token = await new SignJWT({ sub: 'applicant-1' })
      .setProtectedHeader({ alg: 'HS256', kid: value(homeStore, `${root}/jwtKeyId`) })
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(value(homeStore, `${signing}/jwtSecret`)));
    await expect(jwtVerify(token, new TextEncoder().encode(secret))).resolves.toBeDefined();
  });

  it('HS256 rotation follows home, and with home down serves the secret it holds', async () => {
    regions.setChange((settings) => {
      settings.jwt.algorithm = 'HS256';
    });
    await regions.jwt(home, 'Create', 0);
    await regions.jwt(secondary, 'Create', 0);
    await regions.jwt(home, 'Update', 1);
    const followed = await regions.jwt(secondary, 'Update', 1);
    await regions.homeDown();

    const again = await regions.jwt(secondary, 'Update', 1);

    expect(followed.Status, followed.Reason).toBe('SUCCESS');
    expect(digest(value(secondaryStore, `${signing}/jwtSecret`))).toBe(digest(value(homeStore, `${signing}/jwtSecret`)));
    expect(again).toMatchObject({ Status: 'SUCCESS', Data: followed.Data });
  });

  it('takes the home key where its own store holds other bytes under the label (home re-created)', async () => {
    await regions.jwt(home, 'Create', 0);
    await regions.jwt(secondary, 'Create', 0);
    // The sandbox's home stack removed and deployed again: new keys under the same labels.
    homeStore.history.clear();
    const recreated = await regions.jwt(home, 'Create', 0);

    const followed = await regions.jwt(secondary, 'Update', 0);

    expect(followed).toMatchObject({ Status: 'SUCCESS', Data: recreated.Data });
    expect(labeledKeys(secondaryStore, jwtStore)).toEqual(labeledKeys(homeStore, jwtStore));
  });

  it('a sandbox Delete removes its own region’s parameters only, never the home store, and needs no home region', async () => {
    await regions.jwt(home, 'Create', 0);
    const homeWrites = () => regions.homeEndpoint.operations.filter((operation) => !operation.startsWith('Get'));
    const writtenByHome = homeWrites().length;
    await regions.jwt(secondary, 'Create', 0);
    const homeBefore = JSON.stringify([...homeStore.history]);
    await regions.homeDown();

    const deleted = await regions.send(secondary, 'Delete', 'JwtKeyRing', jwtKeyRingProperties(regions.settingsIn(secondary)));

    expect(deleted.Status).toBe('SUCCESS');
    expect([...secondaryStore.history.keys()]).toEqual([]);
    expect(JSON.stringify([...homeStore.history])).toBe(homeBefore);
    // The follower only ever read the home region.
    expect(homeWrites()).toHaveLength(writtenByHome);
  });

  it('refuses to follow with a configuration that names a home region but no home key store', async () => {
    await regions.jwt(home, 'Create', 0);
    const environment = keyRingEnvironment('bob', undefined, { secondaryRegion: secondary, region: secondary });
    const plan = JSON.parse(environment.KEY_RING_RESOURCES);
    delete plan.JwtKeyRing.homeKeyStore;
    const server = await startResponseServer();
    const logger = memoryLogger();
    const handler = makeHandler(
      keyRingResources({
        ssm: new SSMClient({ region: secondary, endpoint: 'http://127.0.0.1:1', credentials }),
        logger,
        environment: { ...environment, KEY_RING_RESOURCES: JSON.stringify(plan) },
        stack: stackInProgress(),
        publicKeys: cloudFrontKeys(),
      }),
      { logger },
    );

    await handler(
      makeEvent({
        RequestType: 'Create',
        StackId: stackId('bob', secondary),
        ResourceProperties: jwtKeyRingProperties(regions.settingsIn(secondary)),
        ResponseURL: server.url,
      }),
      context(),
    );

    expect(server.received[0].body).toMatchObject({
      Status: 'FAILED',
      Reason: expect.stringContaining('KEY_RING_HOME_REGION and the home key stores of JwtKeyRing disagree'),
    });
    await server.close();
  });
});
