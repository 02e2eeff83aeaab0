// What the key ring function may do comes from its own configuration in the template (its
// environment), never from the event: the stack it serves, whether the stage keeps its keys,
// the KMS key of the signing keys, in a secondary region the home region it copies the keys
// from, and per custom resource its algorithm and the one parameter each property may name (so a
// private key can only ever go to the signing root).
// Anyone allowed to invoke the function can write an event; nobody but a deploy can change this.
import type { CustomResourceEvent } from '../lib/custom-resource';
import {
  environmentNames,
  type KeyRingResourcePlan,
  type KeyRingNameProperty as NameProperty,
  keyRingNameProperties as nameProperties,
} from './contract';

export { environmentNames };

/** One resource's configuration: its plan, as the template writes it into the environment. */
export type KeyRingResourceConfiguration = KeyRingResourcePlan;

export interface KeyRingConfiguration {
  stackId: string;
  /** The stage keeps its keys: a Delete removes nothing. */
  retain: boolean;
  /** ARN of the stage's KMS key for the signing keys and key stores; absent where aws/ssm serves. */
  stageKeyArn?: string;
  /**
   * In a secondary region: the home region, whose key stores this key ring copies (each ring's
   * `homeKeyStore`) instead of generating keys. Absent in the home region.
   */
  homeRegion?: string;
  /** In the home region of a stage with a second region: that region, which follows each rotation (follower.ts). */
  followerRegion?: string;
  /** By logical id of the custom resource. */
  resources: Record<string, KeyRingResourceConfiguration>;
}

/** Variables only some stacks have: the stage key (shared stages), the home region (secondary regions). */
const optional: string[] = [environmentNames.stageKeyArn, environmentNames.homeRegion, environmentNames.followerRegion];

export function readConfiguration(environment: Record<string, string | undefined>): KeyRingConfiguration {
  const missing = Object.values(environmentNames).filter((name) => !optional.includes(name) && !environment[name]);
  if (missing.length) {
    throw new Error(`The key ring function has no ${missing.join(', ')} in its environment; deploy it with the stack's template.`);
  }
  let resources: KeyRingConfiguration['resources'];
  try {
    resources = JSON.parse(environment[environmentNames.resources] as string);
  } catch {
    throw new Error(`${environmentNames.resources} of the key ring function is not JSON; deploy it with the stack's template.`);
  }
  const homeRegion = environment[environmentNames.homeRegion] || undefined;
  const rings = Object.entries(resources).filter(([, resource]) => resource.kind === 'ring');
  const unfollowed = rings.filter(([, resource]) => (homeRegion !== undefined) !== (resource.homeKeyStore !== undefined));
  if (unfollowed.length) {
    // A half-configured follower would generate keys the home region does not have.
    throw new Error(
      `${environmentNames.homeRegion} and the home key stores of ${unfollowed.map(([id]) => id).join(', ')} disagree ` +
        "in the key ring function's environment; deploy it with the stack's template.",
    );
  }
  return {
    stackId: environment[environmentNames.stackId] as string,
    retain: environment[environmentNames.retain] === 'true',
    stageKeyArn: environment[environmentNames.stageKeyArn] || undefined,
    homeRegion,
    followerRegion: environment[environmentNames.followerRegion] || undefined,
    resources,
  };
}

/**
 * What a property may name: the configured parameter; for the private key also a parameter of the
 * earlier layout (the rollback of the upgrade), which is never written (key-ring.ts `writable`).
 */
function allowedNames(resource: KeyRingResourceConfiguration, property: NameProperty): (string | undefined)[] {
  return property === 'PrivateKeyParameter' && resource.names[property]
    ? [resource.names[property], ...resource.obsolete]
    : [resource.names[property]];
}

/** The properties that name another parameter than the configuration gives them, with what they should name. */
function misnamed(resource: KeyRingResourceConfiguration, properties: Record<string, unknown>): string[] {
  return nameProperties.flatMap((property) => {
    const named = properties[property] === undefined ? undefined : String(properties[property]);
    if (allowedNames(resource, property).includes(named)) return [];
    const expected = resource.names[property];
    return [`${property} must be ${expected ?? 'absent'} (got ${named ?? 'none'})`];
  });
}

/**
 * The configuration of the resource an event is for, or an error when the event is not one this
 * function may act on: another stack's, an unknown resource's, or one naming other parameters.
 */
export function resourceOf(event: CustomResourceEvent, configuration: KeyRingConfiguration): KeyRingResourceConfiguration {
  if (event.StackId !== configuration.stackId) {
    throw new Error(`This key ring serves the stack ${configuration.stackId} only; refusing an event from ${event.StackId}`);
  }
  const resource = Object.hasOwn(configuration.resources, event.LogicalResourceId)
    ? configuration.resources[event.LogicalResourceId]
    : undefined;
  if (!resource) {
    throw new Error(
      `${event.LogicalResourceId} is not a key ring resource of this stack (known: ${Object.keys(configuration.resources).join(', ')})`,
    );
  }
  // A Delete acts on the configured names only, whatever its properties say.
  if (event.RequestType === 'Delete') return resource;
  const properties = event.ResourceProperties as Record<string, unknown>;
  if (properties.KeyStoreParameter !== resource.keyStore) {
    throw new Error(`${event.LogicalResourceId} must use the key store ${resource.keyStore} (got ${String(properties.KeyStoreParameter)})`);
  }
  // Rotation stays the event's: it moves by one per deploy, and the key store judges it (checkRotation).
  if (properties.Algorithm !== resource.algorithm) {
    throw new Error(
      `${event.LogicalResourceId} is configured for ${resource.algorithm}; refusing Algorithm ${String(properties.Algorithm)}. ` +
        "Change the algorithm in the stage settings and deploy the stack's template.",
    );
  }
  const problems = misnamed(resource, properties);
  if (problems.length) {
    throw new Error(`${event.LogicalResourceId} may write only its configured parameters: ${problems.join('; ')}`);
  }
  return resource;
}

/**
 * The rotation an event asks for: the configured one, or the one before it while the stack rolls
 * back (CloudFormation may roll the custom resource back before the function's configuration).
 */
export async function checkConfiguredRotation(
  event: CustomResourceEvent,
  resource: KeyRingResourceConfiguration,
  stackStatus: () => Promise<string | undefined>,
): Promise<void> {
  if (event.RequestType === 'Delete') return;
  const raw = String((event.ResourceProperties as Record<string, unknown>).Rotation ?? '');
  // A malformed rotation is the property check's to refuse, with the others (key-ring.ts, signing-key.ts).
  if (!/^\d{1,9}$/.test(raw)) return;
  const asked = Number(raw);
  if (asked === resource.rotation) return;
  if (asked === resource.rotation - 1) {
    const status = await stackStatus();
    if (status === 'UPDATE_ROLLBACK_IN_PROGRESS') return;
    throw new Error(
      `${event.LogicalResourceId} is configured for rotation ${resource.rotation}; rotation ${asked} is only for a rollback of its stack, which is ${status ?? 'not found'}. Refusing it.`,
    );
  }
  throw new Error(
    `${event.LogicalResourceId} is configured for rotation ${resource.rotation}; refusing Rotation ${String(asked)}. ` +
      "Raise the rotation in the stage settings and deploy the stack's template.",
  );
}
