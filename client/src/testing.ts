// @movement-pass/foundation-client/testing: a whole stage of the foundation in memory, for the
// tests of the services built on it, offline. Its contract holds every key with a working value
// and keys made for the test (the JWKS verifies what its signing key signs; the photo URL key
// pair matches), and its `ssm` answers the client's own reads as SSM would, so a service's code
// runs unchanged: `loadFoundationConfig({ stage, ssm })`, `loadSigningKeys({ stage, ssm })`.
import { generateKeyPairSync, type KeyObject, randomBytes } from 'node:crypto';
import { GetParametersByPathCommand, GetParametersCommand, type Parameter } from '@aws-sdk/client-ssm';
import { calculateJwkThumbprint, exportJWK } from 'jose';
import { parseContract, type SsmSender } from './config.js';
import {
  type ContractKey,
  contractKeys,
  contractRoot,
  type FoundationConfig,
  type JwtAlgorithm,
  type SigningKeys,
  signingRoot,
} from './contract.js';
import { hs256KeyId } from './key-id.js';
import type { SigningSsmSender } from './signing.js';

export interface TestFoundationOptions {
  /** Default `test`. */
  stage?: string;
  /** The JWT algorithm of the stage; default RS256. */
  algorithm?: JwtAlgorithm;
  /** Contract values to use instead of the examples (`jwksUrl`, `photoBaseUrl` of a local server, say). */
  values?: Partial<Record<ContractKey, string>>;
}

export interface TestFoundation {
  stage: string;
  /** The contract, as `loadFoundationConfig` answers it. */
  config: FoundationConfig;
  /** The signing keys, as `loadSigningKeys` answers them. */
  signingKeys: SigningKeys;
  /** The photo URL key's public half, for a test that plays CloudFront. */
  photoUrlPublicKey: KeyObject;
  /** Answers `GetParametersByPath` of the contract root and `GetParameters` of the signing root, as SSM does. */
  ssm: SsmSender & SigningSsmSender;
}

const pem = (key: KeyObject, type: 'pkcs8' | 'spki') => key.export({ type, format: 'pem' }).toString();

async function jwtKeys(algorithm: JwtAlgorithm) {
  if (algorithm === 'HS256') {
    const jwtSecret = randomBytes(32).toString('base64url');
    return { kid: hs256KeyId(jwtSecret), jwks: { keys: [] }, signing: { jwtSecret } };
  }
  const pair =
    algorithm === 'RS256' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = await exportJWK(pair.publicKey);
  const kid = await calculateJwkThumbprint(jwk);
  return {
    kid,
    jwks: { keys: [{ ...jwk, kid, alg: algorithm, use: 'sig' }] },
    publicKey: pem(pair.publicKey, 'spki'),
    signing: { jwtPrivateKey: pem(pair.privateKey, 'pkcs8') },
  };
}

/** A stage of the foundation in memory, with keys made for it. */
export async function createTestFoundation(options: TestFoundationOptions = {}): Promise<TestFoundation> {
  const stage = options.stage ?? 'test';
  const algorithm = options.algorithm ?? 'RS256';
  const jwt = await jwtKeys(algorithm);
  const photo = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const values = new Map<string, string>(
    (Object.entries(contractKeys) as [ContractKey, { example: string }][]).map(([key, declaration]) => [key, declaration.example]),
  );
  values.set('stage', stage);
  values.set('jwtAlgorithm', algorithm);
  values.set('jwtKeyId', jwt.kid);
  values.set('jwks', JSON.stringify(jwt.jwks));
  if (jwt.publicKey) values.set('jwtPublicKey', jwt.publicKey);
  else values.delete('jwtPublicKey');
  values.set(
    'photoUrlPublicKeys',
    JSON.stringify({ keys: [{ kid: 'test-photo-url-key', ...(photo.publicKey.export({ format: 'jwk' }) as object) }] }),
  );
  for (const [key, value] of Object.entries(options.values ?? {})) if (value !== undefined) values.set(key, value);

  const contract = contractRoot(stage);
  const signing = signingRoot(stage);
  const parameters = new Map<string, Parameter>([
    ...[...values].map(([key, value]): [string, Parameter] => [contract + key, { Name: contract + key, Type: 'String', Value: value }]),
    ...Object.entries({ ...jwt.signing, photoUrlPrivateKey: pem(photo.privateKey, 'pkcs8') }).map(([key, value]): [string, Parameter] => [
      signing + key,
      { Name: signing + key, Type: 'SecureString', Value: value },
    ]),
  ]);

  const ssm = {
    async send(command: GetParametersByPathCommand | GetParametersCommand) {
      if (command instanceof GetParametersByPathCommand) {
        const path = `${command.input.Path}/`;
        return {
          Parameters: [...parameters.values()].filter((parameter) => parameter.Name?.startsWith(path) && parameter.Type === 'String'),
        };
      }
      if (command instanceof GetParametersCommand) {
        const names = command.input.Names ?? [];
        return {
          Parameters: names.flatMap((name) => (parameters.has(name) ? [parameters.get(name) as Parameter] : [])),
          InvalidParameters: names.filter((name) => !parameters.has(name)),
        };
      }
      throw new Error(
        `The test foundation answers GetParametersByPath and GetParameters only, not ${(command as object).constructor.name}`,
      );
    },
  } as SsmSender & SigningSsmSender;

  return {
    stage,
    config: parseContract(values, { path: contract }).config,
    signingKeys: Object.freeze({ ...jwt.signing, photoUrlPrivateKey: pem(photo.privateKey, 'pkcs8') }),
    photoUrlPublicKey: photo.publicKey,
    ssm,
  };
}
