// @ts-check
// Local osls plugin, the first of the project's: before a command that talks to AWS does
// anything, one STS GetCallerIdentity with a short timeout says which account and region it is
// about to use, or plainly that there are no credentials, that AWS rejected them, or that AWS
// cannot be reached. Without it osls retries an unreachable AWS for about 25 s before saying a
// service "may not be available in the region", and `sls remove` without credentials ends in an
// uncaught exception (its remove step starts an ECR lookup it never awaits, whose rejection
// outlives the first error). Credentials of another account than the stage's (team.json) stop the
// command there too, naming both accounts. Commands that stay offline (`package`, `print`) are left alone.
// https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html

const { isNoAnswer } = require('./lib/network-errors');
const { regionsOf } = require('./lib/service');

/** The commands of osls and of the project's plugins that call AWS. */
const awsCommands = new Set([
  'deploy',
  'deploy function',
  'deploy list',
  'deploy list functions',
  'remove',
  'info',
  'logs',
  'invoke',
  'metrics',
  'rollback',
  'rollback function',
  'create-cert',
  'remove-cert',
  'create_domain',
  'delete_domain',
  'diff',
  'verify',
  'failover',
]);

/** STS answers in well under a second; a network that drops packets would otherwise hang for minutes. */
const timeoutMs = 8000;

/** STS errors meaning the credentials themselves are wrong, expired or unknown. */
const credentialErrorCodes = new Set([
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'ExpiredTokenException',
  'UnrecognizedClientException',
  'InvalidAccessKeyId',
  'CredentialsError',
  'AccessDenied',
]);

class Preflight {
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
      // The earliest point after the configuration is resolved, before any step of the command.
      initialize: () => this.checkAws(),
    };
  }

  get command() {
    return (this.serverless.processedInput?.commands ?? []).join(' ');
  }

  async checkAws() {
    if (!awsCommands.has(this.command)) return;
    // `sls diff --against <file>` compares two files: offline by design.
    if (this.command === 'diff' && this.options.against) return;
    const provider = this.serverless.getProvider('aws');
    const region = provider.getRegion();
    const stage = provider.getStage();
    const identity = await this.callerIdentity(provider, region);
    this.assertAccount(identity);
    const role = this.regions && !this.regions.home ? ` (secondary region of ${stage})` : '';
    this.log.notice(`AWS account ${identity.Account} as ${identity.Arn}, region ${region}${role}, stage ${stage}`);
  }

  /**
   * The stage lives in one account (`custom.movementPassAccount`, resources/deployment.ts, from team.json).
   * @param {{ Account: string, Arn: string }} identity
   */
  assertAccount(identity) {
    const expected = this.serverless.service.custom?.movementPassAccount;
    if (!expected || identity.Account === expected.accountId) return;
    throw new this.serverless.classes.Error(
      `Stage "${expected.stage}" lives in AWS account ${expected.accountId} (${expected.setting}), but these credentials are of account ` +
        `${identity.Account} (${identity.Arn}). \`sls ${this.command}\` stopped before doing anything. Use credentials of account ` +
        `${expected.accountId} (AWS_PROFILE=<its profile>), or, if the stage really moved, change ${expected.setting} in a reviewed commit.`,
    );
  }

  /** The stage's regions (`custom.movementPassRegions`, resources/regions.ts). */
  get regions() {
    return regionsOf(this.serverless);
  }

  /**
   * STS is asked in the command's own region: when only that region is down, say that the stage's
   * other regions are acted on region by region, and how.
   * @param {string} region
   */
  otherRegionsHint(region) {
    const others = (this.regions?.regions ?? []).filter((other) => other !== region);
    if (others.length === 0) return '';
    return ` If ${region} itself is down, the stage's other region${others.length > 1 ? 's' : ''} still ${others.length > 1 ? 'answer' : 'answers'}: --region ${others.join(' or --region ')} acts on ${others.length > 1 ? 'those' : 'that'} alone (see "Region failure" in docs/runbooks.md).`;
  }

  /**
   * @param {import('./lib/service').AwsProvider} provider @param {string} region
   * @returns {Promise<{ Account: string, Arn: string }>}
   */
  async callerIdentity(provider, region) {
    /** @type {NodeJS.Timeout | undefined} */
    let timer;
    /** @type {(error: Error) => void} */
    let fail = () => undefined;
    const timeout = new Promise((_, reject) => {
      fail = reject;
    });
    const start = () => {
      clearTimeout(timer);
      timer = setTimeout(() => fail(Object.assign(new Error(`no answer in ${timeoutMs / 1000} s`), { code: 'TimeoutError' })), timeoutMs);
    };
    const pause = () => clearTimeout(timer);
    this.pauseWhileAskingForMfa(provider, pause, start);
    start();
    try {
      return await Promise.race([provider.request('STS', 'getCallerIdentity', {}), timeout]);
    } catch (error) {
      throw this.explain(/** @type {import('./lib/service').ProviderError} */ (error), region);
    } finally {
      pause();
    }
  }

  /**
   * A profile with `mfa_serial` makes osls ask for the MFA code during the first request: that
   * wait is the user's, not AWS's, so the timeout stops while the question is open.
   * @param {import('./lib/service').AwsProvider} provider @param {() => void} pause @param {() => void} resume
   */
  pauseWhileAskingForMfa(provider, pause, resume) {
    const credentials = provider.getCredentials?.()?.credentials;
    const ask = credentials?.tokenCodeFn;
    if (!credentials || typeof ask !== 'function') return;
    credentials.tokenCodeFn = (/** @type {string} */ serial, /** @type {(error: unknown, code?: string) => void} */ callback) => {
      pause();
      ask(serial, (/** @type {unknown} */ error, /** @type {string | undefined} */ code) => {
        resume();
        callback(error, code);
      });
    };
  }

  /**
   * The unanswered STS request, and the account lookup osls itself starts on `deploy` and
   * `remove`, keep retrying for about 25 s, and osls waits for them before it exits. Once the
   * error is printed, nothing is left to wait for; the timer does not hold the process if it
   * ends sooner.
   */
  abandonPendingRequests() {
    setTimeout(() => process.exit(), 1000).unref();
  }

  /** @param {import('./lib/service').ProviderError} error @param {string} region */
  explain(error, region) {
    const code = error.providerError?.code ?? error.code;
    const what = `\`sls ${this.command}\` stopped before doing anything.`;
    if (error.code === 'AWS_CREDENTIALS_NOT_FOUND') {
      return new this.serverless.classes.Error(
        `No AWS credentials found. ${what} Give it the target account's credentials: AWS_PROFILE=<profile> (after ` +
          '`aws sso login` for an SSO profile), --aws-profile <profile>, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.',
      );
    }
    if (isNoAnswer(error)) {
      this.abandonPendingRequests();
      return new this.serverless.classes.Error(
        `AWS cannot be reached: STS in ${region} gave no answer (${error.message}). ${what} ` +
          `Check the network connection, a VPN or a proxy (HTTPS_PROXY), then run it again.${this.otherRegionsHint(region)}`,
      );
    }
    if (credentialErrorCodes.has(code ?? '')) {
      return new this.serverless.classes.Error(
        `AWS refused the credentials (${code}: ${error.message}). ${what} Refresh them (\`aws sso login\`, ` +
          'a new session token) or use another profile, then run it again.',
      );
    }
    return new this.serverless.classes.Error(
      `STS in ${region} answered ${code ?? 'an error'}: ${error.message}. ${what} Run it again; if it persists, check the AWS Health Dashboard.`,
    );
  }
}

module.exports = Preflight;
