// Certificates: `<domain>` and `*.<domain>` in us-east-1 (CloudFront) and in each region the API
// runs in (its API Gateway regional custom domain), made by serverless-certificate-creator before
// the stack deploys (plugins/certificates.js). The packaged template reads an ARN with an SSM
// dynamic reference, so packaging needs no AWS call; on deploy the plugin puts the validated
// certificate's literal ARN in its place, so a replaced certificate changes the template
// CloudFormation receives (it would not re-resolve the reference of an unchanged template).
// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/dynamic-references-ssm.html
import { app, ssmRoot } from './names';
import { homeRegionOf, isHomeRegion, type StageSettings } from './stage';

/** CloudFront takes certificates from this region only, whichever region the stack is in. */
export const cloudFrontCertificateRegion = 'us-east-1';

export interface CertificateSpec {
  /** Contract key of its ARN, written to the contract of the stack's own region. */
  parameterKey: 'clientCertificateArn' | 'serverCertificateArn';
  region: string;
  purpose: string;
  /** serverless-domain-manager gives it to the API's custom domain. */
  apiDomain: boolean;
  /**
   * This region's deploy requests and validates it when missing. The CloudFront certificate is
   * global and the home stack's: a secondary region's deploy only looks it up (issued, covering
   * both names) and copies its ARN into its own contract.
   */
  ensured: boolean;
}

/** The certificates of the stack's region: CloudFront's (us-east-1), then the region's own API certificate. */
export function certificateSpecs(settings: StageSettings): CertificateSpec[] {
  return [
    {
      parameterKey: 'clientCertificateArn',
      region: cloudFrontCertificateRegion,
      purpose: 'CloudFront (photos, web app)',
      apiDomain: false,
      ensured: isHomeRegion(settings),
    },
    {
      parameterKey: 'serverCertificateArn',
      region: settings.region,
      purpose: 'API Gateway regional custom domains',
      apiDomain: true,
      ensured: true,
    },
  ];
}

export const certificateParameterName = (settings: StageSettings, spec: CertificateSpec) => `${ssmRoot(settings)}/${spec.parameterKey}`;
const certificateReference = (settings: StageSettings, spec: CertificateSpec) =>
  `{{resolve:ssm:${certificateParameterName(settings, spec)}}}`;

/** `{{resolve:ssm:...}}` of a certificate's ARN; undefined on a stage without custom domain. */
export function certificateArn(settings: StageSettings, key: CertificateSpec['parameterKey']): string | undefined {
  const spec = certificateSpecs(settings).find((candidate) => candidate.parameterKey === key);
  if (!settings.customDomain || !spec) return undefined;
  return certificateReference(settings, spec);
}

/** The certificate plugin's configuration for one certificate, as serverless-certificate-creator reads it. */
export function certificatePluginConfig(settings: StageSettings, spec: CertificateSpec) {
  return {
    enabled: settings.customDomain,
    certificateName: settings.domain,
    subjectAlternativeNames: [`*.${settings.domain}`],
    hostedZoneNames: [`${settings.domain}.`],
    region: spec.region,
    // UPSERT: a rerun after an interrupted validation rewrites the same record instead of failing.
    rewriteRecords: true,
    tags: { app, stage: settings.stage },
  };
}

/** What plugins/certificates.js ensures before each deploy; nothing on a stage without custom domain. */
export function certificatesPluginConfig(settings: StageSettings) {
  return {
    domain: settings.domain,
    // The contract the ARNs are written to: the stack's own region, home or secondary.
    region: settings.region,
    homeRegion: homeRegionOf(settings),
    certificates: settings.customDomain
      ? certificateSpecs(settings).map((spec) => ({
          parameterName: certificateParameterName(settings, spec),
          purpose: spec.purpose,
          // What the packaged template holds in place of the ARN; the plugin replaces it on deploy.
          templateReference: certificateReference(settings, spec),
          apiDomain: spec.apiDomain,
          ensured: spec.ensured,
          plugin: certificatePluginConfig(settings, spec),
        }))
      : [],
  };
}
