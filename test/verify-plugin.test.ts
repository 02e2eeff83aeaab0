// plugins/verify.js against local stand-ins of a deployed stage: an in-memory SSM and SQS behind
// osls's provider `request`, HTTP servers for the JWKS endpoint, for CloudFront (which checks the
// signed URLs' signatures with the trusted public keys, as the key group does) and for S3.
import { verify as verifySignature } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { format } from 'node:util';
import { S3Client } from '@aws-sdk/client-s3';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { contractRoot, signingRoot } from '../client/src/contract';
import { generateStageKeys, type StageKeys, seedStage } from '../client/test/stage-fixture';
import Verify from '../plugins/verify';
import { MemoryParameterStore } from './handlers/support';
import { initServerless } from './in-process';
import { readServiceState, readTemplate } from './package-stage';

const keyPairId = 'K2JCJMDEHXQW5F';
const webOrigin = 'http://localhost:3000';

let rs256: StageKeys;
let hs256: StageKeys;
beforeAll(async () => {
  rs256 = await generateStageKeys('RS256');
  hs256 = await generateStageKeys('HS256');
});

async function listen(handler: (request: IncomingMessage, response: ServerResponse, body: Buffer) => void) {
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => handler(request, response, Buffer.concat(chunks)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

const xmlError = (code: string, message: string, extra = '') =>
  `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message>${extra}</Error>`;

interface StandIns {
  /** What the JWKS endpoint serves; `failFirst` answers 403 that many times first. */
  jwks?: unknown;
  jwksFailFirst?: number;
  /** Key pair ids the CloudFront key group trusts. */
  trustedKeyPairIds?: string[];
  /** A distribution without TrustedKeyGroups serves unsigned requests. */
  requireSignedUrls?: boolean;
  signingKeysReadable?: boolean;
  writes?: boolean;
  /** A shared stage: its contract holds the certificate ARNs. */
  customDomain?: boolean;
  /** The stage's keys; default the RS256 ones. */
  keys?: StageKeys;
  /** A secondary region of a custom-domain stage: its own API, read at its execute-api URL. */
  secondaryRegion?: { region: string; bucketRegion?: string; policyDistribution?: string };
}

/** The home bucket's regional domain, by which the photo distribution is found, and that distribution. */
const homeOrigin = 'movement-pass-alice-photos-aps1-444455556666.s3.ap-south-1.amazonaws.com';
const photoDistributionArn = 'arn:aws:cloudfront::444455556666:distribution/EPHOTOS2';

async function deployedStage(options: StandIns = {}) {
  const keys = options.keys ?? rs256;
  const objects = new Map<string, Buffer>();
  const calls: string[] = [];
  let jwksRequests = 0;
  const jwksBase = await listen((_, response) => {
    jwksRequests++;
    if (jwksRequests <= (options.jwksFailFirst ?? 0)) {
      response.writeHead(403, { 'content-type': 'application/json' }).end('{"message":"Forbidden"}');
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(options.jwks ?? keys.jwks));
  });
  // S3 (path style): the presigned PUT, with the bucket's CORS rule for the web origin.
  const s3Base = await listen((request, response, body) => {
    const key = decodeURIComponent(new URL(request.url!, 'http://s3').pathname.split('/').slice(2).join('/'));
    calls.push(`S3 ${request.method} ${key}`);
    objects.set(key, body);
    const cors = request.headers.origin === webOrigin ? { 'access-control-allow-origin': webOrigin } : {};
    response.writeHead(200, { server: 'AmazonS3', 'x-amz-version-id': 'version-1', ...cors }).end();
  });
  // CloudFront: refuses unsigned and untrusted requests itself, passes the others to the bucket.
  const cloudFrontBase = await listen((request, response) => {
    const url = new URL(request.url!, 'http://cloudfront');
    const refuse = (code: string, message: string) =>
      response.writeHead(403, { server: 'CloudFront', 'x-cache': 'Error from cloudfront' }).end(xmlError(code, message));
    const signature = url.searchParams.get('Signature');
    const pairId = url.searchParams.get('Key-Pair-Id');
    if (options.requireSignedUrls !== false) {
      if (!signature || !pairId) return refuse('MissingKey', 'Missing Key-Pair-Id query parameter or cookie value');
      if (!(options.trustedKeyPairIds ?? [keyPairId]).includes(pairId)) return refuse('InvalidKey', 'Unknown Key');
      const resource = `${cloudFrontBase}${url.pathname}`;
      const expires = Number(url.searchParams.get('Expires'));
      const policy = JSON.stringify({ Statement: [{ Resource: resource, Condition: { DateLessThan: { 'AWS:EpochTime': expires } } }] });
      const raw = Buffer.from(signature.replace(/-/g, '+').replace(/_/g, '=').replace(/~/g, '/'), 'base64');
      if (!verifySignature('RSA-SHA1', Buffer.from(policy), keys.photoUrlPublicKey, raw)) return refuse('AccessDenied', 'Access denied');
    }
    const object = objects.get(decodeURIComponent(url.pathname.slice(1)));
    if (!object) {
      // What S3 answers for a missing key when the reader may not ListBucket.
      response
        .writeHead(403, { server: 'AmazonS3', 'x-cache': 'Error from cloudfront' })
        .end(xmlError('AccessDenied', 'Access Denied', '<RequestId>R1</RequestId><HostId>H1</HostId>'));
      return;
    }
    response.writeHead(200, { server: 'AmazonS3', 'content-type': 'image/jpeg' }).end(object);
  });

  const store = new MemoryParameterStore();
  seedStage(store, keys, {
    stage: 'alice',
    customDomain: options.customDomain ?? false,
    jwksUrl: `${jwksBase}/alice/.well-known/jwks.json`,
    photoBaseUrl: cloudFrontBase,
  });
  // SSM's JSON protocol, for the SDK v3 SSMClient the plugin builds from getAwsSdkV3Config: the signing keys.
  const ssmBase = await listen((request, response, body) => {
    const target = String(request.headers['x-amz-target']);
    calls.push(`SSM (SDK v3) ${target}`);
    const answer = (status: number, json: unknown) =>
      response.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify(json));
    if (target !== 'AmazonSSM.GetParameters') return answer(400, { __type: 'UnknownOperationException', message: target });
    if (options.signingKeysReadable === false) {
      return answer(400, {
        __type: 'AccessDeniedException',
        message: 'User: arn:aws:iam::123456789012:user/deployer is not authorized to perform: kms:Decrypt',
      });
    }
    answer(200, store.GetParameters(JSON.parse(body.toString())));
  });
  const queue: { id: string; body: string; visible: boolean }[] = [];
  // What osls's request logs under --debug (lib/aws/request.js): each call's arguments and result.
  const debugLog: string[] = [];
  let requestId = 0;
  const request = vi.fn(async (service: string, method: string, params: any, requestOptions?: { region?: string }) => {
    const id = ++requestId;
    debugLog.push(format('[%d] %O %s %O', id, service, method, params));
    const result = await answerRequest(service, method, params, requestOptions);
    debugLog.push(format('[%d] %O', id, result));
    return result;
  });
  const answerRequest = async (service: string, method: string, params: any, requestOptions?: { region?: string }) => {
    calls.push(`${service}:${method}${requestOptions?.region ? ` (${requestOptions.region})` : ''}`);
    if (service === 'S3' && method === 'getBucketLocation' && options.secondaryRegion) {
      expect(params).toEqual({ Bucket: store.latest(`${contractRoot('alice')}photoBucketName`)?.value });
      return { LocationConstraint: options.secondaryRegion.bucketRegion ?? options.secondaryRegion.region };
    }
    if (service === 'S3' && method === 'getBucketPolicy' && options.secondaryRegion) {
      const Policy = JSON.stringify({
        Statement: [
          { Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } },
          {
            Effect: 'Allow',
            Principal: { Service: 'cloudfront.amazonaws.com' },
            Condition: { StringEquals: { 'AWS:SourceArn': options.secondaryRegion.policyDistribution ?? photoDistributionArn } },
          },
        ],
      });
      return { Policy };
    }
    if (service === 'CloudFront' && method === 'listDistributions' && options.secondaryRegion) {
      // Two pages: another distribution first.
      return params.Marker
        ? { DistributionList: { Items: [{ ARN: photoDistributionArn, Origins: { Items: [{ DomainName: homeOrigin }] } }] } }
        : {
            DistributionList: {
              Items: [{ ARN: 'arn:aws:cloudfront::444455556666:distribution/EOTHER', Origins: { Items: [{ DomainName: 'x.example' }] } }],
              IsTruncated: true,
              NextMarker: 'p2',
            },
          };
    }
    if (service === 'SSM' && method === 'getParametersByPath') return store.GetParametersByPath(params);
    if (service === 'S3' && method === 'deleteObject') {
      objects.delete(params.Key);
      return {};
    }
    if (service === 'SQS' && method === 'sendMessage') {
      queue.push({ id: params.MessageDeduplicationId, body: params.MessageBody, visible: true });
      return { MessageId: 'm-1' };
    }
    if (service === 'SQS' && method === 'receiveMessage') {
      const visible = queue.filter((message) => message.visible);
      for (const message of visible) message.visible = false;
      return { Messages: visible.map((message) => ({ Body: message.body, ReceiptHandle: message.id })) };
    }
    if (service === 'SQS' && method === 'deleteMessage') {
      queue.splice(
        queue.findIndex((message) => message.id === params.ReceiptHandle),
        1,
      );
      return {};
    }
    throw new Error(`unexpected ${service}.${method}`);
  };

  const serverless: any = {
    service: {
      custom: {
        movementPassVerify: {
          writes: options.writes ?? true,
          customDomain: options.customDomain ?? false,
          webOrigin,
          domainWaitSeconds: 2,
          retryIntervalSeconds: 0.05,
          ...(options.secondaryRegion && { photoDistributionOrigin: homeOrigin }),
        },
        ...(options.secondaryRegion && {
          movementPassRegions: { home: false, stackOptions: `--stage alice --region ${options.secondaryRegion.region}` },
        }),
      },
    },
    getProvider: () => ({
      request,
      naming: { getStackName: () => 'movement-pass-foundation-alice' },
      getStage: () => 'alice',
      getRegion: () => options.secondaryRegion?.region ?? 'ap-south-1',
      // What osls's getAwsSdkV3Config gives, pointed at the local SSM.
      getAwsSdkV3Config: async ({ region }: { region?: string } = {}) => ({
        region,
        endpoint: ssmBase,
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
        maxAttempts: 1,
      }),
    }),
    classes: { Error },
  };
  const lines: string[] = [];
  const log = {
    notice: (line: string) => lines.push(line),
    error: (line: string) => lines.push(line),
    warning: (line: string) => lines.push(line),
  };
  const plugin = new Verify(serverless, {}, { log });
  plugin.s3Client = async () =>
    new S3Client({
      region: 'ap-south-1',
      endpoint: s3Base,
      forcePathStyle: true,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      requestChecksumCalculation: 'WHEN_REQUIRED',
    });
  return { plugin, serverless, store, lines, calls, objects, queue, request, debugLog, jwksRequests: () => jwksRequests };
}

const checkLine = (lines: string[], name: string) => lines.find((line) => line.slice(2).startsWith(`${name}:`)) ?? `(no line for ${name})`;

describe('sls verify', () => {
  it('passes a working sandbox, one timed line per check, writes cleaned up', async () => {
    const stage = await deployedStage();

    await stage.plugin.hooks['verify:verify']();

    const checks = stage.lines.filter((line) => /^[✔✖-] /.test(line));
    expect(checks.map((line) => line.slice(0, line.indexOf(':')))).toEqual([
      '✔ contract',
      '✔ JWKS endpoint',
      '✔ token round trip',
      '✔ CloudFront refuses an unsigned URL',
      '✔ CloudFront trusts the URL-signing key',
      '✔ photo upload read back through CloudFront',
      '✔ passes load queue round trip',
    ]);
    for (const line of checks) expect(line).toMatch(/\(\d+ ms\)$/);
    expect(checkLine(stage.lines, 'CloudFront trusts the URL-signing key')).toContain('reaches S3 (HTTP 403 from S3, not CloudFront)');
    expect(stage.calls.filter((call) => call.startsWith('S3 PUT'))).toHaveLength(1);
    expect(stage.objects.size).toBe(0);
    expect(stage.queue).toEqual([]);
  });

  it('only reads on a stage that keeps its data', async () => {
    const stage = await deployedStage({ writes: false });

    await stage.plugin.hooks['verify:verify']();

    expect(stage.lines.filter((line) => line.startsWith('✔ '))).toHaveLength(5);
    expect(stage.calls.filter((call) => call.startsWith('S3') || call.startsWith('SQS'))).toEqual([]);
    expect(stage.lines[0]).toBe('Verifying stage alice (ap-south-1), read-only:');
  });

  it("in a secondary region, checks that region's own contract, JWKS endpoint and bucket", async () => {
    const stage = await deployedStage({ writes: false, secondaryRegion: { region: 'ap-southeast-1' } });

    await stage.plugin.hooks['verify:verify']();

    expect(stage.lines[0]).toBe('Verifying stage alice (ap-southeast-1, secondary region), read-only:');
    // The region's contract names its own JWKS endpoint (resources/api.ts): the check reads that one.
    expect(checkLine(stage.lines, 'JWKS endpoint')).toMatch(/^✔ .* serves the jwks parameter/);
    expect(stage.jwksRequests()).toBeGreaterThan(0);
    expect(checkLine(stage.lines, 'photo bucket in ap-southeast-1')).toMatch(
      /^✔ photo bucket in ap-southeast-1: movement-pass-\S+ is in ap-southeast-1/,
    );
    expect(stage.calls).toContain('S3:getBucketLocation (ap-southeast-1)');
    expect(checkLine(stage.lines, 'photo bucket policy names the photo distribution')).toMatch(
      /^✔ .*lets arn:aws:cloudfront::444455556666:distribution\/EPHOTOS2 read/,
    );
    // The contract too is this region's own.
    expect(new Set(stage.request.mock.calls.filter(([service]) => service === 'SSM').map(([, , , o]) => o?.region))).toEqual(
      new Set(['ap-southeast-1']),
    );
  });

  it('fails a secondary region whose JWKS serves other keys, naming the command that checks that region again', async () => {
    const stage = await deployedStage({
      writes: false,
      jwks: { keys: [{ ...rs256.jwks.keys[0], kid: 'old-key' }] },
      secondaryRegion: { region: 'ap-southeast-1' },
    });

    await expect(stage.plugin.hooks['verify:verify']()).rejects.toThrow(
      /checks failed on .*JWKS endpoint.*run `sls verify --stage alice --region ap-southeast-1` again/s,
    );
  });

  it('fails a secondary region whose bucket policy names a distribution the home stack replaced', async () => {
    const stage = await deployedStage({
      writes: false,
      secondaryRegion: { region: 'ap-southeast-1', policyDistribution: 'arn:aws:cloudfront::444455556666:distribution/EPHOTOS1' },
    });

    await expect(stage.plugin.hooks['verify:verify']()).rejects.toThrow(/\(photo bucket policy names the photo distribution\)/);
    expect(checkLine(stage.lines, 'photo bucket policy names the photo distribution')).toMatch(
      /lets arn:aws:cloudfront::444455556666:distribution\/EPHOTOS1 read, not the photo distribution .*EPHOTOS2: failover reads are refused\. Deploy this region again \(--stage alice --region ap-southeast-1\)/,
    );
  });

  it("fails a secondary region whose contract names another region's bucket", async () => {
    const stage = await deployedStage({
      writes: false,
      secondaryRegion: { region: 'ap-southeast-1', bucketRegion: 'ap-south-1' },
    });

    await expect(stage.plugin.hooks['verify:verify']()).rejects.toThrow(/\(photo bucket in ap-southeast-1\)/);
    expect(checkLine(stage.lines, 'photo bucket in ap-southeast-1')).toMatch(
      /is in ap-south-1, not ap-southeast-1: uploads here must go to this region's own bucket/,
    );
  });

  it('fails when the served JWKS lacks the signing kid', async () => {
    const stage = await deployedStage({ jwks: { keys: [{ ...rs256.jwks.keys[0], kid: 'old-key' }] } });

    await expect(stage.plugin.hooks['verify:verify']()).rejects.toThrow(/checks failed on stage alice \(JWKS endpoint, token round trip\)/);

    expect(checkLine(stage.lines, 'JWKS endpoint')).toMatch(/^✖ JWKS endpoint: the JWKS at .* lacks the signing kid .* \(serves old-key\)/);
    expect(checkLine(stage.lines, 'token round trip')).toMatch(/^✖ .*does not verify against/);
  });

  it('fails when the served JWKS is not the jwks parameter', async () => {
    const extra = { ...rs256.jwks.keys[0], kid: 'unpublished' };
    const stage = await deployedStage({ jwks: { keys: [...rs256.jwks.keys, extra] } });

    await expect(stage.plugin.hooks['verify:verify']()).rejects.toThrow(/JWKS endpoint/);

    expect(checkLine(stage.lines, 'JWKS endpoint')).toContain('differs from the jwks parameter');
  });

  it('fails on a 403 from CloudFront for a signed URL (the key group does not trust the key)', async () => {
    const stage = await deployedStage({ trustedKeyPairIds: ['KOTHERKEY'] });

    await expect(stage.plugin.hooks['verify:verify']()).rejects.toThrow(/CloudFront trusts the URL-signing key/);

    expect(checkLine(stage.lines, 'CloudFront trusts the URL-signing key')).toMatch(
      /^✖ .*got HTTP 403 InvalidKey \(Unknown Key\) from CloudFront: its key group does not trust photoUrlKeyPairId K2JCJMDEHXQW5F/,
    );
    expect(checkLine(stage.lines, 'photo upload read back through CloudFront')).toMatch(/^✖ .*read back through CloudFront as HTTP 403/);
    // The uploaded photo is deleted even when the read back fails.
    expect(stage.objects.size).toBe(0);
  });

  it('fails when CloudFront serves unsigned URLs', async () => {
    const stage = await deployedStage({ requireSignedUrls: false });

    await expect(stage.plugin.hooks['verify:verify']()).rejects.toThrow(/CloudFront refuses an unsigned URL/);

    expect(checkLine(stage.lines, 'CloudFront refuses an unsigned URL')).toContain('got HTTP 403 AccessDenied from S3');
  });

  it('fails naming a missing contract key, and checks nothing else', async () => {
    const stage = await deployedStage();
    stage.store.DeleteParameters({ Names: [`${contractRoot('alice')}photoBaseUrl`] });

    await expect(stage.plugin.hooks['verify:verify']()).rejects.toThrow(/1 of 1 checks failed on stage alice \(contract\)/);

    expect(checkLine(stage.lines, 'contract')).toMatch(
      /^✖ contract: The foundation contract at \/movement-pass\/alice\/ lacks photoBaseUrl\./,
    );
    expect(stage.jwksRequests()).toBe(0);
  });

  it('requires the certificate ARNs on a stage with a custom domain', async () => {
    const stage = await deployedStage({ customDomain: true, writes: false });
    await stage.plugin.hooks['verify:verify']();
    expect(checkLine(stage.lines, 'contract')).toMatch(/^✔ contract: 26 keys/);

    const broken = await deployedStage({ customDomain: true, writes: false });
    broken.store.DeleteParameters({ Names: [`${contractRoot('alice')}serverCertificateArn`] });

    await expect(broken.plugin.hooks['verify:verify']()).rejects.toThrow(/\(contract\)/);
    expect(checkLine(broken.lines, 'contract')).toMatch(
      /^✖ contract: \/movement-pass\/alice\/ lacks serverCertificateArn \(a shared stage has certificates\)\./,
    );
  });

  it('retries a JWKS endpoint that does not answer yet, and says so', async () => {
    const stage = await deployedStage({ jwksFailFirst: 2, writes: false });

    await stage.plugin.hooks['verify:verify']();

    expect(checkLine(stage.lines, 'JWKS endpoint')).toContain('answered at attempt 3: a new custom domain takes a while');
  });

  it('gives up on a JWKS endpoint after the bounded wait', async () => {
    const stage = await deployedStage({ jwksFailFirst: 1000, writes: false });

    await expect(stage.plugin.hooks['verify:verify']()).rejects.toThrow(/JWKS endpoint/);

    expect(checkLine(stage.lines, 'JWKS endpoint')).toMatch(/did not answer in 2 s \(\d+ attempts, last: HTTP 403\)/);
  });

  it('skips the checks that sign when these credentials may not read the signing keys', async () => {
    const stage = await deployedStage({ signingKeysReadable: false, writes: false });

    await stage.plugin.hooks['verify:verify']();

    expect(checkLine(stage.lines, 'token round trip')).toMatch(/^- token round trip: skipped, cannot read the signing keys .*kms:Decrypt/);
    expect(checkLine(stage.lines, 'JWKS endpoint')).toMatch(/^✔ /);
  });

  it.each([
    ['RS256', () => rs256, ['jwtPrivateKey', 'photoUrlPrivateKey'] as const],
    ['HS256', () => hs256, ['jwtSecret', 'photoUrlPrivateKey'] as const],
  ])('never passes a decrypted %s signing key through provider.request, which osls logs under --debug', async (_, stageKeys, names) => {
    const keys = stageKeys();
    const stage = await deployedStage({ keys });

    await stage.plugin.hooks['verify:verify']();

    expect(stage.lines.filter((line) => line.startsWith('✔ '))).toHaveLength(7);
    // The keys were read, by the SDK client, outside the request log.
    expect(stage.calls.filter((call) => call === 'SSM (SDK v3) AmazonSSM.GetParameters')).toHaveLength(2);
    for (const [, , params] of stage.request.mock.calls) expect(params?.WithDecryption).toBeUndefined();
    const logged = stage.debugLog.join('\n');
    expect(logged).toContain('photoUrlKeyPairId');
    for (const name of names) expect(logged).not.toContain(keys[name]!.split('\n')[1] ?? keys[name]);
    expect(logged).not.toMatch(/PRIVATE KEY/);
  });

  it('fails the HS256 round trip when the secret is not the key jwtKeyId names', async () => {
    const stage = await deployedStage({ keys: hs256, writes: false });
    stage.store.PutParameter({ Name: `${contractRoot('alice')}jwtKeyId`, Value: 'another-key-id', Type: 'String', Overwrite: true });

    await expect(stage.plugin.hooks['verify:verify']()).rejects.toThrow(/1 of 5 checks failed on stage alice \(token round trip\)/);

    expect(checkLine(stage.lines, 'token round trip')).toMatch(
      /^✖ token round trip: the jwtSecret of \/movement-pass-signing\/alice\/ is not the key jwtKeyId another-key-id names/,
    );
    expect(checkLine(stage.lines, 'token round trip')).not.toContain(hs256.jwtSecret);
  });

  it('passes an HS256 stage whose secret is the key jwtKeyId names', async () => {
    const stage = await deployedStage({ keys: hs256, writes: false });

    await stage.plugin.hooks['verify:verify']();

    expect(checkLine(stage.lines, 'token round trip')).toMatch(/^✔ token round trip: the secret is the key jwtKeyId \S+ names/);
  });

  it('fails the checks that sign when the stage lacks its signing key', async () => {
    const stage = await deployedStage({ writes: false });
    stage.store.DeleteParameters({ Names: [`${signingRoot('alice')}photoUrlPrivateKey`] });

    await expect(stage.plugin.hooks['verify:verify']()).rejects.toThrow(
      /1 of 5 checks failed on stage alice \(CloudFront trusts the URL-signing key\)/,
    );

    expect(checkLine(stage.lines, 'CloudFront trusts the URL-signing key')).toMatch(
      /^✖ .*The signing root \/movement-pass-signing\/alice\/ lacks photoUrlPrivateKey/,
    );
  });

  it('fails sls deploy when a check fails after it, saying the stack is deployed', async () => {
    const stage = await deployedStage({ writes: false, trustedKeyPairIds: [] });

    await expect(stage.plugin.hooks['after:deploy:deploy']()).rejects.toThrow(
      /CloudFront trusts the URL-signing key\)\. .* again\. The deploy itself went through: the stack is updated\./,
    );
  });

  it('runs after sls deploy unless --skip-verify', async () => {
    const stage = await deployedStage({ writes: false });
    await stage.plugin.hooks['after:deploy:deploy']();
    expect(stage.lines.filter((line) => line.startsWith('✔ '))).toHaveLength(5);

    const skipped = await deployedStage();
    skipped.plugin.options['skip-verify'] = true;
    await skipped.plugin.hooks['after:deploy:deploy']();
    expect(skipped.lines).toEqual(['sls verify skipped (--skip-verify)']);
    expect(skipped.calls).toEqual([]);
  });
});

describe('the commands as osls sees them (its plugin manager, in-process)', () => {
  it('adds --skip-verify to sls deploy and --json to sls info, each with what it does', async () => {
    const { commands } = (await initServerless('alice', 'deploy')).pluginManager;

    expect(commands.verify.usage).toMatch(/^Proves a deployed stage works end to end: .* exits non-zero if any fails/);
    expect(commands.deploy.options?.['skip-verify']?.usage).toBe('Do not run sls verify at the end of the deploy');
    expect(commands.info.options?.json?.usage).toMatch(/^Print only the contract values of the stage, as JSON/);
  });
});

it("looks for the photo distribution, off home, by the origin the region's lookup looks for", () => {
  const regional = readTemplate('prod.ap-southeast-1');
  const origin = regional.Resources.PhotoDistributionLookup.Properties.OriginDomainName['Fn::Sub'].replace(
    '${AWS::AccountId}',
    '111122223333',
  );
  expect(readServiceState('prod.ap-southeast-1').custom.movementPassVerify.photoDistributionOrigin).toBe(origin);
  expect(readServiceState('prod').custom.movementPassVerify.photoDistributionOrigin).toBeUndefined();
});
