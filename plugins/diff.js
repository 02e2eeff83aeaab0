// @ts-check
// Local osls plugin: `sls diff --stage <stage>` packages the stage and shows what a deploy would
// change, against the deployed stack's template, or offline against a template file
// (`--against <template.json>`, no AWS call): osls 3 has no diff of its own.
const { readFileSync } = require('node:fs');
const { compareTemplates, renderComparison } = require('./lib/template-diff');
const { regionsOf } = require('./lib/service');

class Diff {
  /**
   * @param {import('./lib/service').Serverless} serverless
   * @param {Record<string, any>} options
   * @param {{ log?: any, writeText?: (text: string) => void }} [utils]
   */
  constructor(serverless, options, utils) {
    this.serverless = serverless;
    this.options = options;
    this.log = utils?.log ?? { notice: console.log, warning: console.warn };
    this.writeText = utils?.writeText ?? ((/** @type {string} */ text) => process.stdout.write(`${text}\n`));
    this.commands = {
      diff: {
        usage: 'Shows what `sls deploy` of this stage would change, as `cdk diff` does (replacements and IAM changes included)',
        lifecycleEvents: ['diff'],
        options: {
          against: {
            usage: 'Compare with this CloudFormation template file instead of the deployed stack (offline: no AWS call)',
            type: 'string',
          },
          fail: {
            usage: 'Exit with an error when there are differences, as `cdk diff --fail` does (a CI step can gate on it)',
            type: 'boolean',
          },
        },
      },
    };
    this.hooks = {
      'before:diff:diff': () => this.serverless.pluginManager.spawn('package'),
      'diff:diff': () => this.diff(),
    };
  }

  get provider() {
    return this.serverless.getProvider('aws');
  }

  /** This stack's name and region: every region of a stage has a stack of the same name. */
  get stack() {
    const regions = regionsOf(this.serverless);
    const region = this.provider.getRegion();
    const role = regions.home ? ' (home region)' : ` (secondary region of ${regions.stage})`;
    return `${this.provider.naming.getStackName()} in ${region}${role}`;
  }

  async diff() {
    const proposed = this.serverless.service.provider.compiledCloudFormationTemplate;
    const deployed = this.options.against ? this.readTemplateFile(this.options.against) : await this.deployedTemplate();
    if (!deployed) {
      this.log.notice(`Stack ${this.stack} does not exist yet: a deploy would create everything below.`);
    } else {
      this.log.notice(`Changes a deploy would make to ${this.options.against ? `${this.options.against} as` : 'the stack'} ${this.stack}:`);
    }
    const comparison = compareTemplates(deployed ?? {}, proposed, this.serverless.service.custom.movementPassProductionSafety);
    this.writeText(renderComparison(comparison));
    if (this.options.fail && (!comparison.diff.isEmpty || comparison.dangers.length)) {
      throw new this.serverless.classes.Error(
        `--fail: a deploy would change ${this.stack}${comparison.dangers.length ? `, ${comparison.dangers.length} of it losing data` : ''} (the differences are above).`,
      );
    }
  }

  /** @param {string} path */
  readTemplateFile(path) {
    let text;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      throw new this.serverless.classes.Error(
        `Cannot read the template to compare with (--against ${path}): ${/** @type {Error} */ (error).message}. ` +
          'Give the path of a CloudFormation JSON template, e.g. one written by `sls package` of another commit.',
      );
    }
    try {
      const template = JSON.parse(text);
      if (typeof template === 'object' && template && typeof template.Resources === 'object') return template;
    } catch {
      // reported below
    }
    throw new this.serverless.classes.Error(
      `${path} is not a CloudFormation JSON template (an object with Resources); --against takes the JSON that \`sls package\` writes.`,
    );
  }

  /**
   * The deployed stack's template, or undefined when the stack does not exist (no change set is
   * ever made). Asked of the stack's own region: a secondary region's stack has the home's name.
   */
  async deployedTemplate() {
    const StackName = this.provider.naming.getStackName();
    try {
      const { TemplateBody } = await this.provider.request(
        'CloudFormation',
        'getTemplate',
        { StackName, TemplateStage: 'Original' },
        { region: this.provider.getRegion() },
      );
      return typeof TemplateBody === 'string' ? JSON.parse(TemplateBody) : TemplateBody;
    } catch (error) {
      if (/does not exist/.test(String(/** @type {Error} */ (error)?.message))) return undefined;
      throw error;
    }
  }
}

module.exports = Diff;
