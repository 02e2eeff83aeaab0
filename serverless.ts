// Movement Pass foundation: the shared AWS infrastructure of one stage, as one stack.
// Table of contents only; each capability lives in its own module under resources/.
import type { AWS } from '@serverless/typescript';
import { api, apiBaseUrl, apiDomainPluginConfig, jwksPath } from './resources/api';
import { certificateArn, certificatePluginConfig, certificates, certificatesPluginConfig } from './resources/certificates';
import { getAtt, mergeFragments } from './resources/cloudformation';
import { configuration } from './resources/configuration';
import { database } from './resources/database';
import { jwt, jwtKeyRingProperties } from './resources/jwt';
import { keyRingFunction } from './resources/key-ring';
import { bucketEmptierFunction, photos } from './resources/photos';
import { queue } from './resources/queue';
import { assertHomeRegion, homeRegion, service, settingsFor, stageFromArgv } from './resources/stage';
import { verifyPluginConfig } from './resources/verify';

assertHomeRegion(process.argv);
const settings = settingsFor(stageFromArgv(process.argv));
const keyRing = keyRingFunction(settings);
// Sandboxes only: a shared stage keeps its photos, so nothing ever empties its bucket.
const bucketEmptier = settings.retainData ? undefined : bucketEmptierFunction(settings);
const jwksUrl = { 'Fn::Join': ['', [apiBaseUrl(settings), jwksPath]] };

const serverlessConfiguration: AWS = {
  service,
  frameworkVersion: '3',
  // Order matters on deploy: certificates, then the API domain, then the stack, then the mapping.
  plugins: [
    'serverless-esbuild',
    'serverless-certificate-creator',
    './plugins/certificates',
    'serverless-domain-manager',
    './plugins/stack-outputs',
    // After the base path mapping: the contract values to .serverless/foundation-<stage>.json, then sls verify.
    './plugins/foundation-outputs',
    './plugins/verify',
  ],
  provider: {
    name: 'aws',
    runtime: 'nodejs24.x',
    architecture: 'arm64',
    region: homeRegion,
    // Custom resource functions are called by CloudFormation only: numbered versions would just pile up.
    versionFunctions: false,
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
    // serverless-certificate-creator's own commands (`sls create-cert`) act on the CloudFront
    // certificate; plugins/certificates.js runs it for every region on deploy.
    customCertificate: certificatePluginConfig(settings, certificates[0]),
    movementPassCertificates: certificatesPluginConfig(settings),
    customDomain: apiDomainPluginConfig(settings),
    movementPassVerify: verifyPluginConfig(settings),
  },
  package: { individually: true },
  functions: {
    keyRing: keyRing.definition,
    ...(bucketEmptier && { photoBucketEmptier: bucketEmptier.definition }),
  },
  resources: mergeFragments(
    configuration(settings),
    database(settings),
    queue(settings),
    keyRing.fragment,
    ...(bucketEmptier ? [bucketEmptier.fragment] : []),
    jwt(settings, jwksUrl),
    photos(settings, { certificateArn: certificateArn(settings, 'clientCertificateArn') }),
    api(settings, getAtt('JwtKeyRing', 'Jwks'), jwtKeyRingProperties(settings)),
  ),
};

module.exports = serverlessConfiguration;
