// What every custom-resource function checks before it acts, as defence in depth: an event can be
// copied and sent by anyone allowed to invoke the function (no deployer is: only CloudFormation
// invokes them, with the stage's execution role), so its content authenticates nothing by itself.
// The event must name the function's own stack, a resource the stack has, and that resource must
// be in progress there (CloudFormation marks it so before it sends the event); an Update or Delete
// must name the physical id the stack records, but for the Delete of a replaced resource during
// the stack's cleanup.
import { CloudFormationClient, DescribeStackResourceCommand, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import type { OnEvent } from './custom-resource';
import { stackIdVariable } from './environment';

export interface StackView {
  /** The stack's status, e.g. UPDATE_ROLLBACK_IN_PROGRESS. */
  stackStatus(stackId: string): Promise<string | undefined>;
  /** The resource as the stack records it, or undefined when the stack has none of that id. */
  resource(stackId: string, logicalId: string): Promise<{ status: string; physicalId?: string } | undefined>;
}

/** The stack as CloudFormation describes it, through the function's own role. */
export function cloudFormationView(client: Pick<CloudFormationClient, 'send'> = new CloudFormationClient({})): StackView {
  return {
    async stackStatus(stackId) {
      const { Stacks = [] } = await client.send(new DescribeStacksCommand({ StackName: stackId }));
      return Stacks[0]?.StackStatus;
    },
    async resource(stackId, logicalId) {
      try {
        const { StackResourceDetail: detail } = await client.send(
          new DescribeStackResourceCommand({ StackName: stackId, LogicalResourceId: logicalId }),
        );
        return detail?.ResourceStatus ? { status: detail.ResourceStatus, physicalId: detail.PhysicalResourceId } : undefined;
      } catch (error) {
        if ((error as { name?: string }).name === 'ValidationError') return undefined;
        throw error;
      }
    },
  };
}

/** `onEvent`, acting only on an event of its stack that CloudFormation is carrying out. */
export function fromItsStack(onEvent: OnEvent, deps: { view: StackView; stackId: string | undefined }): OnEvent {
  return async (event, invocation) => {
    if (!deps.stackId) throw new Error(`The function has no ${stackIdVariable} in its environment; deploy it with the stack's template.`);
    if (event.StackId !== deps.stackId) {
      throw new Error(`This function serves the stack ${deps.stackId} only; refusing an event from ${event.StackId}`);
    }
    const what = `${event.RequestType} of ${event.LogicalResourceId}`;
    const recorded = await deps.view.resource(event.StackId, event.LogicalResourceId);
    if (!recorded) throw new Error(`The stack has no resource ${event.LogicalResourceId}; refusing the ${what}`);
    const physicalId = event.RequestType === 'Create' ? undefined : event.PhysicalResourceId;
    const sameResource = physicalId === undefined || recorded.physicalId === undefined || recorded.physicalId === physicalId;
    if (/_IN_PROGRESS$/.test(recorded.status) && sameResource) return onEvent(event, invocation);
    if (
      event.RequestType === 'Delete' &&
      !sameResource &&
      /_CLEANUP_IN_PROGRESS$/.test((await deps.view.stackStatus(event.StackId)) ?? '')
    ) {
      // The resource an update replaced, deleted once the stack holds the new one.
      return onEvent(event, invocation);
    }
    throw new Error(
      sameResource
        ? `The stack's ${event.LogicalResourceId} is ${recorded.status}, not being changed: CloudFormation did not send this ${what}; refusing it`
        : `The ${what} names ${physicalId}, but the stack's ${event.LogicalResourceId} is ${recorded.physicalId}; refusing it`,
    );
  };
}
