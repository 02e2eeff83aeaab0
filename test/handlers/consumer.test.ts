// The contract as its consumers use it on a shared stage: a verifier loads the whole contract
// root and cannot decrypt the signing keys; a signer reads its key from the signing root. Tokens
// and photo URLs signed with the signing root's keys verify with what the contract publishes.
import { createPrivateKey } from 'node:crypto';
import { getSignedUrl } from '@aws-sdk/cloudfront-signer';
import { createLocalJWKSet, type JSONWebKeySet, jwtVerify, SignJWT } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { keyRingResources } from '../../handlers/key-ring/index';
import { makeHandler } from '../../handlers/lib/custom-resource';
import {
  awsManagedKey,
  cloudFrontAccepts,
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

const keys = keyPool();
beforeEach(() => keys.reset());

interface Caller {
  canDecrypt: (keyId: string) => boolean;
}

const root = '/movement-pass/prod';
const signing = '/movement-pass-signing/prod';
const photoKey = { Algorithm: 'RS256', Rotation: '0', KeyStoreParameter: '/movement-pass-keys/prod/photoUrl' };

describe('consumers of a shared stage', () => {
  let server: Awaited<ReturnType<typeof startResponseServer>>;
  let store: ReturnType<typeof fakeParameterStore>;
  let photoRing: Record<string, any>;

  beforeEach(async () => {
    server = await startResponseServer();
    store = fakeParameterStore();
    const cloudFront = cloudFrontKeys();
    const handler = makeHandler(
      keyRingResources({
        ssm: store.ssm,
        logger: memoryLogger(),
        environment: keyRingEnvironment('prod'),
        generate: keys.generate,
        stack: stackInProgress('CREATE_IN_PROGRESS'),
        publicKeys: cloudFront,
      }),
      { logger: memoryLogger() },
    );
    const create = async (LogicalResourceId: string, ResourceType: string, ResourceProperties: object) => {
      await handler(
        makeEvent({
          RequestType: 'Create',
          StackId: stackId('prod'),
          LogicalResourceId,
          ResourceType,
          ResourceProperties,
          ResponseURL: server.url,
        }),
        context(),
      );
      const response = server.received[server.received.length - 1].body;
      expect(response.Status, response.Reason).toBe('SUCCESS');
      return response;
    };
    await create('JwtKeyRing', 'Custom::KeyRing', {
      Algorithm: 'RS256',
      Rotation: '0',
      KeyStoreParameter: '/movement-pass-keys/prod/jwt',
      PrivateKeyParameter: `${signing}/jwtPrivateKey`,
      PublicKeysParameter: `${root}/jwks`,
      PublicKeyParameter: `${root}/jwtPublicKey`,
      KeyIdParameter: `${root}/jwtKeyId`,
    });
    photoRing = await create('PhotoUrlKeyRing', 'Custom::KeyRing', { ...photoKey, PublicKeysParameter: `${root}/photoUrlPublicKeys` });
    // The stack's CloudFront public key of rotation 0, made from the ring's answer.
    cloudFront.hold('K2JCJMDEHXQW5F', photoRing.Data.PublicKey);
    await create('PhotoUrlSigningKey', 'Custom::SigningKey', {
      ...photoKey,
      PrivateKeyParameter: `${signing}/photoUrlPrivateKey`,
      KeyIdParameter: `${root}/photoUrlKeyPairId`,
      KeyId: 'K2JCJMDEHXQW5F',
    });
  });
  afterEach(async () => {
    store.mock.restore();
    await server.close();
  });

  /** A service that may use aws/ssm but not the stage key: any verifier. */
  const verifier: Caller = { canDecrypt: (keyId) => keyId === awsManagedKey };
  /** A signer named in the signers of team.json. */
  const signer: Caller = { canDecrypt: (keyId) => keyId === awsManagedKey || keyId === stageKeyArn };
  const load = (path: string, caller: Caller) =>
    Object.fromEntries(store.store.GetParametersByPath({ Path: path }, caller).Parameters.map((p) => [p.Name.split('/').pop(), p.Value]));

  it('lets a verifier load the whole contract root with decryption, and not the signing root', () => {
    const contract = load(root, verifier);

    expect(Object.keys(contract).sort()).toEqual(['jwks', 'jwtKeyId', 'jwtPublicKey', 'photoUrlKeyPairId', 'photoUrlPublicKeys']);
    expect(JSON.stringify(contract)).not.toContain('PRIVATE KEY');
    expect(() => load(signing, verifier)).toThrow(/AccessDeniedException|not allowed to decrypt/);
  });

  it('verifies a JWT signed with the signing root key against the JWKS of the contract root', async () => {
    const { jwtPrivateKey } = load(signing, signer);
    const contract = load(root, verifier);

    const token = await new SignJWT({ sub: 'applicant-1' })
      .setProtectedHeader({ alg: 'RS256', kid: contract.jwtKeyId })
      .setIssuer('https://public-api.movement-pass.com')
      .setAudience('https://movement-pass.com')
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(createPrivateKey(jwtPrivateKey));
    const { payload } = await jwtVerify(token, createLocalJWKSet(JSON.parse(contract.jwks) as JSONWebKeySet), {
      issuer: 'https://public-api.movement-pass.com',
      audience: 'https://movement-pass.com',
    });

    expect(payload.sub).toBe('applicant-1');
  });

  it('signs a photo URL with the signing root key that the CloudFront public key verifies', () => {
    const { photoUrlPrivateKey } = load(signing, signer);
    const contract = load(root, verifier);

    const signedUrl = getSignedUrl({
      url: 'https://photos.movement-pass.com/applicants/a-1/photo.jpg',
      keyPairId: contract.photoUrlKeyPairId,
      privateKey: photoUrlPrivateKey,
      dateLessThan: new Date(Date.now() + 300_000).toISOString(),
    });

    expect(new URL(signedUrl).searchParams.get('Key-Pair-Id')).toBe('K2JCJMDEHXQW5F');
    // The PEM the template hands CloudFront (AWS::CloudFront::PublicKey EncodedKey).
    expect(cloudFrontAccepts(signedUrl, photoRing.Data.PublicKey)).toBe(true);
    expect(cloudFrontAccepts(signedUrl, photoRing.Data.NextPublicKey)).toBe(false);
  });
});
