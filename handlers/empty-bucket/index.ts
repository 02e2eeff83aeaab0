// Lambda entry of the bucket emptier: the S3 client is built once, at cold start, with no
// network call; the logic lives in empty-bucket.ts.
import { S3Client } from '@aws-sdk/client-s3';
import { jsonLogger, makeHandler } from '../lib/custom-resource';
import { stackIdVariable } from '../lib/environment';
import { cloudFormationView, fromItsStack } from '../lib/stack-check';
import { emptyBucket } from './empty-bucket';

export const handler = makeHandler(
  fromItsStack(emptyBucket({ s3: new S3Client({}), logger: jsonLogger }), {
    view: cloudFormationView(),
    stackId: process.env[stackIdVariable],
  }),
);
