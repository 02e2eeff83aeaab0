// Protecting prod, offline: the packaged configuration carries a stack policy that denies
// replacing and deleting every resource that holds data. What holds data is stated here, apart
// from the code under test: a new stateful resource must be added to this list on purpose.
import { describe, expect, it } from 'vitest';
import { readServiceState, readTemplate } from './package-stage';
import { prodStatefulResources } from './prod-stateful';

/** Types that hold data or keys whatever their deletion policy: tables, buckets, queues, KMS keys, key rings. */
const dataTypes = /^(AWS::DynamoDB::(Global)?Table|AWS::S3::Bucket|AWS::SQS::Queue|AWS::KMS::Key|Custom::KeyRing|Custom::SigningKey)$/;

describe.each(Object.entries(prodStatefulResources))('the stack policy of %s', (stack, expected) => {
  const safety = readServiceState(stack).custom.movementPassProductionSafety;
  const deniedFor = (action: string) =>
    safety.stackPolicy.Statement.filter((statement: any) => statement.Effect === 'Deny' && [statement.Action].flat().includes(action))
      .flatMap((statement: any) => [statement.Resource].flat())
      .map((resource: string) => resource.replace('LogicalResourceId/', ''))
      .sort();

  it('lists exactly the resources that hold data: retained, or of a data type (osls its deployment bucket aside)', () => {
    const holdingData = Object.entries(readTemplate(stack).Resources)
      .filter(([id]) => id !== 'ServerlessDeploymentBucket')
      .filter(([, resource]) => ['Retain', 'RetainExceptOnCreate'].includes(resource.DeletionPolicy) || dataTypes.test(resource.Type))
      .map(([id]) => id)
      .sort();

    expect(holdingData).toEqual(expected);
  });

  it('denies replacing and deleting each of them, and nothing else', () => {
    expect(deniedFor('Update:Replace')).toEqual(expected);
    expect(deniedFor('Update:Delete')).toEqual(expected);
  });

  it('allows every other update', () => {
    expect(safety.stackPolicy.Statement).toContainEqual({ Effect: 'Allow', Principal: '*', Action: 'Update:*', Resource: '*' });
  });
});

describe('sandbox', () => {
  it('has no stack policy and nothing protected', () => {
    const safety = readServiceState('alice').custom.movementPassProductionSafety;
    expect(safety.shared).toBe(false);
    expect(safety.stackPolicy).toBeUndefined();
    expect(safety.protectedResources).toEqual([]);
  });
});
