// @ts-check
// Local osls plugin: after `sls deploy` and `sls info`, reads the stage's contract values from SSM
// of the stack's region (not only the stack outputs: the certificates plugin and the key ring
// write some of them) and writes them to `.serverless/foundation-<stage>.json` (home region) or
// `.serverless/foundation-<stage>.<region>.json` (a secondary region, which must never overwrite
// the home file) for CI jobs and the web app's build.
// `sls info` prints every value under the region's name; `sls info --json` prints the file's content alone.
const { mkdir, writeFile } = require('node:fs/promises');
const { join } = require('node:path');
const { foundationClient, ssmThroughProvider } = require('./lib/foundation-client');
const { regionsOf } = require('./lib/service');

const sectionName = 'contract';

class FoundationOutputs {
  /**
   * @param {import('./lib/service').Serverless} serverless
   * @param {Record<string, unknown>} options
   * @param {{ log: { notice: (m: string) => void, warning: (m: string) => void }, writeText: (text: string) => void }} utils
   */
  constructor(serverless, options, utils) {
    this.serverless = serverless;
    this.options = options;
    this.log = utils.log;
    this.writeText = utils.writeText;
    this.commands = {
      info: {
        options: {
          json: {
            usage: 'Print only the contract values of the stage, as JSON (the content of .serverless/foundation-<stage>.json)',
            type: 'boolean',
          },
        },
      },
    };
    this.hooks = {
      'after:info:info': () => this.afterInfo(),
      'after:deploy:deploy': () => this.writeOutputsFile(),
    };
  }

  get provider() {
    return this.serverless.getProvider('aws');
  }

  /** Whether this stack is its stage's home (`custom.movementPassRegions`, resources/regions.ts). */
  get home() {
    return regionsOf(this.serverless).home;
  }

  /** `.serverless/foundation-<stage>.json` at home, `foundation-<stage>.<region>.json` elsewhere, beside the packaged templates. */
  outputsPath() {
    const stage = this.provider.getStage();
    const name = this.home ? `foundation-${stage}.json` : `foundation-${stage}.${this.provider.getRegion()}.json`;
    return join(this.serverless.serviceDir, '.serverless', name);
  }

  /**
   * The non-secret contract values of the stage, as the client types them. SecureStrings and
   * the declared signing keys are left out wherever they are stored.
   * @returns {Promise<{ path: string, values: Record<string, unknown>, missing: string[] }>}
   */
  async readContract() {
    const { contractRoot, contractStrings, parseContract, readParametersByPath } = foundationClient();
    const path = contractRoot(this.provider.getStage());
    // Read without decryption (osls logs every result under --debug): a SecureString stays ciphertext and is left out.
    const parameters = await readParametersByPath(ssmThroughProvider(this.provider, this.provider.getRegion()), path);
    const { config, missing } = parseContract(contractStrings(parameters, path), { path, partial: true });
    return { path, values: { ...config }, missing };
  }

  /** Writes the outputs file and returns what it holds. */
  async writeOutputsFile() {
    const { path, values, missing } = await this.readContract();
    const file = this.outputsPath();
    await mkdir(join(this.serverless.serviceDir, '.serverless'), { recursive: true });
    await writeFile(file, `${JSON.stringify(values, null, 2)}\n`);
    const region = this.provider.getRegion();
    const options = regionsOf(this.serverless).stackOptions;
    if (missing.length > 0)
      this.log.warning(`The contract at ${path} in ${region} lacks ${missing.join(', ')}: run \`sls deploy ${options}\`.`);
    this.log.notice(`Contract values of ${path} in ${region} written to ${file}`);
    return { path, values };
  }

  async afterInfo() {
    if (!this.options.json) {
      // The rest of `sls info` stays useful to someone who may not read the contract.
      try {
        await this.showContract();
      } catch (error) {
        this.log.warning(`Could not read the contract values from SSM: ${/** @type {Error} */ (error).message}`);
      }
      return;
    }
    const { values } = await this.writeOutputsFile();
    // Nothing but the JSON on stdout: osls prints the collected sections at the end of `info`.
    this.serverless.serviceOutputs.clear();
    this.serverless.servicePluginOutputs?.clear();
    this.writeText(JSON.stringify(values, null, 2));
  }

  async showContract() {
    const { path, values } = await this.writeOutputsFile();
    // The region is part of the section's name: each region has its own contract values.
    this.serverless.serviceOutputs.set(
      `${sectionName} ${path} (${this.provider.getRegion()})`,
      Object.entries(values).map(([key, value]) => `${key}: ${typeof value === 'string' ? oneLine(value) : JSON.stringify(value)}`),
    );
  }
}

/** @param {string} value */
const oneLine = (value) => (value.includes('\n') ? JSON.stringify(value) : value);

module.exports = FoundationOutputs;
