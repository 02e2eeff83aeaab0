// @ts-check
// The local plugins' one view of serverless.ts as osls hands it to them: what a plugin reads of
// the service (the settings serverless.ts puts under `custom`, typed by the resource modules that
// build them, and the packaged template) and of osls (its AWS provider, its error class, its
// plugin manager), and the one accessor of the stack's region settings.

/**
 * @typedef {{ Resources?: Record<string, any>, Outputs?: Record<string, any>, [key: string]: unknown }} Template
 *
 * @typedef {object} Custom what serverless.ts puts under `custom`, by the module that builds it (all of it, always)
 * @property {import('../../resources/regions').RegionsPluginConfig} movementPassRegions
 * @property {import('../../resources/deployment').AccountPluginConfig} movementPassAccount
 * @property {import('../../resources/production-safety').ProductionSafetyConfig} movementPassProductionSafety
 * @property {import('../../resources/photo-replication').PhotoReplicationPluginConfig} movementPassPhotoReplication
 * @property {import('../../resources/verify').VerifyPluginConfig} movementPassVerify
 * @property {ReturnType<typeof import('../../resources/certificates').certificatesPluginConfig>} movementPassCertificates
 * @property {ReturnType<typeof import('../../resources/failover-dns').failoverDnsPluginConfig>} movementPassFailoverDns
 * @property {ReturnType<typeof import('../../resources/failover-control').failoverPluginConfig>} [movementPassFailover]
 * @property {Record<string, any>} customCertificate serverless-certificate-creator's settings
 * @property {Record<string, any>} customDomain serverless-domain-manager's settings
 *
 * @typedef {object} AwsProvider osls's AWS provider, as the plugins use it
 * @property {(service: string, method: string, params?: object, options?: { region?: string }) => Promise<any>} request
 * @property {() => string} getRegion
 * @property {() => string} getStage
 * @property {(options?: { region?: string }) => Promise<object>} getAwsSdkV3Config
 * @property {{ getStackName: () => string }} naming
 * @property {() => { credentials?: { tokenCodeFn?: (serial: string, callback: (error: unknown, code?: string) => void) => void } }} [getCredentials]
 *
 * @typedef {Error & {
 *   code?: string,
 *   providerError?: { code?: string, statusCode?: number, retryable?: boolean, originalError?: { code?: string } },
 *   providerErrorCodeExtension?: string,
 * }} ProviderError an error of `provider.request`: osls wraps the SDK's in `providerError`
 *
 * @typedef {object} Serverless the osls instance a plugin is constructed with
 * @property {{ custom: Custom, provider: { compiledCloudFormationTemplate: Template, [key: string]: any }, [key: string]: any }} service
 * @property {(name: 'aws') => AwsProvider} getProvider
 * @property {{ Error: new (message: string) => Error }} classes
 * @property {{ spawn: (command: string) => Promise<void>, [key: string]: any }} pluginManager
 * @property {{ commands: string[], options: Record<string, any>, isHelpRequest?: boolean }} processedInput
 * @property {Map<string, string | string[]>} serviceOutputs what `sls info` prints, by heading
 * @property {Map<string, string[]>} servicePluginOutputs
 * @property {string} serviceDir
 * @property {string} [version]
 */

/**
 * The region settings of the stack (`custom.movementPassRegions`, resources/regions.ts); for a
 * service that gives none, a one-region stack of the provider's stage and region.
 * @param {Serverless} serverless
 * @returns {import('../../resources/regions').RegionsPluginConfig}
 */
function regionsOf(serverless) {
  const configured = serverless.service.custom?.movementPassRegions;
  if (configured) return configured;
  const provider = serverless.getProvider('aws');
  const stage = provider.getStage();
  const region = provider.getRegion();
  return { stage, region, homeRegion: region, regions: [region], home: true, stackOptions: `--stage ${stage}` };
}

module.exports = { regionsOf };
