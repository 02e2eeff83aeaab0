// What protects a shared stage's data (plugins/production-safety.js reads this from
// `custom.movementPassProductionSafety`): which resources are stateful, the stack policy that forbids
// replacing or deleting them, and the confirmations that deliberately lift the protection.
// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/protect-stack-resources.html
import type { CfnResource } from './cloudformation';
import type { StageSettings } from './stage';
import { frameworkResources, isStateful, statefulTypes } from './stateful';

/**
 * Custom resources decide at run time what they are: a key ring is its key store, a signing key
 * the parameter it publishes (their physical id at creation). Pointing one at another store or
 * parameter makes a different resource in all but its logical id (new keys, the old ones left
 * behind), so the diff and the deploy gate count it as a replacement.
 */
export const physicalIdProperties: Record<string, string> = {
  'Custom::KeyRing': 'KeyStoreParameter',
  'Custom::SigningKey': 'PrivateKeyParameter',
};

/** A resource, or osls's amendment of one of its own (`resources.extensions`, which has no Type). */
type ResourceOrExtension = { Type?: string; DeletionPolicy?: CfnResource['DeletionPolicy'] | string };

/** The logical ids of the stateful resources, sorted. */
export function statefulResourceIds(resources: Record<string, ResourceOrExtension>): string[] {
  return Object.entries(resources)
    .filter(([id, resource]) => isStateful(id, resource))
    .map(([id]) => id)
    .sort();
}

export interface StackPolicy {
  Statement: Record<string, unknown>[];
}

/**
 * Every update allowed except replacing or deleting the protected resources. `allowed` narrows
 * the deny for one deliberate update (the override), never widens it to other resources.
 */
export function stackPolicy(protectedIds: readonly string[], allowed: readonly string[] = []): StackPolicy {
  const denied = protectedIds.filter((id) => !allowed.includes(id));
  return {
    Statement: [
      { Effect: 'Allow', Principal: '*', Action: 'Update:*', Resource: '*' },
      ...(denied.length
        ? [
            {
              Effect: 'Deny',
              Principal: '*',
              Action: ['Update:Replace', 'Update:Delete'],
              Resource: denied.map((id) => `LogicalResourceId/${id}`),
            },
          ]
        : []),
    ],
  };
}

/** `--param=<name>=<value>` options the plugin understands; each names what it confirms. */
export const confirmations = {
  /** `--param=confirm-remove=<stage>`: removes a shared stage (its retained data stays). */
  remove: 'confirm-remove',
  /** `--param=allow-replace=<LogicalId>[,<LogicalId>...]`: one deploy may replace or remove these. */
  replace: 'allow-replace',
  /** `--param=confirm-rollback=<stage>`: `sls rollback` puts an older template back without the deploy gate. */
  rollback: 'confirm-rollback',
  /** `--param=confirm-function=<stage>`: `sls deploy function`, `sls rollback function` or `sls invoke` act on a function directly. */
  function: 'confirm-function',
} as const;

export interface ProductionSafetyConfig {
  stage: string;
  /** Guarded: removal confirmation, termination protection, stack policy, deploy gate, recovery. */
  shared: boolean;
  /** The protected logical ids (shared stages), and the policy that protects them. */
  protectedResources: string[];
  stackPolicy?: StackPolicy;
  statefulTypes: readonly string[];
  frameworkResources: readonly string[];
  physicalIdProperties: Record<string, string>;
  confirmations: typeof confirmations;
}

/** `resources`: the stack's own resources and the extensions of osls's (its log groups may be retained). */
export function productionSafetyConfig(settings: StageSettings, resources: Record<string, ResourceOrExtension>): ProductionSafetyConfig {
  const shared = settings.retainData;
  const protectedResources = shared ? statefulResourceIds(resources) : [];
  return {
    stage: settings.stage,
    shared,
    protectedResources,
    ...(shared ? { stackPolicy: stackPolicy(protectedResources) } : {}),
    statefulTypes,
    frameworkResources,
    physicalIdProperties,
    confirmations,
  };
}
