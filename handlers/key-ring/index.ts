// Lambda entry of the key ring custom resources: the SSM client is built once, at cold start,
// without any network call; the logic lives in key-ring.ts and signing-key.ts.
import { SSMClient } from '@aws-sdk/client-ssm';
import { jsonLogger, type Logger, makeHandler, type OnEvent } from '../lib/custom-resource';
import { type KeyRingDeps, keyRing } from './key-ring';
import { signingKey } from './signing-key';

/** One function serves both resource types: rings, and the signing keys they publish. */
export function keyRingResources(deps: KeyRingDeps & { logger: Logger }): OnEvent {
  const ring = keyRing(deps);
  const publishSigningKey = signingKey(deps);
  return (event) => (event.ResourceType === 'Custom::SigningKey' ? publishSigningKey(event) : ring(event));
}

export const handler = makeHandler(keyRingResources({ ssm: new SSMClient({}), logger: jsonLogger }));
