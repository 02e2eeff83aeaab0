// The deployed access-log setup itself: the zip `sls package` built for prod, run by Node with the
// real AWS SDK against a local CloudWatch Logs endpoint, answering a local CloudFormation response server.
import { statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stackDir, unpackedBundle } from '../package-stage';
import { startCloudFormationEndpoint } from './stack-endpoints';
import { type ChildRun, makeEvent, runBundledHandler, startResponseServer } from './support';

/** Runs one event through the bundle's entry, with the given AWS endpoints. */
const runBundle = (
  event: { StackId: string },
  endpoints: Record<string, string> & { AWS_ENDPOINT_URL_CLOUDFORMATION: string },
  entry: string,
): Promise<ChildRun> => runBundledHandler(entry, event, 'ap-south-1', endpoints);

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
  /** The stack the function checks each event against. */
  let stack: Awaited<ReturnType<typeof startCloudFormationEndpoint>>;

  beforeAll(async () => {
    dir = unpackedBundle('prod', 'accessLogSetup');
    logs = await startLogsEndpoint();
    cloudFormation = await startResponseServer();
    stack = await startCloudFormationEndpoint();
  });
  afterAll(async () => {
    await logs.close();
    await cloudFormation.close();
    await stack.close();
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
      { AWS_ENDPOINT_URL_CLOUDWATCH_LOGS: logs.url, AWS_ENDPOINT_URL_CLOUDFORMATION: stack.url },
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
    expect(stack.state.received).toContain('DescribeStackResource');
    expect(cloudFormation.received.map((r) => r.body)).toEqual([
      expect.objectContaining({
        Status: 'SUCCESS',
        PhysicalResourceId: name,
        Data: expect.objectContaining({ DeliveryId: 'delivery-from-local-endpoint' }),
      }),
    ]);
  });

  it('refuses a forged Delete of the photo log delivery while its stack is not deleting it, deleting nothing', async () => {
    stack.state.resources.set('PhotoAccessLogDelivery', { status: 'UPDATE_COMPLETE', physicalId: 'movement-pass-prod-photo-access-logs' });
    const before = logs.calls.length;
    const event = makeEvent({
      RequestType: 'Delete',
      ResourceType: 'Custom::CloudFrontLogDelivery',
      LogicalResourceId: 'PhotoAccessLogDelivery',
      PhysicalResourceId: 'movement-pass-prod-photo-access-logs',
      ResponseURL: cloudFormation.url,
      ResourceProperties: { Name: 'movement-pass-prod-photo-access-logs' },
    });
    try {
      const { code, output } = await runBundle(
        event,
        { AWS_ENDPOINT_URL_CLOUDWATCH_LOGS: logs.url, AWS_ENDPOINT_URL_CLOUDFORMATION: stack.url },
        join(dir, 'handlers/access-logs/index.js'),
      );
      expect(code, output).toBe(0);
      expect(cloudFormation.received.at(-1)?.body).toMatchObject({
        Status: 'FAILED',
        Reason: expect.stringContaining("The stack's PhotoAccessLogDelivery is UPDATE_COMPLETE, not being changed"),
      });
      expect(logs.calls.length).toBe(before);
    } finally {
      stack.state.resources.delete('PhotoAccessLogDelivery');
    }
  });
});
