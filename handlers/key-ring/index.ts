// Lambda entry of the key ring custom resources: the SSM clients (this region's, and in a
// secondary region the home region's) are built once, at cold start, without any network call;
// the function's configuration is read from its environment on each event (a broken one is
// answered FAILED instead of failing the cold start unanswered).
import { SSMClient } from '@aws-sdk/client-ssm';
import { jsonLogger, type Logger, makeHandler, type OnEvent } from '../lib/custom-resource';
import { cloudFormationView, fromItsStack, type StackView } from '../lib/stack-check';
import { checkConfiguredRotation, environmentNames, readConfiguration, resourceOf } from './configuration';
import { otherRegionSsm } from './follower';
import { type KeyRingDeps, keyRing } from './key-ring';
import type { Ssm } from './parameters';
import { cloudFrontPublicKeys, type PublicKeys, signingKey } from './signing-key';

export interface KeyRingResourcesDeps extends KeyRingDeps {
  ssm: Ssm;
  homeSsm?: Ssm;
  logger: Logger;
  environment: Record<string, string | undefined>;
  /** The function's stack as CloudFormation records it: whether it is rolling back. */
  stack: StackView;
  /** CloudFront's public keys: the photo URL key pair id must hold the ring's current key. */
  publicKeys: PublicKeys;
}

/** One function serves both resource types: rings, and the signing keys they publish. */
export function keyRingResources(deps: KeyRingResourcesDeps): OnEvent {
  const ring = keyRing(deps);
  const publishSigningKey = signingKey(deps);
  return async (event, invocation) => {
    const configuration = readConfiguration(deps.environment);
    const resource = resourceOf(event, configuration);
    await checkConfiguredRotation(event, resource, () => deps.stack.stackStatus(event.StackId));
    const request = { event, resource, configuration, invocation };
    return resource.kind === 'signingKey' ? publishSigningKey(request) : ring(request);
  };
}

const homeRegion = process.env[environmentNames.homeRegion];
const followerRegion = process.env[environmentNames.followerRegion];

const stack = cloudFormationView();

export const handler = makeHandler(
  fromItsStack(
    keyRingResources({
      // Re-encrypting a key store writes up to 100 versions once: room for SSM's throttling.
      ssm: new SSMClient({ maxAttempts: 8 }),
      // Bounded: a home region that does not answer is an outage to deploy through, not to wait for.
      homeSsm: homeRegion ? otherRegionSsm(homeRegion) : undefined,
      followerSsm: followerRegion ? otherRegionSsm(followerRegion) : undefined,
      logger: jsonLogger,
      environment: process.env,
      stack,
      publicKeys: cloudFrontPublicKeys(),
    }),
    { view: stack, stackId: process.env[environmentNames.stackId] },
  ),
);
