// A signing key ring kept in SSM, used for the JWT keys and for the CloudFront URL-signing keys.
// Every key is stored once, in a key store parameter outside the contract root, as a version
// labeled with its algorithm and rotation number (`RS256-k3`). The ring of rotation N is the
// window of keys N-1, N and N+1: N signs, N+1 is published one deploy before it signs (so a
// rotation never signs with a key verifiers do not know yet), N-1 stays trusted for tokens
// signed before the last rotation. The contract parameters (private key, JWKS, public key, key
// id) are written from the window. Because keys are looked up by label, a rolled-back or
// reverted rotation, a Lambda retry or a re-created retained stage gets exactly the same keys.
import {
  DeleteParametersCommand,
  GetParametersCommand,
  LabelParameterVersionCommand,
  PutParameterCommand,
  type SSMClient,
  UnlabelParameterVersionCommand,
} from '@aws-sdk/client-ssm';
import { type CustomResourceEvent, type CustomResourceResult, type Logger, propertiesToDelete } from '../lib/custom-resource';
import { describeKey, type GeneratedKey, generateSecret, type Jwks, type SigningAlgorithm, signingAlgorithms } from '../lib/signing-keys';

/** The custom resource's properties, as CloudFormation sends them (every value a string). */
export interface KeyRingProperties {
  Algorithm: SigningAlgorithm;
  /** Raised by one to rotate. */
  Rotation: string;
  /** SecureString outside the contract root: every key of the ring, one labeled version each. */
  KeyStoreParameter: string;
  /**
   * SecureString, optional: the current PKCS#8 PEM private key, or the HS256 secret. Left out
   * where a signing key resource publishes it together with an id the ring cannot know.
   */
  PrivateKeyParameter?: string;
  /** String: the JWKS of the trusted public keys (previous, current, next); empty for HS256. */
  PublicKeysParameter: string;
  /** String, optional: the current public key as PEM (not written for HS256). */
  PublicKeyParameter?: string;
  /** String, optional: the current key id. */
  KeyIdParameter?: string;
  /** 'true' on stages that keep their keys: a Delete then removes nothing. */
  Retain?: string;
}

export interface KeyRingDeps {
  ssm: Pick<SSMClient, 'send'>;
  logger: Logger;
  generate?: (algorithm: SigningAlgorithm) => Promise<string>;
}

/** What SSM accepts as a parameter name, as far as these resources use them. */
export const parameterName = /^\/[A-Za-z0-9_.\-/]{1,1010}$/;

export function readProperties(raw: Record<string, unknown> | undefined): KeyRingProperties {
  const properties = (raw ?? {}) as Partial<Record<keyof KeyRingProperties, unknown>>;
  const problems: string[] = [];
  if (!signingAlgorithms.includes(properties.Algorithm as SigningAlgorithm)) {
    problems.push(`Algorithm must be one of ${signingAlgorithms.join(', ')} (got ${JSON.stringify(properties.Algorithm)})`);
  }
  // Bounded so the SSM label `<algorithm>-k<rotation>` stays well within its 100 characters.
  if (!/^\d{1,9}$/.test(String(properties.Rotation ?? ''))) problems.push('Rotation must be a whole number below 10^9');
  for (const key of ['KeyStoreParameter', 'PublicKeysParameter'] as const) {
    if (!parameterName.test(String(properties[key] ?? ''))) problems.push(`${key} must be an SSM parameter name starting with /`);
  }
  for (const key of ['PrivateKeyParameter', 'PublicKeyParameter', 'KeyIdParameter'] as const) {
    if (properties[key] !== undefined && !parameterName.test(String(properties[key]))) {
      problems.push(`${key} must be an SSM parameter name starting with /`);
    }
  }
  if (problems.length) throw new Error(`Invalid key ring properties: ${problems.join('; ')}`);
  return properties as KeyRingProperties;
}

/** The contract parameters a ring writes from its window (the key store aside). */
const outputNames = (properties: KeyRingProperties): string[] =>
  [properties.PublicKeysParameter, properties.PublicKeyParameter, properties.KeyIdParameter, properties.PrivateKeyParameter].filter(
    (name): name is string => name !== undefined,
  );

/** The label of key `rotation` of an algorithm in the key store. */
export const keyLabel = (algorithm: SigningAlgorithm, rotation: number) => `${algorithm}-k${rotation}`;

/** One stored key: its secret and the store version that holds it. */
export async function readStoredKey(
  ssm: Pick<SSMClient, 'send'>,
  keyStore: string,
  algorithm: SigningAlgorithm,
  rotation: number,
): Promise<{ secret: string; version?: number } | undefined> {
  const { Parameters = [] } = await ssm.send(
    new GetParametersCommand({ Names: [`${keyStore}:${keyLabel(algorithm, rotation)}`], WithDecryption: true }),
  );
  const [found] = Parameters;
  return found?.Value === undefined ? undefined : { secret: found.Value, version: found.Version };
}

/** The ring's keys: previous (absent at rotation 0), current, next. */
interface Window {
  previous?: GeneratedKey;
  current: GeneratedKey;
  next: GeneratedKey;
}

const publicKeys = (window: Window): Jwks => ({
  keys: [window.current, window.next, window.previous].flatMap((key) => (key?.publicJwk ? [key.publicJwk] : [])),
});

/** Only public values: CloudFormation shows them in the console and templates read them. */
function publicData(window: Window): Record<string, string> {
  return {
    Algorithm: window.current.algorithm,
    KeyId: window.current.kid,
    Jwks: JSON.stringify(publicKeys(window)),
    PublicKey: window.current.publicKeyPem ?? '',
    NextPublicKey: window.next.publicKeyPem ?? '',
    PreviousPublicKey: window.previous?.publicKeyPem ?? '',
  };
}

export function keyRing(deps: KeyRingDeps) {
  const { ssm, logger } = deps;
  const generate = deps.generate ?? generateSecret;

  /** Latest values of parameters, by name (missing ones absent). */
  async function readLatest(names: string[]): Promise<Map<string, string>> {
    const { Parameters = [] } = await ssm.send(new GetParametersCommand({ Names: names, WithDecryption: true }));
    return new Map(Parameters.map((parameter) => [parameter.Name ?? '', parameter.Value ?? '']));
  }

  const readKey = (properties: KeyRingProperties, rotation: number) =>
    readStoredKey(ssm, properties.KeyStoreParameter, properties.Algorithm, rotation);

  async function storeKey(properties: KeyRingProperties, rotation: number, secret: string): Promise<void> {
    const { Version } = await ssm.send(
      new PutParameterCommand({
        Name: properties.KeyStoreParameter,
        Value: secret,
        Type: 'SecureString',
        Overwrite: true,
        Description: 'Key store of a Movement Pass key ring (internal: read the contract parameters instead)',
      }),
    );
    const { InvalidLabels = [] } = await ssm.send(
      new LabelParameterVersionCommand({
        Name: properties.KeyStoreParameter,
        ParameterVersion: Version,
        Labels: [keyLabel(properties.Algorithm, rotation)],
      }),
    );
    if (InvalidLabels.length) throw new Error(`SSM refused the label ${InvalidLabels.join(', ')} on ${properties.KeyStoreParameter}`);
  }

  /** Key `rotation` of the ring: the stored one, or a new one stored now. */
  async function key(properties: KeyRingProperties, rotation: number): Promise<GeneratedKey> {
    const stored = await readKey(properties, rotation);
    if (stored) return describeKey(properties.Algorithm, stored.secret);
    const described = await describeKey(properties.Algorithm, await generate(properties.Algorithm));
    await storeKey(properties, rotation, described.secret);
    logger.info('generated a signing key', { algorithm: properties.Algorithm, rotation, kid: described.kid });
    return described;
  }

  /**
   * Keys more than one rotation behind the previous one are no rollback's target any more: their
   * label goes, so SSM may drop their version once the store holds 100.
   */
  async function releaseOldKey(properties: KeyRingProperties, rotation: number): Promise<void> {
    const old = rotation - 3;
    if (old < 0) return;
    const stored = await readKey(properties, old);
    if (stored?.version === undefined) return;
    await ssm.send(
      new UnlabelParameterVersionCommand({
        Name: properties.KeyStoreParameter,
        ParameterVersion: stored.version,
        Labels: [keyLabel(properties.Algorithm, old)],
      }),
    );
  }

  /**
   * Makes the contract parameters hold the window: public keys first, the private key last, so
   * verifiers trust a key before anyone signs with it. Unchanged values are not written again.
   */
  async function writeOutputs(properties: KeyRingProperties, window: Window): Promise<void> {
    const latest = await readLatest(outputNames(properties));
    const { current } = window;
    const values: [string | undefined, string | undefined, 'String' | 'SecureString', string][] = [
      [properties.PublicKeysParameter, JSON.stringify(publicKeys(window)), 'String', 'JWKS of the trusted public signing keys'],
      [properties.PublicKeyParameter, current.publicKeyPem, 'String', 'Current public signing key (PEM)'],
      [properties.KeyIdParameter, current.kid, 'String', 'Id (kid) of the current signing key'],
      [properties.PrivateKeyParameter, current.secret, 'SecureString', `Current ${properties.Algorithm} signing key`],
    ];
    for (const [name, value, type, description] of values) {
      if (!name || value === undefined || latest.get(name) === value) continue;
      await ssm.send(new PutParameterCommand({ Name: name, Value: value, Type: type, Overwrite: true, Description: description }));
    }
  }

  /**
   * The window of the asked rotation. A current key that does not exist yet may only follow the
   * rotation just before it (`from`): only then was it published a deploy ahead. Restoring an
   * existing window (a rollback, a retry) is always allowed.
   */
  async function ensureRing(properties: KeyRingProperties, from?: KeyRingProperties): Promise<Window> {
    const rotation = Number(properties.Rotation);
    if (
      from &&
      from.Algorithm === properties.Algorithm &&
      Math.abs(rotation - Number(from.Rotation)) > 1 &&
      !(await readKey(properties, rotation))
    ) {
      throw new Error(
        `Rotation may move by one per deploy (asked ${from.Rotation} to ${properties.Rotation}): a key that skips the pre-published one ` +
          'would sign before verifiers trust it. Deploy each rotation in turn.',
      );
    }
    // Next first: on a first deploy every key is new, and the current one is the last to exist.
    const next = await key(properties, rotation + 1);
    const current = await key(properties, rotation);
    const previous = rotation > 0 ? await key(properties, rotation - 1) : undefined;
    const window: Window = { previous, current, next };
    await writeOutputs(properties, window);
    await releaseOldKey(properties, rotation);
    return window;
  }

  async function deleteParameters(names: string[]): Promise<void> {
    // DeleteParameters reports missing names instead of failing, so deleting twice is harmless.
    if (names.length) await ssm.send(new DeleteParametersCommand({ Names: names }));
  }

  const allNames = (properties: KeyRingProperties) => [...outputNames(properties), properties.KeyStoreParameter];

  async function onCreate(properties: KeyRingProperties): Promise<Window> {
    // Read before anything is written: what exists now is never this Create's to remove.
    const existing = await readLatest(allNames(properties));
    try {
      return await ensureRing(properties);
    } catch (error) {
      // A failed Create is answered with a marker id whose Delete does nothing: remove what this
      // Create started, never parameters that were there before it, nothing on a kept stage.
      if (properties.Retain !== 'true') {
        await deleteParameters(allNames(properties).filter((name) => !existing.has(name))).catch(() => undefined);
      }
      throw error;
    }
  }

  async function onUpdate(properties: KeyRingProperties, old: KeyRingProperties): Promise<Window> {
    const window = await ensureRing(properties, old);
    // An algorithm switch to or from HS256 leaves contract parameters the new ring does not
    // write. Its keys stay in the store, so a rollback finds them again.
    const stillWritten = new Set(allNames(properties));
    await deleteParameters(allNames(old).filter((name) => !stillWritten.has(name) && name !== old.KeyStoreParameter));
    return window;
  }

  async function onDelete(properties: KeyRingProperties): Promise<void> {
    if (properties.Retain === 'true') {
      logger.info('this stage keeps its keys: nothing removed');
      return;
    }
    await deleteParameters(allNames(properties));
  }

  return async function onEvent(event: CustomResourceEvent): Promise<CustomResourceResult> {
    if (event.RequestType === 'Delete') {
      const properties = propertiesToDelete(readProperties, event, logger);
      if (properties) await onDelete(properties);
      return { physicalResourceId: event.PhysicalResourceId };
    }
    const properties = readProperties(event.ResourceProperties);
    const window =
      event.RequestType === 'Create' ? await onCreate(properties) : await onUpdate(properties, readProperties(event.OldResourceProperties));
    // Named by its key store, which never changes for a stage: a new physical id would make
    // CloudFormation delete the "old" ring, and the keys with it.
    return { physicalResourceId: properties.KeyStoreParameter, data: publicData(window) };
  };
}
