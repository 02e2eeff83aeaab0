// Whether an error of osls's `provider.request` means the request never got an answer from AWS
// (no network, DNS, a proxy, a region that is down), as opposed to an answer AWS gave.

/** SDK and Node errors meaning the request never got an answer. */
const networkErrorCodes = new Set([
  'NetworkingError',
  'TimeoutError',
  'UnknownEndpoint',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/**
 * @param {unknown} thrown an error thrown by `provider.request` (osls wraps the SDK's in `providerError`)
 * @returns {boolean}
 */
function isNoAnswer(thrown) {
  const error = /** @type {import('./service').ProviderError | undefined} */ (thrown);
  const providerError = error?.providerError;
  return [providerError?.code, error?.code, providerError?.originalError?.code].some((code) => networkErrorCodes.has(code ?? ''));
}

/**
 * `request`, or a TimeoutError once `ms` have passed without its answer (which `isNoAnswer`
 * counts as none): osls's own requests wait up to two minutes, retried four times, for a region
 * that blackholes connections. The late answer, or error, is dropped.
 * @template T @param {Promise<T>} request @param {number} ms @returns {Promise<T>}
 */
function answerWithin(request, ms) {
  /** @type {NodeJS.Timeout | undefined} */
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`no answer in ${ms / 1000} s`), { code: 'TimeoutError' })), ms);
  });
  request.catch(() => undefined);
  return /** @type {Promise<T>} */ (Promise.race([request, timeout]).finally(() => clearTimeout(timer)));
}

module.exports = { answerWithin, isNoAnswer };
