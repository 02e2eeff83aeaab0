// Test doubles at the real boundaries of a custom resource: a local HTTP server stands in for
// CloudFormation's presigned response URL, an in-memory store behind aws-sdk-client-mock for SSM.
import { createPublicKey, verify } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  DeleteParametersCommand,
  GetParameterHistoryCommand,
  GetParametersCommand,
  LabelParameterVersionCommand,
  PutParameterCommand,
  SSMClient,
  UnlabelParameterVersionCommand,
} from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import type { PublicKeys } from '../../handlers/key-ring/signing-key';
import type { CustomResourceEvent, Logger } from '../../handlers/lib/custom-resource';
import { stackIdVariable } from '../../handlers/lib/environment';
import { generateSecret, type SigningAlgorithm } from '../../handlers/lib/signing-keys';
import type { StackView } from '../../handlers/lib/stack-check';
import { keyRingEnvironment as templateEnvironment } from '../../resources/key-ring';
import { type StackChoice, type StageSettings, settingsFor } from '../../resources/stage';

const homeRegion = 'ap-south-1';

import { offlineEnv, runChild } from '../package-stage';

export interface ReceivedResponse {
  /** When the answer arrived. */
  at: number;
  /** Its size in bytes, as CloudFormation counts it against its 4096-byte limit. */
  bytes: number;
  method: string;
  path: string;
  contentType: string | undefined;
  body: Record<string, any>;
}

/** CloudFormation's side of the presigned URL: records every response PUT. */
export async function startResponseServer(options: { failFirst?: number } = {}) {
  const received: ReceivedResponse[] = [];
  let toFail = options.failFirst ?? 0;
  const server: Server = createServer((request, response) => {
    let text = '';
    request.on('data', (chunk) => {
      text += chunk;
    });
    request.on('end', () => {
      if (toFail > 0) {
        toFail--;
        response.writeHead(503).end();
        return;
      }
      received.push({
        at: Date.now(),
        bytes: Buffer.byteLength(text),
        method: request.method ?? '',
        path: request.url ?? '',
        contentType: request.headers['content-type'],
        body: JSON.parse(text),
      });
      response.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    received,
    url: `http://127.0.0.1:${port}/cloudformation-response?X-Amz-Signature=secret-signature`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export const stackId = (stage: string, region = homeRegion) =>
  `arn:aws:cloudformation:${region}:123456789012:stack/movement-pass-foundation-${stage}/5c1a2f40-cb1b-11ef-a3ae-0a1b2c3d4e5f`;
export const stageKeyArn = 'arn:aws:kms:ap-south-1:123456789012:key/11111111-2222-3333-4444-555555555555';
/** The stage key of a shared stage's secondary region: every region has its own. */
export const secondaryStageKeyArn = 'arn:aws:kms:ap-southeast-1:123456789012:key/66666666-7777-8888-9999-000000000000';
export const stageKeyArnIn = (region: string) => (region === homeRegion ? stageKeyArn : secondaryStageKeyArn);
/** The AWS managed key SSM uses when none is given. */
export const awsManagedKey = 'alias/aws/ssm';

/**
 * The key ring function's environment as the template gives it to a stage in a region: the
 * variables resources/key-ring.ts writes, with the stack id and the key ARN CloudFormation would
 * resolve. `choice` picks a secondary region (and a sandbox's opt-in to it).
 */
export function keyRingEnvironment(
  stage: string,
  change?: (settings: StageSettings) => void,
  choice?: StackChoice,
): Record<string, string> {
  const settings = settingsFor(stage, choice);
  change?.(settings);
  const resolve = (value: unknown): string => {
    if (typeof value === 'string') return value;
    const json = JSON.stringify(value);
    if (json === '{"Ref":"AWS::StackId"}') return stackId(stage, settings.region);
    if (json === '{"Fn::GetAtt":["SigningKeysKey","Arn"]}') return stageKeyArnIn(settings.region);
    throw new Error(`no test value for ${json} in the key ring's environment`);
  };
  return {
    // Every custom-resource function's (resources/functions.ts).
    [stackIdVariable]: stackId(stage, settings.region),
    ...Object.fromEntries(Object.entries(templateEnvironment(settings)).map(([name, value]) => [name, resolve(value)])),
  };
}

/**
 * A stack as CloudFormation records it while it carries out the events a test sends: every
 * resource in progress, the stack in `status` (a rollback, say).
 */
export function stackInProgress(status = 'UPDATE_IN_PROGRESS'): StackView & { status: string } {
  return {
    status,
    async stackStatus() {
      return this.status;
    },
    async resource() {
      return { status: this.status === 'UPDATE_ROLLBACK_IN_PROGRESS' ? 'UPDATE_IN_PROGRESS' : 'CREATE_IN_PROGRESS' };
    },
  };
}

/** CloudFront's public keys, as the stack creates them from a ring's public keys: `hold` one under its id. */
export function cloudFrontKeys(): PublicKeys & { hold(id: string, pem: string): void } {
  const held = new Map<string, string>();
  return {
    hold: (id, pem) => held.set(id, pem),
    encodedKey: async (id) => held.get(id),
  };
}

export function makeEvent(partial: Partial<Record<string, unknown>> & { RequestType: string }): CustomResourceEvent {
  return {
    ServiceToken: 'arn:aws:lambda:ap-south-1:123456789012:function:movement-pass-foundation-alice-keyRing',
    ResponseURL: 'http://127.0.0.1:1/unset',
    StackId: stackId('alice'),
    RequestId: 'request-1',
    LogicalResourceId: 'JwtKeyRing',
    ResourceType: 'Custom::KeyRing',
    ResourceProperties: { ServiceToken: 'token' },
    ...partial,
  } as unknown as CustomResourceEvent;
}

export const context = (remainingMs = 300_000) => ({ getRemainingTimeInMillis: () => remainingMs });

/** A logger that keeps every line, to check what would reach CloudWatch. */
export function memoryLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    info: (message, details) => lines.push(JSON.stringify({ message, ...details })),
    error: (message, details) => lines.push(JSON.stringify({ message, ...details })),
  };
}

type StoredVersion = { version: number; value: string; type: string; labels: Set<string>; keyId?: string };

const ssmError = (name: string, message = name) => Object.assign(new Error(message), { name });

/**
 * SSM Parameter Store in memory, with versions, labels and the KMS key of each version; one
 * method per SSM operation, taking and returning what the API does, so both the mocked client
 * and a local endpoint serve it. Like SSM it keeps 100 versions, dropping the oldest unless it is
 * labeled, and records the key a SecureString was given (aws/ssm when none).
 */
export class MemoryParameterStore {
  readonly history = new Map<string, StoredVersion[]>();
  /** Every change applied, in order, with when it was applied. */
  readonly changes: { at: number; operation: string; name: string }[] = [];

  latest(name: string): StoredVersion | undefined {
    return this.history.get(name)?.at(-1);
  }

  /** `name`, `name:label` or `name:version`, as SSM selectors read. */
  private select(selector: string) {
    const [name, which] = selector.split(':');
    const versions = this.history.get(name) ?? [];
    if (which === undefined) return { name, found: versions.at(-1) };
    return { name, found: versions.find((v) => (/^\d+$/.test(which) ? v.version === Number(which) : v.labels.has(which))) };
  }

  private changed(operation: string, name: string) {
    this.changes.push({ at: Date.now(), operation, name });
  }

  PutParameter(input: { Name: string; Value: string; Type: string; Overwrite?: boolean; KeyId?: string }) {
    if (this.history.has(input.Name) && !input.Overwrite) throw ssmError('ParameterAlreadyExists');
    const versions = this.history.get(input.Name) ?? [];
    // https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-versions.html
    if (versions.length >= 100) {
      if (versions[0].labels.size) throw ssmError('ParameterMaxVersionLimitExceeded', `the oldest version of ${input.Name} is labeled`);
      versions.shift();
    }
    const version = (versions.at(-1)?.version ?? 0) + 1;
    const keyId = input.Type === 'SecureString' ? (input.KeyId ?? awsManagedKey) : undefined;
    this.history.set(input.Name, [...versions, { version, value: input.Value, type: input.Type, labels: new Set(), keyId }]);
    this.changed('PutParameter', input.Name);
    return { Version: version, Tier: 'Standard' };
  }

  LabelParameterVersion(input: { Name: string; ParameterVersion?: number; Labels: string[] }) {
    const versions = this.history.get(input.Name);
    const target = versions?.find((v) => v.version === input.ParameterVersion);
    if (!versions || !target) throw ssmError('ParameterVersionNotFound');
    for (const label of input.Labels) {
      for (const v of versions) v.labels.delete(label);
      target.labels.add(label);
    }
    // SSM's limit: https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-labels.html
    if (target.labels.size > 10) throw ssmError('ParameterVersionLabelLimitExceeded');
    this.changed('LabelParameterVersion', input.Name);
    return { InvalidLabels: [], ParameterVersion: target.version };
  }

  UnlabelParameterVersion(input: { Name: string; ParameterVersion: number; Labels: string[] }) {
    const target = this.history.get(input.Name)?.find((v) => v.version === input.ParameterVersion);
    if (!target) throw ssmError('ParameterVersionNotFound');
    const removed = input.Labels.filter((label) => target.labels.delete(label));
    this.changed('UnlabelParameterVersion', input.Name);
    return { RemovedLabels: removed, InvalidLabels: input.Labels.filter((label) => !removed.includes(label)) };
  }

  GetParameters(input: { Names: string[] }) {
    if (input.Names.length > 10) throw ssmError('ValidationException', 'at most 10 names');
    const results = input.Names.map((selector) => ({ selector, ...this.select(selector) }));
    return {
      Parameters: results.flatMap(({ name, found }) =>
        found ? [{ Name: name, Value: found.value, Type: found.type, Version: found.version }] : [],
      ),
      InvalidParameters: results.filter((r) => !r.found).map((r) => r.selector),
    };
  }

  GetParameterHistory(input: { Name: string; MaxResults?: number; NextToken?: string }) {
    const versions = this.history.get(input.Name);
    if (!versions) throw ssmError('ParameterNotFound');
    const start = Number(input.NextToken ?? 0);
    const end = start + Math.min(input.MaxResults ?? 50, 50);
    return {
      Parameters: versions.slice(start, end).map((v) => ({
        Name: input.Name,
        Type: v.type,
        KeyId: v.keyId,
        Version: v.version,
        Labels: [...v.labels],
      })),
      NextToken: end < versions.length ? String(end) : undefined,
    };
  }

  /**
   * One page (10 at most, as SSM) of the parameters under a path; SecureStrings stay opaque unless
   * decrypted. With a `caller`, values are decrypted as that caller and, like SSM, the whole call
   * fails when one SecureString is under a KMS key the caller may not decrypt with.
   */
  GetParametersByPath(
    input: { Path: string; Recursive?: boolean; WithDecryption?: boolean; MaxResults?: number; NextToken?: string },
    caller?: { canDecrypt: (keyId: string) => boolean },
  ) {
    const path = input.Path.endsWith('/') ? input.Path : `${input.Path}/`;
    const names = [...this.history.keys()]
      .filter((name) => name.startsWith(path) && (input.Recursive || !name.slice(path.length).includes('/')))
      .sort();
    const start = input.NextToken ? Number(input.NextToken) : 0;
    const end = start + Math.min(input.MaxResults ?? 10, 10);
    const page = names.slice(start, end).map((name) => ({ name, found: this.latest(name) as StoredVersion }));
    const denied = caller && page.find(({ found }) => found.keyId !== undefined && !caller.canDecrypt(found.keyId));
    if (denied) throw ssmError('AccessDeniedException', `not allowed to decrypt ${denied.name} (key ${denied.found.keyId})`);
    const decrypt = input.WithDecryption || caller !== undefined;
    return {
      Parameters: page.map(({ name, found: { value, type, version } }) => ({
        Name: name,
        Type: type,
        Value: type === 'SecureString' && !decrypt ? 'AQICAHencrypted==' : value,
        Version: version,
      })),
      ...(end < names.length ? { NextToken: String(end) } : {}),
    };
  }

  DeleteParameters(input: { Names: string[] }) {
    if (input.Names.length > 10) throw ssmError('ValidationException', 'at most 10 names');
    const deleted = input.Names.filter((name) => this.history.delete(name));
    for (const name of deleted) this.changed('DeleteParameters', name);
    return { DeletedParameters: deleted, InvalidParameters: input.Names.filter((name) => !deleted.includes(name)) };
  }

  /** Names whose history holds a SecureString version under `keyId`. */
  encryptedWith(keyId: string): string[] {
    return [...this.history].filter(([, versions]) => versions.some((v) => v.keyId === keyId)).map(([name]) => name);
  }
}

/** The in-memory store behind a real SSMClient, through aws-sdk-client-mock. */
export function fakeParameterStore() {
  const store = new MemoryParameterStore();
  const ssm = new SSMClient({ region: 'ap-south-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  const mock = mockClient(ssm);
  mock.on(PutParameterCommand).callsFake((input) => store.PutParameter(input));
  mock.on(LabelParameterVersionCommand).callsFake((input) => store.LabelParameterVersion(input));
  mock.on(UnlabelParameterVersionCommand).callsFake((input) => store.UnlabelParameterVersion(input));
  mock.on(GetParametersCommand).callsFake((input) => store.GetParameters(input));
  mock.on(GetParameterHistoryCommand).callsFake((input) => store.GetParameterHistory(input));
  mock.on(DeleteParametersCommand).callsFake((input) => store.DeleteParameters(input));
  const parameters = {
    get: (name: string) => {
      const found = store.latest(name);
      return found && { Name: name, Value: found.value, Type: found.type };
    },
    has: (name: string) => store.history.has(name),
    keys: () => store.history.keys(),
    get size() {
      return store.history.size;
    },
  };
  return { ssm, mock, store, parameters, value: (name: string) => store.latest(name)?.value };
}

/** The region a SigV4 request was signed for (its credential scope), as AWS routes it. */
const signedRegion = (authorization: string | undefined) => /Credential=[^/]+\/\d{8}\/([a-z0-9-]+)\/ssm\//.exec(authorization ?? '')?.[1];

/**
 * A local SSM endpoint (AWS JSON 1.1 protocol) over the in-memory store, for the bundled handler.
 * With `regions`, one store per region, by the region each request is signed for (the bundle's
 * clients of both regions share the AWS_ENDPOINT_URL_SSM of the process); a region marked `down`
 * drops its connections, as a region that does not answer. The object is read at each request.
 * `delayMs` makes it slow: each request is applied only after the delay, and not at all when the
 * client has given up on it meanwhile (an aborted request never reaches the store); the operations
 * in `stalled` take a minute.
 */
export async function startSsmEndpoint(
  store: MemoryParameterStore,
  options: { delayMs?: number; stalled?: string[]; regions?: Record<string, MemoryParameterStore | 'down'> } = {},
) {
  const operations: string[] = [];
  /** When each request arrived. */
  const received: { at: number; operation: string }[] = [];
  const server = createServer((request, response) => {
    let text = '';
    request.on('data', (chunk) => {
      text += chunk;
    });
    request.on('end', () => {
      const operation = String(request.headers['x-amz-target'] ?? '').replace('AmazonSSM.', '') as 'PutParameter';
      operations.push(operation);
      received.push({ at: Date.now(), operation });
      const target = options.regions ? options.regions[signedRegion(request.headers.authorization) ?? ''] : store;
      if (target === 'down' || target === undefined) {
        request.socket.destroy();
        return;
      }
      const apply = () => {
        if (response.destroyed || request.socket.destroyed) return;
        try {
          const result = target[operation](JSON.parse(text || '{}'));
          response.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify(result));
        } catch (error) {
          response
            .writeHead(400, { 'content-type': 'application/x-amz-json-1.1' })
            .end(JSON.stringify({ __type: (error as Error).name, message: (error as Error).message }));
        }
      };
      const delay = options.stalled?.includes(operation) ? 60_000 : (options.delayMs ?? 0);
      if (delay) setTimeout(apply, delay).unref();
      else apply();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    operations,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** CloudFront's check of a canned-policy signature: RSA-SHA1 over the policy, URL-safe base64. */
export function cloudFrontAccepts(signedUrl: string, publicKeyPem: string): boolean {
  const url = new URL(signedUrl);
  const expires = url.searchParams.get('Expires');
  const signature = (url.searchParams.get('Signature') ?? '').replace(/-/g, '+').replace(/_/g, '=').replace(/~/g, '/');
  const resource = `${url.origin}${url.pathname}`;
  const policy = `{"Statement":[{"Resource":"${resource}","Condition":{"DateLessThan":{"AWS:EpochTime":${expires}}}}]}`;
  return verify('RSA-SHA1', Buffer.from(policy), createPublicKey(publicKeyPem), Buffer.from(signature, 'base64'));
}

/** What a child Node process printed (stdout and stderr together) and how it ended. */
export interface ChildRun {
  code: number | null;
  output: string;
}

/**
 * Runs Node with `args` as a Lambda of `region` would run a packaged bundle: no AWS variable of
 * the test machine, fake credentials, and `environment` (endpoints, the function's configuration).
 */
export async function runNode(args: string[], region: string, environment: NodeJS.ProcessEnv): Promise<ChildRun> {
  const { status, output } = await runChild(process.execPath, args, {
    env: { ...offlineEnv(), AWS_REGION: region, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', ...environment },
  });
  return { code: status, output };
}

/** One event through the handler of a packaged bundle's entry file, with a minute left to run. */
/**
 * Runs one event through a bundle's entry, as Lambda would in `region`, configured as its template
 * configures it for the event's stack (its STACK_ID), with the given AWS endpoints; the stack the
 * function checks each event against is `stack`'s.
 */
export function runBundledHandler(
  entry: string,
  event: { StackId: string },
  region: string,
  environment: NodeJS.ProcessEnv & { AWS_ENDPOINT_URL_CLOUDFORMATION: string },
): Promise<ChildRun> {
  const script =
    'require(process.argv[1]).handler(JSON.parse(process.argv[2]), { getRemainingTimeInMillis: () => 60000 })' +
    '.then(() => process.exit(0), (error) => { console.error(error); process.exit(1); })';
  return runNode(['-e', script, entry, JSON.stringify(event)], region, { [stackIdVariable]: event.StackId, ...environment });
}

/**
 * Keys for the key ring's `generate` in in-process tests. The n-th key a test asks for of an
 * algorithm is the n-th of a pool kept for the whole test file, so a file makes as many RSA keys as
 * its hungriest test needs (one takes about 150 ms here), not one per rotation of every test. A
 * test still gets distinct keys; `reset` (in a beforeEach) starts the next test at the first key.
 * The real generation is proven by its own test and by every run of a packaged bundle.
 */
export function keyPool() {
  const pool = new Map<SigningAlgorithm, Promise<string>[]>();
  const handedOut = new Map<SigningAlgorithm, number>();
  return {
    generate(algorithm: SigningAlgorithm): Promise<string> {
      const keys = pool.get(algorithm) ?? [];
      pool.set(algorithm, keys);
      const next = handedOut.get(algorithm) ?? 0;
      handedOut.set(algorithm, next + 1);
      keys[next] ??= generateSecret(algorithm);
      return keys[next];
    },
    reset: () => handedOut.clear(),
  };
}
