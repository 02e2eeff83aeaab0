// plugins/certificates.js driving the real serverless-certificate-creator, against fake ACM,
// Route 53 and SSM (the SDK v2 surface osls 3 hands to plugins): no AWS account needed.
import CreateCertificatePlugin from 'serverless-certificate-creator';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import Certificates from '../plugins/certificates';
import { certificatesPluginConfig } from '../resources/certificates';
import { settingsFor } from '../resources/stage';

type Cert = { CertificateArn: string; DomainName: string; Status: string; region: string };

function fakeAws(
  options: { hostedZone?: boolean; existing?: Cert[]; recordsAfterDescribes?: number; sans?: string[]; validationEndsIn?: string } = {},
) {
  const certificates: Cert[] = [...(options.existing ?? [])];
  const calls: string[] = [];
  const recordBatches: unknown[][] = [];
  const parameters = new Map<string, { Value: string; region?: string }>();
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
      if (cert.Status === 'ISSUED') return promise({});
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
    listHostedZones() {
      return promise({ HostedZones: [{ Id: '/hostedzone/Z1', Name: 'movement-pass.com.' }] });
    }
    changeResourceRecordSets(params: { ChangeBatch: { Changes: unknown[] } }) {
      recordBatches.push(params.ChangeBatch.Changes);
      return promise({});
    }
  }
  const request = vi.fn(async (service: string, method: string, params: any, requestOptions?: { region?: string }) => {
    calls.push(`${service}:${method}`);
    if (method === 'listHostedZonesByName') {
      return {
        HostedZones:
          options.hostedZone === false
            ? [{ Name: 'other.com.', Id: 'Z9' }]
            : [{ Name: 'movement-pass.com.', Id: 'Z1', Config: { PrivateZone: false } }],
      };
    }
    if (method === 'putParameter') {
      parameters.set(params.Name, { Value: params.Value, region: requestOptions?.region });
      return {};
    }
    if (method === 'getParameter') {
      const parameter = parameters.get(params.Name);
      if (!parameter) throw new Error('ParameterNotFound');
      return { Parameter: { Value: parameter.Value } };
    }
    throw new Error(`unexpected ${service}.${method}`);
  });
  return { ACM, Route53, request, calls, recordBatches, parameters, certificates };
}

function fakeServerless(stage: string, aws: ReturnType<typeof fakeAws>) {
  const config = certificatesPluginConfig(settingsFor(stage));
  const serverless: any = {
    service: { custom: { customCertificate: { enabled: false, marker: 'original' }, movementPassCertificates: config } },
    providers: { aws: { getCredentials: () => ({}), sdk: { ACM: aws.ACM, Route53: aws.Route53 } } },
    getProvider: () => ({ request: aws.request }),
    classes: { Error },
    cli: { log: () => undefined, consoleLog: () => undefined },
    serviceOutputs: new Map(),
    utils: { getVersion: () => '3.77.1' },
    pluginManager: { plugins: [] as unknown[] },
  };
  serverless.pluginManager.plugins.push(new CreateCertificatePlugin(serverless, {}));
  const log = { notice: () => undefined, info: () => undefined, warning: () => undefined };
  const plugin = new Certificates(serverless, {}, { log });
  serverless.pluginManager.plugins.push(plugin);
  return { serverless, plugin };
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
    for (const batch of aws.recordBatches) expect(batch).toHaveLength(1);
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
    const aws = fakeAws({ hostedZone: false });
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
});
