// Protecting prod, end to end offline: the packaged configuration carries the stack policy of
// every stateful resource, and the real CLI refuses to remove a shared stage and diffs templates.
import { describe, expect, it } from 'vitest';
import { isStateful } from '../resources/production-safety';
import { readServiceState, readTemplate, type Template } from './package-stage';

/** Stateful resources of a template that the policy does not deny replacing and deleting. */
function unprotectedStatefulResources(template: Template, policy: { Statement: any[] } | undefined): string[] {
  const deny = (policy?.Statement ?? []).filter((statement) => statement.Effect === 'Deny');
  const covers = (id: string, action: string) =>
    deny.some((statement) => [statement.Action].flat().includes(action) && [statement.Resource].flat().includes(`LogicalResourceId/${id}`));
  return Object.entries(template.Resources)
    .filter(([id, resource]) => isStateful(id, resource))
    .filter(([id]) => !covers(id, 'Update:Replace') || !covers(id, 'Update:Delete'))
    .map(([id]) => id);
}

describe('prod stack policy (serverless-state.json)', () => {
  const safety = readServiceState('prod').custom.productionSafety;

  it('denies replacing and deleting every stateful resource of the prod template', () => {
    expect(unprotectedStatefulResources(readTemplate('prod'), safety.stackPolicy)).toEqual([]);
  });

  it('names the tables, the photo bucket, the key rings, the signing key and both queues', () => {
    expect(safety.protectedResources).toEqual(
      expect.arrayContaining([
        'ApplicantsTable',
        'PassesTable',
        'PhotoBucket',
        'JwtKeyRing',
        'PhotoUrlKeyRing',
        'PhotoUrlSigningKey',
        'PassesLoadQueue',
        'PassesLoadDeadLetterQueue',
      ]),
    );
    expect(safety.protectedResources).not.toContain('ServerlessDeploymentBucket');
  });

  it('allows every other update', () => {
    expect(safety.stackPolicy.Statement).toContainEqual({ Effect: 'Allow', Principal: '*', Action: 'Update:*', Resource: '*' });
  });

  it('fails for a new stateful resource the policy does not name', () => {
    const template = structuredClone(readTemplate('prod'));
    template.Resources.AuditTable = { Type: 'AWS::DynamoDB::GlobalTable', DeletionPolicy: 'Retain', Properties: {} };
    template.Resources.ArchiveStore = { Type: 'AWS::EFS::FileSystem', DeletionPolicy: 'Retain', Properties: {} };

    expect(unprotectedStatefulResources(template, safety.stackPolicy)).toEqual(['AuditTable', 'ArchiveStore']);
  });
});

describe('sandbox', () => {
  it('has no stack policy and nothing protected', () => {
    const safety = readServiceState('alice').custom.productionSafety;
    expect(safety.shared).toBe(false);
    expect(safety.stackPolicy).toBeUndefined();
    expect(safety.protectedResources).toEqual([]);
  });
});
