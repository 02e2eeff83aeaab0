// Signing keys born inside AWS: generation with Node's crypto, public halves as JWKs (RFC 7517)
// identified by their RFC 7638 thumbprint, through the `jose` library.
import { createPrivateKey, createPublicKey, generateKeyPair, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { calculateJwkThumbprint, exportJWK, type JWK } from 'jose';
// The consumer client's derivation, so `sls verify` checks a loaded secret against the very id this publishes.
import { type JwtAlgorithm, jwtAlgorithms } from '../../client/src/contract';
import { hs256KeyId } from '../../client/src/key-id';

// The algorithms are the contract's (client/src/contract.ts), declared once.
export type SigningAlgorithm = JwtAlgorithm;
export const signingAlgorithms: readonly SigningAlgorithm[] = jwtAlgorithms;

export interface PublicSigningKey extends JWK {
  kid: string;
  alg: string;
  use: 'sig';
}

export interface GeneratedKey {
  algorithm: SigningAlgorithm;
  kid: string;
  /** PKCS#8 PEM of an asymmetric key, or the base64url HS256 secret. Never logged, never returned. */
  secret: string;
  /** Undefined for HS256: a symmetric secret has no public half. */
  publicJwk?: PublicSigningKey;
  publicKeyPem?: string;
}

export interface Jwks {
  keys: PublicSigningKey[];
}

const generateKeyPairAsync = promisify(generateKeyPair);

/** RSA modulus size: 2048 bits is what CloudFront accepts and RS256 requires at least. */
export const rsaModulusLength = 2048;

/** A new secret of the algorithm: PKCS#8 PEM of an asymmetric key, or a base64url HS256 secret. */
export async function generateSecret(algorithm: SigningAlgorithm): Promise<string> {
  // 256 bits: the HMAC-SHA256 minimum of RFC 7518 §3.2.
  if (algorithm === 'HS256') return randomBytes(32).toString('base64url');
  const { privateKey } =
    algorithm === 'RS256'
      ? await generateKeyPairAsync('rsa', { modulusLength: rsaModulusLength, publicExponent: 0x10001 })
      : await generateKeyPairAsync('ec', { namedCurve: 'P-256' });
  return privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** Everything public about a stored secret: its key id and, for an asymmetric key, its public half. */
export async function describeKey(algorithm: SigningAlgorithm, secret: string): Promise<GeneratedKey> {
  if (algorithm === 'HS256') {
    return { algorithm, kid: hs256KeyId(secret), secret };
  }
  const publicKey = createPublicKey(createPrivateKey(secret));
  const publicJwk = await toPublicSigningKey(await exportJWK(publicKey), algorithm);
  return { algorithm, kid: publicJwk.kid, secret, publicJwk, publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

export async function generateSigningKey(algorithm: SigningAlgorithm): Promise<GeneratedKey> {
  return describeKey(algorithm, await generateSecret(algorithm));
}

async function toPublicSigningKey(jwk: JWK, algorithm: SigningAlgorithm): Promise<PublicSigningKey> {
  return { ...jwk, kid: await calculateJwkThumbprint(jwk, 'sha256'), alg: algorithm, use: 'sig' };
}
