// Empties a sandbox bucket when its stack is removed, so CloudFormation can delete the bucket:
// every object version and delete marker, page by page. Create and Update only record the bucket.
import { DeleteObjectsCommand, ListObjectVersionsCommand, type S3Client } from '@aws-sdk/client-s3';
import type { CustomResourceEvent, CustomResourceResult, Invocation, Logger } from '../lib/custom-resource';

export interface EmptyBucketDeps {
  s3: Pick<S3Client, 'send'>;
  logger: Logger;
}

const bucketName = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const isMissingBucket = (error: unknown) => (error as { name?: string })?.name === 'NoSuchBucket';

export function emptyBucket(deps: EmptyBucketDeps) {
  const { s3, logger } = deps;

  async function empty(bucket: string, signal: AbortSignal): Promise<number> {
    let deleted = 0;
    let keyMarker: string | undefined;
    let versionIdMarker: string | undefined;
    do {
      const page = await s3.send(
        new ListObjectVersionsCommand({ Bucket: bucket, KeyMarker: keyMarker, VersionIdMarker: versionIdMarker }),
        {
          abortSignal: signal,
        },
      );
      const objects = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])].map(({ Key, VersionId }) => ({ Key, VersionId }));
      // A page holds at most 1000 versions plus markers; DeleteObjects takes at most 1000 keys.
      for (let start = 0; start < objects.length; start += 1000) {
        const batch = objects.slice(start, start + 1000);
        const result = await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch, Quiet: true } }), {
          abortSignal: signal,
        });
        if (result.Errors?.length) {
          const [first] = result.Errors;
          throw new Error(
            `could not delete ${result.Errors.length} objects of ${bucket}, e.g. ${first.Key}: ${first.Code} ${first.Message}`,
          );
        }
        deleted += batch.length;
      }
      keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
      versionIdMarker = page.IsTruncated ? page.NextVersionIdMarker : undefined;
    } while (keyMarker !== undefined);
    return deleted;
  }

  return async function onEvent(event: CustomResourceEvent, { signal }: Invocation): Promise<CustomResourceResult> {
    if (event.RequestType === 'Delete') {
      // The physical id is the bucket this resource was created for; on a replacement that is
      // the old bucket, the one CloudFormation is about to delete.
      const bucket = event.PhysicalResourceId;
      if (!bucketName.test(bucket)) {
        logger.info('delete of a resource that names no bucket: nothing to empty', { physicalResourceId: bucket });
        return { physicalResourceId: bucket };
      }
      try {
        logger.info('emptied bucket', { bucket, deleted: await empty(bucket, signal) });
      } catch (error) {
        if (!isMissingBucket(error)) throw error;
        logger.info('bucket already gone', { bucket });
      }
      return { physicalResourceId: bucket };
    }
    const bucket = event.ResourceProperties.BucketName;
    if (typeof bucket !== 'string' || !bucketName.test(bucket)) {
      throw new Error(`BucketName must be an S3 bucket name (got ${JSON.stringify(bucket)})`);
    }
    return { physicalResourceId: bucket };
  };
}
