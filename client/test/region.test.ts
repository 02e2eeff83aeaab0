// A service reads the contract of the region it runs in: with no `ssm` of its own, the client's
// SSMClient signs for `region` (else AWS_REGION) and SSM answers with that region's parameters.
// One local SSM endpoint (JSON 1.1) serves two regions' stores, told apart by the signed region.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { signedRegion } from '../../test/handlers/regional-lookup-endpoints';
import { MemoryParameterStore } from '../../test/handlers/support';
import { ConfigCache, loadFoundationConfig } from '../src/config';
import { contractKeys, contractRoot } from '../src/contract';

const homeRegion = 'ap-south-1';

import { loadSigningKeys } from '../src/signing';
import { generateStageKeys, seedStage } from './stage-fixture';

const secondary = 'ap-southeast-1';

/** What the secondary region's stack publishes differently: its regional keys. */
const secondaryValues: Record<string, string> = {
  jwksUrl: 'https://abc123.execute-api.ap-southeast-1.amazonaws.com/foundation/.well-known/jwks.json',
  photoBucketName: 'movement-pass-prod-photos-apse1-123456789012',
  applicantsTableStreamArn:
    'arn:aws:dynamodb:ap-southeast-1:123456789012:table/movement-pass-prod-applicants/stream/2026-11-01T00:00:00.000',
  passesTableStreamArn: 'arn:aws:dynamodb:ap-southeast-1:123456789012:table/movement-pass-prod-passes/stream/2026-11-01T00:00:00.000',
  passesLoadQueueUrl: 'https://sqs.ap-southeast-1.amazonaws.com/123456789012/movement-pass-prod-passes-load.fifo',
  passesLoadQueueArn: 'arn:aws:sqs:ap-southeast-1:123456789012:movement-pass-prod-passes-load.fifo',
  passesLoadDeadLetterQueueUrl: 'https://sqs.ap-southeast-1.amazonaws.com/123456789012/movement-pass-prod-passes-load-dlq.fifo',
  serverCertificateArn: 'arn:aws:acm:ap-southeast-1:123456789012:certificate/secondary',
};

describe('the contract of the region a service runs in', () => {
  const stores: Record<string, MemoryParameterStore> = {
    [homeRegion]: new MemoryParameterStore(),
    [secondary]: new MemoryParameterStore(),
  };
  const requests: (string | undefined)[] = [];
  const server = createServer((request, response) => {
    let text = '';
    request.on('data', (chunk) => {
      text += chunk;
    });
    request.on('end', () => {
      const region = signedRegion(request);
      requests.push(region);
      const operation = String(request.headers['x-amz-target']).replace('AmazonSSM.', '') as 'GetParametersByPath' | 'GetParameters';
      const store = region ? stores[region] : undefined;
      if (!store) {
        response
          .writeHead(400, { 'content-type': 'application/x-amz-json-1.1' })
          .end(JSON.stringify({ __type: 'UnrecognizedClientException' }));
        return;
      }
      const input = JSON.parse(text);
      const result = operation === 'GetParametersByPath' ? store.GetParametersByPath(input) : store.GetParameters(input);
      response.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify(result));
    });
  });

  beforeAll(async () => {
    const keys = await generateStageKeys('RS256');
    // The same keys and global values in both regions (the key ring follower copies the keys) ...
    seedStage(stores[homeRegion], keys);
    seedStage(stores[secondary], keys);
    // ... and each region's own resources.
    for (const [key, value] of Object.entries(secondaryValues)) {
      stores[secondary].PutParameter({ Name: contractRoot('prod') + key, Value: value, Type: 'String', Overwrite: true });
    }
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  // Undone after each test (unstubEnvs in vitest.config.mts).
  beforeEach(() => {
    requests.length = 0;
    vi.stubEnv('AWS_ENDPOINT_URL_SSM', `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'test');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test');
  });

  it("gives a service in the secondary region (AWS_REGION) that region's own values, and the global ones unchanged", async () => {
    vi.stubEnv('AWS_REGION', secondary);

    const here = await loadFoundationConfig({ stage: 'prod', cache: false });
    const home = await loadFoundationConfig({ stage: 'prod', region: homeRegion, cache: false });

    expect(new Set(requests)).toEqual(new Set([secondary, homeRegion]));
    for (const [key, value] of Object.entries(secondaryValues)) {
      expect(here[key], key).toBe(value);
      expect(home[key], key).not.toBe(value);
    }
    for (const [key, declaration] of Object.entries(contractKeys)) {
      if (declaration.scope === 'global') expect(here[key], `${key} is global`).toEqual(home[key]);
    }
  });

  it('keeps one cache entry per region: a home load never answers a secondary one', async () => {
    const cache = new ConfigCache({ ttlSeconds: 300 });

    const home = await loadFoundationConfig({ stage: 'prod', region: homeRegion, cache });
    const here = await loadFoundationConfig({ stage: 'prod', region: secondary, cache });

    expect(home.photoBucketName).toBe(contractKeys.photoBucketName.example);
    expect(here.photoBucketName).toBe(secondaryValues.photoBucketName);
    expect(await loadFoundationConfig({ stage: 'prod', region: secondary, cache })).toBe(here);
  });

  it("reads the signing keys from the region's own signing root", async () => {
    await loadSigningKeys({ stage: 'prod', region: secondary, use: ['jwt'] });

    expect(requests).toEqual([secondary]);
  });
});
