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

/** SSM Parameter Store in memory, with versions and labels, behind the real SDK client and its commands. */
export function fakeParameterStore() {
  type Version = { version: number; value: string; type: string; labels: Set<string> };
  const history = new Map<string, Version[]>();
  const ssm = new SSMClient({ region: 'ap-south-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  const mock = mockClient(ssm);
  const latest = (name: string) => history.get(name)?.at(-1);
  /** `name` or `name:label` or `name:version`, as SSM selectors read. */
  const select = (selector: string) => {
    const [name, which] = selector.split(':');
    const versions = history.get(name) ?? [];
    if (which === undefined) return { name, found: versions.at(-1) };
    return { name, found: versions.find((v) => (/^\d+$/.test(which) ? v.version === Number(which) : v.labels.has(which))) };
  };
  mock.on(PutParameterCommand).callsFake((input) => {
    if (history.has(input.Name) && !input.Overwrite) throw new Error('ParameterAlreadyExists');
    const versions = history.get(input.Name) ?? [];
    const version = (versions.at(-1)?.version ?? 0) + 1;
    history.set(input.Name, [...versions, { version, value: input.Value, type: input.Type, labels: new Set() }]);
    return { Version: version };
  });
  mock.on(LabelParameterVersionCommand).callsFake((input) => {
    const versions = history.get(input.Name);
    const target = versions?.find((v) => v.version === input.ParameterVersion);
    if (!versions || !target) throw Object.assign(new Error('ParameterVersionNotFound'), { name: 'ParameterVersionNotFound' });
    for (const label of input.Labels) {
      for (const v of versions) v.labels.delete(label);
      target.labels.add(label);
    }
    return { InvalidLabels: [] };
  });
  mock.on(GetParametersCommand).callsFake((input) => {
    const results = input.Names.map((selector: string) => ({ selector, ...select(selector) }));
    return {
      Parameters: results
        .filter((r: { found?: Version }) => r.found)
        .map(({ name, found }: { name: string; found: Version }) => ({
          Name: name,
          Value: found.value,
          Type: found.type,
          Version: found.version,
        })),
      InvalidParameters: results.filter((r: { found?: Version }) => !r.found).map((r: { selector: string }) => r.selector),
    };
  });
  mock.on(DeleteParametersCommand).callsFake((input) => {
    const deleted = input.Names.filter((name: string) => history.delete(name));
    return { DeletedParameters: deleted, InvalidParameters: input.Names.filter((name: string) => !deleted.includes(name)) };
  });
  const parameters = {
    get: (name: string) => {
      const found = latest(name);
      return found && { Name: name, Value: found.value, Type: found.type };
    },
    has: (name: string) => history.has(name),
    keys: () => history.keys(),
    get size() {
      return history.size;
    },
  };
  return { ssm, mock, parameters, value: (name: string) => latest(name)?.value, versions: (name: string) => history.get(name) ?? [] };
}
