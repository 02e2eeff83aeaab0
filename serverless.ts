// Movement Pass foundation: the shared AWS infrastructure of one stage, as one stack.
// Table of contents only; each capability lives in its own module under resources/.
import type { AWS } from '@serverless/typescript';
import { mergeFragments } from './resources/cloudformation';
import { configuration } from './resources/configuration';
import { database } from './resources/database';
import { queue } from './resources/queue';
import { homeRegion, service, settingsFor, stageFromArgv } from './resources/stage';

const settings = settingsFor(stageFromArgv(process.argv));

const serverlessConfiguration: AWS = {
  service,
  frameworkVersion: '3',
  plugins: ['serverless-certificate-creator', 'serverless-domain-manager'],
  provider: {
    name: 'aws',
    runtime: 'nodejs24.x',
    architecture: 'arm64',
    region: homeRegion,
    deploymentBucket: { blockPublicAccess: true, versioning: true },
    stage: settings.stage,
    stackTags: { app: 'movement-pass', stage: settings.stage },
    tags: { app: 'movement-pass', stage: settings.stage },
  },
  custom: {
    esbuild: {
      bundle: true,
      minify: true,
      sourcemap: false,
      target: 'node24',
      platform: 'node',
      // The Lambda runtime ships AWS SDK v3; bundling it would only grow the artifacts.
      exclude: ['@aws-sdk/*'],
    },
    // Wired by the certificates issue; listed now so the plugin set is fixed from the start.
    customCertificate: { enabled: false, certificateName: settings.domain, hostedZoneNames: `${settings.domain}.` },
    customDomain: { enabled: false, domainName: `public-api.${settings.domain}` },
  },
  package: { individually: true },
  resources: mergeFragments(configuration(settings), database(settings), queue(settings)),
};

module.exports = serverlessConfiguration;
