import { DeleteObjectsCommand, ListObjectVersionsCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { emptyBucket } from '../../handlers/empty-bucket/empty-bucket';
import { makeHandler } from '../../handlers/lib/custom-resource';
import { context, makeEvent, memoryLogger, startResponseServer } from './support';

const bucket = 'movement-pass-alice-photos-123456789012';

/** A versioned bucket in memory, listed the way S3 pages ListObjectVersions (1000 per page). */
function versionedBucket(versionCount: number, markerCount: number) {
  const entries = [
    ...Array.from({ length: versionCount }, (_, i) => ({
      kind: 'version',
      Key: `photos/${String(i).padStart(5, '0')}.jpg`,
      VersionId: `v${i}`,
    })),
    ...Array.from({ length: markerCount }, (_, i) => ({
      kind: 'marker',
      Key: `photos/${String(i).padStart(5, '0')}.jpg`,
      VersionId: `m${i}`,
    })),
  ];
  return {
    remaining: () => entries.length,
    list(keyMarker?: string) {
      const start = keyMarker ? Number(keyMarker) : 0;
      const page = entries.slice(start, start + 1000);
      const truncated = start + 1000 < entries.length;
      return {
        Versions: page.filter((e) => e.kind === 'version').map(({ Key, VersionId }) => ({ Key, VersionId })),
        DeleteMarkers: page.filter((e) => e.kind === 'marker').map(({ Key, VersionId }) => ({ Key, VersionId })),
        IsTruncated: truncated,
        NextKeyMarker: truncated ? String(start + 1000) : undefined,
        NextVersionIdMarker: truncated ? 'next' : undefined,
      };
    },
    delete(objects: { Key: string; VersionId: string }[]) {
      for (const object of objects) {
        const index = entries.findIndex((e) => e.Key === object.Key && e.VersionId === object.VersionId);
        if (index >= 0) entries.splice(index, 1);
      }
    },
  };
}

describe('photo bucket emptier', () => {
  const s3 = new S3Client({ region: 'ap-south-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  const mock = mockClient(s3);
  let server: Awaited<ReturnType<typeof startResponseServer>>;
  let logger: ReturnType<typeof memoryLogger>;
  let handler: ReturnType<typeof makeHandler>;

  beforeEach(async () => {
    mock.reset();
    server = await startResponseServer();
    logger = memoryLogger();
    handler = makeHandler(emptyBucket({ s3, logger }), { logger });
  });
  afterEach(() => server.close());

  const remove = () =>
    handler(
      makeEvent({
        RequestType: 'Delete',
        PhysicalResourceId: bucket,
        LogicalResourceId: 'PhotoBucketEmptier',
        ResourceProperties: { BucketName: bucket },
        ResponseURL: server.url,
      }),
      context(),
    );

  it('deletes every version and delete marker across pages, then answers SUCCESS', async () => {
    const contents = versionedBucket(2300, 450);
    // Paging walks a snapshot: deletions must not shift what the next page holds.
    const pages = [contents.list(), contents.list('1000'), contents.list('2000')];
    mock.on(ListObjectVersionsCommand).callsFake((input) => pages[input.KeyMarker ? Number(input.KeyMarker) / 1000 : 0]);
    mock.on(DeleteObjectsCommand).callsFake((input) => {
      contents.delete(input.Delete.Objects);
      return {};
    });

    await remove();

    expect(contents.remaining()).toBe(0);
    expect(mock.commandCalls(ListObjectVersionsCommand).map((call) => call.args[0].input.KeyMarker)).toEqual([undefined, '1000', '2000']);
    for (const call of mock.commandCalls(DeleteObjectsCommand))
      expect(call.args[0].input.Delete?.Objects?.length).toBeLessThanOrEqual(1000);
    expect(server.received.map((r) => r.body)).toEqual([expect.objectContaining({ Status: 'SUCCESS', PhysicalResourceId: bucket })]);
  });

  it('succeeds when the bucket is already gone', async () => {
    mock.on(ListObjectVersionsCommand).rejects(Object.assign(new Error('The specified bucket does not exist'), { name: 'NoSuchBucket' }));

    await remove();

    expect(server.received.map((r) => r.body.Status)).toEqual(['SUCCESS']);
  });

  it('answers FAILED to CloudFormation when S3 refuses a deletion', async () => {
    mock.on(ListObjectVersionsCommand).resolves({ Versions: [{ Key: 'a.jpg', VersionId: '1' }], IsTruncated: false });
    mock.on(DeleteObjectsCommand).resolves({ Errors: [{ Key: 'a.jpg', Code: 'AccessDenied', Message: 'Access Denied' }] });

    await remove();

    expect(server.received.map((r) => r.body)).toEqual([
      expect.objectContaining({ Status: 'FAILED', PhysicalResourceId: bucket, Reason: expect.stringContaining('a.jpg: AccessDenied') }),
    ]);
  });

  it('answers FAILED when listing fails for another reason', async () => {
    mock.on(ListObjectVersionsCommand).rejects(Object.assign(new Error('Access Denied'), { name: 'AccessDenied' }));

    await remove();

    expect(server.received.map((r) => r.body.Status)).toEqual(['FAILED']);
  });

  it('records the bucket on Create and touches nothing', async () => {
    await handler(makeEvent({ RequestType: 'Create', ResourceProperties: { BucketName: bucket }, ResponseURL: server.url }), context());

    expect(server.received.map((r) => [r.body.Status, r.body.PhysicalResourceId])).toEqual([['SUCCESS', bucket]]);
    expect(mock.calls()).toHaveLength(0);
  });
});
