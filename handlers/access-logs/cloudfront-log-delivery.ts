// Custom::CloudFrontLogDelivery: CloudFront standard logging (v2) of one distribution, set up
// through CloudWatch Logs in us-east-1 (the only region that accepts a CloudFront delivery source)
// and delivered to a bucket in the stack's own region. Create and Update converge on the same
// state, so a retried or repeated call changes nothing; Delete removes delivery, source and destination.
// https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/standard-logging.html
import {
  type CloudWatchLogsClient,
  CreateDeliveryCommand,
  DeleteDeliveryCommand,
  DeleteDeliveryDestinationCommand,
  DeleteDeliverySourceCommand,
  type Delivery,
  DescribeDeliveriesCommand,
  type OutputFormat,
  PutDeliveryDestinationCommand,
  PutDeliverySourceCommand,
  UpdateDeliveryConfigurationCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { type CustomResourceEvent, type CustomResourceResult, type Logger, propertiesToDelete } from '../lib/custom-resource';

export interface LogDeliveryProperties {
  /** Name of the delivery source and of the delivery destination. */
  name: string;
  distributionArn: string;
  /** The S3 bucket ARN, optionally with a path: `arn:aws:s3:::bucket/prefix`. */
  destinationArn: string;
  outputFormat: OutputFormat;
  recordFields: string[];
  suffixPath?: string;
}

export interface LogDeliveryDeps {
  /** A client of us-east-1: CloudFront's delivery sources exist only there. */
  logs: Pick<CloudWatchLogsClient, 'send'>;
  logger: Logger;
}

const outputFormats: readonly string[] = ['json', 'plain', 'w3c', 'parquet'];

/** Reads and checks the resource properties, naming the property that is wrong. */
export function readLogDeliveryProperties(raw: Record<string, unknown>): LogDeliveryProperties {
  const text = (key: string, pattern: RegExp, example: string): string => {
    const value = raw[key];
    if (typeof value !== 'string' || !pattern.test(value)) {
      throw new Error(`${key} must look like ${example} (got ${JSON.stringify(value)})`);
    }
    return value;
  };
  const recordFields = raw.RecordFields;
  if (!Array.isArray(recordFields) || recordFields.length === 0 || !recordFields.every((field) => typeof field === 'string' && field)) {
    throw new Error(`RecordFields must be a non-empty list of CloudFront log field names (got ${JSON.stringify(recordFields)})`);
  }
  const suffixPath = raw.SuffixPath;
  if (suffixPath !== undefined && typeof suffixPath !== 'string') {
    throw new Error(`SuffixPath must be a string such as {DistributionId}/{yyyy}/{MM}/{dd} (got ${JSON.stringify(suffixPath)})`);
  }
  return {
    name: text('Name', /^[\w-]{1,60}$/, 'movement-pass-prod-photo-access-logs (1 to 60 letters, digits, "_" or "-")'),
    distributionArn: text(
      'DistributionArn',
      /^arn:aws[\w-]*:cloudfront::\d{12}:distribution\/[A-Z0-9]+$/,
      'arn:aws:cloudfront::<account>:distribution/<id>',
    ),
    destinationArn: text(
      'DestinationArn',
      /^arn:aws[\w-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/[\w./-]*)?$/,
      'arn:aws:s3:::<bucket>/<prefix>',
    ),
    outputFormat: text('OutputFormat', new RegExp(`^(${outputFormats.join('|')})$`), outputFormats.join(', ')) as OutputFormat,
    recordFields: recordFields as string[],
    ...(suffixPath ? { suffixPath } : {}),
  };
}

const isNotFound = (error: unknown) => (error as { name?: string })?.name === 'ResourceNotFoundException';

export function cloudFrontLogDelivery(deps: LogDeliveryDeps) {
  const { logs, logger } = deps;

  async function deliveriesOf(sourceName: string): Promise<Delivery[]> {
    const deliveries: Delivery[] = [];
    let nextToken: string | undefined;
    do {
      const page = await logs.send(new DescribeDeliveriesCommand({ deliverySourceNames: [sourceName], nextToken }));
      // Filtered here too: the filter is the API's, the decision to delete is ours.
      deliveries.push(...(page.deliveries ?? []).filter((delivery) => delivery.deliverySourceName === sourceName));
      nextToken = page.nextToken;
    } while (nextToken);
    return deliveries;
  }

  async function converge(props: LogDeliveryProperties): Promise<CustomResourceResult> {
    await logs.send(new PutDeliverySourceCommand({ name: props.name, resourceArn: props.distributionArn, logType: 'ACCESS_LOGS' }));
    const { deliveryDestination } = await logs.send(
      new PutDeliveryDestinationCommand({
        name: props.name,
        outputFormat: props.outputFormat,
        deliveryDestinationConfiguration: { destinationResourceArn: props.destinationArn },
      }),
    );
    const destinationArn = deliveryDestination?.arn;
    if (!destinationArn) throw new Error(`PutDeliveryDestination returned no ARN for ${props.name}`);
    const configuration = {
      recordFields: props.recordFields,
      s3DeliveryConfiguration: { suffixPath: props.suffixPath, enableHiveCompatiblePath: false },
    };

    let deliveryId: string | undefined;
    for (const delivery of await deliveriesOf(props.name)) {
      if (delivery.deliveryDestinationArn === destinationArn && delivery.id && !deliveryId) {
        await logs.send(new UpdateDeliveryConfigurationCommand({ id: delivery.id, ...configuration }));
        deliveryId = delivery.id;
        logger.info('updated log delivery', { deliveryId });
      } else if (delivery.id) {
        // A delivery of this source to somewhere else: left over from an earlier destination.
        await logs.send(new DeleteDeliveryCommand({ id: delivery.id }));
        logger.info('deleted stale log delivery', { deliveryId: delivery.id });
      }
    }
    if (!deliveryId) {
      const { delivery } = await logs.send(
        new CreateDeliveryCommand({ deliverySourceName: props.name, deliveryDestinationArn: destinationArn, ...configuration }),
      );
      deliveryId = delivery?.id;
      if (!deliveryId) throw new Error(`CreateDelivery returned no delivery id for ${props.name}`);
      logger.info('created log delivery', { deliveryId });
    }
    return { physicalResourceId: props.name, data: { DeliveryId: deliveryId, DeliveryDestinationArn: destinationArn } };
  }

  async function remove(name: string): Promise<void> {
    for (const delivery of await deliveriesOf(name)) {
      if (delivery.id) await logs.send(new DeleteDeliveryCommand({ id: delivery.id }));
    }
    for (const command of [new DeleteDeliverySourceCommand({ name }), new DeleteDeliveryDestinationCommand({ name })]) {
      try {
        await logs.send(command);
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
    }
    logger.info('removed log delivery', { name });
  }

  return async function onEvent(event: CustomResourceEvent): Promise<CustomResourceResult> {
    if (event.RequestType === 'Delete') {
      const props = propertiesToDelete(readLogDeliveryProperties, event, logger);
      // The physical id is the name the resource was created under; on a rename that is the old one.
      if (props && event.PhysicalResourceId === props.name) await remove(props.name);
      else if (/^[\w-]{1,60}$/.test(event.PhysicalResourceId)) await remove(event.PhysicalResourceId);
      return { physicalResourceId: event.PhysicalResourceId };
    }
    return converge(readLogDeliveryProperties(event.ResourceProperties));
  };
}
