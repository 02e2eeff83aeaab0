// @ts-check
// Local osls plugin: `sls verify --stage <stage>` proves a deployed stage works end to end with the
// consumer client, one line per check with its time, and fails the command on any failed check.
// It also runs at the end of `sls deploy` (after the API's base path is mapped) unless
// `--skip-verify` is given. Sandboxes get write checks (a photo upload read back through
// CloudFront, a queue message); shared stages only read.
const { randomUUID } = require('node:crypto');
const { foundationClient, signingSsm, ssmThroughProvider } = require('./lib/foundation-client');
const { allDistributions, distributionWithOrigin } = require('./lib/cloudfront-lists');
const { regionsOf } = require('./lib/service');

/** The smallest JPEG most decoders accept (1x1 pixel): what the upload check sends. */
const tinyJpeg = Buffer.from(
  '/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRofHh0aHBwgJC4nICIsIxwcKDcpLDAxNDQ0Hyc5PTgyPC4zNDL/wAALCAABAAEBAREA/8QAFAABAAAAAAAAAAAAAAAAAAAACf/EABQQAQAAAAAAAAAAAAAAAAAAAAD/2gAIAQEAAD8AKp//2Q==',
  'base64',
);

/** Raised by a check: the line says what is wrong and what to look at. */
class CheckFailure extends Error {}
/** Raised by a check that cannot run here, with the reason (not a failure). */
class CheckSkipped extends Error {}

/**
 * Reads an HTTP response as CloudFront's own refusal or the origin's answer. CloudFront answers a
 * request its key group refuses itself (`Server: CloudFront`, an XML error such as `MissingKey`
 * or `InvalidKey`); anything S3 answers (`Server: AmazonS3`, even a 403 for a missing object,
 * since the distribution may only GetObject) means the request got past CloudFront.
 * @param {Response} response
 * @param {string} body
 */
function cloudFrontAnswer(response, body) {
  const server = response.headers.get('server') ?? '';
  const code = /<Code>([^<]+)<\/Code>/.exec(body)?.[1];
  const message = /<Message>([^<]+)<\/Message>/.exec(body)?.[1];
  return { fromOrigin: /AmazonS3/i.test(server), fromCloudFront: /^CloudFront$/i.test(server), code, message };
}

class Verify {
  /**
   * @param {import('./lib/service').Serverless} serverless
   * @param {Record<string, any>} options
   * @param {{ log: { notice: (m: string) => void, warning: (m: string) => void } }} utils
   */
  constructor(serverless, options, utils) {
    this.serverless = serverless;
    this.options = options;
    this.log = utils.log;
    /** `fetch`, replaceable by tests. */
    this.fetch = globalThis.fetch;
    this.commands = {
      verify: {
        usage:
          'Proves a deployed stage works end to end: every contract key present and of its type, the JWKS endpoint serving ' +
          'the signing keys, CloudFront trusting the URL-signing key; on sandboxes also a photo upload read back through ' +
          'CloudFront and a queue message. One line per check; exits non-zero if any fails. Runs at the end of sls deploy ' +
          'unless --skip-verify.',
        lifecycleEvents: ['verify'],
      },
      deploy: {
        options: {
          'skip-verify': { usage: 'Do not run sls verify at the end of the deploy', type: 'boolean' },
        },
      },
    };
    this.hooks = {
      'verify:verify': () => this.verify(),
      'after:deploy:deploy': () =>
        this.options['skip-verify'] ? this.log.notice('sls verify skipped (--skip-verify)') : this.verify({ afterDeploy: true }),
    };
  }

  get provider() {
    return this.serverless.getProvider('aws');
  }

  /** @returns {import('../resources/verify').VerifyPluginConfig} */
  get config() {
    const config = this.serverless.service.custom?.movementPassVerify;
    if (!config)
      throw new this.serverless.classes.Error('plugins/verify.js needs custom.movementPassVerify in serverless.ts (verifyPluginConfig).');
    return config;
  }

  /** Which region this stack is (`custom.movementPassRegions`, resources/regions.ts). */
  get regions() {
    return regionsOf(this.serverless);
  }

  /** @param {{ afterDeploy?: boolean }} [context] */
  async verify(context = {}) {
    const stage = this.provider.getStage();
    // Every read is of this stack's region: its own contract, JWKS endpoint, bucket and queue.
    const region = this.provider.getRegion();
    const config = this.config;
    const { home, stackOptions } = this.regions;
    this.log.notice(`Verifying stage ${stage} (${region}${home ? '' : ', secondary region'})${config.writes ? '' : ', read-only'}:`);
    /** @type {{ name: string, outcome: 'ok' | 'failed' | 'skipped' }[]} */
    const results = [];
    /** @param {string} name @param {() => Promise<string>} check */
    const run = async (name, check) => {
      const started = Date.now();
      let outcome = /** @type {'ok' | 'failed' | 'skipped'} */ ('ok');
      let detail;
      try {
        detail = await check();
      } catch (error) {
        outcome = error instanceof CheckSkipped ? 'skipped' : 'failed';
        detail = /** @type {Error} */ (error).message;
      }
      const line = `${{ ok: '✔', failed: '✖', skipped: '-' }[outcome]} ${name}: ${outcome === 'skipped' ? 'skipped, ' : ''}${detail} (${Date.now() - started} ms)`;
      this.log.notice(line);
      results.push({ name, outcome });
      return outcome;
    };

    const client = foundationClient();
    const ssm = ssmThroughProvider(this.provider, region);
    /** @type {import('../client/src/index').FoundationConfig | undefined} */
    let contract;
    await run('contract', async () => {
      contract = await this.checkContract(client, ssm, stage, region);
      return `${Object.keys(contract).length} keys at ${client.contractRoot(stage)}, each of its type`;
    });
    if (contract) {
      const loaded = contract;
      // One read per use, as the signers have them: a stage lacking one key fails only the checks that need it.
      // Decrypted keys never go through provider.request, which logs every result under --debug.
      const signingClient = await this.signingSsm(region);
      /** @param {import('../client/src/index').SigningUse} use @returns {Promise<Signing>} */
      const signingFor = (use) =>
        client.loadSigningKeys({ stage, region, ssm: signingClient, use: [use] }).then(
          (keys) => ({ loaded: keys }),
          (error) => ({ error }),
        );
      const jwtSigning = await signingFor('jwt');
      const photoSigning = await signingFor('photoUrl');
      await run('JWKS endpoint', () => this.checkJwks(loaded));
      // Off home, uploads must go to this region's own bucket, the one that serves when home is down.
      if (!home) await run(`photo bucket in ${region}`, () => this.checkBucketRegion(loaded, region));
      // Off home, the bucket policy names the distribution the lookup found: a home stack created anew makes it stale.
      if (!home && config.photoDistributionOrigin) {
        const origin = config.photoDistributionOrigin;
        await run('photo bucket policy names the photo distribution', () => this.checkBucketPolicy(loaded, region, origin));
      }
      await run('token round trip', () => this.checkToken(client, loaded, jwtSigning));
      await run('CloudFront refuses an unsigned URL', () => this.checkUnsignedRefused(loaded));
      await run('CloudFront trusts the URL-signing key', () => this.checkSignedAccepted(client, loaded, photoSigning));
      if (config.writes) {
        await run('photo upload read back through CloudFront', () => this.checkPhotoRoundTrip(client, loaded, photoSigning));
        await run('passes load queue round trip', () => this.checkQueue(loaded));
      }
    }
    const failed = results.filter((result) => result.outcome === 'failed').map((result) => result.name);
    if (failed.length > 0 || !contract) {
      throw new this.serverless.classes.Error(
        `sls verify: ${failed.length} of ${results.length} checks failed on stage ${stage} (${failed.join(', ')}). ` +
          `Each line above says what is wrong; fix it and run \`sls verify ${stackOptions}\` again.` +
          (context.afterDeploy ? ' The deploy itself went through: the stack is updated.' : ''),
      );
    }
    this.log.notice(`Stage ${stage} verified: ${results.filter((result) => result.outcome === 'ok').length} checks passed.`);
  }

  /**
   * @param {import('../client/src/index')} client
   * @param {ReturnType<typeof ssmThroughProvider>} ssm
   * @param {string} stage @param {string} region
   */
  async checkContract(client, ssm, stage, region) {
    let contract;
    try {
      contract = await client.loadFoundationConfig({ stage, region, ssm, cache: false });
    } catch (error) {
      throw new CheckFailure(/** @type {Error} */ (error).message);
    }
    if (this.config.customDomain) {
      const missing = ['clientCertificateArn', 'serverCertificateArn'].filter((key) => contract[key] === undefined);
      if (missing.length > 0)
        throw new CheckFailure(`${client.contractRoot(stage)} lacks ${missing.join(', ')} (a shared stage has certificates).`);
    }
    return contract;
  }

  /**
   * GET with a bounded retry while a new custom domain (DNS, TLS, base path mapping) starts answering.
   * @param {string} url
   */
  async getWithRetry(url) {
    const { domainWaitSeconds, retryIntervalSeconds } = this.config;
    const deadline = Date.now() + domainWaitSeconds * 1000;
    for (let attempt = 1; ; attempt++) {
      let problem;
      try {
        const response = await this.fetch(url, { signal: AbortSignal.timeout(10_000) });
        // API Gateway answers 403 for a path no mapping serves yet; 5xx while a domain settles.
        if (response.ok || ![403, 404, 502, 503, 504].includes(response.status)) return { response, attempt };
        problem = `HTTP ${response.status}`;
      } catch (error) {
        problem = /** @type {Error & { cause?: Error }} */ (error).cause?.message ?? /** @type {Error} */ (error).message;
      }
      if (Date.now() + retryIntervalSeconds * 1000 > deadline) {
        throw new CheckFailure(`${url} did not answer in ${domainWaitSeconds} s (${attempt} attempts, last: ${problem}).`);
      }
      await new Promise((resolve) => setTimeout(resolve, retryIntervalSeconds * 1000));
    }
  }

  /** @param {import('../client/src/index').FoundationConfig} contract */
  async checkJwks(contract) {
    const { response, attempt } = await this.getWithRetry(contract.jwksUrl);
    if (!response.ok) throw new CheckFailure(`${contract.jwksUrl} answered HTTP ${response.status}.`);
    /** @type {{ keys?: { kid?: string }[] }} */
    let served;
    try {
      served = /** @type {{ keys?: { kid?: string }[] }} */ (await response.json());
    } catch {
      throw new CheckFailure(`${contract.jwksUrl} did not answer JSON.`);
    }
    const servedKids = (served.keys ?? []).map((key) => key.kid);
    if (contract.jwtAlgorithm !== 'HS256' && !servedKids.includes(contract.jwtKeyId)) {
      throw new CheckFailure(
        `the JWKS at ${contract.jwksUrl} lacks the signing kid ${contract.jwtKeyId} (serves ${servedKids.join(', ') || 'no key'}): ` +
          "verifiers would refuse every new token. Redeploy the stage so the API serves the key ring's JWKS.",
      );
    }
    if (canonicalJwks(served) !== canonicalJwks(contract.jwks)) {
      throw new CheckFailure(
        `the JWKS at ${contract.jwksUrl} differs from the jwks parameter (serves ${servedKids.join(', ') || 'no key'}).`,
      );
    }
    const waited = attempt > 1 ? `; answered at attempt ${attempt}: a new custom domain takes a while` : '';
    return `${contract.jwksUrl} serves the jwks parameter (${servedKids.length} keys, signing kid included)${waited}`;
  }

  /**
   * The contract's bucket is this region's: a secondary region whose contract named the home
   * bucket would send its uploads to the region that may be down.
   * @param {import('../client/src/index').FoundationConfig} contract @param {string} region
   */
  async checkBucketRegion(contract, region) {
    const Bucket = contract.photoBucketName;
    const { LocationConstraint } = await this.provider.request('S3', 'getBucketLocation', { Bucket }, { region });
    // S3 answers an empty location for us-east-1 only.
    const location = LocationConstraint || 'us-east-1';
    if (location !== region) {
      throw new CheckFailure(
        `photoBucketName ${Bucket} is in ${location}, not ${region}: uploads here must go to this region's own bucket.`,
      );
    }
    return `${Bucket} is in ${region}`;
  }

  /**
   * The region's bucket lets the photo distribution that exists read (found by its home origin, as
   * the regional lookup finds it), not one a home stack created anew has replaced: failover reads
   * of the secondary bucket would be refused.
   * @param {import('../client/src/index').FoundationConfig} contract @param {string} region @param {string} origin
   */
  async checkBucketPolicy(contract, region, origin) {
    const Bucket = contract.photoBucketName;
    const { Policy = '{}' } = await this.provider.request('S3', 'getBucketPolicy', { Bucket }, { region });
    /** @type {{ Statement?: { Effect?: string, Condition?: { StringEquals?: Record<string, string | string[]> } }[] }} */
    const policy = JSON.parse(Policy);
    const allowed = (policy.Statement ?? [])
      .filter((statement) => statement.Effect === 'Allow')
      .flatMap((statement) => [statement.Condition?.StringEquals?.['AWS:SourceArn'] ?? []].flat());
    const current = distributionWithOrigin(await allDistributions(this.provider), origin);
    if (!current) throw new CheckFailure(`no CloudFront distribution has ${origin} as origin: deploy the home region first.`);
    if (!allowed.includes(current.ARN)) {
      throw new CheckFailure(
        `${Bucket} lets ${allowed.join(', ') || 'no distribution'} read, not the photo distribution ${current.ARN}: failover reads are refused. ` +
          `Deploy this region again (${this.regions.stackOptions}): its lookups read the home stack's resources again.`,
      );
    }
    return `${Bucket} lets ${current.ARN} read`;
  }

  /**
   * @param {import('../client/src/index')} client
   * @param {import('../client/src/index').FoundationConfig} contract
   * @param {Signing} signing
   */
  async checkToken(client, contract, signing) {
    const keys = signingKeys(signing);
    const symmetric = contract.jwtAlgorithm === 'HS256';
    // An HS256 token signed and verified with one secret proves nothing about the contract: the
    // secret must be the one jwtKeyId names (the key ring derives the id from it).
    if (symmetric && keys.jwtSecret !== undefined && client.hs256KeyId(keys.jwtSecret) !== contract.jwtKeyId) {
      throw new CheckFailure(
        `the jwtSecret of ${client.signingRoot(this.provider.getStage())} is not the key jwtKeyId ${contract.jwtKeyId} names: ` +
          'tokens would carry a kid no verifier expects. Redeploy the stage so the key ring writes the secret and its id together.',
      );
    }
    const signer = await client.createTokenSigner(contract, keys);
    const token = await signer.sign({ sub: 'sls-verify' }, { expiresIn: '2m' });
    const verifier = client.createTokenVerifier(contract, symmetric ? { signingKeys: keys } : { keys: 'jwksUrl' });
    try {
      await verifier.verify(token);
    } catch (error) {
      throw new CheckFailure(
        `a ${contract.jwtAlgorithm} token signed with kid ${contract.jwtKeyId} does not verify ${symmetric ? 'with the secret' : `against ${contract.jwksUrl}`}: ${/** @type {Error} */ (error).message}`,
      );
    }
    return symmetric
      ? `the secret is the key jwtKeyId ${contract.jwtKeyId} names, and an HS256 token verifies with it (HS256 publishes no JWKS)`
      : `a ${contract.jwtAlgorithm} token signed with kid ${contract.jwtKeyId} verifies against the served JWKS`;
  }

  /** A photo key no upload uses: S3 has nothing there. */
  probeKey() {
    return `sls-verify/${randomUUID()}.jpg`;
  }

  /** @param {import('../client/src/index').FoundationConfig} contract */
  async checkUnsignedRefused(contract) {
    const url = `${contract.photoBaseUrl.replace(/\/+$/, '')}/${this.probeKey()}`;
    const response = await this.fetch(url, { signal: AbortSignal.timeout(10_000) });
    const answer = cloudFrontAnswer(response, await response.text());
    if (response.status === 403 && answer.fromCloudFront && answer.code === 'MissingKey') return `403 ${answer.code} from CloudFront`;
    throw new CheckFailure(
      `an unsigned photo URL got HTTP ${response.status}${answer.code ? ` ${answer.code}` : ''} from ${answer.fromOrigin ? 'S3' : (response.headers.get('server') ?? 'an unknown server')}, ` +
        "not CloudFront's MissingKey refusal: the distribution does not require signed URLs (TrustedKeyGroups).",
    );
  }

  /**
   * @param {import('../client/src/index')} client
   * @param {import('../client/src/index').FoundationConfig} contract
   * @param {Signing} signing
   */
  async checkSignedAccepted(client, contract, signing) {
    const keys = signingKeys(signing);
    const url = client.signPhotoUrl(contract, keys, this.probeKey(), { expiresIn: 120 });
    const response = await this.fetch(url, { signal: AbortSignal.timeout(10_000) });
    const answer = cloudFrontAnswer(response, await response.text());
    if (answer.fromOrigin) return `a signed URL for a missing photo reaches S3 (HTTP ${response.status} from S3, not CloudFront)`;
    throw new CheckFailure(
      `a signed photo URL got HTTP ${response.status}${answer.code ? ` ${answer.code}` : ''}${answer.message ? ` (${answer.message})` : ''} ` +
        `from CloudFront: its key group does not trust photoUrlKeyPairId ${contract.photoUrlKeyPairId}, or photoUrlPrivateKey is not that key's.`,
    );
  }

  /**
   * The SSM client that reads the signing keys: the command's credentials, outside osls's request log.
   * @param {string} region
   */
  signingSsm(region) {
    return signingSsm(this.provider, region);
  }

  /** An S3 client with the command's credentials, for presigning. */
  async s3Client() {
    const { S3Client } = require('@aws-sdk/client-s3');
    // No checksum of an empty body in a presigned URL (client/src/photos.ts).
    return new S3Client({ ...(await this.provider.getAwsSdkV3Config()), requestChecksumCalculation: 'WHEN_REQUIRED' });
  }

  /**
   * @param {import('../client/src/index')} client
   * @param {import('../client/src/index').FoundationConfig} contract
   * @param {Signing} signing
   */
  async checkPhotoRoundTrip(client, contract, signing) {
    const keys = signingKeys(signing);
    const key = this.probeKey();
    const origin = this.config.webOrigin;
    const upload = await client.presignPhotoUpload(contract, key, { contentType: 'image/jpeg', s3: await this.s3Client() });
    const put = await this.fetch(upload.url, { method: 'PUT', headers: { ...upload.headers, origin }, body: tinyJpeg });
    if (!put.ok) throw new CheckFailure(`the presigned upload got HTTP ${put.status}: ${(await put.text()).slice(0, 200)}`);
    const versionId = put.headers.get('x-amz-version-id') ?? undefined;
    try {
      if (put.headers.get('access-control-allow-origin') !== origin) {
        throw new CheckFailure(`the bucket's CORS rule does not allow uploads from ${origin}`);
      }
      const get = await this.fetch(client.signPhotoUrl(contract, keys, key, { expiresIn: 120 }));
      const body = Buffer.from(await get.arrayBuffer());
      if (get.status !== 200 || !body.equals(tinyJpeg)) {
        throw new CheckFailure(
          `the uploaded photo read back through CloudFront as HTTP ${get.status} (${body.length} bytes), not the photo.`,
        );
      }
    } finally {
      // The exact version, so a versioned bucket keeps no trace of the check.
      await this.provider.request('S3', 'deleteObject', { Bucket: contract.photoBucketName, Key: key, VersionId: versionId });
    }
    return `a JPEG uploaded from ${origin} with a presigned PUT reads back through a signed CloudFront URL; deleted`;
  }

  /** @param {import('../client/src/index').FoundationConfig} contract */
  async checkQueue(contract) {
    const QueueUrl = contract.passesLoadQueueUrl;
    const marker = `sls-verify-${randomUUID()}`;
    await this.provider.request('SQS', 'sendMessage', {
      QueueUrl,
      MessageBody: JSON.stringify({ verify: marker }),
      MessageGroupId: marker,
      MessageDeduplicationId: marker,
    });
    for (let attempt = 1; attempt <= 3; attempt++) {
      const { Messages = [] } = await this.provider.request('SQS', 'receiveMessage', {
        QueueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 5,
      });
      for (const message of Messages) {
        if (message.Body?.includes(marker)) {
          await this.provider.request('SQS', 'deleteMessage', { QueueUrl, ReceiptHandle: message.ReceiptHandle });
          return `a message sent to ${QueueUrl} was received and deleted`;
        }
        // Someone else's message: give it back at once.
        await this.provider.request('SQS', 'changeMessageVisibility', {
          QueueUrl,
          ReceiptHandle: message.ReceiptHandle,
          VisibilityTimeout: 0,
        });
      }
    }
    throw new CheckFailure(`a message sent to ${QueueUrl} was not received back within 3 polls.`);
  }
}

/** @typedef {{ loaded: import('../client/src/index').SigningKeys, error?: undefined } | { loaded?: undefined, error: any }} Signing */

/**
 * The signing keys for a check that signs. A stage without them is broken (a failure); credentials
 * that may not read them (a shared stage lets only its signers decrypt) cannot run the check (a skip).
 * @param {Signing} signing
 */
function signingKeys(signing) {
  if (signing.loaded) return signing.loaded;
  const message = signing.error?.message ?? String(signing.error);
  if (signing.error?.code === 'FOUNDATION_SIGNING_KEYS_MISSING') throw new CheckFailure(message);
  throw new CheckSkipped(`cannot read the signing keys with these credentials (${message})`);
}

/** @param {unknown} jwks */
function canonicalJwks(jwks) {
  const { keys = [] } = /** @type {{ keys?: Record<string, unknown>[] }} */ (jwks);
  const sorted = keys
    .map((key) => Object.fromEntries(Object.entries(key).sort(([a], [b]) => a.localeCompare(b))))
    .sort((a, b) => String(a.kid).localeCompare(String(b.kid)));
  return JSON.stringify(sorted);
}

module.exports = Verify;
