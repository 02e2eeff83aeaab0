// @ts-check
// Local osls plugin: on `sls deploy`, before the stack (and before serverless-domain-manager
// looks for a certificate), makes sure every certificate of `custom.movementPassCertificates`
// exists and is issued, one serverless-certificate-creator run per region, and writes its ARN
// to SSM, where the template reads it with a dynamic reference. `sls info` lists them.
// Nothing here runs on `sls package`: packaging stays offline.

class Certificates {
  /**
   * @param {any} serverless
   * @param {Record<string, unknown>} options
   * @param {{ log: { notice: (m: string) => void, info: (m: string) => void, warning: (m: string) => void } }} utils
   */
  constructor(serverless, options, utils) {
    this.serverless = serverless;
    this.options = options;
    this.log = utils?.log ?? { notice: console.log, info: console.log, warning: console.warn };
    this.hooks = {
      'before:deploy:deploy': () => this.ensureCertificates(),
      'after:info:info': () => this.showCertificates(),
    };
  }

  /** @returns {{ domain: string, homeRegion: string, certificates: { parameterName: string, purpose: string, plugin: Record<string, any> }[] }} */
  get config() {
    return this.serverless.service.custom.movementPassCertificates;
  }

  get provider() {
    return this.serverless.getProvider('aws');
  }

  /** The serverless-certificate-creator instance osls loaded from the plugins list. */
  get creator() {
    const creator = this.serverless.pluginManager.plugins.find(
      (/** @type {any} */ plugin) => plugin.constructor.name === 'CreateCertificatePlugin',
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
   */
  useCertificate(pluginConfig) {
    const creator = this.creator;
    this.serverless.service.custom.customCertificate = pluginConfig;
    creator.initialized = false;
    creator.initializeVariables();
    // ACM asks for the same validation record for `<domain>` and `*.<domain>`; the plugin
    // sends both in one Route 53 batch, which Route 53 refuses as a duplicate.
    // https://github.com/schwamster/serverless-certificate-creator/issues/46
    const route53 = creator.route53;
    const change = route53.changeResourceRecordSets.bind(route53);
    route53.changeResourceRecordSets = (/** @type {any} */ params) => {
      const seen = new Set();
      const Changes = params.ChangeBatch.Changes.filter((/** @type {any} */ { ResourceRecordSet: { Name, Type } }) => {
        const key = `${Type} ${Name}`;
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
      });
      return change({ ...params, ChangeBatch: { ...params.ChangeBatch, Changes } });
    };
    // The plugin takes the first certificate with the domain name, whatever its status: an
    // expired or failed one would block a new request. Only live ones count, issued first.
    const acm = creator.acm;
    const list = acm.listCertificates.bind(acm);
    acm.listCertificates = (/** @type {any} */ params) => ({
      promise: async () => {
        const data = await list({ ...params, CertificateStatuses: ['ISSUED', 'PENDING_VALIDATION'] }).promise();
        const rank = (/** @type {any} */ summary) => (summary.Status === 'ISSUED' ? 0 : 1);
        return { ...data, CertificateSummaryList: [...(data.CertificateSummaryList ?? [])].sort((a, b) => rank(a) - rank(b)) };
      },
    });
    return creator;
  }

  async assertHostedZone() {
    const { domain } = this.config;
    const { HostedZones = [] } = await this.provider.request('Route53', 'listHostedZonesByName', { DNSName: domain, MaxItems: '10' });
    const zone = HostedZones.find((/** @type {any} */ candidate) => candidate.Name === `${domain}.` && !candidate.Config?.PrivateZone);
    if (!zone) {
      throw new this.serverless.classes.Error(
        `No public Route 53 hosted zone named ${domain} in this account. The certificates are validated through it: ` +
          'create it (registering the domain in Route 53 does so) and run `sls deploy` again. Nothing was deployed.',
      );
    }
  }

  async ensureCertificates() {
    const { certificates } = this.config;
    if (certificates.length === 0) return;
    await this.assertHostedZone();
    const original = this.serverless.service.custom.customCertificate;
    try {
      for (const certificate of certificates) {
        const arn = await this.ensureCertificate(certificate.plugin);
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
          { region: this.config.homeRegion },
        );
        this.log.notice(`Certificate for ${certificate.purpose} (${certificate.plugin.region}): ${arn} -> ${certificate.parameterName}`);
      }
    } finally {
      // Give the plugin its own settings back, read afresh by its after-deploy summary.
      this.serverless.service.custom.customCertificate = original;
      this.creator.initialized = false;
    }
  }

  /**
   * Creates the certificate unless it exists, makes sure its DNS validation record is in the
   * hosted zone, waits for validation, and returns its ARN.
   * @param {Record<string, any>} pluginConfig
   * @returns {Promise<string>}
   */
  async ensureCertificate(pluginConfig) {
    const where = `${pluginConfig.certificateName} in ${pluginConfig.region}`;
    const creator = this.useCertificate(pluginConfig);
    /** @type {any} */
    let creatorError;
    try {
      await creator.createCertificate();
    } catch (error) {
      // The plugin reads the validation record 10 s after the request; ACM can take longer to
      // publish it, leaving a certificate without its record. The steps below write it.
      // https://github.com/schwamster/serverless-certificate-creator/issues/53
      creatorError = error;
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
      certificate = await this.waitForValidationRecords(creator, arn);
      // UPSERT (rewriteRecords): writing a record that is already there is harmless.
      await creator.createRecordSetForDnsValidation({ Certificate: certificate });
      this.log.notice(`Waiting for DNS validation of ${arn} (up to 40 minutes; a rerun of sls deploy resumes it)`);
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

  /** @param {any} creator @param {string} arn */
  async describe(creator, arn) {
    const { Certificate } = await creator.acm.describeCertificate({ CertificateArn: arn }).promise();
    return Certificate;
  }

  /**
   * ACM publishes the validation records some seconds after the request.
   * @param {any} creator @param {string} arn
   */
  async waitForValidationRecords(creator, arn, attempts = 60, intervalMs = 5000) {
    for (let attempt = 1; ; attempt++) {
      const certificate = await this.describe(creator, arn);
      const options = certificate.DomainValidationOptions ?? [];
      if (options.length > 0 && options.every((/** @type {any} */ option) => option.ResourceRecord)) return certificate;
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
        .request('SSM', 'getParameter', { Name: certificate.parameterName }, { region: this.config.homeRegion })
        .catch(() => undefined);
      lines.push(`${certificate.purpose} (${certificate.plugin.region}): ${result?.Parameter?.Value ?? 'not created yet: run sls deploy'}`);
    }
    this.serverless.serviceOutputs.set('certificates', lines);
  }
}

module.exports = Certificates;
