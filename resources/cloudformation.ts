// The shape every resource module returns, and the two building blocks they all share:
// a String parameter of the contract under the stage's SSM root, and a stack Output.
import type { ContractKey } from '../client/src/contract';
import { ssmRoot } from './names';
import type { StageSettings } from './stage';

export type Intrinsic = string | number | boolean | { [fn: string]: unknown } | unknown[];

export interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
  DependsOn?: string[];
  Condition?: string;
  DeletionPolicy?: 'Delete' | 'Retain' | 'Snapshot' | 'RetainExceptOnCreate';
  UpdateReplacePolicy?: 'Delete' | 'Retain' | 'Snapshot';
  Metadata?: Record<string, unknown>;
}

export interface CfnOutput {
  Description: string;
  Value: Intrinsic;
  Condition?: string;
}

export interface Fragment {
  Resources: Record<string, CfnResource>;
  Outputs?: Record<string, CfnOutput>;
  Conditions?: Record<string, unknown>;
}

/** Deep-merges fragments; a logical id defined twice is a programming error, not an override. */
export function mergeFragments(...fragments: Fragment[]): Required<Fragment> {
  const merged: Required<Fragment> = { Resources: {}, Outputs: {}, Conditions: {} };
  for (const fragment of fragments) {
    for (const section of ['Resources', 'Outputs', 'Conditions'] as const) {
      for (const [id, value] of Object.entries(fragment[section] ?? {})) {
        if (id in merged[section]) throw new Error(`${section}.${id} is defined by two resource modules`);
        (merged[section] as Record<string, unknown>)[id] = value;
      }
    }
  }
  return merged;
}

/**
 * Shared stages keep their data when the stack is deleted or a resource replaced; sandboxes
 * delete it. A failed first deploy of a shared stage still cleans up (`RetainExceptOnCreate`),
 * so it can simply be run again, except where the resource's own deletion protection would make
 * that rollback fail (the tables): those say `retainOnFailedCreate`.
 */
export function dataPolicies(
  settings: StageSettings,
  options: { retainOnFailedCreate?: boolean } = {},
): Pick<CfnResource, 'DeletionPolicy' | 'UpdateReplacePolicy'> {
  if (!settings.retainData) return { DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Delete' };
  return { DeletionPolicy: options.retainOnFailedCreate ? 'Retain' : 'RetainExceptOnCreate', UpdateReplacePolicy: 'Retain' };
}

/** An SSM `String` parameter of the contract: `/movement-pass/<stage>/<key>`, a key declared in client/src/contract.ts. */
export function contractParameter(settings: StageSettings, key: ContractKey, value: Intrinsic, description: string): CfnResource {
  return {
    Type: 'AWS::SSM::Parameter',
    Properties: {
      Name: `${ssmRoot(settings)}/${key}`,
      Type: 'String',
      Value: value,
      Description: description,
    },
  };
}

export const output = (description: string, value: Intrinsic): CfnOutput => ({ Description: description, Value: value });

export const ref = (logicalId: string) => ({ Ref: logicalId });
export const getAtt = (logicalId: string, attribute: string) => ({ 'Fn::GetAtt': [logicalId, attribute] });
export const sub = (template: string) => ({ 'Fn::Sub': template });

/** A bucket policy statement refusing every request that does not come over TLS. */
export const denyInsecureTransport = (bucketArn: Intrinsic) => ({
  Sid: 'DenyInsecureTransport',
  Effect: 'Deny',
  Principal: '*',
  Action: 's3:*',
  Resource: [bucketArn, { 'Fn::Join': ['', [bucketArn, '/*']] }],
  Condition: { Bool: { 'aws:SecureTransport': 'false' } },
});

/** A bucket nobody outside the account reaches by ACL or public policy, its objects owned by the bucket owner. */
export const privateBucket = {
  PublicAccessBlockConfiguration: {
    BlockPublicAcls: true,
    BlockPublicPolicy: true,
    IgnorePublicAcls: true,
    RestrictPublicBuckets: true,
  },
  OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
};
