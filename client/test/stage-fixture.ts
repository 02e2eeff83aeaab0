// A deployed stage as SSM would hold it: every contract key with a real value (keys generated
// here with Node's crypto, their public halves as JWKS through jose), and the signing root.
import { generateKeyPairSync, type KeyObject, randomBytes } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK } from 'jose';
import type { MemoryParameterStore } from '../../test/handlers/support';
import { type ContractKey, contractKeys, contractRoot, type JwtAlgorithm, signingRoot } from '../src/contract';
import { hs256KeyId } from '../src/key-id';

export interface StageKeys {
  algorithm: JwtAlgorithm;
  kid: string;
  jwks: { keys: Record<string, unknown>[] };
  jwtPrivateKey?: string;
  jwtSecret?: string;
  jwtPublicKey?: KeyObject;
  photoUrlPrivateKey: string;
  photoUrlPublicKey: KeyObject;
}

export async function generateStageKeys(algorithm: JwtAlgorithm = 'RS256'): Promise<StageKeys> {
  const photo = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const photoKeys = {
    photoUrlPrivateKey: photo.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    photoUrlPublicKey: photo.publicKey,
  };
  if (algorithm === 'HS256') {
    const jwtSecret = randomBytes(32).toString('base64url');
    return { algorithm, kid: hs256KeyId(jwtSecret), jwks: { keys: [] }, jwtSecret, ...photoKeys };
  }
  const pair =
    algorithm === 'RS256' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = await exportJWK(pair.publicKey);
  const kid = await calculateJwkThumbprint(jwk);
  return {
    algorithm,
    kid,
    jwks: { keys: [{ ...jwk, kid, alg: algorithm, use: 'sig' }] },
    jwtPrivateKey: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    jwtPublicKey: pair.publicKey,
    ...photoKeys,
  };
}

export interface StageOptions {
  stage?: string;
  jwksUrl?: string;
  photoBaseUrl?: string;
  customDomain?: boolean;
}

/** The contract values of a stage (prod-like with a custom domain), as SSM strings. */
export function contractValues(keys: StageKeys, options: StageOptions = {}): Map<ContractKey, string> {
  const stage = options.stage ?? 'prod';
  const values = new Map<ContractKey, string>(
    (Object.entries(contractKeys) as [ContractKey, { example: string }][]).map(([key, declaration]) => [key, declaration.example]),
  );
  values.set('stage', stage);
  values.set('jwtAlgorithm', keys.algorithm);
  values.set('jwtKeyId', keys.kid);
  values.set('jwks', JSON.stringify(keys.jwks));
  values.set('photoUrlPublicKeys', JSON.stringify({ keys: [{ kty: 'RSA', kid: 'photo-1', ...exportRsa(keys.photoUrlPublicKey) }] }));
  values.set('photoUrlKeyPairId', 'K2JCJMDEHXQW5F');
  if (keys.jwtPublicKey) values.set('jwtPublicKey', keys.jwtPublicKey.export({ type: 'spki', format: 'pem' }).toString());
  else values.delete('jwtPublicKey');
  if (options.jwksUrl) values.set('jwksUrl', options.jwksUrl);
  if (options.photoBaseUrl) values.set('photoBaseUrl', options.photoBaseUrl);
  if (options.customDomain === false) {
    values.delete('clientCertificateArn');
    values.delete('serverCertificateArn');
  }
  return values;
}

const exportRsa = (key: KeyObject) => key.export({ format: 'jwk' }) as Record<string, unknown>;

/** Writes a whole stage, contract root and signing root, into the store. */
export function seedStage(store: MemoryParameterStore, keys: StageKeys, options: StageOptions = {}): Map<ContractKey, string> {
  const stage = options.stage ?? 'prod';
  const values = contractValues(keys, options);
  for (const [key, value] of values) store.PutParameter({ Name: contractRoot(stage) + key, Value: value, Type: 'String' });
  for (const key of ['jwtPrivateKey', 'jwtSecret', 'photoUrlPrivateKey'] as const) {
    const value = keys[key];
    if (value) store.PutParameter({ Name: signingRoot(stage) + key, Value: value, Type: 'SecureString' });
  }
  return values;
}
