// Lambda entry of the regional lookups: the clients are built once, at cold start, with no
// network call; the logic lives in regional-lookup.ts.
import { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { jsonLogger, makeHandler } from '../lib/custom-resource';
import { stackIdVariable } from '../lib/environment';
import { cloudFormationView, fromItsStack } from '../lib/stack-check';
import { regionalLookup } from './regional-lookup';

// Lambda sets AWS_REGION to the function's region, the stack's: DynamoDB answers for the local replica.
const region = process.env.AWS_REGION ?? '';

export const handler = makeHandler(
  fromItsStack(regionalLookup({ dynamodb: new DynamoDBClient({}), cloudfront: new CloudFrontClient({}), region, logger: jsonLogger }), {
    view: cloudFormationView(),
    stackId: process.env[stackIdVariable],
  }),
);
