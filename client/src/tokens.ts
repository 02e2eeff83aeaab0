// JWTs on `jose`, with everything the contract decides (algorithm, kid, issuer, audience,
// lifetime) taken from it, so signers and verifiers cannot disagree.
import { createLocalJWKSet, createRemoteJWKSet, importPKCS8, type JWTPayload, type JWTVerifyResult, jwtVerify, SignJWT } from 'jose';
import type { FoundationConfig, JwtAlgorithm, SigningKeys } from './contract.js';
import { FoundationConfigError } from './errors.js';

type TokenConfig = Pick<FoundationConfig, 'jwtAlgorithm' | 'jwtKeyId' | 'jwtIssuer' | 'jwtAudience' | 'jwtExpire' | 'jwks' | 'jwksUrl'>;

export interface TokenSigner {
  /** A signed JWT with the claims given (`sub` at least) and the contract's iss, aud, iat, exp and kid. */
  sign(claims: JWTPayload & { sub: string }, options?: { expiresIn?: string | number }): Promise<string>;
}

export interface TokenVerifier {
  /** The token's payload and header, once signature, algorithm, issuer, audience and lifetime are checked. */
  verify(token: string): Promise<JWTVerifyResult>;
}

/** HS256 keys are the secret's UTF-8 bytes, as `jsonwebtoken` and most HMAC libraries read a string secret. */
const hmacKey = (secret: string) => new TextEncoder().encode(secret);

function signingKeyFor(config: TokenConfig, keys: SigningKeys): Promise<Parameters<SignJWT['sign']>[0]> {
  if (config.jwtAlgorithm === 'HS256') {
    if (!keys.jwtSecret) throw missingKey('jwtSecret', config.jwtAlgorithm);
    return Promise.resolve(hmacKey(keys.jwtSecret));
  }
  if (!keys.jwtPrivateKey) throw missingKey('jwtPrivateKey', config.jwtAlgorithm);
  return importPKCS8(keys.jwtPrivateKey, config.jwtAlgorithm);
}

const missingKey = (key: string, algorithm: JwtAlgorithm) =>
  new FoundationConfigError('FOUNDATION_SIGNING_KEYS_MISSING', `Signing ${algorithm} tokens needs ${key}: load it with loadSigningKeys.`, {
    keys: [key],
  });

export async function createTokenSigner(config: TokenConfig, keys: SigningKeys): Promise<TokenSigner> {
  const key = await signingKeyFor(config, keys);
  return {
    sign: (claims, options = {}) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: config.jwtAlgorithm, kid: config.jwtKeyId, typ: 'JWT' })
        .setIssuer(config.jwtIssuer)
        .setAudience(config.jwtAudience)
        .setIssuedAt()
        .setExpirationTime(options.expiresIn ?? config.jwtExpire)
        .sign(key),
  };
}

export interface VerifierOptions {
  /**
   * Where the public keys come from: `contract` (default) the `jwks` value loaded with the config,
   * `jwksUrl` the JWKS endpoint (fetched and cached by `jose`, refetched for an unknown kid).
   */
  keys?: 'contract' | 'jwksUrl';
  /** HS256 only: the secret, since a symmetric key is never published. */
  signingKeys?: SigningKeys;
  /** Seconds of clock skew tolerated on exp/nbf/iat. Default 30. */
  clockTolerance?: number;
}

export function createTokenVerifier(config: TokenConfig, options: VerifierOptions = {}): TokenVerifier {
  const checks = {
    algorithms: [config.jwtAlgorithm],
    issuer: config.jwtIssuer,
    audience: config.jwtAudience,
    clockTolerance: options.clockTolerance ?? 30,
  };
  if (config.jwtAlgorithm === 'HS256') {
    const secret = options.signingKeys?.jwtSecret;
    if (!secret) {
      throw new FoundationConfigError(
        'FOUNDATION_SIGNING_KEYS_MISSING',
        'HS256 tokens verify with the secret (the JWKS is empty): pass signingKeys.jwtSecret from loadSigningKeys.',
        { keys: ['jwtSecret'] },
      );
    }
    const key = hmacKey(secret);
    return { verify: (token) => jwtVerify(token, key, checks) };
  }
  const keySet =
    options.keys === 'jwksUrl'
      ? createRemoteJWKSet(new URL(config.jwksUrl))
      : createLocalJWKSet(config.jwks as unknown as Parameters<typeof createLocalJWKSet>[0]);
  return { verify: (token) => jwtVerify(token, keySet, checks) };
}
