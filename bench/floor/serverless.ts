// The floor `sls package --stage prod` is measured against (npm run bench:package): an osls
// service with the same three npm plugins, the same esbuild and plugin settings and as many
// functions as prod's home stack, trivial handlers, no resources, and a serverless.ts as ours
// (osls loads it through tsx, about 0.2 s). Whatever prod takes beyond this is the foundation's own.
import type { AWS } from '@serverless/typescript';

const configuration: AWS = {
  service: 'movement-pass-floor',
  frameworkVersion: '3',
  plugins: ['serverless-esbuild', 'serverless-certificate-creator', 'serverless-domain-manager'],
  provider: {
    name: 'aws',
    runtime: 'nodejs24.x',
    architecture: 'arm64',
    region: 'ap-south-1',
    versionFunctions: false,
    deploymentBucket: { blockPublicAccess: true, versioning: true },
  },
  custom: {
    esbuild: { bundle: true, minify: true, sourcemap: false, target: 'node24', platform: 'node', exclude: ['@aws-sdk/*'] },
    // The plugins' settings as prod's: enabled, one certificate, a regional REST domain.
    customCertificate: {
      enabled: true,
      certificateName: 'floor.example.com',
      subjectAlternativeNames: ['*.floor.example.com'],
      hostedZoneNames: ['floor.example.com.'],
      region: 'us-east-1',
      rewriteRecords: true,
    },
    customDomain: {
      enabled: true,
      domainName: 'api.floor.example.com',
      certificateName: 'floor.example.com',
      basePath: 'floor',
      stage: 'prod',
      apiType: 'rest',
      endpointType: 'regional',
      securityPolicy: 'tls_1_2',
      createRoute53Record: false,
      autoDomain: true,
      preserveExternalPathMappings: true,
    },
  },
  package: { individually: true },
  functions: {
    keyRing: { handler: 'handlers/key-ring.handler' },
    accessLogSetup: { handler: 'handlers/access-log-setup.handler' },
  },
};

module.exports = configuration;
