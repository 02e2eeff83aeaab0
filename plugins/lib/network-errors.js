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

module.exports = { isNoAnswer };
