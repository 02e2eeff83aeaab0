// Lambda entry of the key ring custom resource: the SSM client is built once, at cold start,
// without any network call; the logic lives in key-ring.ts.
import { SSMClient } from '@aws-sdk/client-ssm';
import { jsonLogger, makeHandler } from '../lib/custom-resource';
import { keyRing } from './key-ring';

export const handler = makeHandler(keyRing({ ssm: new SSMClient({}), logger: jsonLogger }));
