// The deployed artifact itself: the key ring zip that `sls package` built, run by Node with the
// real AWS SDK against a local SSM endpoint, answering a local CloudFormation response server,
// configured with the environment the template gives it.
import { createHash } from 'node:crypto';
import { statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { generateSecret } from '../../handlers/lib/signing-keys';
import { scratchDir, stackDir, unpackedBundle } from '../package-stage';
import {
  awsManagedKey,
  type ChildRun,
  keyRingEnvironment,
  MemoryParameterStore,
  makeEvent,
  runBundledHandler,
  runNode,
  secondaryStageKeyArn,
  stackId,
  stageKeyArn,
  startResponseServer,
  startSsmEndpoint,
} from './support';

/** The key ring bundle of a sandbox's package, and a folder for the events the driver reads. */
let bundleDir: string;
let scratch: string;
/** Secrets are compared by digest: a failed assertion must not print a key. */
const digest = (secret: string | undefined) => secret && createHash('sha256').update(secret).digest('hex');
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

function runKeyRing({ events, endpoint, environment, remainingMs = 60_000, lingerMs = 0, region = 'ap-south-1' }: Run): Promise<ChildRun> {
  const eventsFile = join(scratch, `events-${process.hrtime.bigint()}.json`);
  writeFileSync(eventsFile, JSON.stringify(events));
  return runNode([driver(), join(bundleDir, 'handlers/key-ring/index.js'), eventsFile, String(remainingMs), String(lingerMs)], region, {
    ...environment,
    AWS_ENDPOINT_URL_SSM: endpoint,
  });
}

const names = (stage: string) => ({
  root: `/movement-pass/${stage}`,
  signing: `/movement-pass-signing/${stage}`,
  jwtStore: `/movement-pass-keys/${stage}/jwt`,
  photoStore: `/movement-pass-keys/${stage}/photoUrl`,
});

const jwtRing = (stage: string, algorithm = 'RS256', rotation = 0) => {
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

describe('the packaged key ring bundle', () => {
  let store: MemoryParameterStore;
  let ssm: Awaited<ReturnType<typeof startSsmEndpoint>>;
  let cloudFormation: Awaited<ReturnType<typeof startResponseServer>>;

  beforeAll(() => {
    bundleDir = unpackedBundle('alice', 'keyRing');
    scratch = scratchDir('key-ring-bundle');
    writeFileSync(driver(), driverSource);
  });
  beforeEach(async () => {
    store = new MemoryParameterStore();
    cloudFormation = await startResponseServer();
  });
  afterEach(async () => {
    await ssm?.close();
    await cloudFormation.close();
  });

  const event = (stage: string, partial: Record<string, unknown> & { RequestType: string }) =>
    makeEvent({
      StackId: stackId(stage),
      ResponseURL: cloudFormation.url,
      ...(partial.RequestType === 'Create' ? {} : { PhysicalResourceId: names(stage).jwtStore }),
      ...partial,
    });
  const update = (stage: string, properties: object, old: object) =>
    event(stage, { RequestType: 'Update', ResourceProperties: properties, OldResourceProperties: old });
  const answers = () => cloudFormation.received.map((r) => r.body);

  it('creates the JWT keys through SSM and answers CloudFormation, logging no secret', async () => {
    ssm = await startSsmEndpoint(store);
    const { root, signing, jwtStore } = names('alice');

    const { code, output } = await runKeyRing({
      events: [event('alice', { RequestType: 'Create', ResourceProperties: jwtRing('alice') })],
      endpoint: ssm.url,
      environment: keyRingEnvironment('alice'),
    });

    expect(code, output).toBe(0);
    expect(answers()).toEqual([expect.objectContaining({ Status: 'SUCCESS', PhysicalResourceId: jwtStore })]);
    expect(store.latest(`${signing}/jwtPrivateKey`)?.type).toBe('SecureString');
    expect(answers()[0].Data.KeyId).toBe(store.latest(`${root}/jwtKeyId`)?.value);
    expect(ssm.operations).toEqual(
      expect.arrayContaining(['GetParameterHistory', 'GetParameters', 'PutParameter', 'LabelParameterVersion']),
    );
    expect(output).not.toContain('PRIVATE KEY');
    expect(output).toContain('"answered CloudFormation"');
  });

  it('writes nothing after answering a timeout, even with a slow SSM, and a failed Create leaves nothing behind', async () => {
    // Every call takes 100 ms; labeling a key store version takes a minute.
    ssm = await startSsmEndpoint(store, { delayMs: 100, stalled: ['LabelParameterVersion'] });

    // The handler keeps 10 s to answer and 10 s to clean up: 4 s of work before time is up.
    const { code, output } = await runKeyRing({
      events: [event('alice', { RequestType: 'Create', ResourceProperties: jwtRing('alice') })],
      endpoint: ssm.url,
      environment: keyRingEnvironment('alice'),
      remainingMs: 24_000,
      lingerMs: 1_500,
    });

    expect(code, output).toBe(0);
    expect(answers()).toEqual([expect.objectContaining({ Status: 'FAILED', Reason: expect.stringContaining('ran out of time') })]);
    const answeredAt = cloudFormation.received[0].at;
    // It had started writing (the key store, then its label) before time was up ...
    expect(ssm.received.map((request) => request.operation)).toEqual(expect.arrayContaining(['PutParameter', 'LabelParameterVersion']));
    // ... removed it before answering, and sent nothing to SSM afterwards.
    expect(ssm.received.filter((request) => request.at > answeredAt)).toEqual([]);
    expect(store.changes.filter((change) => change.at > answeredAt)).toEqual([]);
    expect([...store.history.keys()]).toEqual([]);
  });

  it('on prod, does nothing for a forged Delete without Retain and refuses an event of another stack', async () => {
    ssm = await startSsmEndpoint(store);
    const prod = keyRingEnvironment('prod');
    await runKeyRing({
      events: [event('prod', { RequestType: 'Create', ResourceProperties: jwtRing('prod') })],
      endpoint: ssm.url,
      environment: prod,
    });
    const before = JSON.stringify([...store.history]);

    const { code, output } = await runKeyRing({
      events: [
        event('prod', { RequestType: 'Delete', ResourceProperties: { ...jwtRing('prod'), Retain: 'false' } }),
        event('prod', { RequestType: 'Delete', ResourceProperties: jwtRing('prod'), StackId: stackId('alice') }),
        event('prod', { RequestType: 'Create', ResourceProperties: jwtRing('prod', 'RS256', 7), StackId: stackId('alice') }),
      ],
      endpoint: ssm.url,
      environment: prod,
    });

    expect(code, output).toBe(0);
    expect(answers().slice(1)).toEqual([
      expect.objectContaining({ Status: 'SUCCESS' }),
      expect.objectContaining({ Status: 'FAILED', Reason: expect.stringContaining('refusing an event from') }),
      expect.objectContaining({ Status: 'FAILED', Reason: expect.stringContaining('refusing an event from') }),
    ]);
    expect(JSON.stringify([...store.history])).toBe(before);
  });

  it('in a secondary region, copies the home keys (both regions behind one endpoint, by signing region), and with home down keeps only what it holds', async () => {
    const secondaryStore = new MemoryParameterStore();
    const regions: Record<string, MemoryParameterStore | 'down'> = { 'ap-south-1': store, 'ap-southeast-1': secondaryStore };
    ssm = await startSsmEndpoint(store, { regions });
    const { root, signing, jwtStore } = names('prod');
    const secondary = { StackId: stackId('prod', 'ap-southeast-1') };
    const follower = {
      endpoint: ssm.url,
      environment: keyRingEnvironment('prod', undefined, { region: 'ap-southeast-1' }),
      region: 'ap-southeast-1',
    };
    await runKeyRing({
      events: [event('prod', { RequestType: 'Create', ResourceProperties: jwtRing('prod') })],
      endpoint: ssm.url,
      environment: keyRingEnvironment('prod'),
    });
    const copied = await runKeyRing({
      ...follower,
      events: [event('prod', { RequestType: 'Create', ResourceProperties: jwtRing('prod'), ...secondary })],
    });
    await runKeyRing({
      events: [update('prod', jwtRing('prod', 'RS256', 1), jwtRing('prod', 'RS256', 0))],
      endpoint: ssm.url,
      environment: keyRingEnvironment('prod'),
    });
    regions['ap-south-1'] = 'down';

    const homeDown = await runKeyRing({
      ...follower,
      events: [
        { ...update('prod', jwtRing('prod', 'RS256', 0), jwtRing('prod', 'RS256', 0)), ...secondary },
        { ...update('prod', jwtRing('prod', 'RS256', 1), jwtRing('prod', 'RS256', 0)), ...secondary },
      ],
    });

    expect(copied.code, copied.output).toBe(0);
    expect(homeDown.code, homeDown.output).toBe(0);
    const [home, followed, , held, notHeld] = answers();
    expect(followed).toMatchObject({ Status: 'SUCCESS', Data: home.Data });
    // Home has rotated since: the region still signs with the home key of rotation 0, byte for byte.
    const homeKey0 = store.GetParameters({ Names: [`${jwtStore}:RS256-k0`] }).Parameters[0]?.Value;
    expect(digest(secondaryStore.latest(`${signing}/jwtPrivateKey`)?.value)).toBe(digest(homeKey0));
    expect(secondaryStore.latest(`${root}/jwks`)?.value).toBe(home.Data.Jwks);
    expect(secondaryStore.encryptedWith(secondaryStageKeyArn).sort()).toEqual([jwtStore, `${signing}/jwtPrivateKey`].sort());
    expect(held).toMatchObject({ Status: 'SUCCESS', Data: home.Data });
    expect(notHeld).toMatchObject({ Status: 'FAILED', Reason: expect.stringContaining('The home region ap-south-1 did not answer') });
    expect(`${copied.output}${homeDown.output}`).not.toContain('PRIVATE KEY');
  });

  // The long stretch rotates ES256 keys, which take microseconds to make where an RSA key takes
  // about 150 ms: as many rotations and switches as with a long RS256 stretch, in a fifth of the time.
  it('goes on rotating past 100 key store versions, across RS256 → ES256 → RS256 switches', async () => {
    ssm = await startSsmEndpoint(store);
    const steps: [string, number][] = [];
    for (let r = 1; r <= 3; r++) steps.push(['RS256', r]);
    for (let r = 0; r <= 120; r++) steps.push(['ES256', r]);
    for (let r = 3; r <= 5; r++) steps.push(['RS256', r]);
    let previous = jwtRing('prod', 'RS256', 0);
    const events: unknown[] = [event('prod', { RequestType: 'Create', ResourceProperties: previous })];
    for (const [algorithm, rotation] of steps) {
      const next = jwtRing('prod', algorithm, rotation);
      // Each switch deploys the function configured for the new algorithm.
      const environment = keyRingEnvironment('prod', (settings) => {
        settings.jwt.algorithm = algorithm as typeof settings.jwt.algorithm;
      });
      events.push({ event: update('prod', next, previous), environment });
      previous = next;
    }

    const { code, output } = await runKeyRing({ events, endpoint: ssm.url, environment: keyRingEnvironment('prod') });

    expect(code, output).toBe(0);
    const statuses = answers().map((answer) => answer.Status);
    expect(
      statuses.filter((status) => status !== 'SUCCESS'),
      JSON.stringify(answers().find((a) => a.Status !== 'SUCCESS')),
    ).toEqual([]);
    expect(statuses).toHaveLength(events.length);
    // More than 120 rotations, each adding a version: SSM dropped the oldest ones.
    const versions = store.history.get(names('prod').jwtStore) ?? [];
    expect(versions.at(-1)?.version).toBeGreaterThan(120);
    expect(versions.length).toBeLessThanOrEqual(100);
  });

  it('answers the largest rings (RS256, rotation 1) in under 2048 bytes', async () => {
    ssm = await startSsmEndpoint(store);
    const { root, photoStore } = names('prod');
    const environment = keyRingEnvironment('prod', (settings) => {
      settings.photos.keyRotation = 1;
    });
    const photoRing = (rotation: number) => ({
      Algorithm: 'RS256',
      Rotation: String(rotation),
      KeyStoreParameter: photoStore,
      PublicKeysParameter: `${root}/photoUrlPublicKeys`,
    });

    const { code, output } = await runKeyRing({
      events: [
        event('prod', { RequestType: 'Create', ResourceProperties: jwtRing('prod', 'RS256', 0) }),
        update('prod', jwtRing('prod', 'RS256', 1), jwtRing('prod', 'RS256', 0)),
        event('prod', { RequestType: 'Create', LogicalResourceId: 'PhotoUrlKeyRing', ResourceProperties: photoRing(0) }),
        event('prod', {
          RequestType: 'Update',
          LogicalResourceId: 'PhotoUrlKeyRing',
          PhysicalResourceId: photoStore,
          ResourceProperties: photoRing(1),
          OldResourceProperties: photoRing(0),
        }),
      ],
      endpoint: ssm.url,
      environment,
    });

    expect(code, output).toBe(0);
    const [, jwt, , photo] = cloudFormation.received;
    expect(jwt.body).toMatchObject({ Status: 'SUCCESS' });
    expect(Object.keys(jwt.body.Data).sort()).toEqual(['Jwks', 'KeyId']);
    expect(JSON.parse(jwt.body.Data.Jwks).keys).toHaveLength(3);
    expect(photo.body).toMatchObject({ Status: 'SUCCESS' });
    expect(Object.keys(photo.body.Data).sort()).toEqual(['NextPublicKey', 'PreviousPublicKey', 'PublicKey']);
    expect(jwt.bytes).toBeLessThan(2048);
    expect(photo.bytes).toBeLessThan(2048);
  });

  it('upgrades a stage whose keys were under aws/ssm in the contract root: same keys, no version left under aws/ssm', async () => {
    ssm = await startSsmEndpoint(store);
    const { root, signing, jwtStore, photoStore } = names('prod');
    // The stage as the earlier layout left it: key stores and private keys under aws/ssm, the
    // private keys in the contract root, and some versions already released.
    const keys = { jwt: [] as string[], photo: [] as string[] };
    for (const [storeName, list] of [
      [jwtStore, keys.jwt],
      [photoStore, keys.photo],
    ] as const) {
      store.PutParameter({ Name: storeName, Value: await generateSecret('RS256'), Type: 'SecureString', Overwrite: true });
      for (let rotation = 0; rotation <= 2; rotation++) {
        const secret = await generateSecret('RS256');
        list.push(secret);
        const { Version } = store.PutParameter({ Name: storeName, Value: secret, Type: 'SecureString', Overwrite: true });
        store.LabelParameterVersion({ Name: storeName, ParameterVersion: Version, Labels: [`RS256-k${rotation}`] });
      }
    }
    store.PutParameter({ Name: `${root}/jwtPrivateKey`, Value: keys.jwt[1], Type: 'SecureString', Overwrite: true });
    store.PutParameter({ Name: `${root}/photoUrlPrivateKey`, Value: keys.photo[1], Type: 'SecureString', Overwrite: true });
    store.PutParameter({ Name: `${root}/photoUrlKeyPairId`, Value: 'K1', Type: 'String', Overwrite: true });
    const old = { ...jwtRing('prod', 'RS256', 1), PrivateKeyParameter: `${root}/jwtPrivateKey`, Retain: 'true' };
    const photoKey = { Algorithm: 'RS256', Rotation: '1', KeyStoreParameter: photoStore };
    const oldSigningKey = {
      ...photoKey,
      PrivateKeyParameter: `${root}/photoUrlPrivateKey`,
      KeyIdParameter: `${root}/photoUrlKeyPairId`,
      KeyId: 'K1',
    };
    const photo = (LogicalResourceId: string, PhysicalResourceId: string, properties: object, oldProperties: object) =>
      event('prod', {
        RequestType: 'Update',
        LogicalResourceId,
        PhysicalResourceId,
        ResourceProperties: properties,
        OldResourceProperties: oldProperties,
      });

    const { code, output } = await runKeyRing({
      events: [
        update('prod', jwtRing('prod', 'RS256', 1), old),
        photo(
          'PhotoUrlKeyRing',
          photoStore,
          { ...photoKey, PublicKeysParameter: `${root}/photoUrlPublicKeys` },
          { ...photoKey, PublicKeysParameter: `${root}/photoUrlPublicKeys`, Retain: 'true' },
        ),
        photo(
          'PhotoUrlSigningKey',
          `${root}/photoUrlPrivateKey`,
          { ...oldSigningKey, PrivateKeyParameter: `${signing}/photoUrlPrivateKey` },
          { ...oldSigningKey, Retain: 'true' },
        ),
      ],
      endpoint: ssm.url,
      environment: keyRingEnvironment('prod', (settings) => {
        settings.jwt.rotation = 1;
        settings.photos.keyRotation = 1;
      }),
    });

    expect(code, output).toBe(0);
    expect(answers().map((answer) => [answer.Status, answer.PhysicalResourceId])).toEqual([
      ['SUCCESS', jwtStore],
      ['SUCCESS', photoStore],
      ['SUCCESS', `${root}/photoUrlPrivateKey`],
    ]);
    // The same keys sign, now from the signing root ...
    expect(store.latest(`${signing}/jwtPrivateKey`)?.value).toBe(keys.jwt[1]);
    expect(store.latest(`${signing}/photoUrlPrivateKey`)?.value).toBe(keys.photo[1]);
    for (const [storeName, list] of [
      [jwtStore, keys.jwt],
      [photoStore, keys.photo],
    ] as const) {
      for (const [rotation, secret] of list.entries()) {
        expect(store.GetParameters({ Names: [`${storeName}:RS256-k${rotation}`] }).Parameters[0]?.Value).toBe(secret);
      }
    }
    // ... the contract root holds no private key any more, and no version of anything is under aws/ssm.
    expect(store.latest(`${root}/jwtPrivateKey`)).toBeUndefined();
    expect(store.latest(`${root}/photoUrlPrivateKey`)).toBeUndefined();
    expect(store.encryptedWith(awsManagedKey)).toEqual([]);
    expect(store.encryptedWith(stageKeyArn).sort()).toEqual(
      [jwtStore, photoStore, `${signing}/jwtPrivateKey`, `${signing}/photoUrlPrivateKey`].sort(),
    );
  });
});

/** Runs one event through a packaged bundle (any entry), with the given AWS endpoints. */
function runBundle(
  event: unknown,
  endpoints: Record<string, string> | string,
  entry = join(bundleDir, 'handlers/key-ring/index.js'),
): Promise<ChildRun> {
  return runBundledHandler(entry, event, 'ap-south-1', typeof endpoints === 'string' ? { AWS_ENDPOINT_URL_SSM: endpoints } : endpoints);
}

/** A local CloudWatch Logs endpoint (AWS JSON 1.1): records each operation and answers as the service would. */
async function startLogsEndpoint() {
  const calls: { operation: string; input: Record<string, unknown> }[] = [];
  const answers: Partial<Record<string, (input: Record<string, unknown>) => unknown>> = {
    PutDeliverySource: (input) => ({ deliverySource: { name: input.name } }),
    PutDeliveryDestination: (input) => ({
      deliveryDestination: { name: input.name, arn: `arn:aws:logs:us-east-1:123456789012:delivery-destination:${input.name}` },
    }),
    DescribeDeliveries: () => ({ deliveries: [] }),
    CreateDelivery: () => ({ delivery: { id: 'delivery-from-local-endpoint' } }),
  };
  const server = createServer((request, response) => {
    let text = '';
    request.on('data', (chunk) => {
      text += chunk;
    });
    request.on('end', () => {
      const operation = String(request.headers['x-amz-target'] ?? '').replace('Logs_20140328.', '');
      const input = JSON.parse(text || '{}');
      calls.push({ operation, input });
      const answer = answers[operation];
      response
        .writeHead(answer ? 200 : 400, { 'content-type': 'application/x-amz-json-1.1' })
        .end(JSON.stringify(answer ? answer(input) : { __type: 'InvalidOperationException', message: operation }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, calls, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('the packaged access-log setup bundle (prod)', () => {
  let dir: string;
  let logs: Awaited<ReturnType<typeof startLogsEndpoint>>;
  let cloudFormation: Awaited<ReturnType<typeof startResponseServer>>;

  beforeAll(async () => {
    dir = unpackedBundle('prod', 'accessLogSetup');
    logs = await startLogsEndpoint();
    cloudFormation = await startResponseServer();
  });
  afterAll(async () => {
    await logs.close();
    await cloudFormation.close();
  });

  it('is a minified artifact of at most 150 KB, the AWS SDK left to the Lambda runtime', () => {
    expect(statSync(join(stackDir('prod'), 'accessLogSetup.zip')).size).toBeLessThanOrEqual(150 * 1024);
  });

  it('sets up the CloudFront log delivery through CloudWatch Logs and answers CloudFormation', async () => {
    const name = 'movement-pass-prod-photo-access-logs';
    const event = makeEvent({
      RequestType: 'Create',
      ResourceType: 'Custom::CloudFrontLogDelivery',
      LogicalResourceId: 'PhotoAccessLogDelivery',
      ResponseURL: cloudFormation.url,
      ResourceProperties: {
        Name: name,
        DistributionArn: 'arn:aws:cloudfront::123456789012:distribution/E2EXAMPLE123',
        DestinationArn: 'arn:aws:s3:::movement-pass-prod-access-logs-123456789012/cloudfront',
        OutputFormat: 'json',
        RecordFields: ['date', 'c-ip'],
      },
    });

    const { code, output } = await runBundle(
      event,
      { AWS_ENDPOINT_URL_CLOUDWATCH_LOGS: logs.url },
      join(dir, 'handlers/access-logs/index.js'),
    );

    expect(code, output).toBe(0);
    expect(logs.calls.map((call) => call.operation)).toEqual([
      'PutDeliverySource',
      'PutDeliveryDestination',
      'DescribeDeliveries',
      'CreateDelivery',
    ]);
    expect(logs.calls[0].input).toMatchObject({ name, logType: 'ACCESS_LOGS' });
    expect(cloudFormation.received.map((r) => r.body)).toEqual([
      expect.objectContaining({
        Status: 'SUCCESS',
        PhysicalResourceId: name,
        Data: expect.objectContaining({ DeliveryId: 'delivery-from-local-endpoint' }),
      }),
    ]);
  });
});
