// Photo URLs signed the way consumers sign them (AWS's own CloudFront signer, with the private
// key and key pair id the custom resources wrote to SSM) verify with the public keys handed to
// CloudFront, across a rotation too.
import { getSignedUrl } from '@aws-sdk/cloudfront-signer';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { keyRingResources } from '../../handlers/key-ring/index';
import { makeHandler } from '../../handlers/lib/custom-resource';
import {
  cloudFrontAccepts,
  cloudFrontKeys,
  context,
  fakeParameterStore,
  keyPool,
  keyRingEnvironment,
  makeEvent,
  memoryLogger,
  stackInProgress,
  startResponseServer,
} from './support';

const keys = keyPool();
beforeEach(() => keys.reset());

const root = '/movement-pass/alice';
const signing = '/movement-pass-signing/alice';
const photoKey = (rotation: number) => ({
  Algorithm: 'RS256',
  Rotation: String(rotation),
  KeyStoreParameter: '/movement-pass-keys/alice/photoUrl',
});
const ring = (rotation: number) => ({ ...photoKey(rotation), PublicKeysParameter: `${root}/photoUrlPublicKeys` });
const signingKey = (rotation: number, keyId: string) => ({
  ...photoKey(rotation),
  PrivateKeyParameter: `${signing}/photoUrlPrivateKey`,
  KeyIdParameter: `${root}/photoUrlKeyPairId`,
  KeyId: keyId,
});

describe('signed photo URLs', () => {
  let server: Awaited<ReturnType<typeof startResponseServer>>;
  let store: ReturnType<typeof fakeParameterStore>;
  let handler: ReturnType<typeof makeHandler>;
  let environment: Record<string, string>;
  let cloudFront: ReturnType<typeof cloudFrontKeys>;

  beforeEach(async () => {
    server = await startResponseServer();
    store = fakeParameterStore();
    environment = keyRingEnvironment('alice');
    cloudFront = cloudFrontKeys();
    handler = makeHandler(
      keyRingResources({
        ssm: store.ssm,
        logger: memoryLogger(),
        environment,
        generate: keys.generate,
        stack: stackInProgress(),
        publicKeys: cloudFront,
      }),
      { logger: memoryLogger() },
    );
  });
  afterEach(async () => {
    store.mock.restore();
    await server.close();
  });

  const send = async (
    RequestType: string,
    ResourceType: string,
    ResourceProperties: { Rotation: string },
    OldResourceProperties?: object,
  ) => {
    const LogicalResourceId = ResourceType === 'Custom::KeyRing' ? 'PhotoUrlKeyRing' : 'PhotoUrlSigningKey';
    const PhysicalResourceId = RequestType === 'Create' ? undefined : 'existing';
    const rotation = Number(ResourceProperties.Rotation);
    // The function as a deploy of this rotation configures it, before its resources.
    Object.assign(
      environment,
      keyRingEnvironment('alice', (settings) => Object.assign(settings.photos, { keyRotation: rotation })),
    );
    await handler(
      makeEvent({
        RequestType,
        ResourceType,
        LogicalResourceId,
        PhysicalResourceId,
        ResourceProperties,
        OldResourceProperties,
        ResponseURL: server.url,
      }),
      context(),
    );
    const answer = server.received[server.received.length - 1].body;
    // What the stack then makes of a ring's answer: CloudFront public keys of this rotation and the next.
    if (ResourceType === 'Custom::KeyRing' && answer.Status === 'SUCCESS') {
      cloudFront.hold(`K-ROTATION-${rotation}`, answer.Data.PublicKey);
      cloudFront.hold(`K-ROTATION-${rotation + 1}`, answer.Data.NextPublicKey);
    }
    return answer;
  };
  const signPhoto = () =>
    getSignedUrl({
      url: 'https://photos.movement-pass.com/applicants/a-1/photo.jpg',
      keyPairId: store.value(`${root}/photoUrlKeyPairId`) as string,
      privateKey: store.value(`${signing}/photoUrlPrivateKey`) as string,
      dateLessThan: new Date(Date.now() + 300_000).toISOString(),
    });

  it('verify with the public key the key group trusts, under the key pair id published with the key', async () => {
    const { Data } = await send('Create', 'Custom::KeyRing', ring(0));
    const published = await send('Create', 'Custom::SigningKey', signingKey(0, 'K-ROTATION-0'));

    const signedUrl = signPhoto();

    expect(published).toMatchObject({ Status: 'SUCCESS', Data: {} });
    expect(new URL(signedUrl).searchParams.get('Key-Pair-Id')).toBe('K-ROTATION-0');
    expect(cloudFrontAccepts(signedUrl, Data.PublicKey)).toBe(true);
    expect(cloudFrontAccepts(signedUrl, Data.NextPublicKey)).toBe(false);
    expect(cloudFrontAccepts(signedUrl.replace('photo.jpg', 'other.jpg'), Data.PublicKey)).toBe(false);
    expect(store.parameters.get(`${signing}/photoUrlPrivateKey`)?.Type).toBe('SecureString');
  });

  it('signs after a rotation with the key CloudFront was given as next a deploy before', async () => {
    const before = await send('Create', 'Custom::KeyRing', ring(0));
    await send('Create', 'Custom::SigningKey', signingKey(0, 'K-ROTATION-0'));

    await send('Update', 'Custom::KeyRing', ring(1), ring(0));
    await send('Update', 'Custom::SigningKey', signingKey(1, 'K-ROTATION-1'), signingKey(0, 'K-ROTATION-0'));

    expect(cloudFrontAccepts(signPhoto(), before.Data.NextPublicKey)).toBe(true);
    expect(store.value(`${root}/photoUrlKeyPairId`)).toBe('K-ROTATION-1');
  });

  it('refuses to publish a key the ring never made', async () => {
    const response = await send('Create', 'Custom::SigningKey', signingKey(4, 'K-ROTATION-4'));

    expect(response).toMatchObject({ Status: 'FAILED', Reason: expect.stringContaining('no RS256 key of rotation 4') });
    expect(store.parameters.has(`${signing}/photoUrlPrivateKey`)).toBe(false);
  });

  it('refuses to publish a key pair id CloudFront does not hold, or one holding another key, writing nothing', async () => {
    await send('Create', 'Custom::KeyRing', ring(0));

    const unknown = await send('Create', 'Custom::SigningKey', signingKey(0, 'K-FORGED'));
    const other = await send('Create', 'Custom::SigningKey', signingKey(0, 'K-ROTATION-1'));

    expect(unknown).toMatchObject({ Status: 'FAILED', Reason: expect.stringContaining('CloudFront has no public key K-FORGED') });
    expect(other).toMatchObject({
      Status: 'FAILED',
      Reason: expect.stringContaining("The CloudFront public key K-ROTATION-1 is not the key ring's RS256 key of rotation 0"),
    });
    expect(store.parameters.has(`${signing}/photoUrlPrivateKey`)).toBe(false);
    expect(store.parameters.has(`${root}/photoUrlKeyPairId`)).toBe(false);
  });

  it('removes what it published when the sandbox goes, and only that', async () => {
    await send('Create', 'Custom::KeyRing', ring(0));
    await send('Create', 'Custom::SigningKey', signingKey(0, 'K-ROTATION-0'));

    const removed = await send('Delete', 'Custom::SigningKey', signingKey(0, 'K-ROTATION-0'));

    expect(removed.Status).toBe('SUCCESS');
    expect(store.parameters.has(`${signing}/photoUrlPrivateKey`)).toBe(false);
    expect(store.parameters.has(`${root}/photoUrlKeyPairId`)).toBe(false);
    // The ring's own: its store and the public keys stay until the ring goes.
    expect(store.parameters.has('/movement-pass-keys/alice/photoUrl')).toBe(true);
    expect(store.parameters.has(`${root}/photoUrlPublicKeys`)).toBe(true);
  });
});
