// @ts-check
// What the local plugins share to use the consumer client (client/src) inside osls: the client
// itself, loaded from its TypeScript source the way osls loads serverless.ts (tsx), so a plugin
// never runs a stale build; and an SSM client whose calls go through osls's provider.request
// (the deploying profile, region, retries and credentials of the command).

/** @typedef {typeof import('../../client/src/index')} FoundationClient */

/** @type {FoundationClient | undefined} */
let client;

/** @returns {FoundationClient} */
function foundationClient() {
  if (!client) {
    /** @type {{ require: (id: string, from: string) => unknown }} */
    const tsx = require(/** @type {string} */ ('tsx/cjs/api'));
    client = /** @type {FoundationClient} */ (tsx.require('../../client/src/index.ts', __filename));
  }
  return client;
}

/**
 * An object that answers the client's SSM commands through `provider.request` (each call spelled
 * out, so the deployer policy's test finds it).
 * @param {{ request: (service: string, method: string, params: any, options?: { region?: string }) => Promise<any> }} provider
 * @param {string} region
 */
function ssmThroughProvider(provider, region) {
  return {
    /** @param {{ constructor: { name: string }, input: any }} command */
    send(command) {
      switch (command.constructor.name) {
        case 'GetParametersByPathCommand':
          return provider.request('SSM', 'getParametersByPath', command.input, { region });
        case 'GetParametersCommand':
          return provider.request('SSM', 'getParameters', command.input, { region });
        default:
          throw new Error(`ssmThroughProvider does not send ${command.constructor.name}`);
      }
    },
  };
}

module.exports = { foundationClient, ssmThroughProvider };
