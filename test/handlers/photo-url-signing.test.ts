// Photo URLs signed the way consumers sign them (AWS's own CloudFront signer, with the private
// key and key pair id the custom resources wrote to SSM) verify with the public keys handed to
// CloudFront, across a rotation too.
import { createPublicKey, verify } from 'node:crypto';
import { getSignedUrl } from '@aws-sdk/cloudfront-signer';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { keyRingResources } from '../../handlers/key-ring/index';
import { makeHandler } from '../../handlers/lib/custom-resource';
import { context, fakeParameterStore, makeEvent, memoryLogger, startResponseServer } from './support';

const root = '/movement-pass/alice';
const photoKey = (rotation: number) => ({
  Algorithm: 'RS256',
  Rotation: String(rotation),
  KeyStoreParameter: '/movement-pass-keys/alice/photoUrl',
});
const ring = (rotation: number) => ({ ...photoKey(rotation), PublicKeysParameter: `${root}/photoUrlPublicKeys` });
const signingKey = (rotation: number, keyId: string) => ({
  ...photoKey(rotation),
  PrivateKeyParameter: `${root}/photoUrlPrivateKey`,
  KeyIdParameter: `${root}/photoUrlKeyPairId`,
  KeyId: keyId,
});

/** CloudFront's check of a canned-policy signature: RSA-SHA1 over the policy, URL-safe base64. */
function cloudFrontAccepts(signedUrl: string, publicKeyPem: string): boolean {
  const url = new URL(signedUrl);
  const expires = url.searchParams.get('Expires');
  const signature = (url.searchParams.get('Signature') ?? '').replace(/-/g, '+').replace(/_/g, '=').replace(/~/g, '/');
  const resource = `${url.origin}${url.pathname}`;
  const policy = `{"Statement":[{"Resource":"${resource}","Condition":{"DateLessThan":{"AWS:EpochTime":${expires}}}}]}`;
  return verify('RSA-SHA1', Buffer.from(policy), createPublicKey(publicKeyPem), Buffer.from(signature, 'base64'));
}

describe('signed photo URLs', () => {
  let server: Awaited<ReturnType<typeof startResponseServer>>;
  let store: ReturnType<typeof fakeParameterStore>;
  let handler: ReturnType<typeof makeHandler>;

  beforeEach(async () => {
    server = await startResponseServer();
    store = fakeParameterStore();
    handler = makeHandler(keyRingResources({ ssm: store.ssm, logger: memoryLogger() }), { logger: memoryLogger() });
  });
  afterEach(async () => {
    store.mock.restore();
    await server.close();
  });

  const send = async (RequestType: string, ResourceType: string, ResourceProperties: object, OldResourceProperties?: object) => {
    const LogicalResourceId = ResourceType === 'Custom::KeyRing' ? 'PhotoUrlKeyRing' : 'PhotoUrlSigningKey';
    const PhysicalResourceId = RequestType === 'Create' ? undefined : 'existing';
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
    return server.received[server.received.length - 1].body;
  };
  const signPhoto = () =>
    getSignedUrl({
      url: 'https://photos.movement-pass.com/applicants/a-1/photo.jpg',
      keyPairId: store.value(`${root}/photoUrlKeyPairId`) as string,
      privateKey: store.value(`${root}/photoUrlPrivateKey`) as string,
      dateLessThan: new Date(Date.now() + 300_000).toISOString(),
    });

  it('verify with the public key the key group trusts, under the key pair id published with the key', async () => {
    const { Data } = await send('Create', 'Custom::KeyRing', ring(0));
    const published = await send('Create', 'Custom::SigningKey', signingKey(0, 'K-ROTATION-0'));

    const signedUrl = signPhoto();

    expect(published).toMatchObject({ Status: 'SUCCESS', Data: { KeyId: 'K-ROTATION-0' } });
    expect(new URL(signedUrl).searchParams.get('Key-Pair-Id')).toBe('K-ROTATION-0');
    expect(cloudFrontAccepts(signedUrl, Data.PublicKey)).toBe(true);
    expect(cloudFrontAccepts(signedUrl, Data.NextPublicKey)).toBe(false);
    expect(cloudFrontAccepts(signedUrl.replace('photo.jpg', 'other.jpg'), Data.PublicKey)).toBe(false);
    expect(store.parameters.get(`${root}/photoUrlPrivateKey`)?.Type).toBe('SecureString');
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
    expect(store.parameters.has(`${root}/photoUrlPrivateKey`)).toBe(false);
  });

  it('removes what it published in a sandbox, and nothing on a kept stage', async () => {
    await send('Create', 'Custom::KeyRing', ring(0));
    await send('Create', 'Custom::SigningKey', { ...signingKey(0, 'K0'), Retain: 'true' });

    await send('Delete', 'Custom::SigningKey', { ...signingKey(0, 'K0'), Retain: 'true' });
    expect(store.parameters.has(`${root}/photoUrlPrivateKey`)).toBe(true);

    await send('Delete', 'Custom::SigningKey', signingKey(0, 'K0'));
    expect(store.parameters.has(`${root}/photoUrlPrivateKey`)).toBe(false);
    expect(store.parameters.has(`${root}/photoUrlKeyPairId`)).toBe(false);
  });
});
