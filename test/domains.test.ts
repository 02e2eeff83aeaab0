// Certificates, custom domains and public-api's failover: the plugin settings osls resolved
// from the real serverless.ts for each region, and what the templates wire from them.
import { describe, expect, it } from 'vitest';
import { readServiceState, readTemplate } from './package-stage';
import { contractParameters, resource, resourcesOfType } from './template';

describe('prod stage', () => {
  const custom = readServiceState('prod').custom;
  const template = readTemplate('prod');

  it('makes <domain> and *.<domain> in us-east-1 and in the home region, in that order, validated in the hosted zone', () => {
    expect(custom.movementPassCertificates.domain).toBe('movement-pass.com');
    expect(custom.movementPassCertificates.certificates.map((c: any) => [c.parameterName, c.plugin.region])).toEqual([
      ['/movement-pass/prod/clientCertificateArn', 'us-east-1'],
      ['/movement-pass/prod/serverCertificateArn', 'ap-south-1'],
    ]);
    for (const { plugin } of custom.movementPassCertificates.certificates) {
      expect(plugin).toMatchObject({
        enabled: true,
        certificateName: 'movement-pass.com',
        subjectAlternativeNames: ['*.movement-pass.com'],
        hostedZoneNames: ['movement-pass.com.'],
        rewriteRecords: true,
      });
    }
  });

  it('maps the API under /foundation on a regional public-api domain with TLS 1.2, leaving the DNS records to the failover plugin', () => {
    expect(custom.customDomain).toEqual({
      enabled: true,
      domainName: 'public-api.movement-pass.com',
      certificateName: 'movement-pass.com',
      basePath: 'foundation',
      stage: 'prod',
      apiType: 'rest',
      endpointType: 'regional',
      securityPolicy: 'tls_1_2',
      createRoute53Record: false,
      createRoute53IPv6Record: false,
      autoDomain: true,
      preserveExternalPathMappings: true,
    });
  });

  it('runs the certificates before the domain plugin, so the domain finds its certificate', () => {
    const order = readServiceState('prod').plugins;
    expect(order.indexOf('./plugins/certificates')).toBeGreaterThan(order.indexOf('serverless-certificate-creator'));
    expect(order.indexOf('./plugins/certificates')).toBeLessThan(order.indexOf('serverless-domain-manager'));
  });

  it('runs the failover records after the domain plugin (the domain exists) and before sls verify (which calls the name)', () => {
    const order = readServiceState('prod').plugins;
    expect(order.indexOf('./plugins/failover-dns')).toBeGreaterThan(order.indexOf('serverless-domain-manager'));
    expect(order.indexOf('./plugins/failover-dns')).toBeLessThan(order.indexOf('./plugins/verify'));
  });

  it("writes the PRIMARY failover records of public-api, with the failover control stack's routing check", () => {
    expect(custom.movementPassFailoverDns).toEqual({
      enabled: true,
      domain: 'movement-pass.com',
      recordName: 'public-api.movement-pass.com',
      region: 'ap-south-1',
      homeRegion: 'ap-south-1',
      failover: 'PRIMARY',
      setIdentifier: 'ap-south-1',
      healthCheck: { region: 'us-east-1', output: 'RoutingHealthCheckId' },
    });
    const control = readTemplate('prod.us-east-1');
    expect(control.Outputs?.RoutingHealthCheckId.Value).toEqual({ Ref: 'RoutingHealthCheck' });
    // A region's own stack holds no health check: they all live in the control stack.
    expect(resourcesOfType(template, 'AWS::Route53::HealthCheck')).toEqual({});
  });

  it('packages the CloudFront certificate as its SSM parameter, so packaging needs no AWS call', () => {
    const distribution = template.Resources.PhotoDistribution.Properties.DistributionConfig;
    expect(distribution.ViewerCertificate.AcmCertificateArn).toBe('{{resolve:ssm:/movement-pass/prod/clientCertificateArn}}');
    expect(distribution.ViewerCertificate.MinimumProtocolVersion).toBe('TLSv1.2_2021');
  });

  it('tells the certificates plugin what to replace with the validated ARN on deploy, and which certificate the API domain gets', () => {
    const [cloudFront, api] = custom.movementPassCertificates.certificates;
    const distribution = template.Resources.PhotoDistribution.Properties.DistributionConfig;
    expect(cloudFront).toMatchObject({ templateReference: distribution.ViewerCertificate.AcmCertificateArn, apiDomain: false });
    expect(api).toMatchObject({ templateReference: '{{resolve:ssm:/movement-pass/prod/serverCertificateArn}}', apiDomain: true });
    expect(api.plugin.region).toBe('ap-south-1');
  });

  it('publishes the JWKS on the custom domain, under the base path', () => {
    const url = { 'Fn::Join': ['', ['https://public-api.movement-pass.com/foundation', '/.well-known/jwks.json']] };
    expect(template.Outputs?.JwksUrl.Value).toEqual(url);
    expect(contractParameters(template, 'prod').jwksUrl.Properties.Value).toEqual(url);
  });
});

describe('prod stage in its secondary region (ap-southeast-1)', () => {
  const state = readServiceState('prod.ap-southeast-1');
  const custom = state.custom;
  const template = readTemplate('prod.ap-southeast-1');

  it("makes the region's own API certificate and only looks up the CloudFront one, both ARNs in this region's contract", () => {
    const config = custom.movementPassCertificates;
    expect(config).toMatchObject({ domain: 'movement-pass.com', region: 'ap-southeast-1', homeRegion: 'ap-south-1' });
    expect(config.certificates.map((c: any) => [c.parameterName, c.plugin.region, c.ensured, c.apiDomain])).toEqual([
      ['/movement-pass/prod/clientCertificateArn', 'us-east-1', false, false],
      ['/movement-pass/prod/serverCertificateArn', 'ap-southeast-1', true, true],
    ]);
  });

  it('creates public-api as a regional domain of this region, /foundation mapped, the root left to the public API service', () => {
    // serverless-domain-manager creates the domain where osls deploys: the provider's region.
    expect(state.provider.region).toBe('ap-southeast-1');
    expect(custom.customDomain).toEqual(readServiceState('prod').custom.customDomain);
    expect(custom.customDomain).toMatchObject({
      endpointType: 'regional',
      basePath: 'foundation',
      preserveExternalPathMappings: true,
      createRoute53Record: false,
      createRoute53IPv6Record: false,
    });
  });

  it('writes the SECONDARY failover records, without a health check of its own', () => {
    expect(custom.movementPassFailoverDns).toEqual({
      enabled: true,
      domain: 'movement-pass.com',
      recordName: 'public-api.movement-pass.com',
      region: 'ap-southeast-1',
      homeRegion: 'ap-south-1',
      failover: 'SECONDARY',
      setIdentifier: 'ap-southeast-1',
    });
    expect(resourcesOfType(template, 'AWS::Route53::HealthCheck')).toEqual({});
    expect(template.Outputs?.ApiHealthCheckId).toBeUndefined();
  });

  it("serves the JWKS API, and names this region's own API in its contract", () => {
    expect(resource(template, 'JwksMethod', 'AWS::ApiGateway::Method').Properties.HttpMethod).toBe('GET');
    const url = contractParameters(template, 'prod').jwksUrl.Properties.Value;
    expect(JSON.stringify(url)).toContain('.execute-api.${AWS::Region}.${AWS::URLSuffix}/prod');
    expect(JSON.stringify(url)).not.toContain('public-api');
  });
});

describe('sandbox stage', () => {
  const custom = readServiceState('alice').custom;
  const template = readTemplate('alice');

  it('has no certificate, no custom domain and no DNS record', () => {
    expect(custom.movementPassCertificates.certificates).toEqual([]);
    expect(custom.customCertificate.enabled).toBe(false);
    expect(custom.customDomain.enabled).toBe(false);
    expect(JSON.stringify(template)).not.toContain('CertificateArn');
    expect(Object.values(template.Resources).filter((r) => r.Type.startsWith('AWS::Route53::'))).toEqual([]);
  });

  it('publishes the JWKS on the API default hostname', () => {
    expect(JSON.stringify(template.Outputs?.JwksUrl.Value)).toContain('.execute-api.');
  });

  it.each(['alice', 'bob', 'bob.ap-southeast-1'])('%s: writes no failover record and pays for no health check', (stack) => {
    expect(readServiceState(stack).custom.movementPassFailoverDns.enabled).toBe(false);
    expect(resourcesOfType(readTemplate(stack), 'AWS::Route53::HealthCheck')).toEqual({});
  });
});
