// @ts-check
// What the local plugins share to use the consumer client (client/src) inside osls: the client
// itself, loaded from its TypeScript source the way osls loads serverless.ts (tsx), so a plugin
// never runs a stale build; an SSM client whose calls go through osls's provider.request (the
// deploying profile, region, retries and credentials of the command) for the contract root; and
// an SDK v3 SSMClient with the same credentials for the signing root, whose decrypted values
// must never pass through provider.request: osls logs every request's result under --debug.

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
 * An object that answers the client's contract reads through `provider.request`: an SDK v3
 * command becomes osls's call of the same name. Nothing decrypted goes this way: osls logs each
 * result (`sls ... --debug`), so the signing keys go through `signingSsm`, and a command asking
 * for decryption is refused here.
 * @param {{ request: (service: string, method: string, params: any, options?: { region?: string }) => Promise<any> }} provider
 * @param {string} region
 */
function ssmThroughProvider(provider, region) {
  return {
    /** @param {{ constructor: { name: string }, input: any }} command */
    send(command) {
      if (command.input?.WithDecryption) throw new Error(`ssmThroughProvider never decrypts: ${command.constructor.name} asked it to`);
      const operation = command.constructor.name.replace(/Command$/, '');
      return provider.request('SSM', operation[0].toLowerCase() + operation.slice(1), command.input, { region });
    },
  };
}

/**
 * An SDK v3 SSMClient with the command's credentials, region, retries and proxy
 * (`provider.getAwsSdkV3Config`), for `loadSigningKeys`: its answers hold decrypted keys, which
 * osls's request log (`--debug`, `SLS_LOG_DEBUG`) would print, so they never go through
 * `provider.request`. The deployer policy allows its one call, `ssm:GetParameters` on the signing root.
 * @param {{ getAwsSdkV3Config: (options?: { region?: string }) => Promise<object> }} provider
 * @param {string} region
 */
async function signingSsm(provider, region) {
  const { SSMClient } = require('@aws-sdk/client-ssm');
  return new SSMClient(await provider.getAwsSdkV3Config({ region }));
}

module.exports = { foundationClient, signingSsm, ssmThroughProvider };
