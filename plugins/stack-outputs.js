// @ts-check
// Local osls plugin: `sls info` and `sls deploy` print the stack outputs without --verbose,
// since the outputs are exactly what the foundation's consumers come for.

const section = '\nStack Outputs';

class StackOutputs {
  /** @param {import('./lib/service').Serverless} serverless */
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = { 'aws:info:displayStackOutputs': () => this.display() };
  }

  display() {
    // osls prints the section itself in verbose mode; its info plugin holds what it gathered.
    if (this.serverless.serviceOutputs.has(section)) return;
    const info = this.serverless.pluginManager.plugins.find(
      (/** @type {{ gatheredData?: { outputs?: { OutputKey: string, OutputValue: string }[] } }} */ plugin) => plugin.gatheredData,
    );
    /** @type {{ OutputKey: string, OutputValue: string }[]} */
    const outputs = info?.gatheredData?.outputs ?? [];
    if (outputs.length === 0) return;
    this.serverless.serviceOutputs.set(
      section,
      outputs.map((output) => `${output.OutputKey}: ${output.OutputValue}`),
    );
  }
}

module.exports = StackOutputs;
