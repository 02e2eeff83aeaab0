// Answers CloudFormation for every custom resource of the foundation: exactly one response PUT
// on every path (success, thrown error, malformed event, imminent timeout), retried with backoff.
// Each custom resource only says what to do: `handler = makeHandler(onEvent)`.
// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref-responses.html
import type { CloudFormationCustomResourceEvent, CloudFormationCustomResourceResponse, Context } from 'aws-lambda';

export type CustomResourceEvent = CloudFormationCustomResourceEvent;

export interface CustomResourceResult {
  physicalResourceId: string;
  /** Public values only: the console shows them and `Fn::GetAtt` reads them. */
  data?: Record<string, string>;
}

/**
 * What a custom resource learns about its own invocation. Pass `signal` to every SDK call
 * (`client.send(command, { abortSignal: signal })`): once it aborts, the work stops.
 */
export interface Invocation {
  /** Aborted when the time for the work is up or the handler has answered: stop working. */
  signal: AbortSignal;
  /**
   * Aborted once the handler has answered. Between `signal` and this one, a failed Create may
   * still remove what it wrote (the handler waits for it, within `cleanupMarginMs`); after it,
   * nothing may write any more.
   */
  answered: AbortSignal;
}

export type OnEvent = (event: CustomResourceEvent, invocation: Invocation) => Promise<CustomResourceResult>;

export interface Logger {
  info(message: string, details?: Record<string, unknown>): void;
  error(message: string, details?: Record<string, unknown>): void;
}

export interface HandlerOptions {
  send?: (responseUrl: string, body: string) => Promise<void>;
  logger?: Logger;
  /** Time kept back to answer before Lambda kills the invocation. */
  timeoutMarginMs?: number;
  /** Time kept back, before that, for a failed or timed-out resource to clean up what it wrote. */
  cleanupMarginMs?: number;
}

/** Physical id of a Create that failed: its Delete has nothing to undo and succeeds at once. */
export const failedCreateId = 'movement-pass::CREATE_FAILED';

/** The response body limit of CloudFormation. */
const maxResponseBytes = 4096;

export const jsonLogger: Logger = {
  info: (message, details) => console.log(JSON.stringify({ level: 'info', message, ...details })),
  error: (message, details) => console.error(JSON.stringify({ level: 'error', message, ...details })),
};

/** The presigned URL is a credential for this one response: log only where it points. */
export function redactUrl(url: string): string {
  try {
    const { origin, pathname } = new URL(url);
    return `${origin}${pathname}?<redacted>`;
  } catch {
    return '<malformed url>';
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** PUTs the response to the presigned URL, retrying transient failures with exponential backoff. */
export async function putResponse(responseUrl: string, body: string, attempts = 5, baseDelayMs = 250): Promise<void> {
  let lastError: unknown;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      // The presigned URL is signed without a content type: sending one would break the signature.
      const response = await fetch(responseUrl, { method: 'PUT', body, headers: { 'content-type': '' } });
      if (response.ok) return;
      lastError = new Error(`response PUT answered ${response.status}`);
      if (response.status < 500 && response.status !== 429) break;
    } catch (error) {
      lastError = error;
    }
    if (attempt < attempts) await sleep(baseDelayMs * 2 ** (attempt - 1));
  }
  throw lastError;
}

class MalformedEvent extends Error {}

const requestTypes = ['Create', 'Update', 'Delete'];
const requiredFields = ['ResponseURL', 'StackId', 'RequestId', 'LogicalResourceId', 'ResourceType'] as const;

function checkEvent(event: CustomResourceEvent): void {
  for (const field of requiredFields) {
    if (typeof event[field] !== 'string' || !event[field]) throw new MalformedEvent(`the event has no ${field}`);
  }
  if (!requestTypes.includes(event.RequestType)) throw new MalformedEvent(`unknown RequestType "${event.RequestType}"`);
  if (typeof event.ResourceProperties !== 'object' || event.ResourceProperties === null) {
    throw new MalformedEvent('the event has no ResourceProperties');
  }
  if (event.RequestType !== 'Create' && !event.PhysicalResourceId) {
    throw new MalformedEvent(`the ${event.RequestType} event has no PhysicalResourceId`);
  }
}

function responseBody(event: CustomResourceEvent, outcome: { result: CustomResourceResult } | { reason: string }): string {
  const common = {
    StackId: event.StackId,
    RequestId: event.RequestId,
    LogicalResourceId: event.LogicalResourceId,
  };
  let response: CloudFormationCustomResourceResponse;
  if ('result' in outcome) {
    response = { ...common, Status: 'SUCCESS', PhysicalResourceId: outcome.result.physicalResourceId, Data: outcome.result.data };
  } else {
    const physicalResourceId = event.RequestType === 'Create' ? failedCreateId : event.PhysicalResourceId;
    const failed = { ...common, Status: 'FAILED' as const, PhysicalResourceId: physicalResourceId ?? failedCreateId };
    return fitReason((reason) => JSON.stringify({ ...failed, Reason: reason }), outcome.reason);
  }
  const body = JSON.stringify(response);
  if (Buffer.byteLength(body) > maxResponseBytes && 'result' in outcome) {
    return responseBody(event, { reason: `the response Data is over CloudFormation's ${maxResponseBytes} byte limit` });
  }
  return body;
}

/** Marks a Reason cut to fit; the handler has logged it whole. */
const reasonCut = ' [...] (cut to fit the response; the whole reason is in the CloudWatch logs)';

/**
 * The body of a FAILED answer with its Reason cut until the body fits CloudFormation's limit: a
 * larger answer is refused, and the stack would wait for one until the resource times out.
 */
function fitReason(render: (reason: string) => string, reason: string): string {
  let body = render(reason);
  let kept = reason.length;
  while (Buffer.byteLength(body) > maxResponseBytes && kept > 0) {
    // Every character is at least one byte: cutting the excess in characters gets there in a step or two.
    kept = Math.max(0, kept - (Buffer.byteLength(body) - maxResponseBytes));
    body = render(reason.slice(0, kept) + reasonCut);
  }
  return body;
}

/**
 * The properties of a Delete, or undefined when they are invalid: a Delete must succeed whatever
 * they say, and nothing was ever written under properties that never validated.
 */
export function propertiesToDelete<T>(
  read: (raw: Record<string, unknown>) => T,
  event: CustomResourceEvent,
  logger: Logger,
): T | undefined {
  try {
    return read(event.ResourceProperties);
  } catch {
    logger.info('delete with invalid properties: nothing to remove');
    return undefined;
  }
}

/** Thrown into the work when its time is up; the answer then says so. */
export class OutOfTime extends Error {
  constructor() {
    super('the handler ran out of time before finishing; see its CloudWatch logs');
    this.name = 'OutOfTime';
  }
}

/**
 * Wraps a custom resource's logic into a Lambda handler that always answers CloudFormation once,
 * and after which the logic writes nothing: its signals abort every SDK call still in flight.
 * Timeline of an invocation that runs out of time: the work is aborted `timeoutMarginMs +
 * cleanupMarginMs` before Lambda's deadline; the resource cleans up; the handler answers when it
 * has (or `timeoutMarginMs` before the deadline at the latest) and aborts everything left.
 */
export function makeHandler(onEvent: OnEvent, options: HandlerOptions = {}) {
  const send = options.send ?? putResponse;
  const logger = options.logger ?? jsonLogger;
  const margin = options.timeoutMarginMs ?? 10_000;
  const cleanupMargin = options.cleanupMarginMs ?? 10_000;

  return async (event: CustomResourceEvent, context: Pick<Context, 'getRemainingTimeInMillis'>): Promise<void> => {
    const responseUrl = typeof event?.ResponseURL === 'string' ? event.ResponseURL : undefined;
    logger.info('custom resource event', {
      requestType: event?.RequestType,
      logicalResourceId: event?.LogicalResourceId,
      physicalResourceId: event && 'PhysicalResourceId' in event ? event.PhysicalResourceId : undefined,
      responseUrl: responseUrl ? redactUrl(responseUrl) : undefined,
    });
    if (!responseUrl) {
      // Without a URL there is nobody to answer; this was not sent by CloudFormation.
      logger.error('event without ResponseURL: not a CloudFormation custom resource request');
      return;
    }

    const remaining = context.getRemainingTimeInMillis();
    const timeUp = new AbortController();
    const answered = new AbortController();
    // A short invocation keeps at most half of what is left after the answer's margin for cleanup.
    const cleanup = Math.min(cleanupMargin, Math.max(0, (remaining - margin) / 2));
    const workTimer = setTimeout(() => timeUp.abort(new OutOfTime()), Math.max(0, remaining - margin - cleanup));
    let answerTimer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      answerTimer = setTimeout(() => reject(new OutOfTime()), Math.max(0, remaining - margin));
    });
    const invocation: Invocation = { signal: AbortSignal.any([timeUp.signal, answered.signal]), answered: answered.signal };

    let body: string;
    try {
      checkEvent(event);
      if (event.RequestType === 'Delete' && event.PhysicalResourceId === failedCreateId) {
        body = responseBody(event, { result: { physicalResourceId: failedCreateId } });
      } else {
        const result = await Promise.race([onEvent(event, invocation), deadline]);
        body = responseBody(event, { result });
      }
    } catch (error) {
      const reason =
        error instanceof MalformedEvent
          ? `Malformed event: ${error.message}`
          : // An SDK call aborted by the time limit fails with its own AbortError: say why.
            timeUp.signal.aborted && isAbort(error)
            ? new OutOfTime().message
            : errorMessage(error);
      logger.error('custom resource failed', { reason });
      body = responseBody(event, { reason });
    } finally {
      clearTimeout(workTimer);
      clearTimeout(answerTimer);
      // From here on the resource's calls in flight are aborted and new ones refused.
      answered.abort(new Error('the handler has answered CloudFormation'));
    }

    try {
      await send(responseUrl, body);
      logger.info('answered CloudFormation', { status: JSON.parse(body).Status, responseUrl: redactUrl(responseUrl) });
    } catch (error) {
      logger.error('could not answer CloudFormation', { reason: errorMessage(error), responseUrl: redactUrl(responseUrl) });
      throw error;
    }
  };
}

const isAbort = (error: unknown) => error instanceof OutOfTime || (error as { name?: string } | undefined)?.name === 'AbortError';

function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.name && error.name !== 'Error' ? `${error.name}: ${error.message}` : error.message;
  return String(error);
}
