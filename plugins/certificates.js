// @ts-check
// Local osls plugin: on `sls deploy`, before the stack (and before serverless-domain-manager
// creates the API domain), makes sure every certificate of `custom.movementPassCertificates`
// exists and is issued, one serverless-certificate-creator run per region, and then uses that
// very certificate everywhere: its ARN in SSM (the contract of the stack's own region), in the
// template CloudFormation receives (in place of the packaged template's SSM reference), and on
// the API's custom domain. A secondary region's deploy makes its own API certificate and only
// looks up the CloudFront one (us-east-1), which the home deploy makes: it never calls the home
// region. `sls info` lists them. Nothing here runs on `sls package`: packaging stays offline.
const { findHostedZone } = require('./lib/hosted-zone');
const { withStepProgress } = require('./lib/step-progress');

/**
 * @typedef {{ parameterName: string, purpose: string, templateReference: string, apiDomain: boolean, ensured: boolean, plugin: Record<string, any> }} CertificateConfig
 * @typedef {import('./lib/step-progress').PluginUtils} PluginUtils
 */

/**
 * What this plugin uses of serverless-certificate-creator's instance, which ships no types: its
 * AWS SDK v2 clients (each call answers `.promise()`) and the steps it is driven through.
 * @typedef {{ CertificateArn: string, Status?: string, IssuedAt?: string | number | Date, DomainName?: string }} CertificateSummary
 * @typedef {{
 *   CertificateArn: string, Status: string, SubjectAlternativeNames?: string[],
 *   DomainValidationOptions?: { ResourceRecord?: object }[],
 * }} CertificateDetail
 * @typedef {{ ResourceRecordSet: { Name: string, Type: string } }} RecordChange
 * @typedef {{ ChangeBatch: { Changes: RecordChange[] } }} RecordChangeRequest
 * @typedef {{ CertificateStatuses?: string[], NextToken?: string }} ListCertificatesRequest
 * @typedef {{
 *   initialized: boolean,
 *   initializeVariables: () => void,
 *   getHostedZoneIds: () => Promise<{ hostedZoneId: string, Name: string }[]>,
 *   waitUntilCertificateIsValidated: (arn: string) => Promise<unknown>,
 *   createCertificate: () => Promise<void>,
 *   getExistingCertificate: () => Promise<CertificateSummary | undefined>,
 *   createRecordSetForDnsValidation: (certificate: { Certificate: CertificateDetail }) => Promise<void>,
 *   route53: { changeResourceRecordSets: (params: RecordChangeRequest) => unknown },
 *   acm: {
 *     listCertificates: (params: ListCertificatesRequest) => { promise: () => Promise<{ CertificateSummaryList?: CertificateSummary[] }> },
 *     describeCertificate: (params: { CertificateArn: string }) => { promise: () => Promise<{ Certificate: CertificateDetail }> },
 *   },
 * }} CertificateCreator
 */

class Certificates {
  /**
   * @param {import('./lib/service').Serverless} serverless
   * @param {Record<string, unknown>} options
   * @param {PluginUtils} utils
   */
  constructor(serverless, options, utils) {
    this.serverless = serverless;
    this.options = options;
    this.utils = utils;
    this.log = utils.log;
    this.hooks = {
      // osls's own before:deploy:deploy (core plugins run first) has restored the packaged
      // template; serverless-domain-manager (listed after this plugin) runs after this one.
      'before:deploy:deploy': () => this.deployCertificates(),
      'after:info:info': () => this.showCertificates(),
    };
  }

  /** @returns {{ domain: string, region: string, homeRegion: string, certificates: CertificateConfig[] }} */
  get config() {
    return this.serverless.service.custom.movementPassCertificates;
  }

  get provider() {
    return this.serverless.getProvider('aws');
  }

  /** The serverless-certificate-creator instance osls loaded from the plugins list. */
  get creator() {
    const creator = /** @type {CertificateCreator | undefined} */ (
      this.serverless.pluginManager.plugins.find((/** @type {object} */ plugin) => plugin.constructor.name === 'CreateCertificatePlugin')
    );
    if (!creator)
      throw new this.serverless.classes.Error(
        'plugins/certificates.js needs serverless-certificate-creator in the plugins list, before it.',
      );
    return creator;
  }

  /**
   * Points the creator at one certificate. Its settings are read once per run, so they are
   * reset; the previous `custom.customCertificate` is given back by the caller.
   * @param {Record<string, any>} pluginConfig
   * @param {{ hostedZoneId: string, Name: string }} zone
   */
  useCertificate(pluginConfig, zone) {
    const creator = this.creator;
    this.serverless.service.custom.customCertificate = pluginConfig;
    creator.initialized = false;
    creator.initializeVariables();
    // The plugin lists hosted zones once, without paging, and matches within the first 100
    // only; the zone found above (paged) is the one to write validation records to.
    creator.getHostedZoneIds = async () => [zone];
    // Its wait for validation can last 40 minutes: show what it waits for, and for how long.
    // (The plugin's own method, not the wrapper a previous certificate left on the instance.)
    const waitForValidation = Object.getPrototypeOf(creator).waitUntilCertificateIsValidated.bind(creator);
    creator.waitUntilCertificateIsValidated = (/** @type {string} */ arn) =>
      withStepProgress(this.utils, `Waiting for DNS validation of ${pluginConfig.certificateName} in ${pluginConfig.region}`, () =>
        waitForValidation(arn),
      );
    // ACM asks for the same validation record for `<domain>` and `*.<domain>`; the plugin
    // sends both in one Route 53 batch, which Route 53 refuses as a duplicate.
    // https://github.com/schwamster/serverless-certificate-creator/issues/46
    const route53 = creator.route53;
    const change = route53.changeResourceRecordSets.bind(route53);
    route53.changeResourceRecordSets = (params) => {
      const seen = new Set();
      const Changes = params.ChangeBatch.Changes.filter(({ ResourceRecordSet: { Name, Type } }) => {
        const key = `${Type} ${Name}`;
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
      });
      return change({ ...params, ChangeBatch: { ...params.ChangeBatch, Changes } });
    };
    // The plugin takes the first certificate with the domain name, whatever its status: an
    // expired or failed one would block a new request. Only live ones count, issued first, the
    // newest issued first: the one a secondary region's lookup takes too (lookUpCertificate).
    const acm = creator.acm;
    const list = acm.listCertificates.bind(acm);
    acm.listCertificates = (params) => ({
      promise: async () => {
        const data = await list({ ...params, CertificateStatuses: ['ISSUED', 'PENDING_VALIDATION'] }).promise();
        const rank = (/** @type {{ Status?: string }} */ summary) => (summary.Status === 'ISSUED' ? 0 : 1);
        const live = [...(data.CertificateSummaryList ?? [])].sort((a, b) => rank(a) - rank(b) || issuedAt(b) - issuedAt(a));
        return { ...data, CertificateSummaryList: live };
      },
    });
    return creator;
  }

  /**
   * The public hosted zone of the domain, where the validation records go.
   * @returns {Promise<{ hostedZoneId: string, Name: string }>}
   */
  async findHostedZone() {
    return /** @type {{ hostedZoneId: string, Name: string }} */ (
      await findHostedZone(this.provider, this.config.domain, this.serverless.classes.Error)
    );
  }

  async deployCertificates() {
    const { certificates } = this.config;
    if (certificates.length === 0) return;
    const arns = await this.ensureCertificates();
    for (const certificate of certificates) {
      await this.publishArn(certificate, arns[certificate.parameterName]);
      this.pinInTemplate(certificate, arns[certificate.parameterName]);
      if (certificate.apiDomain) await this.useOnApiDomain(certificate, arns[certificate.parameterName]);
    }
  }

  /**
   * Every certificate, created and validated as needed.
   * @returns {Promise<Record<string, string>>} ARN by parameter name
   */
  async ensureCertificates() {
    const zone = await this.findHostedZone();
    const original = this.serverless.service.custom.customCertificate;
    /** @type {Record<string, string>} */
    const arns = {};
    try {
      for (const certificate of this.config.certificates) {
        const { certificateName, region } = certificate.plugin;
        arns[certificate.parameterName] = await withStepProgress(this.utils, `Certificate for ${certificateName} in ${region}`, () =>
          certificate.ensured ? this.ensureCertificate(certificate.plugin, zone) : this.lookUpCertificate(certificate),
        );
        this.log.notice(`Certificate for ${certificate.purpose} (${region}): ${arns[certificate.parameterName]}`);
      }
    } finally {
      // Give the plugin its own settings back, read afresh by its after-deploy summary.
      this.serverless.service.custom.customCertificate = original;
      this.creator.initialized = false;
    }
    return arns;
  }

  /**
   * The contract's copy of the ARN, written only when it changes (an unchanged deploy leaves
   * the parameter, and its version, alone).
   * @param {CertificateConfig} certificate @param {string} arn
   */
  async publishArn(certificate, arn) {
    if ((await this.contractValue(certificate.parameterName)) === arn) return;
    await this.provider.request(
      'SSM',
      'putParameter',
      {
        Name: certificate.parameterName,
        Value: arn,
        Type: 'String',
        Overwrite: true,
        Description: `ACM certificate for ${certificate.purpose}`,
      },
      { region: this.config.region },
    );
    this.log.notice(`${certificate.parameterName} -> ${arn}`);
  }

  /**
   * Puts the literal ARN where the packaged template reads the SSM parameter. CloudFormation
   * resolves a dynamic reference only when the template changes, and osls skips a deploy whose
   * template did not: with the ARN itself in the template, a new certificate is a changed
   * template (deployed, and the distribution updated), and the same certificate is not.
   * @param {CertificateConfig} certificate @param {string} arn
   */
  pinInTemplate(certificate, arn) {
    // In place: osls reads this same object when it hashes and uploads the template.
    /** @param {unknown} node */
    const pin = (node) => {
      if (node === null || typeof node !== 'object') return;
      for (const [key, value] of Object.entries(node)) {
        if (value === certificate.templateReference) /** @type {Record<string, unknown>} */ (node)[key] = arn;
        else pin(value);
      }
    };
    pin(this.serverless.service.provider.compiledCloudFormationTemplate);
  }

  /**
   * serverless-domain-manager reads `custom.customDomain` afresh in each hook and skips its
   * certificate lookup when `certificateArn` is set; it uses it only to create the domain, so
   * an existing domain holding another certificate is moved to this one here.
   * @param {CertificateConfig} certificate @param {string} arn
   */
  async useOnApiDomain(certificate, arn) {
    const customDomain = this.serverless.service.custom.customDomain;
    if (!customDomain?.enabled) return;
    customDomain.certificateArn = arn;
    const region = { region: certificate.plugin.region };
    const domainName = customDomain.domainName;
    const domain = await this.provider
      .request('APIGateway', 'getDomainName', { domainName }, region)
      .catch((/** @type {import('./lib/service').ProviderError} */ error) => {
        if (error.providerError?.code === 'NotFoundException') return undefined;
        throw error;
      });
    if (!domain || domain.regionalCertificateArn === arn) return;
    await this.provider.request(
      'APIGateway',
      'updateDomainName',
      { domainName, patchOperations: [{ op: 'replace', path: '/regionalCertificateArn', value: arn }] },
      region,
    );
    this.log.notice(`API domain ${domainName}: certificate ${domain.regionalCertificateArn} replaced by ${arn}`);
  }

  /**
   * A certificate another region's deploy makes (the CloudFront one, made by the home deploy):
   * the newest issued certificate of the name in its region that covers every name, the one
   * the home deploy takes too. The home
   * region is never called: ACM in us-east-1 answers for itself. When that region cannot be
   * reached, the ARN already in this region's contract is kept, with a warning.
   * @param {CertificateConfig} certificate
   * @returns {Promise<string>}
   */
  async lookUpCertificate(certificate) {
    const { certificateName, subjectAlternativeNames = [], region } = certificate.plugin;
    /** @type {any[]} */
    let issued;
    try {
      issued = await this.issuedCertificates(certificateName, region);
    } catch (error) {
      if (!regionUnavailable(error)) throw error;
      const kept = await this.contractValue(certificate.parameterName);
      if (!kept) {
        throw new this.serverless.classes.Error(
          `ACM in ${region} cannot be reached (${/** @type {Error} */ (error).message}) and this region's contract has no ` +
            `${certificate.parameterName} yet. Deploy this region again once ${region} answers. Nothing was deployed.`,
        );
      }
      this.log.warning(
        `ACM in ${region} cannot be reached (${/** @type {Error} */ (error).message}): ${certificate.parameterName} keeps ${kept}. ` +
          'Deploy this region again once it answers, in case the home deploy has replaced the certificate.',
      );
      return kept;
    }
    const names = [certificateName, ...subjectAlternativeNames];
    for (const summary of issued) {
      const { Certificate } = await this.provider.request(
        'ACM',
        'describeCertificate',
        { CertificateArn: summary.CertificateArn },
        { region },
      );
      const covered = names.every((name) => (Certificate.SubjectAlternativeNames ?? []).includes(name));
      if (covered) return summary.CertificateArn;
    }
    throw new this.serverless.classes.Error(
      `No issued certificate for ${names.join(' and ')} in ${region}. The home region's deploy makes it: ` +
        `run \`npx sls deploy --stage ${this.serverless.service.provider.stage} --region ${this.config.homeRegion}\` first, ` +
        'then deploy this region again. Nothing was deployed.',
    );
  }

  /**
   * The issued certificates of a name in a region, newest first (a replaced certificate stays
   * issued until it is deleted).
   * @param {string} domainName @param {string} region
   */
  async issuedCertificates(domainName, region) {
    /** @type {any[]} */
    const found = [];
    /** @type {string | undefined} */
    let NextToken;
    do {
      const page = await this.provider.request(
        'ACM',
        'listCertificates',
        { CertificateStatuses: ['ISSUED'], ...(NextToken && { NextToken }) },
        { region },
      );
      found.push(
        ...(page.CertificateSummaryList ?? []).filter((/** @type {{ DomainName: string }} */ summary) => summary.DomainName === domainName),
      );
      NextToken = page.NextToken;
    } while (NextToken);
    return found.sort((a, b) => issuedAt(b) - issuedAt(a));
  }

  /** The contract's current value of a parameter in the stack's region, if any. @param {string} name */
  async contractValue(name) {
    const result = await this.provider
      .request('SSM', 'getParameter', { Name: name }, { region: this.config.region })
      .catch((/** @type {import('./lib/service').ProviderError} */ error) => {
        if (error.providerError?.code === 'ParameterNotFound') return undefined;
        throw error;
      });
    return result?.Parameter?.Value;
  }

  /**
   * Creates the certificate unless it exists, makes sure its DNS validation record is in the
   * hosted zone, waits for validation, and returns its ARN.
   * @param {Record<string, any>} pluginConfig
   * @param {{ hostedZoneId: string, Name: string }} zone
   * @returns {Promise<string>}
   */
  async ensureCertificate(pluginConfig, zone) {
    const where = `${pluginConfig.certificateName} in ${pluginConfig.region}`;
    const creator = this.useCertificate(pluginConfig, zone);
    /** @type {import('./lib/service').ProviderError | undefined} */
    let creatorError;
    try {
      await creator.createCertificate();
    } catch (error) {
      // The plugin reads the validation record 10 s after the request; ACM can take longer to
      // publish it, leaving a certificate without its record. The steps below write it.
      // https://github.com/schwamster/serverless-certificate-creator/issues/53
      creatorError = /** @type {import('./lib/service').ProviderError} */ (error);
    }
    const existing = await creator.getExistingCertificate();
    if (!existing && creatorError?.code === 'ResourceNotReady') {
      // The certificate it requested and waited for is no longer live: ACM failed it.
      throw new this.serverless.classes.Error(
        `ACM did not validate the certificate requested for ${where}. See why in the ACM console of that region ` +
          '(often a CAA record), fix it, delete the certificate and run `sls deploy` again to request a new one.',
      );
    }
    if (!existing)
      throw creatorError ?? new this.serverless.classes.Error(`serverless-certificate-creator made no certificate for ${where}.`);
    const arn = existing.CertificateArn;
    let certificate = await this.describe(creator, arn);
    const names = [pluginConfig.certificateName, ...(pluginConfig.subjectAlternativeNames ?? [])];
    const missing = names.filter((name) => !(certificate.SubjectAlternativeNames ?? []).includes(name));
    if (missing.length > 0) {
      throw new this.serverless.classes.Error(
        `The certificate ${arn} for ${where} does not cover ${missing.join(', ')}. ` +
          'It predates this project: delete it in the ACM console of that region (or remove what uses it) and run `sls deploy` again.',
      );
    }
    if (certificate.Status === 'PENDING_VALIDATION') {
      // The plugin's own 40-minute wait ran out: waiting again in the same run would not help.
      if (creatorError?.code === 'ResourceNotReady') throw this.notValidated(arn, where, certificate.Status);
      certificate = await withStepProgress(this.utils, `Waiting for ACM to publish the DNS validation record of ${where}`, () =>
        this.waitForValidationRecords(creator, arn),
      );
      // UPSERT (rewriteRecords): writing a record that is already there is harmless.
      await creator.createRecordSetForDnsValidation({ Certificate: certificate });
      this.log.notice(`Certificate ${arn} awaits DNS validation (up to 40 minutes; a rerun of sls deploy resumes it)`);
      try {
        await creator.waitUntilCertificateIsValidated(arn);
      } catch {
        // The SDK's waiter says ResourceNotReady for a timeout and for a certificate ACM failed alike.
        const { Status } = await this.describe(creator, arn);
        if (Status !== 'ISSUED') throw this.notValidated(arn, where, Status);
      }
    } else if (certificate.Status !== 'ISSUED') {
      throw this.notValidated(arn, where, certificate.Status);
    }
    return arn;
  }

  /** @param {string} arn @param {string} where @param {string} status */
  notValidated(arn, where, status) {
    if (status === 'PENDING_VALIDATION') {
      return new this.serverless.classes.Error(
        `DNS validation of the certificate ${arn} for ${where} did not finish in 40 minutes. Check that the registrar ` +
          'delegates the domain to the hosted zone (dig NS), then run `sls deploy` again: it resumes with the same certificate.',
      );
    }
    return new this.serverless.classes.Error(
      `The certificate ${arn} for ${where} is ${status}. See why in the ACM console of that region (often a CAA record), ` +
        'fix it, delete the certificate and run `sls deploy` again to request a new one.',
    );
  }

  /** @param {CertificateCreator} creator @param {string} arn */
  async describe(creator, arn) {
    const { Certificate } = await creator.acm.describeCertificate({ CertificateArn: arn }).promise();
    return Certificate;
  }

  /**
   * ACM publishes the validation records some seconds after the request.
   * @param {CertificateCreator} creator @param {string} arn
   */
  async waitForValidationRecords(creator, arn, attempts = 60, intervalMs = 5000) {
    for (let attempt = 1; ; attempt++) {
      const certificate = await this.describe(creator, arn);
      const options = certificate.DomainValidationOptions ?? [];
      if (options.length > 0 && options.every((/** @type {{ ResourceRecord?: object }} */ option) => option.ResourceRecord))
        return certificate;
      if (attempt >= attempts) {
        throw new this.serverless.classes.Error(
          `ACM has not published the DNS validation record of ${arn} after 5 minutes; run \`sls deploy\` again.`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  }

  async showCertificates() {
    const { certificates } = this.config;
    if (certificates.length === 0) return;
    const lines = [];
    for (const certificate of certificates) {
      const result = await this.provider
        .request('SSM', 'getParameter', { Name: certificate.parameterName }, { region: this.config.region })
        .catch(() => undefined);
      lines.push(`${certificate.purpose} (${certificate.plugin.region}): ${result?.Parameter?.Value ?? 'not created yet: run sls deploy'}`);
    }
    this.serverless.serviceOutputs.set('certificates', lines);
  }
}

/** When ACM issued a certificate (0 for one not issued yet). @param {{ IssuedAt?: string | number | Date }} summary */
const issuedAt = (summary) => new Date(summary.IssuedAt ?? 0).getTime();

/**
 * An AWS error that says the region did not answer (network, timeout, throttling or a 5xx after
 * osls's own retries), as opposed to a refusal (access denied, bad input) that waiting won't fix.
 * @param {unknown} error
 */
function regionUnavailable(error) {
  const providerError = /** @type {import('./lib/service').ProviderError | undefined} */ (error)?.providerError;
  if (!providerError) return false;
  return providerError.retryable === true || providerError.statusCode === undefined || providerError.statusCode >= 500;
}

module.exports = Certificates;
