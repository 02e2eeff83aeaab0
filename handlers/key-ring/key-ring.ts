// A signing key ring kept in SSM, used for the JWT keys and for the CloudFront URL-signing keys.
// Every key lives once in the ring's key store (key-store.ts). The ring of rotation N is the
// window of keys N-1, N and N+1: N signs, N+1 is published one deploy before it signs (so a
// rotation never signs with a key verifiers do not know yet), N-1 stays trusted for tokens
// signed before the last rotation. The parameters (private key in the signing root; JWKS, public
// key and key id in the contract root) are written from the window. In a secondary region the
// ring follows the home region's (follower.ts): the window comes from the home key store, copied
// into this region's, and everything published from it is derived exactly as at home.
import type { CustomResourceEvent, CustomResourceResult, Invocation, Logger } from '../lib/custom-resource';
import { describeKey, type GeneratedKey, generateSecret, type Jwks, type SigningAlgorithm, signingAlgorithms } from '../lib/signing-keys';
import type { KeyRingConfiguration, KeyRingResourceConfiguration } from './configuration';
import { checkFollowed, followHome } from './follower';
import { type KeyStore, keyLabel, openKeyStore } from './key-store';
import { type EventWrites, newEventWrites, type ParameterAccess, parameters, type Ssm, underStageKey } from './parameters';

/** The custom resource's properties, as CloudFormation sends them (every value a string). */
export interface KeyRingProperties {
  Algorithm: SigningAlgorithm;
  /** Raised by one to rotate. */
  Rotation: string;
  /** SecureString outside the contract root: every key of the ring, one labeled version each. */
  KeyStoreParameter: string;
  /**
   * SecureString in the signing root, optional: the current PKCS#8 PEM private key, or the HS256
   * secret. Left out where a signing key resource publishes it together with an id the ring cannot know.
   */
  PrivateKeyParameter?: string;
  /** String: the JWKS of the trusted public keys (previous, current, next); empty for HS256. */
  PublicKeysParameter: string;
  /** String, optional: the current public key as PEM (not written for HS256). */
  PublicKeyParameter?: string;
  /** String, optional: the current key id. */
  KeyIdParameter?: string;
}

export interface KeyRingDeps {
  ssm: Ssm;
  /** SSM of the home region, for the key ring of a secondary region (follower.ts `otherRegionSsm`). */
  homeSsm?: Ssm;
  /** SSM of the secondary region, for the home key ring of a stage with one: whether it followed the last rotation. */
  followerSsm?: Ssm;
  logger: Logger;
  generate?: (algorithm: SigningAlgorithm) => Promise<string>;
}

/** One event for one resource of the function, checked against the function's configuration. */
export interface KeyRingRequest {
  event: CustomResourceEvent;
  resource: KeyRingResourceConfiguration;
  configuration: KeyRingConfiguration;
  invocation: Invocation;
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

/** The parameters a ring writes from its window (the key store aside). */
const outputNames = (properties: KeyRingProperties): string[] =>
  [properties.PublicKeysParameter, properties.PublicKeyParameter, properties.KeyIdParameter, properties.PrivateKeyParameter].filter(
    (name): name is string => name !== undefined,
  );

/** The ring's keys: previous (absent at rotation 0), current, next. */
interface Window {
  previous?: GeneratedKey;
  current: GeneratedKey;
  next: GeneratedKey;
}

const publicKeys = (window: Window): Jwks => ({
  keys: [window.current, window.next, window.previous].flatMap((key) => (key?.publicJwk ? [key.publicJwk] : [])),
});

/** Every public value a ring can answer with; the response carries those the template reads. */
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

/** Only the attributes the template reads: CloudFormation caps the whole response at 4096 bytes. */
export const pick = (data: Record<string, string>, attributes: string[]): Record<string, string> =>
  Object.fromEntries(attributes.map((attribute) => [attribute, data[attribute] ?? '']));

/** SSM access for one event: its abort signal, the stage key, the configured homes of its secrets. */
export function eventParameters(ssm: Ssm, request: KeyRingRequest, signal: AbortSignal, writes: EventWrites): ParameterAccess {
  const { resource, configuration } = request;
  const secureNames = [resource.keyStore, resource.names.PrivateKeyParameter].filter((name): name is string => name !== undefined);
  return parameters({ ssm, signal, stageKeyArn: configuration.stageKeyArn, secureNames }, writes);
}

/**
 * Deletes SecureStrings that hold a version under another key than the stage key (aws/ssm before
 * the stage had one, or the key of an earlier incarnation of the stage): SSM never re-encrypts a
 * version, and only deleting the parameter forgets them. The caller writes the value again.
 */
export async function forgetForeignVersions(ssm: ParameterAccess, names: string[], stageKeyArn: string | undefined): Promise<string[]> {
  if (!stageKeyArn) return [];
  const forgotten: string[] = [];
  for (const name of names) {
    const history = await ssm.history(name);
    if (history.some((version) => !underStageKey(version.KeyId, stageKeyArn))) forgotten.push(name);
  }
  await ssm.delete(forgotten);
  return forgotten;
}

/**
 * What an event asks to write, without the earlier layout's names: a private key never goes back
 * to the contract root, not even for the rollback of the upgrade that moved it (that rollback
 * leaves the signing root as it is: see removeUnused).
 */
export function writable(resource: KeyRingResourceConfiguration, names: string[], logger: Logger): string[] {
  const obsolete = names.filter((name) => resource.obsolete.includes(name));
  if (obsolete.length) logger.info('not writing parameters of the earlier layout', { parameters: obsolete });
  return names.filter((name) => !resource.obsolete.includes(name));
}

/**
 * Deletes the resource's parameters it does not write now: the other algorithm's, the earlier
 * layout's. An event of the earlier layout (a rollback of the upgrade) deletes nothing, so the
 * signing root keeps its keys.
 */
export async function removeUnused(ssm: ParameterAccess, resource: KeyRingResourceConfiguration, named: string[]): Promise<void> {
  if (named.some((name) => resource.obsolete.includes(name))) return;
  const unused = [...resource.parameters, ...resource.obsolete].filter((name) => !named.includes(name));
  await ssm.delete(await ssm.existing(unused));
}

/** Every name the resource may write, and its key store. */
const resourceNames = (resource: KeyRingResourceConfiguration): string[] => [
  ...new Set([...resource.parameters, ...resource.obsolete, resource.keyStore]),
];

/** Notes what exists before a Create writes anything: only the rest may its failure remove. */
export async function noteExisting(ssm: ParameterAccess, resource: KeyRingResourceConfiguration): Promise<void> {
  ssm.writes.existedAtStart = new Set(await ssm.existing(resourceNames(resource)));
}

/**
 * A Create that fails (or runs out of time) removes every parameter it tried to write that did not
 * exist when it started, acknowledged or not (SSM may have applied a put whose answer was lost),
 * before the handler answers, under the signal that aborts at the answer; never a key store of a
 * stage that keeps its keys (its role may not), never what existed before the event, and nothing
 * at all when what existed could not be read.
 */
export async function undoCreate(deps: { ssm: Ssm; logger: Logger }, request: KeyRingRequest, writes: EventWrites): Promise<void> {
  const { existedAtStart } = writes;
  if (!existedAtStart) return;
  const created = [...writes.attempted].filter(
    (name) => !existedAtStart.has(name) && !(request.configuration.retain && name === request.resource.keyStore),
  );
  if (!created.length) return;
  try {
    await eventParameters(deps.ssm, request, request.invocation.answered, writes).delete(created);
    deps.logger.info('removed what the failed Create wrote', { parameters: created });
  } catch (error) {
    deps.logger.error('could not remove what the failed Create wrote', { parameters: created, reason: String(error) });
  }
}

/** Deletes a sandbox resource's parameters (the configured ones, whatever the event names). */
export async function deleteResource(deps: { ssm: Ssm; logger: Logger }, request: KeyRingRequest): Promise<CustomResourceResult> {
  const { event, resource, configuration, invocation } = request;
  if (configuration.retain) {
    deps.logger.info('this stage keeps its keys: nothing removed');
  } else {
    const names = [...resource.parameters, ...resource.obsolete, ...(resource.kind === 'ring' ? [resource.keyStore] : [])];
    await eventParameters(deps.ssm, request, invocation.signal, newEventWrites()).delete(names);
  }
  return { physicalResourceId: existingId(event) };
}

/** The physical id CloudFormation knows the resource by (Update and Delete events carry it). */
export const existingId = (event: CustomResourceEvent): string => ('PhysicalResourceId' in event ? event.PhysicalResourceId : '');

export function keyRing(deps: KeyRingDeps) {
  const { logger } = deps;
  const generate = deps.generate ?? generateSecret;

  /** Key `rotation` of the ring: the stored one, or a new one stored now. */
  async function key(store: KeyStore, algorithm: SigningAlgorithm, rotation: number): Promise<GeneratedKey> {
    const stored = await store.read(algorithm, rotation);
    if (stored !== undefined) return describeKey(algorithm, stored);
    const described = await describeKey(algorithm, await generate(algorithm));
    await store.add(algorithm, rotation, described.secret);
    logger.info('generated a signing key', { algorithm, rotation, kid: described.kid });
    return described;
  }

  /** Key `rotation` as this region's store holds it: a follower never makes one. */
  async function held(store: KeyStore, algorithm: SigningAlgorithm, rotation: number): Promise<GeneratedKey> {
    const stored = await store.read(algorithm, rotation);
    if (stored === undefined) throw new Error(`This region's key store has no ${keyLabel(algorithm, rotation)} after following home`);
    return describeKey(algorithm, stored);
  }

  /** A secondary region's ring: the home keys of the window into this region's store. */
  async function follow(request: KeyRingRequest, store: KeyStore, properties: KeyRingProperties): Promise<void> {
    const { resource, configuration, invocation } = request;
    const homeRegion = configuration.homeRegion as string;
    if (!deps.homeSsm || !resource.homeKeyStore) {
      throw new Error(`The key ring follows ${homeRegion} but has no SSM client or key store there; deploy it with the stack's template.`);
    }
    await followHome({
      homeSsm: deps.homeSsm,
      homeRegion,
      homeKeyStore: resource.homeKeyStore,
      local: store,
      localKeyStore: properties.KeyStoreParameter,
      algorithm: properties.Algorithm,
      rotation: Number(properties.Rotation),
      signal: invocation.signal,
      logger,
    });
  }

  /**
   * A current key that is not in the store yet may only start an algorithm's first window: where
   * the store holds other keys of the algorithm, a missing current key was never published as
   * next, so it would sign before verifiers trust it. The store is the judge, not the event.
   */
  function checkRotation(store: KeyStore, properties: KeyRingProperties): void {
    const rotation = Number(properties.Rotation);
    if (store.has(properties.Algorithm, rotation)) return;
    const others = store.rotations(properties.Algorithm).filter((r) => r !== rotation + 1);
    if (others.length) {
      const highest = Math.max(...others);
      throw new Error(
        `Rotation may move by one per deploy (asked ${properties.Rotation}; the ${properties.Algorithm} keys go up to ${highest}): ` +
          'a key that skips the pre-published one would sign before verifiers trust it. Deploy each rotation in turn.',
      );
    }
  }

  /**
   * Labels no window can reach any more go, whatever their algorithm: of the current algorithm,
   * keys below the window of a one-step rollback; of the others, all but the last window (which a
   * switch back restores). So SSM can always drop its oldest version.
   */
  async function releaseUnreachable(store: KeyStore, properties: KeyRingProperties): Promise<void> {
    const rotation = Number(properties.Rotation);
    const lastWindow = new Map(
      signingAlgorithms.map((algorithm) => [
        algorithm,
        store
          .rotations(algorithm)
          .sort((a, b) => b - a)
          .slice(0, 3),
      ]),
    );
    const released = await store.release((algorithm, r) =>
      algorithm === properties.Algorithm ? r >= rotation - 2 : (lastWindow.get(algorithm) ?? []).includes(r),
    );
    if (released.length) logger.info('released keys no window reaches', { labels: released });
  }

  /**
   * Makes the parameters hold the window: public keys first, the private key last, so verifiers
   * trust a key before anyone signs with it. Unchanged values are not written again.
   */
  async function writeOutputs(ssm: ParameterAccess, properties: KeyRingProperties, window: Window, names: string[]): Promise<void> {
    const latest = await ssm.latest(names);
    const { current } = window;
    const values: [string | undefined, string | undefined, 'String' | 'SecureString', string][] = [
      [properties.PublicKeysParameter, JSON.stringify(publicKeys(window)), 'String', 'JWKS of the trusted public signing keys'],
      [properties.PublicKeyParameter, current.publicKeyPem, 'String', 'Current public signing key (PEM)'],
      [properties.KeyIdParameter, current.kid, 'String', 'Id (kid) of the current signing key'],
      [properties.PrivateKeyParameter, current.secret, 'SecureString', `Current ${properties.Algorithm} signing key`],
    ];
    for (const [name, value, type, description] of values) {
      if (!name || !names.includes(name) || value === undefined || latest.get(name) === value) continue;
      await ssm.put(name, value, type, description);
    }
  }

  async function ensureRing(ssm: ParameterAccess, request: KeyRingRequest, properties: KeyRingProperties): Promise<CustomResourceResult> {
    const { event, resource, configuration } = request;
    const store = await openKeyStore(ssm, properties.KeyStoreParameter, configuration.stageKeyArn);
    // A follower's rotation is judged by the home store: it holds the keys home has published.
    const following = configuration.homeRegion !== undefined;
    if (!following) checkRotation(store, properties);
    // A rotation step at home (its key pre-published, the next not yet made) waits for the secondary region.
    const rotationStep =
      store.has(properties.Algorithm, Number(properties.Rotation)) && !store.has(properties.Algorithm, Number(properties.Rotation) + 1);
    if (!following && configuration.followerRegion && deps.followerSsm && Number(properties.Rotation) > 0 && rotationStep) {
      await checkFollowed({
        followerSsm: deps.followerSsm,
        followerRegion: configuration.followerRegion,
        keyStore: properties.KeyStoreParameter,
        algorithm: properties.Algorithm,
        rotation: Number(properties.Rotation),
        signal: request.invocation.signal,
      });
    }
    // Before anything is written: a store an earlier key ring left full of labels needs the room.
    await releaseUnreachable(store, properties);
    const reencrypted = await store.reencrypt();
    if (reencrypted) logger.info('re-encrypted the key store under the stage key', { keyStore: properties.KeyStoreParameter, reencrypted });
    if (following) await follow(request, store, properties);
    const obtain = following ? held : key;
    const rotation = Number(properties.Rotation);
    // Next first: on a first deploy every key is new, and the current one is the last to exist.
    const next = await obtain(store, properties.Algorithm, rotation + 1);
    const current = await obtain(store, properties.Algorithm, rotation);
    const previous = rotation > 0 ? await obtain(store, properties.Algorithm, rotation - 1) : undefined;
    const window: Window = { previous, current, next };
    const names = writable(resource, outputNames(properties), logger);
    const secret = properties.PrivateKeyParameter;
    await forgetForeignVersions(ssm, secret && names.includes(secret) ? [secret] : [], configuration.stageKeyArn);
    await writeOutputs(ssm, properties, window, names);
    await removeUnused(ssm, resource, outputNames(properties));
    // Named by its key store, which never changes for a stage; an Update keeps the id it has, as a
    // new one would make CloudFormation delete the "old" ring.
    const physicalResourceId = event.RequestType === 'Update' ? existingId(event) : properties.KeyStoreParameter;
    return { physicalResourceId, data: pick(publicData(window), resource.attributes) };
  }

  return async function onRing(request: KeyRingRequest): Promise<CustomResourceResult> {
    if (request.event.RequestType === 'Delete') return deleteResource(deps, request);
    // A malformed event fails here, before any AWS call, on Create as on Update.
    const properties = readProperties(request.event.ResourceProperties);
    const writes = newEventWrites();
    try {
      const ssm = eventParameters(deps.ssm, request, request.invocation.signal, writes);
      if (request.event.RequestType === 'Create') await noteExisting(ssm, request.resource);
      return await ensureRing(ssm, request, properties);
    } catch (error) {
      if (request.event.RequestType === 'Create') await undoCreate(deps, request, writes);
      throw error;
    }
  };
}
