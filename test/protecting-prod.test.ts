// Protecting prod, end to end offline: the packaged configuration carries the stack policy of
// every stateful resource, and the real CLI refuses to remove a shared stage and diffs templates.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isStateful } from '../resources/production-safety';
import { packageRoot, readServiceState, readTemplate, sls, type Template } from './package-stage';

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

describe('sls remove offline (no AWS variables)', { timeout: 120_000 }, () => {
  it.each(['remove', 'remove-cert', 'delete_domain'])('`sls %s --stage prod` stops on the shared stage before any AWS call', (command) => {
    const result = sls([command, '--stage', 'prod']);

    expect(result.status).not.toBe(0);
    expect(result.output).toContain('"prod" is a shared stage');
    expect(result.output).toContain('--param=confirm-remove=prod');
    expect(result.output).not.toMatch(/credentials/i);
  });

  it('`sls remove -s=prod` (osls also reads this spelling) is stopped the same way', () => {
    const result = sls(['remove', '-s=prod']);

    expect(result.status).not.toBe(0);
    expect(result.output).toContain('"prod" is a shared stage');
  });

  it('`sls remove --stage alice` goes on to AWS as before', () => {
    const result = sls(['remove', '--stage', 'alice']);

    expect(result.status).not.toBe(0);
    expect(result.output).not.toContain('shared stage');
    expect(result.output).toMatch(/credentials/i);
  });
});

describe('sls diff --against, offline', { timeout: 180_000 }, () => {
  it('says there is no change against the same template, and names a replaced table', () => {
    const same = join(packageRoot, 'prod', 'cloudformation-template-update-stack.json');
    const changed = join(packageRoot, 'prod-new-key-schema.json');
    const template = structuredClone(readTemplate('prod'));
    template.Resources.PassesTable.Properties.KeySchema = [{ AttributeName: 'passId', KeyType: 'HASH' }];
    writeFileSync(changed, JSON.stringify(template));

    const unchanged = sls(['diff', '--stage', 'prod', '--against', same]);
    const replaced = sls(['diff', '--stage', 'prod', '--against', changed]);

    expect(unchanged.status, unchanged.output).toBe(0);
    expect(unchanged.output).toContain('There were no differences');
    expect(replaced.status, replaced.output).toBe(0);
    expect(replaced.output).toContain('PassesTable (AWS::DynamoDB::GlobalTable, retained data) would be REPLACED');
    expect(replaced.output).toMatch(/\[~\] AWS::DynamoDB::GlobalTable PassesTable replace/);
  });

  it('explains a file that is not a template', () => {
    const result = sls(['diff', '--stage', 'prod', '--against', '/nonexistent/template.json']);

    expect(result.status).not.toBe(0);
    expect(result.output).toContain('Cannot read the template to compare with (--against /nonexistent/template.json)');
  });
});
