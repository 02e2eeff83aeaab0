// Photo URLs on the AWS SDK's own signers: CloudFront signed URLs for downloads (canned policy,
// the contract's key pair id), S3 presigned PUTs for uploads (the contract's lifetime).
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl as signCloudFrontUrl } from '@aws-sdk/cloudfront-signer';
import { getSignedUrl as presignS3 } from '@aws-sdk/s3-request-presigner';
import { resolveRegion } from './config.js';
import type { FoundationConfig, SigningKeys } from './contract.js';
import { FoundationConfigError } from './errors.js';

/** An S3 key as a URL path: each segment percent-encoded, the slashes kept. */
function keyPath(key: string): string {
  if (typeof key !== 'string' || key === '' || key.startsWith('/')) {
    throw new FoundationConfigError(
      'FOUNDATION_INVALID_ARGUMENT',
      `A photo key is an S3 key without a leading "/", e.g. "applicants/42.jpg"; got ${JSON.stringify(key)}.`,
    );
  }
  return key.split('/').map(encodeURIComponent).join('/');
}

/** A CloudFront URL for the photo at `key`, valid `expiresIn` seconds (default 1 hour). */
export function signPhotoUrl(
  config: Pick<FoundationConfig, 'photoBaseUrl' | 'photoUrlKeyPairId'>,
  keys: SigningKeys,
  key: string,
  options: { expiresIn?: number; now?: Date } = {},
): string {
  if (!keys.photoUrlPrivateKey) {
    throw new FoundationConfigError(
      'FOUNDATION_SIGNING_KEYS_MISSING',
      'Signing photo URLs needs photoUrlPrivateKey: load it with loadSigningKeys.',
      {
        keys: ['photoUrlPrivateKey'],
      },
    );
  }
  const expiresIn = options.expiresIn ?? 3600;
  if (!Number.isInteger(expiresIn) || expiresIn < 1) {
    throw new FoundationConfigError('FOUNDATION_INVALID_ARGUMENT', `expiresIn is whole seconds, 1 or more; got ${expiresIn}.`);
  }
  const now = options.now ?? new Date();
  return signCloudFrontUrl({
    url: `${config.photoBaseUrl.replace(/\/+$/, '')}/${keyPath(key)}`,
    keyPairId: config.photoUrlKeyPairId,
    privateKey: keys.photoUrlPrivateKey,
    dateLessThan: new Date(now.getTime() + expiresIn * 1000),
  });
}

export interface PresignedUpload {
  url: string;
  method: 'PUT';
  /** Headers the upload must send exactly (they are part of the signature). */
  headers: Record<string, string>;
  expiresAt: Date;
}

/**
 * A presigned `PUT` of a photo to the stage's bucket, valid `photoUploadExpiration` seconds; the
 * browser sends it from one of the stage's web origins (the bucket's CORS rule).
 */
export async function presignPhotoUpload(
  config: Pick<FoundationConfig, 'photoBucketName' | 'photoUploadExpiration'>,
  key: string,
  options: { contentType: string; s3?: S3Client; region?: string },
): Promise<PresignedUpload> {
  keyPath(key);
  if (!options?.contentType || !/^[\w.+-]+\/[\w.+-]+$/.test(options.contentType)) {
    throw new FoundationConfigError(
      'FOUNDATION_INVALID_ARGUMENT',
      `contentType must be a media type such as image/jpeg; got ${JSON.stringify(options?.contentType)}.`,
    );
  }
  // Without a body to sum, the SDK's default checksum is that of an empty body: S3 ignores it on a
  // presigned URL, but MinIO, R2 and other S3-compatible stores refuse every upload through such a URL.
  const s3 = options.s3 ?? new S3Client({ region: resolveRegion(options.region), requestChecksumCalculation: 'WHEN_REQUIRED' });
  if (options.s3 && (await options.s3.config.requestChecksumCalculation()) !== 'WHEN_REQUIRED') {
    throw new FoundationConfigError(
      'FOUNDATION_INVALID_ARGUMENT',
      "the S3 client given to presign an upload must be made with requestChecksumCalculation: 'WHEN_REQUIRED': " +
        'otherwise the URL carries the checksum of an empty body, which S3-compatible stores (MinIO, R2) refuse.',
    );
  }
  const expiresIn = config.photoUploadExpiration;
  const url = await presignS3(
    s3,
    new PutObjectCommand({ Bucket: config.photoBucketName, Key: key, ContentType: options.contentType }),
    // The content type is signed: the upload cannot swap it for something the app would not serve.
    { expiresIn, signableHeaders: new Set(['content-type']) },
  );
  return { url, method: 'PUT', headers: { 'content-type': options.contentType }, expiresAt: new Date(Date.now() + expiresIn * 1000) };
}
