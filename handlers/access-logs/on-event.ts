// One function serves both access-log custom resources: each event goes to its type's logic.
import type { CustomResourceEvent, CustomResourceResult } from '../lib/custom-resource';

type OnEvent = (event: CustomResourceEvent) => Promise<CustomResourceResult>;

export function accessLogEvents(byType: Record<string, OnEvent>): OnEvent {
  return async (event) => {
    const onEvent = byType[event.ResourceType];
    if (!onEvent) {
      // A Delete of an unknown type must not block a stack deletion: nothing of it was ever made.
      if (event.RequestType === 'Delete') return { physicalResourceId: event.PhysicalResourceId };
      throw new Error(`unknown resource type ${event.ResourceType}; this function serves ${Object.keys(byType).join(', ')}`);
    }
    return onEvent(event);
  };
}
