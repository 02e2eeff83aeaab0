// Test doubles at the real boundaries of a custom resource: a local HTTP server stands in for
// CloudFormation's presigned response URL, an in-memory store behind aws-sdk-client-mock for SSM.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DeleteParametersCommand, GetParametersCommand, type Parameter, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
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

/** SSM Parameter Store in memory, behind the real SDK client and its commands. */
export function fakeParameterStore() {
  const parameters = new Map<string, Parameter>();
  const ssm = new SSMClient({ region: 'ap-south-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  const mock = mockClient(ssm);
  mock.on(PutParameterCommand).callsFake((input) => {
    if (parameters.has(input.Name) && !input.Overwrite) throw new Error('ParameterAlreadyExists');
    parameters.set(input.Name, { Name: input.Name, Value: input.Value, Type: input.Type });
    return { Version: 1 };
  });
  mock.on(GetParametersCommand).callsFake((input) => ({
    Parameters: input.Names.filter((name: string) => parameters.has(name)).map((name: string) => parameters.get(name)),
    InvalidParameters: input.Names.filter((name: string) => !parameters.has(name)),
  }));
  mock.on(DeleteParametersCommand).callsFake((input) => {
    const deleted = input.Names.filter((name: string) => parameters.delete(name));
    return { DeletedParameters: deleted, InvalidParameters: input.Names.filter((name: string) => !deleted.includes(name)) };
  });
  return { ssm, mock, parameters, value: (name: string) => parameters.get(name)?.Value };
}
