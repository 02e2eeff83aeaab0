// The packaged key ring bundle as the tests run it: unzipped from a sandbox's package, driven by a
// Lambda-like Node process against a local SSM endpoint and CloudFormation response server.
// Shared by the bundle tests, which run in two files so that two workers share their waits.
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach } from 'vitest';
import { scratchDir, unpackedBundle } from '../package-stage';
import { startCloudFormationEndpoint, startCloudFrontKeysEndpoint } from './stack-endpoints';
import { type ChildRun, MemoryParameterStore, makeEvent, runNode, stackId, startResponseServer, startSsmEndpoint } from './support';

/** The key ring bundle of a sandbox's package, and a folder for the events the driver reads (set by the fixture). */
let bundleDir: string;
let scratch: string;
/** What the bundle asks before it acts: its stack (CloudFormation) and CloudFront's public keys, per test. */
let stackEndpoints: {
  cloudFormation: Awaited<ReturnType<typeof startCloudFormationEndpoint>>;
  cloudFront: Awaited<ReturnType<typeof startCloudFrontKeysEndpoint>>;
};
/** Secrets are compared by digest: a failed assertion must not print a key. */
export const digest = (secret: string | undefined) => secret && createHash('sha256').update(secret).digest('hex');
const driver = () => join(scratch, 'driver.js');

// Runs events one after the other in one Lambda-like process, then keeps it alive a while, as a
// warm Lambda container is: a write the handler left running after its answer would land then.
const driverSource = `
const { readFileSync } = require('node:fs');
const [bundle, eventsFile, remainingMs, lingerMs] = process.argv.slice(2);
const { handler } = require(bundle);
(async () => {
  for (const entry of JSON.parse(readFileSync(eventsFile, 'utf8'))) {
    // An entry with its own environment is the function as a deploy configured it for that event.
    const event = entry.environment ? entry.event : entry;
    if (entry.environment) Object.assign(process.env, entry.environment);
    const deadline = Date.now() + Number(remainingMs);
    await handler(event, { getRemainingTimeInMillis: () => deadline - Date.now() });
  }
  await new Promise((resolve) => setTimeout(resolve, Number(lingerMs)));
})().then(() => process.exit(0), (error) => { console.error(error); process.exit(1); });
`;

interface Run {
  events: unknown[];
  endpoint: string;
  environment: Record<string, string>;
  remainingMs?: number;
  lingerMs?: number;
  /** The region the function runs in (Lambda's AWS_REGION). */
  region?: string;
}

export function runKeyRing({
  events,
  endpoint,
  environment,
  remainingMs = 60_000,
  lingerMs = 0,
  region = 'ap-south-1',
}: Run): Promise<ChildRun> {
  const eventsFile = join(scratch, `events-${process.hrtime.bigint()}.json`);
  writeFileSync(eventsFile, JSON.stringify(events));
  return runNode([driver(), join(bundleDir, 'handlers/key-ring/index.js'), eventsFile, String(remainingMs), String(lingerMs)], region, {
    ...environment,
    AWS_ENDPOINT_URL_SSM: endpoint,
    AWS_ENDPOINT_URL_CLOUDFORMATION: stackEndpoints.cloudFormation.url,
    AWS_ENDPOINT_URL_CLOUDFRONT: stackEndpoints.cloudFront.url,
  });
}

export const names = (stage: string) => ({
  root: `/movement-pass/${stage}`,
  signing: `/movement-pass-signing/${stage}`,
  jwtStore: `/movement-pass-keys/${stage}/jwt`,
  photoStore: `/movement-pass-keys/${stage}/photoUrl`,
});

export const jwtRing = (stage: string, algorithm = 'RS256', rotation = 0) => {
  const { root, signing, jwtStore } = names(stage);
  return {
    Algorithm: algorithm,
    Rotation: String(rotation),
    KeyStoreParameter: jwtStore,
    PrivateKeyParameter: `${signing}/jwtPrivateKey`,
    PublicKeysParameter: `${root}/jwks`,
    PublicKeyParameter: `${root}/jwtPublicKey`,
    KeyIdParameter: `${root}/jwtKeyId`,
  };
};

/**
 * Registers the hooks of a file of bundle tests: the bundle unpacked once, then per test a new
 * parameter store and response server. Returns the test's state and its event builders.
 */
export function useKeyRingBundle(scratchName: string) {
  const state = {} as {
    store: MemoryParameterStore;
    ssm?: Awaited<ReturnType<typeof startSsmEndpoint>>;
    cloudFormation: Awaited<ReturnType<typeof startResponseServer>>;
    /** The stack as CloudFormation records it, which the bundle asks about each event. */
    stack: Awaited<ReturnType<typeof startCloudFormationEndpoint>>;
    /** CloudFront's public keys, which a photo key pair id must name. */
    cloudFront: Awaited<ReturnType<typeof startCloudFrontKeysEndpoint>>;
  };
  beforeAll(() => {
    bundleDir = unpackedBundle('alice', 'keyRing');
    scratch = scratchDir(scratchName);
    writeFileSync(driver(), driverSource);
  });
  beforeEach(async () => {
    state.store = new MemoryParameterStore();
    state.ssm = undefined;
    state.cloudFormation = await startResponseServer();
    state.stack = await startCloudFormationEndpoint();
    state.cloudFront = await startCloudFrontKeysEndpoint();
    stackEndpoints = { cloudFormation: state.stack, cloudFront: state.cloudFront };
  });
  afterEach(async () => {
    await state.ssm?.close();
    await state.cloudFormation.close();
    await state.stack.close();
    await state.cloudFront.close();
  });

  const event = (stage: string, partial: Record<string, unknown> & { RequestType: string }) =>
    makeEvent({
      StackId: stackId(stage),
      ResponseURL: state.cloudFormation.url,
      ...(partial.RequestType === 'Create' ? {} : { PhysicalResourceId: names(stage).jwtStore }),
      ...partial,
    });
  const update = (stage: string, properties: object, old: object) =>
    event(stage, { RequestType: 'Update', ResourceProperties: properties, OldResourceProperties: old });
  const answers = () => state.cloudFormation.received.map((r) => r.body);
  /** An SSM endpoint for this test, closed after it. */
  const startSsm = async (...args: Parameters<typeof startSsmEndpoint>) => {
    state.ssm = await startSsmEndpoint(...args);
    return state.ssm;
  };
  return { state, event, update, answers, startSsm };
}
