// The signing keys, for the services that sign: read by name from the signing root, so a signer
// allowed only one of them (the login service the JWT key, the photo service the URL key) asks for that one.
import { GetParametersCommand, type Parameter, SSMClient } from '@aws-sdk/client-ssm';
import { resolveRegion } from './config.js';
import { type SigningKeys, signingRoot } from './contract.js';
import { FoundationConfigError } from './errors.js';

export interface SigningSsmSender {
  send(command: GetParametersCommand): Promise<{ Parameters?: Parameter[]; InvalidParameters?: string[] }>;
}

export type SigningUse = 'jwt' | 'photoUrl';

export interface LoadSigningKeysOptions {
  stage: string;
  region?: string;
  ssm?: SigningSsmSender;
  /** Which keys to load; default both. */
  use?: readonly SigningUse[];
}

/**
 * The signing keys of a stage, decrypted: `jwtPrivateKey` (RS256, ES256) or `jwtSecret` (HS256),
 * and `photoUrlPrivateKey`. Not cached: a signer keeps the result for as long as it wants.
 */
export async function loadSigningKeys(options: LoadSigningKeysOptions): Promise<SigningKeys> {
  const use = options.use ?? ['jwt', 'photoUrl'];
  const path = signingRoot(options.stage);
  const names = [
    ...(use.includes('jwt') ? ['jwtPrivateKey', 'jwtSecret'] : []),
    ...(use.includes('photoUrl') ? ['photoUrlPrivateKey'] : []),
  ];
  if (names.length === 0) throw new FoundationConfigError('FOUNDATION_INVALID_ARGUMENT', 'use must name "jwt", "photoUrl" or both.');
  const ssm = options.ssm ?? new SSMClient({ region: resolveRegion(options.region) });
  const { Parameters = [] } = await ssm.send(new GetParametersCommand({ Names: names.map((name) => path + name), WithDecryption: true }));
  const keys: Record<string, string> = {};
  for (const parameter of Parameters) {
    if (parameter.Name?.startsWith(path) && parameter.Value) keys[parameter.Name.slice(path.length)] = parameter.Value;
  }
  const missing = [
    ...(use.includes('jwt') && !keys.jwtPrivateKey && !keys.jwtSecret ? ['jwtPrivateKey or jwtSecret'] : []),
    ...(use.includes('photoUrl') && !keys.photoUrlPrivateKey ? ['photoUrlPrivateKey'] : []),
  ];
  if (missing.length > 0) {
    throw new FoundationConfigError(
      'FOUNDATION_SIGNING_KEYS_MISSING',
      `The signing root ${path} lacks ${missing.join(', ')}. Check the stage and region, and that the stage is deployed.`,
      { path, keys: missing },
    );
  }
  return Object.freeze(keys);
}
