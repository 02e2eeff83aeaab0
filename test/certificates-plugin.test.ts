// plugins/certificates.js driving the real serverless-certificate-creator, against fake ACM,
// Route 53, SSM and API Gateway (the SDK v2 surface osls 3 hands to plugins, and a stubbed
// provider.request): no AWS account needed. The deploy hook works on the real packaged template.
import { createHash } from 'node:crypto';
import normalizeFiles from 'osls/lib/plugins/aws/lib/normalize-files';
import CreateCertificatePlugin from 'serverless-certificate-creator';
import ServerlessCustomDomain from 'serverless-domain-manager';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import Certificates from '../plugins/certificates';
import { apiDomainPluginConfig } from '../resources/api';
import { certificatesPluginConfig } from '../resources/certificates';
import { settingsFor } from '../resources/stage';
import { readTemplate } from './package-stage';

type Cert = { CertificateArn: string; DomainName: string; Status: string; region: string; IssuedAt?: string };
type Zone = { Id: string; Name: string; Config: { PrivateZone: boolean } };

const publicZone = (name: string, id: string): Zone => ({ Id: `/hostedzone/${id}`, Name: name, Config: { PrivateZone: false } });
/** Route 53 lists zones by name with the labels reversed (com.movement-pass.), then by id. */
const zoneOrder = (zone: Zone) => `${zone.Name.split('.').reverse().join('.')} ${zone.Id}`;
const awsError = (code: string) => Object.assign(new Error(code), { providerError: { code } });

function fakeAws(
  options: {
    zones?: Zone[];
    existing?: Cert[];
    recordsAfterDescribes?: number;
    sans?: string[];
    validationEndsIn?: string;
    /** How long DNS validation takes, on the test's fake clock. */
    validationTakesMs?: number;
    parameters?: Record<string, string>;
    /** The region whose contract holds `parameters`. */
    parametersIn?: string;
    apiDomainCertificate?: string;
    /** Regions whose AWS endpoints do not answer (an outage), for calls through provider.request. */
    unreachable?: string[];
  } = {},
) {
  const certificates: Cert[] = [...(options.existing ?? [])];
  const zones = [...(options.zones ?? [publicZone('movement-pass.com.', 'Z1')])].sort((a, b) => zoneOrder(a).localeCompare(zoneOrder(b)));
  const calls: string[] = [];
  const recordBatches: { HostedZoneId: string; Changes: unknown[] }[] = [];
  const parameters = new Map<string, { Value: string; region?: string }>(
    Object.entries(options.parameters ?? {}).map(([Name, Value]) => [Name, { Value, region: options.parametersIn ?? 'ap-south-1' }]),
  );
  /** The region of every provider.request call (undefined: the provider's own). */
  const requestRegions: (string | undefined)[] = [];
  const domainUpdates: unknown[] = [];
  let describes = 0;
  const promise = <T>(value: T) => ({ promise: () => Promise.resolve(value) });

  class ACM {
    region: string;
    constructor(config: { region: string }) {
      this.region = config.region;
    }
    listCertificates(params: { CertificateStatuses?: string[] }) {
      calls.push(`acm:list ${this.region}`);
      const statuses = params.CertificateStatuses;
      return promise({
        CertificateSummaryList: certificates.filter((c) => c.region === this.region && (!statuses || statuses.includes(c.Status))),
      });
    }
    requestCertificate(params: { DomainName: string }) {
      calls.push(`acm:request ${this.region}`);
      const arn = `arn:aws:acm:${this.region}:123456789012:certificate/${certificates.length + 1}`;
      certificates.push({ CertificateArn: arn, DomainName: params.DomainName, Status: 'PENDING_VALIDATION', region: this.region });
      return promise({ CertificateArn: arn });
    }
    describeCertificate({ CertificateArn }: { CertificateArn: string }) {
      const cert = certificates.find((c) => c.CertificateArn === CertificateArn) as Cert;
      // ACM asks for one and the same record for the apex and the wildcard name, once it has published it.
      describes++;
      const record =
        describes > (options.recordsAfterDescribes ?? 0)
          ? { Name: '_abc.movement-pass.com.', Type: 'CNAME', Value: '_xyz.acm-validations.aws.' }
          : undefined;
      return promise({
        Certificate: {
          ...cert,
          SubjectAlternativeNames: options.sans ?? ['movement-pass.com', '*.movement-pass.com'],
          DomainValidationOptions: [
            { DomainName: 'movement-pass.com', ResourceRecord: record },
            { DomainName: '*.movement-pass.com', ResourceRecord: record },
          ],
        },
      });
    }
    waitFor(_: string, { CertificateArn }: { CertificateArn: string }) {
      calls.push(`acm:wait ${this.region}`);
      const cert = certificates.find((c) => c.CertificateArn === CertificateArn) as Cert;
      cert.Status = options.validationEndsIn ?? 'ISSUED';
      if (cert.Status === 'ISSUED') {
        return { promise: () => new Promise((resolve) => setTimeout(() => resolve({}), options.validationTakesMs ?? 0)) };
      }
      // What the SDK v2 waiter throws when an acceptor says failure, or when it runs out of attempts.
      return {
        promise: () =>
          Promise.reject(Object.assign(new Error('Resource is not in the state certificateValidated'), { code: 'ResourceNotReady' })),
      };
    }
    listTagsForCertificate() {
      return promise({ Tags: [] });
    }
    addTagsToCertificate() {
      return promise({});
    }
  }
  class Route53 {
    // As AWS answers: the first 100 zones, and a marker for the rest.
    listHostedZones() {
      return promise({ HostedZones: zones.slice(0, 100), IsTruncated: zones.length > 100, NextMarker: zones[100]?.Id });
    }
    changeResourceRecordSets(params: { HostedZoneId: string; ChangeBatch: { Changes: unknown[] } }) {
      recordBatches.push({ HostedZoneId: params.HostedZoneId, Changes: params.ChangeBatch.Changes });
      return promise({});
    }
  }
  const request = vi.fn(async (service: string, method: string, params: any, requestOptions?: { region?: string }) => {
    calls.push(`${service}:${method}`);
    requestRegions.push(requestOptions?.region);
    if (requestOptions?.region && options.unreachable?.includes(requestOptions.region)) {
      // What the SDK reports once osls's retries are spent: no status, retryable.
      throw Object.assign(new Error(`connect ETIMEDOUT ${service.toLowerCase()}.${requestOptions.region}.amazonaws.com`), {
        providerError: { code: 'TimeoutError', retryable: true },
      });
    }
    if (method === 'listCertificates') {
      const live = certificates.filter((c) => c.region === requestOptions?.region && params.CertificateStatuses.includes(c.Status));
      return {
        CertificateSummaryList: live.map(({ CertificateArn, DomainName, Status, IssuedAt }) => ({
          CertificateArn,
          DomainName,
          Status,
          IssuedAt,
        })),
      };
    }
    if (method === 'describeCertificate') {
      const cert = certificates.find((c) => c.CertificateArn === params.CertificateArn) as Cert;
      return { Certificate: { ...cert, SubjectAlternativeNames: options.sans ?? ['movement-pass.com', '*.movement-pass.com'] } };
    }
    if (method === 'listHostedZonesByName') {
      // From the first zone at or after DNSName (and HostedZoneId), at most MaxItems (100) per page.
      const from = `${`${params.DNSName}.`.split('.').reverse().join('.')} ${params.HostedZoneId ? `/hostedzone/${params.HostedZoneId}` : ''}`;
      const rest = zones.filter((zone) => zoneOrder(zone).localeCompare(from) >= 0);
      const size = Math.min(Number(params.MaxItems ?? 100), 100);
      const next = rest[size];
      return {
        HostedZones: rest.slice(0, size),
        IsTruncated: Boolean(next),
        ...(next && { NextDNSName: next.Name.slice(0, -1), NextHostedZoneId: next.Id.replace('/hostedzone/', '') }),
      };
    }
    if (method === 'putParameter') {
      parameters.set(params.Name, { Value: params.Value, region: requestOptions?.region });
      return {};
    }
    if (method === 'getParameter') {
      const parameter = parameters.get(params.Name);
      if (!parameter || parameter.region !== requestOptions?.region) throw awsError('ParameterNotFound');
      return { Parameter: { Value: parameter.Value } };
    }
    if (method === 'getDomainName') {
      if (!options.apiDomainCertificate) throw awsError('NotFoundException');
      return { domainName: params.domainName, regionalCertificateArn: options.apiDomainCertificate };
    }
    if (method === 'updateDomainName') {
      domainUpdates.push({ ...params, region: requestOptions?.region });
      return {};
    }
    throw new Error(`unexpected ${service}.${method}`);
  });
  return { ACM, Route53, request, calls, requestRegions, recordBatches, parameters, certificates, domainUpdates };
}

/** What osls's progress utility was asked to draw, and what went to the log. */
function fakeUtils() {
  const lines: string[] = [];
  const logged: string[] = [];
  const warnings: string[] = [];
  const progress = {
    create: ({ message }: { message?: string }) => {
      if (message) lines.push(message);
      return { update: (text: string) => lines.push(text), remove: () => lines.push('(removed)') };
    },
  };
  const log = { notice: (text: string) => logged.push(text), info: () => undefined, warning: (text: string) => warnings.push(text) };
  return { utils: { log, progress }, lines, logged, warnings };
}

function fakeServerless(stage: string, aws: ReturnType<typeof fakeAws>, region?: string) {
  const settings = settingsFor(stage, { region });
  const config = certificatesPluginConfig(settings);
  const feedback = fakeUtils();
  const serverless: any = {
    service: {
      custom: {
        customCertificate: { enabled: false, marker: 'original' },
        movementPassCertificates: config,
        customDomain: apiDomainPluginConfig(settings),
      },
      // What osls's own before:deploy:deploy restored from the package: the real packaged template.
      provider: { stage, compiledCloudFormationTemplate: readTemplate(region ? `${stage}.${region}` : stage) },
    },
    providers: { aws: { getCredentials: () => ({}), sdk: { ACM: aws.ACM, Route53: aws.Route53 } } },
    getProvider: () => ({ request: aws.request }),
    classes: { Error },
    cli: { log: () => undefined, consoleLog: () => undefined },
    serviceOutputs: new Map(),
    utils: { getVersion: () => '3.77.1' },
    pluginManager: { plugins: [] as unknown[] },
  };
  serverless.pluginManager.plugins.push(new CreateCertificatePlugin(serverless, {}));
  const plugin = new Certificates(serverless, {}, feedback.utils);
  serverless.pluginManager.plugins.push(plugin);
  return { serverless, plugin, feedback };
}

/** Runs the deploy hook, moving the fake clock past the plugin's waits. */
async function deploy(plugin: Certificates): Promise<void> {
  const done = plugin.hooks['before:deploy:deploy']();
  const settled = done.then(
    () => undefined,
    () => undefined,
  );
  for (let i = 0; i < 40; i++) await vi.advanceTimersByTimeAsync(10_000);
  await settled;
  return done;
}

describe('certificates plugin on sls deploy', () => {
  beforeEach(() => {
    // serverless-certificate-creator waits 10 s after requesting a certificate.
    vi.useFakeTimers();
    vi.spyOn(console, 'log').mockImplementation(() => undefined);
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  it('creates both certificates, us-east-1 first, waits for validation and stores the ARNs in SSM', async () => {
    const aws = fakeAws();
    const { serverless, plugin } = fakeServerless('prod', aws);

    await deploy(plugin);

    expect(aws.calls.filter((call) => call.startsWith('acm:request'))).toEqual(['acm:request us-east-1', 'acm:request ap-south-1']);
    expect(aws.calls.filter((call) => call.startsWith('acm:wait'))).toEqual(['acm:wait us-east-1', 'acm:wait ap-south-1']);
    expect(aws.parameters.get('/movement-pass/prod/clientCertificateArn')).toEqual({
      Value: 'arn:aws:acm:us-east-1:123456789012:certificate/1',
      region: 'ap-south-1',
    });
    expect(aws.parameters.get('/movement-pass/prod/serverCertificateArn')).toEqual({
      Value: 'arn:aws:acm:ap-south-1:123456789012:certificate/2',
      region: 'ap-south-1',
    });
    expect(serverless.service.custom.customCertificate).toEqual({ enabled: false, marker: 'original' });
  });

  it('sends the validation record once, though ACM lists it for the apex and the wildcard', async () => {
    const aws = fakeAws();
    const { plugin } = fakeServerless('prod', aws);

    await deploy(plugin);

    expect(aws.recordBatches).toHaveLength(2);
    for (const batch of aws.recordBatches) expect(batch.Changes).toHaveLength(1);
  });

  it('reuses issued certificates without requesting new ones', async () => {
    const existing = ['us-east-1', 'ap-south-1'].map((region) => ({
      CertificateArn: `arn:aws:acm:${region}:123456789012:certificate/old`,
      DomainName: 'movement-pass.com',
      Status: 'ISSUED',
      region,
    }));
    const aws = fakeAws({ existing });
    const { plugin } = fakeServerless('prod', aws);

    await deploy(plugin);

    expect(aws.calls.filter((call) => call.startsWith('acm:request') || call.startsWith('acm:wait'))).toEqual([]);
    expect(aws.parameters.get('/movement-pass/prod/serverCertificateArn')?.Value).toBe(
      'arn:aws:acm:ap-south-1:123456789012:certificate/old',
    );
  });

  it('stops before anything is deployed when the hosted zone is missing, saying how to fix it', async () => {
    const aws = fakeAws({ zones: [publicZone('other.com.', 'Z9')] });
    const { plugin } = fakeServerless('prod', aws);

    await expect(deploy(plugin)).rejects.toThrow(/No public Route 53 hosted zone named movement-pass.com .* create it/);
    expect(aws.calls).toEqual(['Route53:listHostedZonesByName']);
  });

  it('ignores an expired or failed certificate of the same name and requests a new one', async () => {
    const existing = ['EXPIRED', 'FAILED'].map((Status, i) => ({
      CertificateArn: `arn:aws:acm:us-east-1:1:certificate/dead-${i}`,
      DomainName: 'movement-pass.com',
      Status,
      region: 'us-east-1',
    }));
    const aws = fakeAws({ existing });
    const { plugin } = fakeServerless('prod', aws);

    await deploy(plugin);

    expect(aws.calls.filter((call) => call.startsWith('acm:request'))).toEqual(['acm:request us-east-1', 'acm:request ap-south-1']);
    expect(aws.parameters.get('/movement-pass/prod/clientCertificateArn')?.Value).not.toContain('dead');
  });

  it('names the status and the fix when ACM fails the validation', async () => {
    const aws = fakeAws({ validationEndsIn: 'FAILED' });
    const { plugin } = fakeServerless('prod', aws);

    await expect(deploy(plugin)).rejects.toThrow(
      /ACM did not validate the certificate requested for movement-pass.com in us-east-1\. See why in the ACM console/,
    );
    expect(aws.parameters.size).toBe(0);
  });

  it('says validation stalled, and how to resume, when it does not finish in time', async () => {
    const aws = fakeAws({ validationEndsIn: 'PENDING_VALIDATION' });
    const { plugin } = fakeServerless('prod', aws);

    await expect(deploy(plugin)).rejects.toThrow(/did not finish in 40 minutes\. Check that the registrar .* run `sls deploy` again/);
    expect(aws.calls.filter((call) => call.startsWith('acm:wait'))).toHaveLength(1);
  });

  it('writes the validation record itself when ACM published it too late for serverless-certificate-creator', async () => {
    const aws = fakeAws({ recordsAfterDescribes: 3 });
    const { plugin } = fakeServerless('prod', aws);

    await deploy(plugin);

    expect(aws.recordBatches.length).toBeGreaterThanOrEqual(2);
    expect(aws.calls.filter((call) => call.startsWith('acm:wait'))).toEqual(['acm:wait us-east-1', 'acm:wait ap-south-1']);
    expect(aws.parameters.size).toBe(2);
  });

  it('refuses an existing certificate that does not cover *.<domain>', async () => {
    const existing = [
      {
        CertificateArn: 'arn:aws:acm:us-east-1:1:certificate/apex',
        DomainName: 'movement-pass.com',
        Status: 'ISSUED',
        region: 'us-east-1',
      },
    ];
    const aws = fakeAws({ existing, sans: ['movement-pass.com'] });
    const { plugin } = fakeServerless('prod', aws);

    await expect(deploy(plugin)).rejects.toThrow(/does not cover \*\.movement-pass\.com/);
    expect(aws.parameters.size).toBe(0);
  });

  it('does nothing at all for a sandbox', async () => {
    const aws = fakeAws();
    const { plugin } = fakeServerless('alice', aws);

    await deploy(plugin);

    expect(aws.calls).toEqual([]);
  });

  it('lists both certificates on sls info', async () => {
    const aws = fakeAws();
    const { serverless, plugin } = fakeServerless('prod', aws);
    await deploy(plugin);

    await plugin.hooks['after:info:info']();

    expect(serverless.serviceOutputs.get('certificates')).toEqual([
      'CloudFront (photos, web app) (us-east-1): arn:aws:acm:us-east-1:123456789012:certificate/1',
      'API Gateway regional custom domains (ap-south-1): arn:aws:acm:ap-south-1:123456789012:certificate/2',
    ]);
  });

  it('serves the API domain the certificate it validated, not one serverless-domain-manager would look up by name', async () => {
    // An expired certificate of the same name, listed first: the domain plugin's own lookup would take it.
    const existing = [
      {
        CertificateArn: 'arn:aws:acm:ap-south-1:1:certificate/expired',
        DomainName: 'movement-pass.com',
        Status: 'EXPIRED',
        region: 'ap-south-1',
      },
      ...['us-east-1', 'ap-south-1'].map((region) => ({
        CertificateArn: `arn:aws:acm:${region}:1:certificate/live`,
        DomainName: 'movement-pass.com',
        Status: 'ISSUED',
        region,
      })),
    ];
    const aws = fakeAws({ existing });
    const { serverless, plugin } = fakeServerless('prod', aws);

    await deploy(plugin);

    // The real domain plugin, reading its settings as its before:deploy:deploy hook does.
    const domainPlugin = new ServerlessCustomDomain(serverless, { stage: 'prod' });
    domainPlugin.initializeVariables();
    expect(domainPlugin.domains.map((domain) => [domain.givenDomainName, domain.certificateArn])).toEqual([
      ['public-api.movement-pass.com', 'arn:aws:acm:ap-south-1:1:certificate/live'],
    ]);
  });

  it('moves an existing API domain that holds another certificate to the validated one', async () => {
    const aws = fakeAws({ apiDomainCertificate: 'arn:aws:acm:ap-south-1:1:certificate/replaced' });
    const { plugin } = fakeServerless('prod', aws);

    await deploy(plugin);

    expect(aws.domainUpdates).toEqual([
      {
        domainName: 'public-api.movement-pass.com',
        patchOperations: [{ op: 'replace', path: '/regionalCertificateArn', value: 'arn:aws:acm:ap-south-1:123456789012:certificate/2' }],
        region: 'ap-south-1',
      },
    ]);
  });

  it('leaves an API domain that already holds the validated certificate, or does not exist yet, alone', async () => {
    const same = fakeAws({ apiDomainCertificate: 'arn:aws:acm:ap-south-1:123456789012:certificate/2' });
    await deploy(fakeServerless('prod', same).plugin);
    const none = fakeAws();
    await deploy(fakeServerless('prod', none).plugin);

    expect(same.calls).toContain('APIGateway:getDomainName');
    expect([...same.domainUpdates, ...none.domainUpdates]).toEqual([]);
  });

  it('finds the hosted zone among more than 100 and gives it to serverless-certificate-creator', async () => {
    // 150 zones sorting before movement-pass.com: the creator's own unpaged listing never sees it.
    const others = Array.from({ length: 150 }, (_, i) => publicZone(`a-${String(i).padStart(3, '0')}.com.`, `ZA${i}`));
    const aws = fakeAws({ zones: [...others, publicZone('movement-pass.com.', 'ZMP')] });
    const { plugin } = fakeServerless('prod', aws);

    await deploy(plugin);

    expect(aws.recordBatches.map((batch) => batch.HostedZoneId)).toEqual(['ZMP', 'ZMP']);
    expect(aws.parameters.size).toBe(2);
  });

  it('pages past private zones of the same name to the public one', async () => {
    const privateZones = Array.from({ length: 120 }, (_, i) => ({
      ...publicZone('movement-pass.com.', `P${String(i).padStart(3, '0')}`),
      Config: { PrivateZone: true },
    }));
    const aws = fakeAws({ zones: [...privateZones, publicZone('movement-pass.com.', 'ZPUBLIC')] });
    const { plugin } = fakeServerless('prod', aws);

    await deploy(plugin);

    expect(aws.calls.filter((call) => call === 'Route53:listHostedZonesByName')).toHaveLength(2);
    expect(aws.recordBatches.map((batch) => batch.HostedZoneId)).toEqual(['ZPUBLIC', 'ZPUBLIC']);
  });

  it('refuses to guess between two public zones of the same name', async () => {
    const aws = fakeAws({ zones: [publicZone('movement-pass.com.', 'ZA'), publicZone('movement-pass.com.', 'ZB')] });
    const { plugin } = fakeServerless('prod', aws);

    await expect(deploy(plugin)).rejects.toThrow(/2 public Route 53 hosted zones are named movement-pass.com \(ZA, ZB\).*dig NS/);
    expect(aws.calls).toEqual(['Route53:listHostedZonesByName']);
  });
});

describe('certificates plugin in a secondary region (prod, ap-southeast-1)', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.spyOn(console, 'log').mockImplementation(() => undefined);
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  const region = 'ap-southeast-1';
  const cloudFront = (status = 'ISSUED') => ({
    CertificateArn: 'arn:aws:acm:us-east-1:1:certificate/cloudfront',
    DomainName: 'movement-pass.com',
    Status: status,
    region: 'us-east-1',
  });

  it("makes the region's own API certificate, looks up the home deploy's CloudFront one, and writes both ARNs to this region's contract", async () => {
    const aws = fakeAws({ existing: [cloudFront()] });
    const { plugin } = fakeServerless('prod', aws, region);

    await deploy(plugin);

    expect(aws.calls.filter((call) => call.startsWith('acm:request'))).toEqual(['acm:request ap-southeast-1']);
    expect(aws.parameters.get('/movement-pass/prod/clientCertificateArn')).toEqual({
      Value: 'arn:aws:acm:us-east-1:1:certificate/cloudfront',
      region,
    });
    expect(aws.parameters.get('/movement-pass/prod/serverCertificateArn')).toEqual({
      Value: 'arn:aws:acm:ap-southeast-1:123456789012:certificate/2',
      region,
    });
    // Nothing asks the home region: its outage does not stop this deploy.
    expect(aws.requestRegions).not.toContain('ap-south-1');
    expect(aws.calls.filter((call) => call.endsWith('ap-south-1'))).toEqual([]);
  });

  it("gives this region's API domain this region's certificate", async () => {
    const aws = fakeAws({ existing: [cloudFront()], apiDomainCertificate: 'arn:aws:acm:ap-southeast-1:1:certificate/old' });
    const { serverless, plugin } = fakeServerless('prod', aws, region);

    await deploy(plugin);

    const domainPlugin = new ServerlessCustomDomain(serverless, { stage: 'prod', region });
    domainPlugin.initializeVariables();
    expect(domainPlugin.domains.map((domain) => domain.certificateArn)).toEqual(['arn:aws:acm:ap-southeast-1:123456789012:certificate/2']);
    expect(aws.domainUpdates).toEqual([
      {
        domainName: 'public-api.movement-pass.com',
        patchOperations: [
          { op: 'replace', path: '/regionalCertificateArn', value: 'arn:aws:acm:ap-southeast-1:123456789012:certificate/2' },
        ],
        region,
      },
    ]);
  });

  it('stops before anything is deployed when us-east-1 has no issued certificate, saying to deploy the home region first', async () => {
    const aws = fakeAws({ existing: [cloudFront('PENDING_VALIDATION')] });
    const { plugin } = fakeServerless('prod', aws, region);

    const failure = deploy(plugin);

    await expect(failure).rejects.toThrow(
      /No issued certificate for movement-pass\.com and \*\.movement-pass\.com in us-east-1\. The home region's deploy makes it: run `npx sls deploy --stage prod --region ap-south-1` first/,
    );
    expect(aws.calls.filter((call) => call.startsWith('acm:request'))).toEqual([]);
    expect(aws.parameters.size).toBe(0);
  });

  it('takes the same CloudFront certificate as the home deploy when two are issued: the newest', async () => {
    const issued = (id: string, IssuedAt: string, region: string) => ({
      CertificateArn: `arn:aws:acm:${region}:1:certificate/${id}`,
      DomainName: 'movement-pass.com',
      Status: 'ISSUED',
      region,
      IssuedAt,
    });
    // ACM lists the older one first.
    const existing = [
      issued('older', '2025-01-01T00:00:00Z', 'us-east-1'),
      issued('newer', '2026-01-01T00:00:00Z', 'us-east-1'),
      issued('api', '2026-01-01T00:00:00Z', 'ap-south-1'),
      issued('api', '2026-01-01T00:00:00Z', region),
    ];
    const homeAws = fakeAws({ existing });
    await deploy(fakeServerless('prod', homeAws).plugin);
    const secondaryAws = fakeAws({ existing });
    await deploy(fakeServerless('prod', secondaryAws, region).plugin);

    const chosen = (aws: ReturnType<typeof fakeAws>) => aws.parameters.get('/movement-pass/prod/clientCertificateArn')?.Value;
    expect(chosen(homeAws)).toBe('arn:aws:acm:us-east-1:1:certificate/newer');
    expect(chosen(secondaryAws)).toBe(chosen(homeAws));
  });

  it('skips an issued us-east-1 certificate that does not cover *.<domain>', async () => {
    const aws = fakeAws({ existing: [cloudFront()], sans: ['movement-pass.com'] });
    const { plugin } = fakeServerless('prod', aws, region);

    await expect(deploy(plugin)).rejects.toThrow(/No issued certificate for movement-pass\.com and \*\.movement-pass\.com in us-east-1/);
  });

  it('keeps the ARN already in its contract, with a warning, when us-east-1 cannot be reached', async () => {
    const kept = 'arn:aws:acm:us-east-1:1:certificate/kept';
    const aws = fakeAws({
      existing: [cloudFront()],
      unreachable: ['us-east-1'],
      parameters: { '/movement-pass/prod/clientCertificateArn': kept },
      parametersIn: region,
    });
    const { plugin, feedback } = fakeServerless('prod', aws, region);

    await deploy(plugin);

    expect(aws.parameters.get('/movement-pass/prod/clientCertificateArn')).toEqual({ Value: kept, region });
    expect(feedback.warnings).toEqual([
      expect.stringMatching(/ACM in us-east-1 cannot be reached .*keeps arn:aws:acm:us-east-1:1:certificate\/kept/),
    ]);
    expect(aws.parameters.get('/movement-pass/prod/serverCertificateArn')?.region).toBe(region);
  });

  it('fails clearly when us-east-1 cannot be reached and this region has never had the ARN', async () => {
    const aws = fakeAws({ existing: [cloudFront()], unreachable: ['us-east-1'] });
    const { plugin } = fakeServerless('prod', aws, region);

    await expect(deploy(plugin)).rejects.toThrow(
      /ACM in us-east-1 cannot be reached .* this region's contract has no \/movement-pass\/prod\/clientCertificateArn yet\. Deploy this region again once us-east-1 answers/,
    );
    expect(aws.parameters.size).toBe(0);
  });

  it("lists this region's certificates on sls info, read from this region's contract", async () => {
    const aws = fakeAws({ existing: [cloudFront()] });
    const { serverless, plugin } = fakeServerless('prod', aws, region);
    await deploy(plugin);

    await plugin.hooks['after:info:info']();

    expect(serverless.serviceOutputs.get('certificates')).toEqual([
      'CloudFront (photos, web app) (us-east-1): arn:aws:acm:us-east-1:1:certificate/cloudfront',
      'API Gateway regional custom domains (ap-southeast-1): arn:aws:acm:ap-southeast-1:123456789012:certificate/2',
    ]);
  });
});

/** The hash osls compares with the last deployment's to decide whether to skip a deploy. */
const deployHash = (template: unknown) =>
  createHash('sha256')
    .update(JSON.stringify(normalizeFiles.normalizeCloudFormationTemplate(template)))
    .digest('base64');

describe('certificates plugin: what the deploy sends to CloudFormation', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.spyOn(console, 'log').mockImplementation(() => undefined);
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  const issued = (id: string) =>
    ['us-east-1', 'ap-south-1'].map((region) => ({
      CertificateArn: `arn:aws:acm:${region}:1:certificate/${id}`,
      DomainName: 'movement-pass.com',
      Status: 'ISSUED',
      region,
    }));
  const deployed = {
    '/movement-pass/prod/clientCertificateArn': 'arn:aws:acm:us-east-1:1:certificate/first',
    '/movement-pass/prod/serverCertificateArn': 'arn:aws:acm:ap-south-1:1:certificate/first',
  };
  const distributionCertificate = (serverless: any) =>
    serverless.service.provider.compiledCloudFormationTemplate.Resources.PhotoDistribution.Properties.DistributionConfig.ViewerCertificate
      .AcmCertificateArn;

  it('gives the distribution the validated certificate itself, not the SSM reference CloudFormation would not re-resolve', async () => {
    const aws = fakeAws({ existing: issued('first'), parameters: deployed });
    const { serverless, plugin } = fakeServerless('prod', aws);
    expect(distributionCertificate(serverless)).toBe('{{resolve:ssm:/movement-pass/prod/clientCertificateArn}}');

    await deploy(plugin);

    expect(distributionCertificate(serverless)).toBe('arn:aws:acm:us-east-1:1:certificate/first');
    expect(JSON.stringify(serverless.service.provider.compiledCloudFormationTemplate)).not.toContain('CertificateArn}}');
  });

  it('sends the same template, and writes no parameter, when the certificate did not change: osls may skip the deploy', async () => {
    const first = fakeServerless('prod', fakeAws({ existing: issued('first'), parameters: deployed }));
    await deploy(first.plugin);
    const againAws = fakeAws({ existing: issued('first'), parameters: deployed });
    const again = fakeServerless('prod', againAws);

    await deploy(again.plugin);

    expect(deployHash(again.serverless.service.provider.compiledCloudFormationTemplate)).toBe(
      deployHash(first.serverless.service.provider.compiledCloudFormationTemplate),
    );
    expect(againAws.calls).not.toContain('SSM:putParameter');
  });

  it('sends a different template, with the new certificate on the distribution, once a certificate is replaced', async () => {
    const first = fakeServerless('prod', fakeAws({ existing: issued('first'), parameters: deployed }));
    await deploy(first.plugin);
    // The first certificate expired: the next deploy requests a new one.
    const replacedAws = fakeAws({
      existing: issued('first').map((certificate) => ({ ...certificate, Status: 'EXPIRED' })),
      parameters: deployed,
    });
    const replaced = fakeServerless('prod', replacedAws);

    await deploy(replaced.plugin);

    const newArn = replacedAws.parameters.get('/movement-pass/prod/clientCertificateArn')?.Value;
    expect(newArn).toMatch(/^arn:aws:acm:us-east-1:123456789012:certificate\/\d+$/);
    expect(distributionCertificate(replaced.serverless)).toBe(newArn);
    expect(deployHash(replaced.serverless.service.provider.compiledCloudFormationTemplate)).not.toBe(
      deployHash(first.serverless.service.provider.compiledCloudFormationTemplate),
    );
  });
});

describe('certificates plugin: feedback while it waits', () => {
  const terminal = {
    stdin: Object.getOwnPropertyDescriptor(process.stdin, 'isTTY'),
    stdout: Object.getOwnPropertyDescriptor(process.stdout, 'isTTY'),
  };
  /** osls draws progress in a terminal outside CI only. */
  function runIn(interactive: boolean) {
    vi.stubEnv('CI', interactive ? '' : 'true');
    for (const stream of [process.stdin, process.stdout])
      Object.defineProperty(stream, 'isTTY', { value: interactive, configurable: true });
  }
  beforeEach(() => {
    vi.useFakeTimers();
    vi.spyOn(console, 'log').mockImplementation(() => undefined);
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
    for (const [name, descriptor] of Object.entries(terminal)) {
      const stream = name === 'stdin' ? process.stdin : process.stdout;
      if (descriptor) Object.defineProperty(stream, 'isTTY', descriptor);
      else delete (stream as { isTTY?: boolean }).isTTY;
    }
  });

  it('shows, in a terminal, which certificate it waits for, in which region, and for how long', async () => {
    runIn(true);
    const aws = fakeAws({ validationTakesMs: 150_000 });
    const { plugin, feedback } = fakeServerless('prod', aws);

    await deploy(plugin);

    for (const region of ['us-east-1', 'ap-south-1']) {
      expect(feedback.lines).toContain(`Waiting for DNS validation of movement-pass.com in ${region} (0 s)`);
      expect(feedback.lines).toContain(`Waiting for DNS validation of movement-pass.com in ${region} (45 s)`);
      expect(feedback.lines).toContain(`Waiting for DNS validation of movement-pass.com in ${region} (2 min)`);
      expect(feedback.lines).toContain(`Certificate for movement-pass.com in ${region} (2 min)`);
    }
    expect(feedback.lines).toContain('(removed)');
    // One progress per wait: the second certificate's wait is not wrapped in the first one's.
    expect(feedback.lines.filter((line) => line.startsWith('Waiting for DNS validation') && line.endsWith('(0 s)'))).toEqual([
      'Waiting for DNS validation of movement-pass.com in us-east-1 (0 s)',
      'Waiting for DNS validation of movement-pass.com in ap-south-1 (0 s)',
    ]);
  });

  it('writes log lines instead where osls draws no progress (CI, no terminal)', async () => {
    runIn(false);
    const aws = fakeAws({ validationTakesMs: 150_000 });
    const { plugin, feedback } = fakeServerless('prod', aws);

    await deploy(plugin);

    expect(feedback.lines).toEqual([]);
    for (const region of ['us-east-1', 'ap-south-1']) {
      expect(feedback.logged).toContain(`Waiting for DNS validation of movement-pass.com in ${region} ...`);
      expect(feedback.logged).toContain(`Waiting for DNS validation of movement-pass.com in ${region} (1 min) ...`);
      expect(feedback.logged).toContain(`Waiting for DNS validation of movement-pass.com in ${region} (2 min) ...`);
    }
  });
});
