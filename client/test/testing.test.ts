// @movement-pass/foundation-client/testing: what a service author's tests use, offline. The
// double answers the client's own calls, so the service's code runs unchanged; its keys work
// end to end (tokens verify through the contract's JWKS, its endpoint, or the HS256 secret).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { cloudFrontAccepts } from '../../test/handlers/support';
import { createTokenSigner, createTokenVerifier, loadFoundationConfig, loadSigningKeys, signPhotoUrl } from '../src/index';
import { createTestFoundation } from '../src/testing';

describe('createTestFoundation', () => {
  it('answers loadFoundationConfig and loadSigningKeys as SSM would, the whole contract typed', async () => {
    const foundation = await createTestFoundation({ stage: 'orders-test' });

    const config = await loadFoundationConfig({ stage: 'orders-test', ssm: foundation.ssm, cache: false });
    const keys = await loadSigningKeys({ stage: 'orders-test', ssm: foundation.ssm });

    expect(config).toEqual(foundation.config);
    expect(config.stage).toBe('orders-test');
    expect(keys).toEqual(foundation.signingKeys);
    expect(JSON.stringify(config)).not.toContain('PRIVATE KEY');
    await expect(loadFoundationConfig({ stage: 'other', ssm: foundation.ssm, cache: false })).rejects.toMatchObject({
      code: 'FOUNDATION_KEYS_MISSING',
    });
  });

  it.each(['RS256', 'ES256', 'HS256'] as const)('signs %s tokens that the verifier of a consumer accepts', async (algorithm) => {
    const { config, signingKeys } = await createTestFoundation({ algorithm });
    const token = await (await createTokenSigner(config, signingKeys)).sign({ sub: 'applicant-1' });

    const verifier = createTokenVerifier(config, algorithm === 'HS256' ? { signingKeys } : {});

    await expect(verifier.verify(token)).resolves.toMatchObject({ payload: { sub: 'applicant-1' } });
    await expect(verifier.verify(`${token.slice(0, -4)}AAAA`)).rejects.toThrow();
  });

  describe("with the JWKS served at the contract's jwksUrl", () => {
    let served = '{"keys":[]}';
    let requests = 0;
    const server = createServer((_, response) => {
      requests += 1;
      response.writeHead(200, { 'content-type': 'application/json' }).end(served);
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it("lets a verifier in 'jwksUrl' mode fetch the keys from the endpoint", async () => {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
      const { config, signingKeys } = await createTestFoundation({ values: { jwksUrl: url } });
      served = JSON.stringify(config.jwks);
      const token = await (await createTokenSigner(config, signingKeys)).sign({ sub: 'applicant-2' });

      await expect(createTokenVerifier(config, { keys: 'jwksUrl' }).verify(token)).resolves.toMatchObject({
        payload: { sub: 'applicant-2' },
      });
      expect(requests).toBe(1);
    });
  });

  it('signs photo URLs with a key whose public half it gives, as CloudFront would hold it', async () => {
    const { config, signingKeys, photoUrlPublicKey } = await createTestFoundation();

    const url = signPhotoUrl(config, signingKeys, 'applicants/a-1/photo.jpg', { expiresIn: 60 });

    const publicPem = photoUrlPublicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(cloudFrontAccepts(url, publicPem)).toBe(true);
    expect(new URL(url).searchParams.get('Key-Pair-Id')).toBe(config.photoUrlKeyPairId);
  });
});
