// Photo URLs checked independently: the CloudFront signature against the public key with
// node:crypto (CloudFront's canned policy, RSA-SHA1), the S3 presigned PUT by recomputing SigV4.
import { createHash, createHmac, verify } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { crc32 } from 'node:zlib';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl as presignS3 } from '@aws-sdk/s3-request-presigner';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { parseContract } from '../src/config';
import { contractRoot, type FoundationConfig } from '../src/contract';
import { presignPhotoUpload, signPhotoUrl } from '../src/photos';
import { contractValues, generateStageKeys, type StageKeys } from './stage-fixture';

let keys: StageKeys;
let config: FoundationConfig;
beforeAll(async () => {
  keys = await generateStageKeys();
  config = parseContract(contractValues(keys), { path: contractRoot('prod') }).config;
});

/** CloudFront's URL-safe base64: + = / become - _ ~. */
const fromCloudFrontBase64 = (value: string) => Buffer.from(value.replace(/-/g, '+').replace(/_/g, '=').replace(/~/g, '/'), 'base64');

describe('signPhotoUrl', () => {
  it('signs a canned policy for the photo URL that the public key verifies, with the contract key pair id', () => {
    const now = new Date('2026-11-25T10:00:00Z');

    const signed = new URL(signPhotoUrl(config, keys, 'applicants/42/photo 1.jpg', { expiresIn: 600, now }));

    expect(`${signed.origin}${signed.pathname}`).toBe('https://photos.movement-pass.com/applicants/42/photo%201.jpg');
    expect(signed.searchParams.get('Key-Pair-Id')).toBe('K2JCJMDEHXQW5F');
    const expires = Number(signed.searchParams.get('Expires'));
    expect(expires).toBe(now.getTime() / 1000 + 600);
    const resource = `${signed.origin}${signed.pathname}`;
    const policy = JSON.stringify({ Statement: [{ Resource: resource, Condition: { DateLessThan: { 'AWS:EpochTime': expires } } }] });
    const signature = fromCloudFrontBase64(signed.searchParams.get('Signature')!);
    expect(verify('RSA-SHA1', Buffer.from(policy), keys.photoUrlPublicKey, signature)).toBe(true);
    expect(verify('RSA-SHA1', Buffer.from(policy.replace('42', '43')), keys.photoUrlPublicKey, signature)).toBe(false);
  });

  it('refuses a key with a leading slash and a signer without the private key', () => {
    expect(() => signPhotoUrl(config, keys, '/applicants/42.jpg')).toThrow(/without a leading "\/"/);
    expect(() => signPhotoUrl(config, {}, 'applicants/42.jpg')).toThrow(/needs photoUrlPrivateKey/);
  });
});

describe('presignPhotoUpload', () => {
  const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };

  it('carries no checksum of an empty body, which S3-compatible stores refuse, and refuses a client that would add one', async () => {
    vi.stubEnv('AWS_REGION', 'ap-south-1');
    vi.stubEnv('AWS_ACCESS_KEY_ID', credentials.accessKeyId);
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', credentials.secretAccessKey);
    const upload = await presignPhotoUpload(config, 'applicants/42.jpg', { contentType: 'image/jpeg' });
    expect([...new URL(upload.url).searchParams.keys()].filter((name) => /checksum/i.test(name))).toEqual([]);

    const defaults = new S3Client({ region: 'ap-south-1', credentials });
    await expect(presignPhotoUpload(config, 'applicants/42.jpg', { contentType: 'image/jpeg', s3: defaults })).rejects.toThrow(
      /requestChecksumCalculation: 'WHEN_REQUIRED'/,
    );
  });

  it('uploads through an S3-compatible store that checks checksums, where the SDK default URL is refused', async () => {
    // A stub of such a store (MinIO, R2): a checksum in the URL must be the body's CRC32.
    const received: string[] = [];
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const body = Buffer.concat(chunks);
        const claimed = new URL(request.url ?? '/', 'http://stub').searchParams.get('x-amz-checksum-crc32');
        const crc = Buffer.alloc(4);
        crc.writeUInt32BE(crc32(body));
        if (claimed !== null && claimed !== crc.toString('base64')) {
          response.writeHead(400, { 'content-type': 'application/xml' }).end('<Error><Code>XAmzContentChecksumMismatch</Code></Error>');
          return;
        }
        received.push(body.toString());
        response.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const put = (url: string) => fetch(url, { method: 'PUT', headers: { 'content-type': 'image/jpeg' }, body: 'photo bytes' });
    try {
      const client = (checksums: 'WHEN_REQUIRED' | 'WHEN_SUPPORTED') =>
        new S3Client({ region: 'ap-south-1', credentials, endpoint, forcePathStyle: true, requestChecksumCalculation: checksums });
      const ours = await presignPhotoUpload(config, 'applicants/42.jpg', { contentType: 'image/jpeg', s3: client('WHEN_REQUIRED') });
      const sdkDefault = await presignS3(
        client('WHEN_SUPPORTED'),
        new PutObjectCommand({ Bucket: config.photoBucketName, Key: 'applicants/42.jpg', ContentType: 'image/jpeg' }),
        { expiresIn: 60, signableHeaders: new Set(['content-type']) },
      );

      expect((await put(ours.url)).status).toBe(200);
      expect((await put(sdkDefault)).status).toBe(400);
      expect(received).toEqual(['photo bytes']);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('presigns a PUT to the photo bucket for photoUploadExpiration seconds, its content type signed', async () => {
    const s3 = new S3Client({ region: 'ap-south-1', credentials, requestChecksumCalculation: 'WHEN_REQUIRED' });

    const upload = await presignPhotoUpload(config, 'applicants/42.jpg', { contentType: 'image/jpeg', s3 });

    const url = new URL(upload.url);
    expect(upload.method).toBe('PUT');
    expect(upload.headers).toEqual({ 'content-type': 'image/jpeg' });
    expect(url.host).toBe('movement-pass-prod-photos-123456789012.s3.ap-south-1.amazonaws.com');
    expect(url.pathname).toBe('/applicants/42.jpg');
    expect(url.searchParams.get('X-Amz-Expires')).toBe('300');
    expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('content-type;host');

    // SigV4 recomputed by hand: https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html
    const date = url.searchParams.get('X-Amz-Date')!;
    const scope = `${date.slice(0, 8)}/ap-south-1/s3/aws4_request`;
    expect(url.searchParams.get('X-Amz-Credential')).toBe(`AKIDEXAMPLE/${scope}`);
    const query = url.search
      .slice(1)
      .split('&')
      .filter((pair) => !pair.startsWith('X-Amz-Signature='))
      .sort()
      .join('&');
    const canonical = [
      'PUT',
      url.pathname,
      query,
      `content-type:image/jpeg\nhost:${url.host}\n`,
      'content-type;host',
      'UNSIGNED-PAYLOAD',
    ].join('\n');
    const toSign = ['AWS4-HMAC-SHA256', date, scope, createHash('sha256').update(canonical).digest('hex')].join('\n');
    let key: Buffer = Buffer.from(`AWS4${credentials.secretAccessKey}`);
    for (const part of [date.slice(0, 8), 'ap-south-1', 's3', 'aws4_request']) key = createHmac('sha256', key).update(part).digest();
    expect(url.searchParams.get('X-Amz-Signature')).toBe(createHmac('sha256', key).update(toSign).digest('hex'));
  });

  it('refuses a content type that is not one', async () => {
    await expect(presignPhotoUpload(config, 'a.jpg', { contentType: 'jpeg' })).rejects.toThrow(/media type such as image\/jpeg/);
  });
});
