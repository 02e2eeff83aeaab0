import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { failedCreateId, type Invocation, makeHandler, putResponse } from '../../handlers/lib/custom-resource';
import { context, makeEvent, memoryLogger, startResponseServer } from './support';

describe('makeHandler: answering CloudFormation', () => {
  let server: Awaited<ReturnType<typeof startResponseServer>>;
  let logger: ReturnType<typeof memoryLogger>;
  beforeEach(async () => {
    server = await startResponseServer();
    logger = memoryLogger();
  });
  afterEach(() => server.close());

  it('PUTs one SUCCESS with the ids and data the resource returned', async () => {
    const handler = makeHandler(async () => ({ physicalResourceId: 'ring-1', data: { KeyId: 'k1' } }), { logger });

    await handler(makeEvent({ RequestType: 'Create', ResponseURL: server.url }), context());

    expect(server.received).toHaveLength(1);
    expect(server.received[0]).toMatchObject({
      method: 'PUT',
      path: '/cloudformation-response?X-Amz-Signature=secret-signature',
      contentType: '',
    });
    expect(server.received[0].body).toEqual({
      Status: 'SUCCESS',
      PhysicalResourceId: 'ring-1',
      StackId: expect.stringContaining(':stack/'),
      RequestId: 'request-1',
      LogicalResourceId: 'JwtKeyRing',
      Data: { KeyId: 'k1' },
    });
  });

  it('answers FAILED with the reason when the resource throws, keeping the physical id of an update', async () => {
    const handler = makeHandler(
      async () => {
        throw new Error('SSM is down');
      },
      { logger },
    );

    await handler(makeEvent({ RequestType: 'Update', PhysicalResourceId: 'ring-1', ResponseURL: server.url }), context());

    expect(server.received.map((r) => r.body)).toEqual([
      expect.objectContaining({ Status: 'FAILED', PhysicalResourceId: 'ring-1', Reason: 'SSM is down' }),
    ]);
  });

  it('gives a failed Create the marker id, whose Delete succeeds without running the resource', async () => {
    let runs = 0;
    const handler = makeHandler(
      async () => {
        runs++;
        throw new Error('boom');
      },
      { logger },
    );

    await handler(makeEvent({ RequestType: 'Create', ResponseURL: server.url }), context());
    await handler(makeEvent({ RequestType: 'Delete', PhysicalResourceId: failedCreateId, ResponseURL: server.url }), context());

    expect(runs).toBe(1);
    expect(server.received.map((r) => [r.body.Status, r.body.PhysicalResourceId])).toEqual([
      ['FAILED', failedCreateId],
      ['SUCCESS', failedCreateId],
    ]);
  });

  it.each([
    ['an unknown request type', { RequestType: 'Upsert' }, 'unknown RequestType "Upsert"'],
    ['no ResourceProperties', { RequestType: 'Create', ResourceProperties: null }, 'the event has no ResourceProperties'],
    ['an Update without physical id', { RequestType: 'Update' }, 'the Update event has no PhysicalResourceId'],
    ['no RequestId', { RequestType: 'Create', RequestId: undefined }, 'the event has no RequestId'],
  ])('answers FAILED to a malformed event with %s', async (_, partial, reason) => {
    let runs = 0;
    const handler = makeHandler(
      async () => {
        runs++;
        return { physicalResourceId: 'never' };
      },
      { logger },
    );

    await handler(makeEvent({ ...partial, ResponseURL: server.url }), context());

    expect(runs).toBe(0);
    expect(server.received).toHaveLength(1);
    expect(server.received[0].body).toMatchObject({ Status: 'FAILED', Reason: `Malformed event: ${reason}` });
  });

  it('answers FAILED before Lambda times out when the resource hangs', async () => {
    const handler = makeHandler(() => new Promise(() => undefined), { logger, timeoutMarginMs: 1_000 });
    const started = Date.now();

    await handler(makeEvent({ RequestType: 'Create', ResponseURL: server.url }), context(1_200));

    expect(Date.now() - started).toBeLessThan(1_000);
    expect(server.received.map((r) => r.body)).toEqual([
      expect.objectContaining({ Status: 'FAILED', Reason: expect.stringContaining('ran out of time') }),
    ]);
  });

  it('aborts the signals it gave the resource once it has answered', async () => {
    let invocation: Invocation | undefined;
    const handler = makeHandler(
      async (_, given) => {
        invocation = given;
        return { physicalResourceId: 'ring-1' };
      },
      { logger },
    );

    await handler(makeEvent({ RequestType: 'Create', ResponseURL: server.url }), context());

    expect(invocation?.signal.aborted).toBe(true);
    expect(invocation?.answered.aborted).toBe(true);
  });

  it('stops the work when its time is up and answers only after the cleanup, within the time kept for it', async () => {
    const steps: string[] = [];
    const handler = makeHandler(
      (_, { signal, answered }) =>
        new Promise((_, reject) => {
          signal.addEventListener('abort', () => {
            steps.push(`work aborted, answered: ${answered.aborted}`);
            // The cleanup a failed Create does: it may still call AWS until the answer.
            setTimeout(() => {
              steps.push(`cleaned up, answered: ${answered.aborted}`);
              reject(signal.reason);
            }, 100);
          });
        }),
      { logger, timeoutMarginMs: 300, cleanupMarginMs: 400 },
    );

    await handler(makeEvent({ RequestType: 'Create', ResponseURL: server.url }), context(1_000));

    expect(steps).toEqual(['work aborted, answered: false', 'cleaned up, answered: false']);
    expect(server.received.map((r) => r.body)).toEqual([
      expect.objectContaining({ Status: 'FAILED', Reason: expect.stringContaining('ran out of time') }),
    ]);
  });

  it('reports a failure of its own as such, even after the time is up', async () => {
    const handler = makeHandler(
      (_, { signal }) =>
        new Promise((_, reject) => {
          signal.addEventListener('abort', () => reject(new Error('AccessDeniedException: not allowed')));
        }),
      { logger, timeoutMarginMs: 300, cleanupMarginMs: 400 },
    );

    await handler(makeEvent({ RequestType: 'Create', ResponseURL: server.url }), context(1_000));

    expect(server.received.map((r) => r.body.Reason)).toEqual(['AccessDeniedException: not allowed']);
  });

  it('answers at the latest when the time kept for cleaning up is over', async () => {
    let answeredWhenCleanupEnded: boolean | undefined;
    const handler = makeHandler(
      (_, { signal, answered }) =>
        new Promise(() => {
          signal.addEventListener('abort', () => {
            setTimeout(() => {
              answeredWhenCleanupEnded = answered.aborted;
            }, 600);
          });
        }),
      { logger, timeoutMarginMs: 300, cleanupMarginMs: 200 },
    );
    const started = Date.now();

    await handler(makeEvent({ RequestType: 'Create', ResponseURL: server.url }), context(800));
    await new Promise((resolve) => setTimeout(resolve, 800));

    expect(server.received[0].at - started).toBeLessThan(700);
    expect(server.received.map((r) => r.body.Status)).toEqual(['FAILED']);
    // A cleanup that overran saw the answer given: its calls are aborted from then on.
    expect(answeredWhenCleanupEnded).toBe(true);
  });

  it('refuses Data over the 4 KB response limit with a FAILED answer', async () => {
    const handler = makeHandler(async () => ({ physicalResourceId: 'big', data: { Blob: 'x'.repeat(5000) } }), { logger });

    await handler(makeEvent({ RequestType: 'Create', ResponseURL: server.url }), context());

    expect(server.received.map((r) => r.body)).toEqual([
      expect.objectContaining({ Status: 'FAILED', Reason: expect.stringContaining('4096 byte limit') }),
    ]);
  });

  it('cuts a long failure Reason so the answer stays within the 4 KB response limit, logging it whole', async () => {
    // Multi-byte and escaped characters: the limit counts bytes of the JSON body.
    const reason = `SSM refused ${'/movement-pass/ä"name, '.repeat(400)}end`;
    const handler = makeHandler(
      async () => {
        throw new Error(reason);
      },
      { logger },
    );

    await handler(makeEvent({ RequestType: 'Create', ResponseURL: server.url }), context());

    expect(server.received).toHaveLength(1);
    expect(server.received[0].bytes).toBeLessThanOrEqual(4096);
    // As much of the reason as fits, not a stub.
    expect(server.received[0].bytes).toBeGreaterThan(3000);
    expect(server.received[0].body).toMatchObject({
      Status: 'FAILED',
      PhysicalResourceId: failedCreateId,
      Reason: expect.stringMatching(
        /^SSM refused \/movement-pass\/ä"name, .*cut to fit the response; the whole reason is in the CloudWatch logs\)$/,
      ),
    });
    expect(logger.lines.join('\n')).toContain('"name, end');
  });

  it('never logs the presigned URL signature', async () => {
    const handler = makeHandler(async () => ({ physicalResourceId: 'ring-1' }), { logger });

    await handler(makeEvent({ RequestType: 'Create', ResponseURL: server.url }), context());

    expect(logger.lines.join('\n')).not.toContain('secret-signature');
    expect(logger.lines.join('\n')).toContain('/cloudformation-response?<redacted>');
  });
});

describe('putResponse', () => {
  it('retries a failing response URL until CloudFormation takes the answer', async () => {
    const server = await startResponseServer({ failFirst: 2 });
    try {
      await putResponse(server.url, JSON.stringify({ Status: 'SUCCESS' }), 5, 1);
      expect(server.received).toHaveLength(1);
    } finally {
      await server.close();
    }
  });
});
