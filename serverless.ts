// Movement Pass foundation: the shared AWS infrastructure of one stage in one of its regions, as one stack.
// Table of contents only; each capability lives in its own module under resources/.
import { userInfo } from 'node:os';
import type { AWS } from '@serverless/typescript';
import { accessLogSetupFunction, accessLogSetupFunctionName, accessLogs, functionLogGroupExtensions } from './resources/access-logs';
import { api, apiBaseUrl, apiDomainPluginConfig } from './resources/api';
import { jwksPath } from './resources/api-names';
import { certificateArn, certificatePluginConfig, certificateSpecs, certificatesPluginConfig } from './resources/certificates';
import { getAtt, mergeFragments } from './resources/cloudformation';
import { helpNote, isHelp, readPersonalSettings, settingsFromArgv } from './resources/command-line';
import { configuration } from './resources/configuration';
import { database } from './resources/database';
import {
  accountPluginConfig,
  bundling,
  legacyDeploymentBucket,
  legacyDeploymentBucketFromArgv,
  stageProvider,
} from './resources/deployment';
import { failoverControlService, failoverPluginConfig } from './resources/failover-control';
import { failoverDnsPluginConfig } from './resources/failover-dns';
import { jwt, jwtKeyRingProperties } from './resources/jwt';
import { keyRingFunction, keyRingFunctionName, regionalPhotoUrlKeys } from './resources/key-ring';
import { service } from './resources/names';
import { observability } from './resources/observability';
import { checkParams } from './resources/params';
import { photoReplicationFromArgv, photoReplicationPluginConfig } from './resources/photo-replication';
import { bucketEmptierFunction, photos, regionalPhotos } from './resources/photos';
import { productionSafetyConfig } from './resources/production-safety';
import { queue } from './resources/queue';
import { regionHealth } from './resources/region-health';
import { regionalLookupFunction, regionalLookupFunctionName } from './resources/regional-lookup';
import { regionsPluginConfig } from './resources/regions';
import { isFailoverControl, isHomeRegion, type StageSettings } from './resources/stage';
import { stageKey } from './resources/stage-key';
import { verifyPluginConfig } from './resources/verify';

// No --stage: the sandbox of whoever runs sls (MOVEMENT_PASS_STAGE, else their user name), never a shared stage. No --region: the stage's home
// region, whose stack owns the global resources; `--region <secondary>` builds the regional stack.
checkParams(process.argv);
const username = () => process.env.USER || process.env.LOGNAME || userInfo().username;
const personal = readPersonalSettings(__dirname);
if (isHelp(process.argv)) process.stderr.write(`${helpNote(process.argv, username, process.env, personal)}\n`);
const settings = settingsFromArgv(process.argv, username, process.env, personal);
// us-east-1 of a stage that fails over: the failover control stack (resources/failover-control.ts);
// any of the stage's regions: the foundation stack below.
module.exports = isFailoverControl(settings) ? failoverControlService(settings) : foundationService(settings);

function foundationService(settings: StageSettings): AWS {
  const home = isHomeRegion(settings);
  const keyRing = keyRingFunction(settings);
  // The home photo bucket's replication rule, off only for the first deploy of a new secondary region.
  const photoReplication = photoReplicationFromArgv(process.argv, settings);
  // Sandboxes only (each region's bucket): a shared stage keeps its photos, so nothing ever empties its bucket.
  const bucketEmptier = settings.retainData ? undefined : bucketEmptierFunction(settings);
  // Shared stages' home stack only (the photo distribution's log delivery): access logs cost storage, and sandboxes keep a 0 USD idle cost.
  const accessLogSetup = settings.observability.accessLogs && home ? accessLogSetupFunction(settings) : undefined;
  // Secondary regions only: reads what the home stack owns (table replicas, CloudFront resources).
  const regionalLookup = home ? undefined : regionalLookupFunction(settings);
  // Once, for a stack deployed before the bootstrap: its old in-stack deployment bucket, retained so the next deploy lets it go.
  const keepLegacyBucket = legacyDeploymentBucketFromArgv(process.argv);
  const jwksUrl = { 'Fn::Join': ['', [apiBaseUrl(settings), jwksPath]] };
  const jwks = api(settings, getAtt('JwtKeyRing', 'Jwks'), jwtKeyRingProperties(settings));
  // What every region's stack holds, and what only the home stack (the global resources) or only a
  // secondary region's stack (what serves there when home is down, no table) adds to it.
  const resources = mergeFragments(
    configuration(settings),
    database(settings),
    ...(regionalLookup ? [regionalLookup.fragment] : []),
    queue(settings),
    stageKey(settings),
    keyRing.fragment,
    ...(bucketEmptier ? [bucketEmptier.fragment] : []),
    jwt(settings, jwksUrl),
    ...(home
      ? [photos(settings, { certificateArn: certificateArn(settings, 'clientCertificateArn'), replication: photoReplication })]
      : // The home keys, copied by the key ring in its follower role.
        [regionalPhotoUrlKeys(settings), regionalPhotos(settings)]),
    jwks,
    // Stages that fail over: the region's own health hostname and route, which Route 53 checks.
    regionHealth(settings),
    accessLogs(settings),
    ...(accessLogSetup ? [accessLogSetup.fragment] : []),
    observability(settings),
    ...(keepLegacyBucket ? [legacyDeploymentBucket()] : []),
  );
  // Amendments to the resources osls generates itself.
  const extensions = {
    ...functionLogGroupExtensions(settings, [
      keyRingFunctionName,
      ...(accessLogSetup ? [accessLogSetupFunctionName] : []),
      ...(regionalLookup ? [regionalLookupFunctionName] : []),
    ]),
  };

  return {
    service,
    frameworkVersion: '3',
    // Order matters on deploy: the AWS preflight, the safety checks, the photo replication check, certificates, then the API
    // domain, then the stack, its protection, then the mapping, the failover DNS records, the outputs file and sls verify. On remove, the guard stops a shared stage while
    // the plugins load, before the domain plugin would delete the domain.
    plugins: [
      './plugins/preflight',
      // A secondary region's lookups re-run when what they find has changed (before the safety checks diff the template).
      './plugins/regional-lookups',
      './plugins/production-safety',
      // Before anything is written: a photo replication rule whose destination bucket is not ready stops the deploy.
      './plugins/photo-replication',
      './plugins/diff',
      'serverless-esbuild',
      'serverless-certificate-creator',
      './plugins/certificates',
      'serverless-domain-manager',
      // After the domain plugin: public-api's failover record of this region (and its removal).
      './plugins/failover-dns',
      // `sls failover`: where public-api answers, and the operator's failback.
      './plugins/failover',
      './plugins/stack-outputs',
      // After the base path mapping: the region's contract values to .serverless/foundation-<stage>[.<region>].json, then sls verify.
      './plugins/foundation-outputs',
      './plugins/verify',
    ],
    // The stage's runtime, deployment bucket and CloudFormation execution role, from the bootstrap.
    provider: stageProvider(settings),
    custom: {
      esbuild: bundling,
      // serverless-certificate-creator's own commands (`sls create-cert`) act on the CloudFront
      // certificate; plugins/certificates.js runs it for every region on deploy.
      customCertificate: certificatePluginConfig(settings, certificateSpecs(settings)[0]),
      movementPassCertificates: certificatesPluginConfig(settings),
      customDomain: apiDomainPluginConfig(settings),
      movementPassFailoverDns: failoverDnsPluginConfig(settings),
      movementPassFailover: failoverPluginConfig(settings),
      // The account the stage lives in (team.json): any command acting on AWS from another stops first.
      movementPassAccount: accountPluginConfig(settings),
      // Which region this stack is, for the local plugins' files, messages and commands.
      movementPassRegions: regionsPluginConfig(settings),
      movementPassProductionSafety: productionSafetyConfig(settings, { ...resources.Resources, ...extensions }),
      movementPassPhotoReplication: photoReplicationPluginConfig(settings),
      movementPassVerify: verifyPluginConfig(settings),
    },
    package: { individually: true },
    functions: {
      keyRing: keyRing.definition,
      ...(bucketEmptier && { photoBucketEmptier: bucketEmptier.definition }),
      ...(accessLogSetup && { [accessLogSetupFunctionName]: accessLogSetup.definition }),
      ...(regionalLookup && { [regionalLookupFunctionName]: regionalLookup.definition }),
    },
    resources: { ...resources, extensions },
  };
}
