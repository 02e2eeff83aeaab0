import {
  CloudWatchLogsClient,
  CreateDeliveryCommand,
  DeleteDeliveryCommand,
  DeleteDeliveryDestinationCommand,
  DeleteDeliverySourceCommand,
  DescribeDeliveriesCommand,
  PutDeliveryDestinationCommand,
  PutDeliverySourceCommand,
  UpdateDeliveryConfigurationCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cloudFrontLogDelivery } from '../../handlers/access-logs/cloudfront-log-delivery';
import { accessLogEvents } from '../../handlers/access-logs/on-event';
import { failedCreateId, makeHandler } from '../../handlers/lib/custom-resource';
import { cloudFrontLogFields } from '../../resources/access-logs';
import { context, makeEvent, memoryLogger, startResponseServer } from './support';

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const name = 'movement-pass-prod-photo-access-logs';
const destinationArn = `arn:aws:logs:us-east-1:123456789012:delivery-destination:${name}`;
const properties = {
  ServiceToken: 'token',
  Name: name,
  DistributionArn: 'arn:aws:cloudfront::123456789012:distribution/E2EXAMPLE123',
  DestinationArn: 'arn:aws:s3:::movement-pass-prod-access-logs-123456789012/cloudfront',
  OutputFormat: 'json',
  RecordFields: cloudFrontLogFields,
  SuffixPath: '{DistributionId}/{yyyy}/{MM}/{dd}',
};
const notFound = (message: string) => Object.assign(new Error(message), { name: 'ResourceNotFoundException' });

describe('access log custom resources', () => {
  const logs = new CloudWatchLogsClient({ region: 'us-east-1', credentials });
  const logsMock = mockClient(logs);
  let server: Awaited<ReturnType<typeof startResponseServer>>;
  let logger: ReturnType<typeof memoryLogger>;
  let handler: ReturnType<typeof makeHandler>;

  beforeEach(async () => {
    logsMock.reset();
    server = await startResponseServer();
    logger = memoryLogger();
    handler = makeHandler(
      accessLogEvents({
        'Custom::CloudFrontLogDelivery': cloudFrontLogDelivery({ logs, logger }),
      }),
      { logger },
    );
  });
  afterEach(() => server.close());

  const send = (partial: Record<string, unknown> & { RequestType: string }) =>
    handler(makeEvent({ ResponseURL: server.url, ...partial }), context());
  const responses = () => server.received.map((response) => response.body);

  describe('Custom::CloudFrontLogDelivery', () => {
    const delivery = (partial: Record<string, unknown> & { RequestType: string }) =>
      send({ ResourceType: 'Custom::CloudFrontLogDelivery', LogicalResourceId: 'PhotoAccessLogDelivery', ...partial });

    beforeEach(() => {
      logsMock.on(PutDeliverySourceCommand).resolves({ deliverySource: { name } });
      logsMock.on(PutDeliveryDestinationCommand).resolves({ deliveryDestination: { name, arn: destinationArn } });
    });

    it('creates source, destination and delivery in that order, without the query string, and answers its id', async () => {
      logsMock.on(DescribeDeliveriesCommand).resolves({ deliveries: [] });
      logsMock.on(CreateDeliveryCommand).resolves({ delivery: { id: 'delivery-1' } });

      await delivery({ RequestType: 'Create', ResourceProperties: properties });

      expect(logsMock.commandCalls(PutDeliverySourceCommand)[0].args[0].input).toEqual({
        name,
        resourceArn: properties.DistributionArn,
        logType: 'ACCESS_LOGS',
      });
      expect(logsMock.commandCalls(PutDeliveryDestinationCommand)[0].args[0].input).toEqual({
        name,
        outputFormat: 'json',
        deliveryDestinationConfiguration: { destinationResourceArn: properties.DestinationArn },
      });
      const created = logsMock.commandCalls(CreateDeliveryCommand)[0].args[0].input;
      expect(created).toEqual({
        deliverySourceName: name,
        deliveryDestinationArn: destinationArn,
        recordFields: cloudFrontLogFields,
        s3DeliveryConfiguration: { suffixPath: '{DistributionId}/{yyyy}/{MM}/{dd}', enableHiveCompatiblePath: false },
      });
      expect(created.recordFields).not.toContain('cs-uri-query');
      expect(logsMock.calls().map((call) => call.args[0].constructor.name)).toEqual([
        'PutDeliverySourceCommand',
        'PutDeliveryDestinationCommand',
        'DescribeDeliveriesCommand',
        'CreateDeliveryCommand',
      ]);
      expect(responses()).toEqual([
        expect.objectContaining({
          Status: 'SUCCESS',
          PhysicalResourceId: name,
          Data: { DeliveryId: 'delivery-1', DeliveryDestinationArn: destinationArn },
        }),
      ]);
    });

    it('updates the existing delivery in place on Update (or a retried Create), creating none', async () => {
      logsMock
        .on(DescribeDeliveriesCommand)
        .resolves({ deliveries: [{ id: 'delivery-1', deliverySourceName: name, deliveryDestinationArn: destinationArn }] });

      await delivery({
        RequestType: 'Update',
        PhysicalResourceId: name,
        ResourceProperties: { ...properties, RecordFields: ['date', 'c-ip'] },
      });

      expect(logsMock.commandCalls(CreateDeliveryCommand)).toHaveLength(0);
      expect(logsMock.commandCalls(UpdateDeliveryConfigurationCommand)[0].args[0].input).toMatchObject({
        id: 'delivery-1',
        recordFields: ['date', 'c-ip'],
      });
      expect(responses()).toEqual([expect.objectContaining({ Status: 'SUCCESS', PhysicalResourceId: name })]);
    });

    it('replaces a delivery of the source that goes to another destination', async () => {
      logsMock.on(DescribeDeliveriesCommand).resolves({
        deliveries: [
          { id: 'old', deliverySourceName: name, deliveryDestinationArn: 'arn:aws:logs:us-east-1:123456789012:delivery-destination:old' },
        ],
      });
      logsMock.on(CreateDeliveryCommand).resolves({ delivery: { id: 'new' } });

      await delivery({ RequestType: 'Update', PhysicalResourceId: name, ResourceProperties: properties });

      expect(logsMock.commandCalls(DeleteDeliveryCommand).map((call) => call.args[0].input)).toEqual([{ id: 'old' }]);
      expect(responses()[0]).toMatchObject({ Status: 'SUCCESS', Data: { DeliveryId: 'new' } });
    });

    it('deletes the deliveries of every page, then source and destination, on Delete', async () => {
      logsMock
        .on(DescribeDeliveriesCommand, { deliverySourceNames: [name], nextToken: undefined })
        .resolves({ deliveries: [{ id: 'd1', deliverySourceName: name }], nextToken: 'page-2' })
        .on(DescribeDeliveriesCommand, { deliverySourceNames: [name], nextToken: 'page-2' })
        .resolves({
          deliveries: [
            { id: 'd2', deliverySourceName: name },
            { id: 'foreign', deliverySourceName: 'someone-else' },
          ],
        });

      await delivery({ RequestType: 'Delete', PhysicalResourceId: name, ResourceProperties: properties });

      expect(logsMock.commandCalls(DeleteDeliveryCommand).map((call) => call.args[0].input.id)).toEqual(['d1', 'd2']);
      expect(logsMock.commandCalls(DeleteDeliverySourceCommand)[0].args[0].input).toEqual({ name });
      expect(logsMock.commandCalls(DeleteDeliveryDestinationCommand)[0].args[0].input).toEqual({ name });
      expect(responses()).toEqual([expect.objectContaining({ Status: 'SUCCESS', PhysicalResourceId: name })]);
    });

    it('succeeds on Delete when the source and destination are already gone', async () => {
      logsMock.on(DescribeDeliveriesCommand).resolves({ deliveries: [] });
      logsMock.on(DeleteDeliverySourceCommand).rejects(notFound('no such source'));
      logsMock.on(DeleteDeliveryDestinationCommand).rejects(notFound('no such destination'));

      await delivery({ RequestType: 'Delete', PhysicalResourceId: name, ResourceProperties: properties });

      expect(responses().map((response) => response.Status)).toEqual(['SUCCESS']);
    });

    it('answers the Delete of a failed Create at once, calling nothing', async () => {
      await delivery({ RequestType: 'Delete', PhysicalResourceId: failedCreateId, ResourceProperties: properties });

      expect(logsMock.calls()).toHaveLength(0);
      expect(responses().map((response) => response.Status)).toEqual(['SUCCESS']);
    });

    it('answers FAILED with the reason when CloudWatch Logs refuses the source', async () => {
      logsMock.on(PutDeliverySourceCommand).rejects(
        Object.assign(new Error('User is not authorized to perform: cloudfront:AllowVendedLogDeliveryForResource'), {
          name: 'AccessDeniedException',
        }),
      );

      await delivery({ RequestType: 'Create', ResourceProperties: properties });

      expect(responses()).toEqual([
        expect.objectContaining({
          Status: 'FAILED',
          PhysicalResourceId: failedCreateId,
          Reason: expect.stringContaining(
            'AccessDeniedException: User is not authorized to perform: cloudfront:AllowVendedLogDeliveryForResource',
          ),
        }),
      ]);
      expect(logsMock.commandCalls(CreateDeliveryCommand)).toHaveLength(0);
    });

    it.each([
      ['DistributionArn', 'E2EXAMPLE123', /DistributionArn must look like arn:aws:cloudfront::<account>:distribution\/<id>/],
      ['DestinationArn', 'movement-pass-prod-access-logs', /DestinationArn must look like arn:aws:s3:::<bucket>/],
      ['OutputFormat', 'csv', /OutputFormat must look like json, plain, w3c, parquet/],
      ['RecordFields', [], /RecordFields must be a non-empty list/],
      ['Name', 'a name with spaces', /Name must look like/],
    ])('refuses a bad %s before any AWS call, naming it', async (key, value, reason) => {
      await delivery({ RequestType: 'Create', ResourceProperties: { ...properties, [key]: value } });

      expect(logsMock.calls()).toHaveLength(0);
      expect(responses()).toEqual([expect.objectContaining({ Status: 'FAILED', Reason: expect.stringMatching(reason) })]);
    });
  });

  // Custom::ApiGatewayCloudWatchRole, which the account bootstrap replaced, is deleted through it on the first deploy after.
  it('refuses a resource type it does not serve, but lets its Delete through', async () => {
    await send({ RequestType: 'Create', ResourceType: 'Custom::Other', ResourceProperties: {} });
    await send({
      RequestType: 'Delete',
      ResourceType: 'Custom::ApiGatewayCloudWatchRole',
      PhysicalResourceId: 'x',
      ResourceProperties: {},
    });

    expect(responses().map((response) => [response.Status, response.Reason])).toEqual([
      ['FAILED', expect.stringContaining('unknown resource type Custom::Other')],
      ['SUCCESS', undefined],
    ]);
  });
});
