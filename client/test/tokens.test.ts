// Tokens from createTokenSigner checked by jose against the stage's JWKS, and createTokenVerifier
// checked on tokens jose signed on its own; the JWKS served by a local HTTP server for jwksUrl.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLocalJWKSet, decodeProtectedHeader, importPKCS8, jwtVerify, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseContract } from '../src/config';
import { contractRoot, type FoundationConfig, type JwtAlgorithm } from '../src/contract';
import { hs256KeyId } from '../src/key-id';
import { createTokenSigner, createTokenVerifier } from '../src/tokens';
import { contractValues, generateStageKeys, type StageKeys } from './stage-fixture';

const configOf = (keys: StageKeys, jwksUrl?: string): FoundationConfig =>
  parseContract(contractValues(keys, { jwksUrl }), { path: contractRoot('prod') }).config;

let served: StageKeys['jwks'] = { keys: [] };
let jwksRequests = 0;
const jwksServer = createServer((_, response) => {
  jwksRequests++;
  response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(served));
});
let jwksUrl = '';
beforeAll(async () => {
  await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
  jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/foundation/.well-known/jwks.json`;
});
afterAll(() => new Promise<void>((resolve) => jwksServer.close(() => resolve())));

describe.each(['RS256', 'ES256'] as JwtAlgorithm[])('%s tokens', (algorithm) => {
  let keys: StageKeys;
  beforeAll(async () => {
    keys = await generateStageKeys(algorithm);
  });

  it('signs tokens that jose verifies with the JWKS, with the contract kid, issuer, audience and lifetime', async () => {
    const config = configOf(keys);
    const signer = await createTokenSigner(config, { jwtPrivateKey: keys.jwtPrivateKey });

    const token = await signer.sign({ sub: 'applicant-42', role: 'applicant' });

    const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(keys.jwks as never), {
      algorithms: [algorithm],
      issuer: 'https://public-api.movement-pass.com',
      audience: 'https://movement-pass.com',
    });
    expect(protectedHeader).toEqual({ alg: algorithm, kid: keys.kid, typ: 'JWT' });
    expect(payload).toMatchObject({ sub: 'applicant-42', role: 'applicant' });
    expect(payload.exp! - payload.iat!).toBe(3600);
  });

  it('verifies with the contract JWKS a token jose signed with the private key, and refuses another audience', async () => {
    const config = configOf(keys);
    const privateKey = await importPKCS8(keys.jwtPrivateKey!, algorithm);
    const signed = (audience: string) =>
      new SignJWT({ sub: 'officer-1' })
        .setProtectedHeader({ alg: algorithm, kid: keys.kid })
        .setIssuer(config.jwtIssuer)
        .setAudience(audience)
        .setExpirationTime('5m')
        .sign(privateKey);

    const verifier = createTokenVerifier(config);

    expect((await verifier.verify(await signed(config.jwtAudience))).payload.sub).toBe('officer-1');
    await expect(verifier.verify(await signed('https://elsewhere.example'))).rejects.toThrow(/aud/);
  });

  it('verifies against the JWKS served at jwksUrl, and refuses a token whose kid it does not serve', async () => {
    const config = configOf(keys, jwksUrl);
    const signer = await createTokenSigner(config, { jwtPrivateKey: keys.jwtPrivateKey });
    const token = await signer.sign({ sub: 'applicant-7' });
    served = keys.jwks;
    const before = jwksRequests;

    expect((await createTokenVerifier(config, { keys: 'jwksUrl' }).verify(token)).payload.sub).toBe('applicant-7');
    expect(jwksRequests).toBeGreaterThan(before);

    served = { keys: [] };
    await expect(createTokenVerifier(config, { keys: 'jwksUrl' }).verify(token)).rejects.toThrow(/no applicable key found/i);
  });
});

describe('HS256 tokens', () => {
  it('name the secret by an HMAC-SHA256 of a fixed string under it (the key ring publishes it as jwtKeyId)', () => {
    // printf 'movement-pass key id' | openssl dgst -sha256 -hmac 'an HS256 secret' -binary | base64 (url-safe, unpadded)
    expect(hs256KeyId('an HS256 secret')).toBe('dim43HoTbGK8ORjfT_V9sniBwXyFtsUPdQ4vbAHl524');
    expect(hs256KeyId('another secret')).not.toBe(hs256KeyId('an HS256 secret'));
  });

  it('sign and verify with the secret, whose JWKS is empty', async () => {
    const keys = await generateStageKeys('HS256');
    const config = configOf(keys);
    const signer = await createTokenSigner(config, { jwtSecret: keys.jwtSecret });

    const token = await signer.sign({ sub: 'applicant-1' });

    expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'HS256', kid: config.jwtKeyId });
    const independent = await jwtVerify(token, new TextEncoder().encode(keys.jwtSecret), { audience: config.jwtAudience });
    expect(independent.payload.sub).toBe('applicant-1');
    expect((await createTokenVerifier(config, { signingKeys: { jwtSecret: keys.jwtSecret } }).verify(token)).payload.sub).toBe(
      'applicant-1',
    );
    expect(() => createTokenVerifier(config)).toThrow(/pass signingKeys.jwtSecret/);
  });

  it('says which key a signer lacks', async () => {
    const keys = await generateStageKeys('RS256');
    await expect(createTokenSigner(configOf(keys), { photoUrlPrivateKey: keys.photoUrlPrivateKey })).rejects.toThrow(
      /Signing RS256 tokens needs jwtPrivateKey/,
    );
  });
});
