// Test doubles at the real boundaries of a custom resource: a local HTTP server stands in for
// CloudFormation's presigned response URL, an in-memory store behind aws-sdk-client-mock for SSM.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  DeleteParametersCommand,
  GetParametersCommand,
  LabelParameterVersionCommand,
  PutParameterCommand,
  SSMClient,
  UnlabelParameterVersionCommand,
} from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import type { CustomResourceEvent, Logger } from '../../handlers/lib/custom-resource';

export interface ReceivedResponse {
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

export function makeEvent(partial: Partial<Record<string, unknown>> & { RequestType: string }): CustomResourceEvent {
  return {
    ServiceToken: 'arn:aws:lambda:ap-south-1:123456789012:function:movement-pass-foundation-alice-keyRing',
    ResponseURL: 'http://127.0.0.1:1/unset',
    StackId: 'arn:aws:cloudformation:ap-south-1:123456789012:stack/movement-pass-foundation-alice/guid',
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

type StoredVersion = { version: number; value: string; type: string; labels: Set<string> };

/**
 * SSM Parameter Store in memory, with versions and labels; one method per SSM operation, taking
 * and returning what the API does, so both the mocked client and a local endpoint serve it.
 */
export class MemoryParameterStore {
  readonly history = new Map<string, StoredVersion[]>();

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

  PutParameter(input: { Name: string; Value: string; Type: string; Overwrite?: boolean }) {
    if (this.history.has(input.Name) && !input.Overwrite)
      throw Object.assign(new Error('ParameterAlreadyExists'), { name: 'ParameterAlreadyExists' });
    const versions = this.history.get(input.Name) ?? [];
    const version = (versions.at(-1)?.version ?? 0) + 1;
    this.history.set(input.Name, [...versions, { version, value: input.Value, type: input.Type, labels: new Set() }]);
    return { Version: version, Tier: 'Standard' };
  }

  LabelParameterVersion(input: { Name: string; ParameterVersion?: number; Labels: string[] }) {
    const versions = this.history.get(input.Name);
    const target = versions?.find((v) => v.version === input.ParameterVersion);
    if (!versions || !target) throw Object.assign(new Error('ParameterVersionNotFound'), { name: 'ParameterVersionNotFound' });
    for (const label of input.Labels) {
      for (const v of versions) v.labels.delete(label);
      target.labels.add(label);
    }
    // SSM's limit: https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-labels.html
    if (target.labels.size > 10)
      throw Object.assign(new Error('ParameterVersionLabelLimitExceeded'), { name: 'ParameterVersionLabelLimitExceeded' });
    return { InvalidLabels: [], ParameterVersion: target.version };
  }

  UnlabelParameterVersion(input: { Name: string; ParameterVersion: number; Labels: string[] }) {
    const target = this.history.get(input.Name)?.find((v) => v.version === input.ParameterVersion);
    if (!target) throw Object.assign(new Error('ParameterVersionNotFound'), { name: 'ParameterVersionNotFound' });
    const removed = input.Labels.filter((label) => target.labels.delete(label));
    return { RemovedLabels: removed, InvalidLabels: input.Labels.filter((label) => !removed.includes(label)) };
  }

  GetParameters(input: { Names: string[] }) {
    const results = input.Names.map((selector) => ({ selector, ...this.select(selector) }));
    return {
      Parameters: results.flatMap(({ name, found }) =>
        found ? [{ Name: name, Value: found.value, Type: found.type, Version: found.version }] : [],
      ),
      InvalidParameters: results.filter((r) => !r.found).map((r) => r.selector),
    };
  }

  /** One page (10 at most, as SSM) of the parameters under a path; SecureStrings stay opaque unless decrypted. */
  GetParametersByPath(input: { Path: string; Recursive?: boolean; WithDecryption?: boolean; MaxResults?: number; NextToken?: string }) {
    const path = input.Path.endsWith('/') ? input.Path : `${input.Path}/`;
    const names = [...this.history.keys()]
      .filter((name) => name.startsWith(path) && (input.Recursive || !name.slice(path.length).includes('/')))
      .sort();
    const start = input.NextToken ? Number(input.NextToken) : 0;
    const end = start + Math.min(input.MaxResults ?? 10, 10);
    return {
      Parameters: names.slice(start, end).map((name) => {
        const { value, type, version } = this.latest(name)!;
        return {
          Name: name,
          Type: type,
          Value: type === 'SecureString' && !input.WithDecryption ? 'AQICAHencrypted==' : value,
          Version: version,
        };
      }),
      ...(end < names.length ? { NextToken: String(end) } : {}),
    };
  }

  DeleteParameters(input: { Names: string[] }) {
    const deleted = input.Names.filter((name) => this.history.delete(name));
    return { DeletedParameters: deleted, InvalidParameters: input.Names.filter((name) => !deleted.includes(name)) };
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
  return { ssm, mock, parameters, value: (name: string) => store.latest(name)?.value };
}

/** A local SSM endpoint (AWS JSON 1.1 protocol) over the in-memory store, for the bundled handler. */
export async function startSsmEndpoint(store: MemoryParameterStore) {
  const operations: string[] = [];
  const server = createServer((request, response) => {
    let text = '';
    request.on('data', (chunk) => {
      text += chunk;
    });
    request.on('end', () => {
      const operation = String(request.headers['x-amz-target'] ?? '').replace('AmazonSSM.', '') as 'PutParameter';
      operations.push(operation);
      try {
        const result = store[operation](JSON.parse(text || '{}'));
        response.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify(result));
      } catch (error) {
        response
          .writeHead(400, { 'content-type': 'application/x-amz-json-1.1' })
          .end(JSON.stringify({ __type: (error as Error).name, message: (error as Error).message }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, operations, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
