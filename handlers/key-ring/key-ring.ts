// A signing key ring kept in SSM: the current private key (SecureString) and the public keys
// still trusted (current plus the one before the last rotation) as a JWKS. Used for the JWT
// keys and for the CloudFront URL-signing keys. Create generates; Update keeps the keys unless
// the rotation counter or the algorithm changed; Delete removes every parameter it wrote
// (a shared stage's DeletionPolicy Retain means CloudFormation never asks it to).
import { DeleteParametersCommand, GetParametersCommand, PutParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import type { CustomResourceEvent, CustomResourceResult, Logger } from '../lib/custom-resource';
import {
  type GeneratedKey,
  generateSigningKey,
  type Jwks,
  parseJwks,
  publicKeyPem,
  type SigningAlgorithm,
  signingAlgorithms,
} from '../lib/signing-keys';

/** The custom resource's properties, as CloudFormation sends them (every value a string). */
export interface KeyRingProperties {
  Algorithm: SigningAlgorithm;
  /** Raised by one to rotate. */
  Rotation: string;
  /** SecureString: the PKCS#8 PEM private key, or the HS256 secret. */
  PrivateKeyParameter: string;
  /** String: the JWKS of the trusted public keys, also the ring's state between deploys. */
  PublicKeysParameter: string;
  /** String, optional: the current public key as PEM (not written for HS256). */
  PublicKeyParameter?: string;
  /** String, optional (required for HS256): the current key id. */
  KeyIdParameter?: string;
}

export interface KeyRingDeps {
  ssm: Pick<SSMClient, 'send'>;
  logger: Logger;
  generate?: (algorithm: SigningAlgorithm) => Promise<GeneratedKey>;
}

const parameterName = /^\/[A-Za-z0-9_.\-/]{1,1010}$/;

export function readProperties(raw: Record<string, unknown> | undefined): KeyRingProperties {
  const properties = (raw ?? {}) as Partial<Record<keyof KeyRingProperties, unknown>>;
  const problems: string[] = [];
  if (!signingAlgorithms.includes(properties.Algorithm as SigningAlgorithm)) {
    problems.push(`Algorithm must be one of ${signingAlgorithms.join(', ')} (got ${JSON.stringify(properties.Algorithm)})`);
  }
  if (!/^\d+$/.test(String(properties.Rotation ?? ''))) problems.push('Rotation must be a whole number');
  for (const key of ['PrivateKeyParameter', 'PublicKeysParameter'] as const) {
    if (!parameterName.test(String(properties[key] ?? ''))) problems.push(`${key} must be an SSM parameter name starting with /`);
  }
  for (const key of ['PublicKeyParameter', 'KeyIdParameter'] as const) {
    if (properties[key] !== undefined && !parameterName.test(String(properties[key]))) {
      problems.push(`${key} must be an SSM parameter name starting with /`);
    }
  }
  if (properties.Algorithm === 'HS256' && properties.KeyIdParameter === undefined) {
    problems.push('KeyIdParameter is required with HS256 (the JWKS holds no symmetric key to name it)');
  }
  if (problems.length) throw new Error(`Invalid key ring properties: ${problems.join('; ')}`);
  return properties as KeyRingProperties;
}

const writtenNames = (properties: KeyRingProperties): string[] =>
  [properties.PublicKeysParameter, properties.PublicKeyParameter, properties.KeyIdParameter, properties.PrivateKeyParameter].filter(
    (name): name is string => name !== undefined,
  );

interface Ring {
  algorithm: SigningAlgorithm;
  kid: string;
  jwks: Jwks;
}

/** Only public values: CloudFormation shows them in the console and templates read them. */
async function publicData(ring: Ring): Promise<Record<string, string>> {
  const [current, previous] = ring.jwks.keys;
  const publicKey = current && current.kid === ring.kid ? await publicKeyPem(current) : '';
  return {
    Algorithm: ring.algorithm,
    KeyId: ring.kid,
    Jwks: JSON.stringify(ring.jwks),
    PublicKey: publicKey,
    PreviousKeyId: previous?.kid ?? ring.kid,
    // A template that declares a "previous" key slot (CloudFront's key group) needs a key in it
    // even before any rotation happened: the current key stands in.
    PreviousPublicKey: previous ? await publicKeyPem(previous) : publicKey,
  };
}

export function keyRing(deps: KeyRingDeps) {
  const { ssm, logger } = deps;
  const generate = deps.generate ?? generateSigningKey;

  async function readRing(properties: KeyRingProperties): Promise<Ring | undefined> {
    const names = [properties.PublicKeysParameter, properties.KeyIdParameter].filter((name): name is string => name !== undefined);
    const { Parameters = [] } = await ssm.send(new GetParametersCommand({ Names: names }));
    const value = (name?: string) => Parameters.find((parameter) => parameter.Name === name)?.Value;
    const jwksText = value(properties.PublicKeysParameter);
    if (jwksText === undefined) return undefined;
    const jwks = parseJwks(jwksText);
    const kid = value(properties.KeyIdParameter) ?? jwks.keys[0]?.kid;
    return kid ? { algorithm: properties.Algorithm, kid, jwks } : undefined;
  }

  async function put(name: string, value: string, type: 'String' | 'SecureString', description: string): Promise<void> {
    await ssm.send(new PutParameterCommand({ Name: name, Value: value, Type: type, Overwrite: true, Description: description }));
  }

  async function deleteParameters(names: string[]): Promise<void> {
    // DeleteParameters reports missing names instead of failing, so deleting twice is harmless.
    if (names.length) await ssm.send(new DeleteParametersCommand({ Names: names }));
  }

  /** Generates a key and writes the ring: public keys first, so verifiers trust a key before anyone signs with it. */
  async function rotate(properties: KeyRingProperties, previous: Ring | undefined): Promise<Ring> {
    const key = await generate(properties.Algorithm);
    // The overlap window: the key that signed until now stays trusted until the next rotation.
    // A symmetric secret is never published, so an HS256 ring publishes nothing.
    const carried = previous?.jwks.keys.filter((candidate) => candidate.kid === previous.kid) ?? [];
    const jwks: Jwks = { keys: key.publicJwk ? [key.publicJwk, ...carried] : [] };
    await put(properties.PublicKeysParameter, JSON.stringify(jwks), 'String', 'JWKS of the trusted public signing keys');
    if (properties.PublicKeyParameter && key.publicKeyPem) {
      await put(properties.PublicKeyParameter, key.publicKeyPem, 'String', 'Current public signing key (PEM)');
    }
    if (properties.KeyIdParameter) await put(properties.KeyIdParameter, key.kid, 'String', 'Id (kid) of the current signing key');
    await put(properties.PrivateKeyParameter, key.secret, 'SecureString', `Current ${properties.Algorithm} signing key`);
    logger.info('generated a signing key', { algorithm: key.algorithm, kid: key.kid, trusted: jwks.keys.map((k) => k.kid) });
    return { algorithm: properties.Algorithm, kid: key.kid, jwks };
  }

  async function onCreate(properties: KeyRingProperties): Promise<Ring> {
    try {
      return await rotate(properties, undefined);
    } catch (error) {
      // A failed Create is answered with a marker id whose Delete does nothing: clean up here.
      await deleteParameters(writtenNames(properties)).catch(() => undefined);
      throw error;
    }
  }

  async function onUpdate(properties: KeyRingProperties, old: KeyRingProperties): Promise<Ring> {
    const existing = await readRing(old);
    const rotationAsked =
      properties.Rotation !== old.Rotation ||
      properties.Algorithm !== old.Algorithm ||
      properties.PrivateKeyParameter !== old.PrivateKeyParameter;
    let ring: Ring;
    if (existing && !rotationAsked) {
      ring = existing;
      // A newly asked optional parameter gets the current value; the keys stay as they are.
      if (properties.KeyIdParameter && properties.KeyIdParameter !== old.KeyIdParameter) {
        await put(properties.KeyIdParameter, ring.kid, 'String', 'Id (kid) of the current signing key');
      }
      if (properties.PublicKeyParameter && properties.PublicKeyParameter !== old.PublicKeyParameter) {
        const current = ring.jwks.keys.find((key) => key.kid === ring.kid);
        if (current) await put(properties.PublicKeyParameter, await publicKeyPem(current), 'String', 'Current public signing key (PEM)');
      }
    } else {
      if (!existing) logger.info('no stored key ring found: generating a new one');
      ring = await rotate(properties, existing);
    }
    const stillWritten = new Set(writtenNames(properties));
    await deleteParameters(writtenNames(old).filter((name) => !stillWritten.has(name)));
    return ring;
  }

  return async function onEvent(event: CustomResourceEvent): Promise<CustomResourceResult> {
    if (event.RequestType === 'Delete') {
      // Whatever the properties say, a Delete must succeed; nothing is written without valid ones.
      let properties: KeyRingProperties | undefined;
      try {
        properties = readProperties(event.ResourceProperties);
      } catch {
        logger.info('delete with invalid properties: nothing to remove');
      }
      if (properties) await deleteParameters(writtenNames(properties));
      return { physicalResourceId: event.PhysicalResourceId };
    }
    const properties = readProperties(event.ResourceProperties);
    // The ring is named by its JWKS parameter, which never changes for a stage: a new physical id
    // would make CloudFormation delete the "old" ring, parameters shared with the new one included.
    const physicalResourceId = properties.PublicKeysParameter;
    const ring =
      event.RequestType === 'Create' ? await onCreate(properties) : await onUpdate(properties, readProperties(event.OldResourceProperties));
    return { physicalResourceId, data: await publicData(ring) };
  };
}
