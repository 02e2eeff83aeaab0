// Lambda entry of the access-log custom resource: the clients are built once, at cold start,
// with no network call; each resource type's logic lives in its own module.
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { jsonLogger, makeHandler } from '../lib/custom-resource';
import { stackIdVariable } from '../lib/environment';
import { cloudFormationView, fromItsStack } from '../lib/stack-check';
import { cloudFrontLogDelivery } from './cloudfront-log-delivery';
import { accessLogEvents } from './on-event';

export const handler = makeHandler(
  fromItsStack(
    accessLogEvents({
      'Custom::CloudFrontLogDelivery': cloudFrontLogDelivery({
        logs: new CloudWatchLogsClient({ region: 'us-east-1' }),
        logger: jsonLogger,
      }),
    }),
    { view: cloudFormationView(), stackId: process.env[stackIdVariable] },
  ),
);
