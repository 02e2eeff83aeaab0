// Signing keys born inside AWS: generation with Node's crypto, public halves as JWKs (RFC 7517)
// identified by their RFC 7638 thumbprint, through the `jose` library.
import { generateKeyPair, randomBytes, randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { calculateJwkThumbprint, exportJWK, exportSPKI, importJWK, type JWK } from 'jose';

export type SigningAlgorithm = 'RS256' | 'ES256' | 'HS256';
export const signingAlgorithms: readonly SigningAlgorithm[] = ['RS256', 'ES256', 'HS256'];

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

export async function generateSigningKey(algorithm: SigningAlgorithm): Promise<GeneratedKey> {
  if (algorithm === 'HS256') {
    // 256 bits, the HMAC-SHA256 block-strength minimum of RFC 7518 §3.2. The kid is random:
    // nothing derived from the secret is ever published.
    return { algorithm, kid: randomUUID(), secret: randomBytes(32).toString('base64url') };
  }
  const { publicKey, privateKey } =
    algorithm === 'RS256'
      ? await generateKeyPairAsync('rsa', { modulusLength: rsaModulusLength, publicExponent: 0x10001 })
      : await generateKeyPairAsync('ec', { namedCurve: 'P-256' });
  const publicJwk = await toPublicSigningKey(await exportJWK(publicKey), algorithm);
  return {
    algorithm,
    kid: publicJwk.kid,
    secret: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicJwk,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

async function toPublicSigningKey(jwk: JWK, algorithm: SigningAlgorithm): Promise<PublicSigningKey> {
  return { ...jwk, kid: await calculateJwkThumbprint(jwk, 'sha256'), alg: algorithm, use: 'sig' };
}

export async function publicKeyPem(jwk: PublicSigningKey): Promise<string> {
  const key = await importJWK(jwk, jwk.alg, { extractable: true });
  return exportSPKI(key as Parameters<typeof exportSPKI>[0]);
}

/** Parses a stored JWKS, refusing anything that holds private or symmetric material. */
export function parseJwks(text: string): Jwks {
  const parsed = JSON.parse(text) as Jwks;
  if (!Array.isArray(parsed?.keys)) throw new Error('the stored JWKS has no "keys" array');
  for (const key of parsed.keys) {
    if (typeof key.kid !== 'string' || 'd' in key || 'k' in key)
      throw new Error('the stored JWKS holds a key that is not a public signing key');
  }
  return parsed;
}
