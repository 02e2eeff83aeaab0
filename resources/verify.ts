// Settings of `sls verify` (plugins/verify.js) for a stage: what it may write and how long a new
// custom domain may take to answer. Decided by the stage settings, like everything per stage.
import { photoBucketName } from './photo-replication';
import { homeRegionOf, isHomeRegion, type StageSettings } from './stage';

export interface VerifyPluginConfig {
  /** Write checks (a photo upload, a queue message) only where no data is kept: sandboxes. */
  writes: boolean;
  customDomain: boolean;
  /** The origin the upload check sends, as a browser of the web app would. */
  webOrigin: string;
  /** How long the JWKS endpoint may take to answer: a new custom domain needs DNS, TLS and its base path mapping. */
  domainWaitSeconds: number;
  retryIntervalSeconds: number;
  /**
   * Off home: the home bucket's regional domain, by which the photo distribution is found (as the
   * regional lookup finds it); the region's bucket policy must let that distribution read.
   */
  photoDistributionOrigin?: string;
}

export function verifyPluginConfig(settings: StageSettings): VerifyPluginConfig {
  return {
    writes: !settings.retainData,
    customDomain: settings.customDomain,
    webOrigin: settings.photos.webOrigins[0],
    // A regional custom domain usually answers within minutes; an execute-api URL at once.
    domainWaitSeconds: settings.customDomain ? 600 : 60,
    retryIntervalSeconds: 10,
    ...(!isHomeRegion(settings) && {
      photoDistributionOrigin: `${photoBucketName(settings, homeRegionOf(settings)).replace('${AWS::AccountId}', settings.accountId)}.s3.${homeRegionOf(settings)}.amazonaws.com`,
    }),
  };
}
