// handlers/lib/stack-check.ts: a custom-resource function acts only on an event its own stack is
// carrying out. Every function's entry wraps its logic in it (the packaged bundles prove it for the
// key ring, the access-log setup and the regional lookup against a local CloudFormation endpoint).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CustomResourceEvent } from '../../handlers/lib/custom-resource';
import { fromItsStack, type StackView } from '../../handlers/lib/stack-check';
import { projectRoot, readServiceState, testedStacks } from '../package-stage';
import { makeEvent, stackId } from './support';

const ours = stackId('prod');
const invocation = { signal: new AbortController().signal, answered: new AbortController().signal };

function run(event: CustomResourceEvent, recorded: Awaited<ReturnType<StackView['resource']>>, stackStatus = 'UPDATE_IN_PROGRESS') {
  const acted: string[] = [];
  const view: StackView = { stackStatus: async () => stackStatus, resource: async () => recorded };
  const guarded = fromItsStack(
    async (inner) => {
      acted.push(inner.RequestType);
      return { physicalResourceId: 'done' };
    },
    { view, stackId: ours },
  );
  return { result: guarded(event, invocation), acted };
}

describe('an event checked against its stack', () => {
  it('goes on when the stack is carrying it out', async () => {
    const { result, acted } = run(makeEvent({ RequestType: 'Create', StackId: ours }), { status: 'CREATE_IN_PROGRESS' });
    await expect(result).resolves.toEqual({ physicalResourceId: 'done' });
    expect(acted).toEqual(['Create']);
  });

  it.each([
    [
      'of another stack',
      makeEvent({ RequestType: 'Create', StackId: stackId('alice') }),
      { status: 'CREATE_IN_PROGRESS' },
      /serves the stack .* only; refusing an event from/,
    ],
    ['of a resource the stack does not have', makeEvent({ RequestType: 'Create', StackId: ours }), undefined, /The stack has no resource/],
    [
      'of a resource that is not being changed',
      makeEvent({ RequestType: 'Update', StackId: ours, PhysicalResourceId: 'p' }),
      { status: 'UPDATE_COMPLETE', physicalId: 'p' },
      /is UPDATE_COMPLETE, not being changed: CloudFormation did not send this Update/,
    ],
    [
      'naming another physical id',
      makeEvent({ RequestType: 'Delete', StackId: ours, PhysicalResourceId: 'other' }),
      { status: 'DELETE_IN_PROGRESS', physicalId: 'p' },
      /The Delete of .* names other, but the stack's .* is p; refusing it/,
    ],
  ])('refuses an event %s, acting on nothing', async (_, event, recorded, message) => {
    const { result, acted } = run(event, recorded);
    await expect(result).rejects.toThrow(message);
    expect(acted).toEqual([]);
  });

  it("lets through the Delete of a resource an update replaced, during the stack's cleanup only", async () => {
    const replaced = makeEvent({ RequestType: 'Delete', StackId: ours, PhysicalResourceId: 'old' });
    const inCleanup = run(replaced, { status: 'UPDATE_COMPLETE', physicalId: 'new' }, 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS');
    await expect(inCleanup.result).resolves.toBeDefined();
    const afterwards = run(replaced, { status: 'UPDATE_COMPLETE', physicalId: 'new' }, 'UPDATE_COMPLETE');
    await expect(afterwards.result).rejects.toThrow(/names old, but the stack's .* is new/);
  });

  it('guards the entry of every custom-resource function', () => {
    // A custom resource's function has no event of its own: CloudFormation invokes it.
    const handlers = Object.keys(testedStacks).flatMap((stack) =>
      Object.values(readServiceState(stack).functions as Record<string, { handler: string; events?: unknown[] }>)
        .filter((fn) => !fn.events?.length)
        .map((fn) => fn.handler),
    );
    const entries = [...new Set(handlers)].map((handler) => join(projectRoot, `${handler.replace(/\.handler$/, '')}.ts`));
    expect(entries.length).toBeGreaterThanOrEqual(4);
    for (const entry of entries) expect(readFileSync(entry, 'utf8'), entry).toMatch(/makeHandler\(\s*fromItsStack\(/);
  });
});
