// A photo URL signed the way consumers sign it (AWS's own CloudFront signer, with the private
// key the key ring wrote to SSM) verifies with the public key handed to CloudFront.
import { createPublicKey, verify } from 'node:crypto';
import { getSignedUrl } from '@aws-sdk/cloudfront-signer';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { keyRing } from '../../handlers/key-ring/key-ring';
import { makeHandler } from '../../handlers/lib/custom-resource';
import { context, fakeParameterStore, makeEvent, memoryLogger, startResponseServer } from './support';

const properties = {
  Algorithm: 'RS256',
  Rotation: '0',
  KeyStoreParameter: '/movement-pass-keys/alice/photoUrl',
  PrivateKeyParameter: '/movement-pass/alice/photoUrlPrivateKey',
  PublicKeysParameter: '/movement-pass/alice/photoUrlPublicKeys',
};

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

  beforeEach(async () => {
    server = await startResponseServer();
    store = fakeParameterStore();
  });
  afterEach(async () => {
    store.mock.restore();
    await server.close();
  });

  it('verify with the public key the key group trusts, and not with another', async () => {
    const handler = makeHandler(keyRing({ ssm: store.ssm, logger: memoryLogger() }), { logger: memoryLogger() });
    await handler(
      makeEvent({ RequestType: 'Create', LogicalResourceId: 'PhotoUrlKeyRing', ResourceProperties: properties, ResponseURL: server.url }),
      context(),
    );
    const { Data } = server.received[0].body;

    const signedUrl = getSignedUrl({
      url: 'https://photos.movement-pass.com/applicants/a-1/photo.jpg',
      keyPairId: 'K2JCJMDEHXQW5F',
      privateKey: store.value(properties.PrivateKeyParameter) as string,
      dateLessThan: new Date(Date.now() + 300_000).toISOString(),
    });

    expect(new URL(signedUrl).searchParams.get('Key-Pair-Id')).toBe('K2JCJMDEHXQW5F');
    expect(cloudFrontAccepts(signedUrl, Data.PublicKey)).toBe(true);
    expect(cloudFrontAccepts(signedUrl.replace('photo.jpg', 'other.jpg'), Data.PublicKey)).toBe(false);
    expect(store.parameters.get(properties.PrivateKeyParameter)?.Type).toBe('SecureString');
  });
});
