// @ts-check
// Local osls plugin: S3 refuses a replication rule whose destination bucket does not exist or is
// not versioned, and CloudFormation sets the rule on the bucket resource only, so such a deploy
// would fail late, in the stack update, and roll back. Before a deploy writes anything, each
// replication rule of the template to deploy has its destination bucket checked in its region
// (one GetBucketVersioning); a missing or unversioned one stops the deploy with the command that
// deploys the regions in order (scripts/deploy-regions.ts). Listed after the preflight and the
// production safety plugins, before the certificate step. Nothing here runs on `sls package`.
// Only a definite answer stops: when the other region's S3 cannot be reached (an outage of that
// region), the deploy goes on with a warning, since an unchanged rule needs nothing from there
// and a new one would be refused by S3 anyway, in the stack update, which then rolls back.
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-requirements.html

const { missingBucketCode, stateOfVersioning, uncheckedBucket } = require('../resources/photo-bucket-check');
const { answerWithin, isNoAnswer } = require('./lib/network-errors');

/** How long the other region's S3 has to say whether its photo bucket is ready. */
const answerTimeoutMs = 10_000;

class PhotoReplication {
  /**
   * @param {import('./lib/service').Serverless} serverless
   * @param {Record<string, unknown>} options
   * @param {import('./lib/step-progress').PluginUtils} utils
   */
  constructor(serverless, options, utils) {
    this.serverless = serverless;
    this.options = options;
    this.log = utils.log;
    this.hooks = {
      // osls's own before:deploy:deploy (core plugins run first) has packaged or loaded the template.
      'before:deploy:deploy': () => this.checkDestinations(),
    };
  }

  /** @returns {import('../resources/photo-replication').PhotoReplicationPluginConfig | undefined} */
  get config() {
    return this.serverless.service.custom?.movementPassPhotoReplication;
  }

  get provider() {
    return this.serverless.getProvider('aws');
  }

  /** @param {string} message */
  error(message) {
    return new this.serverless.classes.Error(message);
  }

  /**
   * The destination buckets of the template's replication rules, as names with
   * `${AWS::AccountId}` left in (the rules name them `arn:${AWS::Partition}:s3:::<name>`).
   * @returns {string[]}
   */
  destinations() {
    const { Resources = {} } = this.serverless.service.provider.compiledCloudFormationTemplate ?? {};
    /** @type {string[]} */
    const names = [];
    for (const [id, resource] of Object.entries(Resources)) {
      if (resource?.Type !== 'AWS::S3::Bucket') continue;
      for (const rule of resource.Properties?.ReplicationConfiguration?.Rules ?? []) {
        const bucket = rule.Destination?.Bucket;
        const arn = typeof bucket === 'string' ? bucket : bucket?.['Fn::Sub'];
        const name = typeof arn === 'string' ? arn.match(/^arn:(?:\$\{AWS::Partition\}|[\w-]+):s3:::(.+)$/)?.[1] : undefined;
        if (!name) throw this.error(`The replication rule of ${id} names its destination as ${JSON.stringify(bucket)}, not a bucket ARN.`);
        names.push(name);
      }
    }
    return names;
  }

  async checkDestinations() {
    const config = this.config;
    if (!config) return;
    const destinations = this.destinations();
    const secondaries = Object.keys(config.buckets).filter((region) => region !== config.homeRegion);
    if (!destinations.length) {
      if (config.region === config.homeRegion && secondaries.length) {
        this.log.warning(
          `The home photo bucket is deployed without its replication rule (--param=${config.param}=off): photos uploaded in ` +
            `${config.homeRegion} are not copied to ${secondaries.join(', ')} until home is deployed again with the rule ` +
            `(${config.deployCommands[config.homeRegion]}); copy the ones uploaded meanwhile with S3 Batch Replication (docs/photos.md, "Copying older photos").`,
        );
      }
      return;
    }
    const { Account } = await this.provider.request('STS', 'getCallerIdentity', {});
    for (const destination of destinations) {
      const region = Object.keys(config.buckets).find((candidate) => config.buckets[candidate] === destination);
      if (!region) {
        throw this.error(
          `The template replicates photos to ${destination}, which is none of stage "${config.stage}"'s photo buckets ` +
            `(${Object.values(config.buckets).join(', ')}). Nothing was deployed. Package and deploy from the same commit.`,
        );
      }
      const bucket = destination.replace('${AWS::AccountId}', Account);
      const state = await this.bucketState(bucket, region, Account);
      if (state === 'unreachable') continue;
      if (state !== 'ready') throw this.notReady(bucket, region, state);
      this.log.info(`Photo replication: ${bucket} in ${region} exists and is versioned.`);
    }
  }

  /**
   * The bucket's versioning, if this account owns it: S3 answers 403 for a bucket of the same
   * name in another account, which the origin group must never read from.
   * @param {string} bucket @param {string} region @param {string} account
   * @returns {Promise<'ready' | 'missing' | 'unversioned' | 'unreachable'>}
   */
  async bucketState(bucket, region, account) {
    try {
      // Bounded as the key ring's calls to the other region are: a region that does not answer is
      // an outage to deploy through (below), not one to wait minutes for.
      const { Status } = await answerWithin(
        this.provider.request('S3', 'getBucketVersioning', { Bucket: bucket, ExpectedBucketOwner: account }, { region }),
        answerTimeoutMs,
      );
      return stateOfVersioning(Status);
    } catch (error) {
      const providerError = /** @type {import('./lib/service').ProviderError} */ (error).providerError;
      const code = providerError?.code ?? /** @type {import('./lib/service').ProviderError} */ (error).code;
      if (code === missingBucketCode) return 'missing';
      if (isNoAnswer(error) || (providerError?.statusCode ?? 0) >= 500) {
        this.log.warning(
          `S3 in ${region} did not answer whether the photo bucket ${bucket} is ready (${code ?? 'error'}: ${/** @type {Error} */ (error).message}). ` +
            `Deploying anyway: a replication rule already in place needs nothing from ${region}; a new one fails the stack update, which rolls back.`,
        );
        return 'unreachable';
      }
      throw this.error(uncheckedBucket({ bucket, region, code: code ?? 'error', message: /** @type {Error} */ (error).message }));
    }
  }

  /**
   * What to run instead, from where this deploy stands.
   * @param {string} bucket @param {string} region @param {'missing' | 'unversioned'} state
   */
  notReady(bucket, region, state) {
    const config = /** @type {import('../resources/photo-replication').PhotoReplicationPluginConfig} */ (this.config);
    const problem =
      state === 'missing'
        ? `which does not exist yet (the stack of ${region} creates it)`
        : 'which is not versioned (S3 replicates only between versioned buckets; the stack that owns it turns versioning on)';
    if (config.region === config.homeRegion) {
      return this.error(
        `The home photo bucket's replication rule needs the photo bucket ${bucket} in ${region}, ${problem}. Nothing was deployed.\n` +
          `Deploy every region in order with one command: ${config.deployAllCommand}\n` +
          `(it deploys home without the rule, then ${region}, then home with the rule). By hand, the same three steps: ` +
          `${config.deployCommands[config.homeRegion]} --param=${config.param}=off; ${config.deployCommands[region]}; ` +
          `${config.deployCommands[config.homeRegion]}.`,
      );
    }
    return this.error(
      `The photo bucket of ${config.region} replicates to the home bucket ${bucket} in ${region}, ${problem}. Nothing was deployed.\n` +
        `Deploy home first; one command deploys every region in order: ${config.deployAllCommand}`,
    );
  }
}

module.exports = PhotoReplication;
module.exports.answerTimeoutMs = answerTimeoutMs;
