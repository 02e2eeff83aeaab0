// Certificates and custom domains: the plugin settings osls resolved from the real
// serverless.ts, and what the prod template wires from them.
import { describe, expect, it } from 'vitest';
import { readServiceState, readTemplate } from './package-stage';
import { contractParameters } from './template';

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

  it('maps the API under /foundation on a regional public-api domain with TLS 1.2 and IPv4 and IPv6 records', () => {
    expect(custom.customDomain).toEqual({
      enabled: true,
      domainName: 'public-api.movement-pass.com',
      certificateName: 'movement-pass.com',
      basePath: 'foundation',
      stage: 'prod',
      apiType: 'rest',
      endpointType: 'regional',
      securityPolicy: 'tls_1_2',
      createRoute53Record: true,
      createRoute53IPv6Record: true,
      autoDomain: true,
      preserveExternalPathMappings: true,
    });
  });

  it('runs the certificates before the domain plugin, so the domain finds its certificate', () => {
    const order = readServiceState('prod').plugins;
    expect(order.indexOf('./plugins/certificates')).toBeGreaterThan(order.indexOf('serverless-certificate-creator'));
    expect(order.indexOf('./plugins/certificates')).toBeLessThan(order.indexOf('serverless-domain-manager'));
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
});
