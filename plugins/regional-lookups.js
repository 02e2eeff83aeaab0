// @ts-check
// Local osls plugin: a secondary region's lookups re-run whenever what they look up has changed,
// with no flag. The lookups (resources/regional-lookup.ts) are custom resources: CloudFormation
// runs one only when its properties change. At deploy time (and for `sls diff`), this plugin asks
// the same questions in the stack's own region, never the home region: DynamoDB for the local
// replica of each table, CloudFront (global) for the photo distribution and the public keys. A
// digest of the answers becomes each lookup's `Refresh` property: the same answers leave the
// template as it was (a skipped deploy, a clean diff), a home stack created anew (new
// distribution, new keys, new tables under the old names) changes it, and the lookups read again.
// A question that cannot be answered yet (the home region not deployed) gives no digest: the
// lookup itself then says what is missing.
const { createHash } = require('node:crypto');
const { allDistributions, allPublicKeys, distributionWithOrigin } = require('./lib/cloudfront-lists');

/** @typedef {{ Type: string, Properties: Record<string, any> }} LookupResource */

/** The lookup types and the answer each digest covers. */
const lookupTypes = ['Custom::TableReplica', 'Custom::PhotoDistribution', 'Custom::CloudFrontPublicKey'];

class RegionalLookups {
  /**
   * @param {import('./lib/service').Serverless} serverless
   * @param {Record<string, any>} options
   * @param {{ log: { info: (m: string) => void, notice: (m: string) => void, warning: (m: string) => void } }} utils
   */
  constructor(serverless, options, utils) {
    this.serverless = serverless;
    this.options = options;
    this.log = utils.log;
    this.hooks = {
      // After osls restored the packaged template, before the safety checks diff it.
      'before:deploy:deploy': () => this.pin(),
      // `sls diff` packages first (its own before hook); the comparison then sees what a deploy would send.
      'after:package:finalize': () => (this.isOnlineDiff() ? this.pin() : undefined),
    };
  }

  get provider() {
    return this.serverless.getProvider('aws');
  }

  isOnlineDiff() {
    const command = this.serverless.processedInput?.commands?.join(' ');
    return command === 'diff' && !this.options.against;
  }

  /** Sets `Refresh` on every lookup of the template to the digest of today's answers. */
  async pin() {
    const template = this.serverless.service.provider.compiledCloudFormationTemplate;
    const lookups = Object.entries(/** @type {Record<string, LookupResource>} */ (template?.Resources ?? {})).filter(([, resource]) =>
      lookupTypes.includes(resource.Type),
    );
    if (lookups.length === 0) return;
    const region = this.provider.getRegion();
    const account = this.serverless.service.custom?.movementPassAccount?.accountId;
    let pinned = 0;
    for (const [id, resource] of lookups) {
      const answer = await this.answer(resource, region, account);
      if (answer === undefined) {
        this.log.info(`${id}: nothing to look up yet; the lookup itself will say what is missing`);
        continue;
      }
      resource.Properties.Refresh = createHash('sha256').update(JSON.stringify(answer)).digest('hex').slice(0, 16);
      pinned++;
    }
    this.log.info(`Regional lookups: ${pinned} of ${lookups.length} pinned to what they find in ${region} today`);
  }

  /**
   * What the lookup will answer, read the way it reads it; undefined when there is nothing yet.
   * @param {LookupResource} resource @param {string} region @param {string | undefined} account
   */
  async answer(resource, region, account) {
    const properties = resource.Properties;
    if (resource.Type === 'Custom::TableReplica') {
      const table = await this.provider
        .request('DynamoDB', 'describeTable', { TableName: properties.TableName }, { region })
        .then((/** @type {{ Table?: { TableArn?: string, LatestStreamArn?: string } }} */ found) => found.Table)
        .catch((/** @type {{ providerError?: { code?: string } }} */ error) => {
          if (error.providerError?.code === 'ResourceNotFoundException') return undefined;
          throw error;
        });
      return table && [table.TableArn, table.LatestStreamArn];
    }
    if (resource.Type === 'Custom::PhotoDistribution') {
      const found = distributionWithOrigin(await allDistributions(this.provider), resolveAccount(properties.OriginDomainName, account));
      return found && [found.Id, found.ARN, found.DomainName];
    }
    const found = (await allPublicKeys(this.provider)).find((key) => key.Name === properties.Name);
    return found && [found.Id];
  }
}

/**
 * The template's `{ "Fn::Sub": "...${AWS::AccountId}..." }` with the stage's account.
 * @param {unknown} value @param {string | undefined} account @returns {string}
 */
function resolveAccount(value, account) {
  const text = typeof value === 'object' && value && 'Fn::Sub' in value ? /** @type {{ 'Fn::Sub': unknown }} */ (value)['Fn::Sub'] : value;
  if (typeof text !== 'string') return '';
  return account ? text.replaceAll('${AWS::AccountId}', account) : text;
}

module.exports = RegionalLookups;
