// A signing key ring kept in SSM: the current private key (SecureString) and the public keys
// still trusted (current plus the one before the last rotation) as a JWKS. Used for the JWT
// keys and for the CloudFront URL-signing keys. Create and Update make the latest parameter
// versions hold the ring of the asked (algorithm, rotation) pair, generating it only the first
// time; Delete removes what it wrote, except on a stage that keeps its keys (`Retain`).
import {
  DeleteParametersCommand,
  GetParametersCommand,
  LabelParameterVersionCommand,
  PutParameterCommand,
  type SSMClient,
} from '@aws-sdk/client-ssm';
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
  /** 'true' on stages that keep their keys: a Delete then removes nothing. */
  Retain?: string;
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
  // Bounded so the SSM label `<algorithm>-r<rotation>` stays within its 100 characters.
  if (!/^\d{1,9}$/.test(String(properties.Rotation ?? ''))) problems.push('Rotation must be a whole number below 10^9');
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

/**
 * The SSM label on every parameter version written for one (algorithm, rotation) pair. A ring is
 * a function of that pair: the first time a pair is asked for, its key is generated; every later
 * time (an update rolled back, a rotation reverted, a Lambda retry, a retained stage re-created)
 * the same versions are restored, so published public keys never change under a template.
 */
export const ringLabel = (properties: Pick<KeyRingProperties, 'Algorithm' | 'Rotation'>) =>
  `${properties.Algorithm}-r${properties.Rotation}`;

/** Parameter values and versions, by parameter name. */
type Stored = Map<string, { value: string; version?: number }>;

interface Ring {
  algorithm: SigningAlgorithm;
  kid: string;
  jwks: Jwks;
  secret: string;
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

  /** The ring's parameters, latest or those labeled `label`, by parameter name. */
  async function readValues(properties: KeyRingProperties, label?: string): Promise<Stored> {
    const names = writtenNames(properties).map((name) => (label ? `${name}:${label}` : name));
    const { Parameters = [] } = await ssm.send(new GetParametersCommand({ Names: names, WithDecryption: true }));
    // SSM answers a `name:label` selector under the bare name; parameter names hold no colon.
    return new Map(
      Parameters.map((parameter) => [
        (parameter.Name ?? '').replace(/:.*$/, ''),
        { value: parameter.Value ?? '', version: parameter.Version },
      ]),
    );
  }

  function ringFrom(properties: KeyRingProperties, stored: Stored): Ring | undefined {
    const jwksText = stored.get(properties.PublicKeysParameter)?.value;
    const secret = stored.get(properties.PrivateKeyParameter)?.value;
    if (jwksText === undefined || secret === undefined) return undefined;
    const jwks = parseJwks(jwksText);
    const kid = (properties.KeyIdParameter && stored.get(properties.KeyIdParameter)?.value) || jwks.keys[0]?.kid;
    return kid ? { algorithm: properties.Algorithm, kid, jwks, secret } : undefined;
  }

  /** Generates the key of a new pair; the key that signed until now stays trusted until the next rotation. */
  async function generateRing(properties: KeyRingProperties, previous: Ring | undefined): Promise<Ring> {
    const key = await generate(properties.Algorithm);
    // A symmetric secret is never published, so an HS256 ring publishes nothing.
    const carried = previous?.jwks.keys.filter((candidate) => candidate.kid === previous.kid) ?? [];
    const jwks: Jwks = { keys: key.publicJwk ? [key.publicJwk, ...carried] : [] };
    logger.info('generated a signing key', { algorithm: key.algorithm, kid: key.kid, trusted: jwks.keys.map((k) => k.kid) });
    return { algorithm: properties.Algorithm, kid: key.kid, jwks, secret: key.secret };
  }

  /**
   * Makes the latest versions hold `ring`, labeled with its pair. Public keys first, the private
   * key last, so verifiers trust a key before anyone signs with it. A parameter whose latest
   * version already carries the pair's label is left alone; any other gets a new version, so a
   * label never shares a version with another pair's (SSM allows 10 labels per version).
   */
  async function writeRing(properties: KeyRingProperties, ring: Ring, latest: Stored, labeled: Stored): Promise<void> {
    const current = ring.jwks.keys.find((key) => key.kid === ring.kid);
    const values: [string | undefined, string | undefined, 'String' | 'SecureString', string][] = [
      [properties.PublicKeysParameter, JSON.stringify(ring.jwks), 'String', 'JWKS of the trusted public signing keys'],
      [properties.PublicKeyParameter, current && (await publicKeyPem(current)), 'String', 'Current public signing key (PEM)'],
      [properties.KeyIdParameter, ring.kid, 'String', 'Id (kid) of the current signing key'],
      [properties.PrivateKeyParameter, ring.secret, 'SecureString', `Current ${properties.Algorithm} signing key`],
    ];
    for (const [name, value, type, description] of values) {
      if (!name || value === undefined) continue;
      const latestVersion = latest.get(name)?.version;
      if (latestVersion !== undefined && latestVersion === labeled.get(name)?.version) continue;
      const { Version } = await ssm.send(
        new PutParameterCommand({ Name: name, Value: value, Type: type, Overwrite: true, Description: description }),
      );
      const { InvalidLabels = [] } = await ssm.send(
        new LabelParameterVersionCommand({ Name: name, ParameterVersion: Version, Labels: [ringLabel(properties)] }),
      );
      if (InvalidLabels.length) throw new Error(`SSM refused the label ${InvalidLabels.join(', ')} on ${name}`);
    }
  }

  async function deleteParameters(names: string[]): Promise<void> {
    // DeleteParameters reports missing names instead of failing, so deleting twice is harmless.
    if (names.length) await ssm.send(new DeleteParametersCommand({ Names: names }));
  }

  /**
   * The ring of the asked pair: restored if it was ever written, generated otherwise. The key
   * that signed until now (`previous`, else whatever the parameters hold) stays trusted.
   */
  async function ensureRing(properties: KeyRingProperties, previous: Ring | undefined): Promise<{ ring: Ring; latest: Stored }> {
    const [labeled, latest] = await Promise.all([readValues(properties, ringLabel(properties)), readValues(properties)]);
    const restored = ringFrom(properties, labeled);
    if (restored)
      logger.info('keys of this algorithm and rotation exist: keeping them', { label: ringLabel(properties), kid: restored.kid });
    const ring = restored ?? (await generateRing(properties, previous ?? ringFrom(properties, latest)));
    await writeRing(properties, ring, latest, labeled);
    return { ring, latest };
  }

  async function onCreate(properties: KeyRingProperties): Promise<Ring> {
    let latest: Stored = new Map();
    try {
      latest = await readValues(properties);
      return (await ensureRing(properties, undefined)).ring;
    } catch (error) {
      // A failed Create is answered with a marker id whose Delete does nothing: remove what this
      // Create started, never parameters that were there before it (a retained stage's keys).
      await deleteParameters(writtenNames(properties).filter((name) => !latest.has(name))).catch(() => undefined);
      throw error;
    }
  }

  async function onUpdate(properties: KeyRingProperties, old: KeyRingProperties): Promise<Ring> {
    // The pair being left, as it was written: a rollback of it must find it intact. Parameters
    // only the old pair used are removed by CloudFormation's cleanup Delete (a new physical id).
    const previous = ringFrom(old, await readValues(old, ringLabel(old))) ?? ringFrom(old, await readValues(old));
    return (await ensureRing(properties, previous)).ring;
  }

  /**
   * Removes the ring's parameters, except one a newer ring has written since (a parameter shared
   * across an algorithm switch), and nothing at all where the stage keeps its keys.
   */
  async function onDelete(properties: KeyRingProperties): Promise<void> {
    if (properties.Retain === 'true') {
      logger.info('this stage keeps its keys: nothing removed');
      return;
    }
    const [labeled, latest] = await Promise.all([readValues(properties, ringLabel(properties)), readValues(properties)]);
    const overwritten = (name: string) => labeled.has(name) && labeled.get(name)?.version !== latest.get(name)?.version;
    await deleteParameters(writtenNames(properties).filter((name) => latest.has(name) && !overwritten(name)));
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
      if (properties) await onDelete(properties);
      return { physicalResourceId: event.PhysicalResourceId };
    }
    const properties = readProperties(event.ResourceProperties);
    const ring =
      event.RequestType === 'Create' ? await onCreate(properties) : await onUpdate(properties, readProperties(event.OldResourceProperties));
    return { physicalResourceId: physicalId(properties), data: await publicData(ring) };
  };
}

/**
 * The parameters a ring writes name it. When they change (an algorithm switch from or to HS256),
 * the new id makes CloudFormation send the old ring a Delete in its cleanup phase, after the
 * update succeeded and never on rollback, so a rolled-back switch still finds its keys.
 */
export const physicalId = (properties: KeyRingProperties): string => writtenNames(properties).join(',');
