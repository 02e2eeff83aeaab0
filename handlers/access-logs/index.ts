// Lambda entry of the access-log custom resources: the clients are built once, at cold start,
// with no network call; each resource type's logic lives in its own module.
import { APIGatewayClient } from '@aws-sdk/client-api-gateway';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { jsonLogger, makeHandler } from '../lib/custom-resource';
import { apiGatewayAccountRole } from './api-gateway-account';
import { cloudFrontLogDelivery } from './cloudfront-log-delivery';
import { accessLogEvents } from './on-event';

export const handler = makeHandler(
  accessLogEvents({
    'Custom::CloudFrontLogDelivery': cloudFrontLogDelivery({ logs: new CloudWatchLogsClient({ region: 'us-east-1' }), logger: jsonLogger }),
    'Custom::ApiGatewayCloudWatchRole': apiGatewayAccountRole({ apiGateway: new APIGatewayClient({}), logger: jsonLogger }),
  }),
);
