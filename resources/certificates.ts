// Certificates: `<domain>` and `*.<domain>` in us-east-1 (CloudFront) and in the
// home region (API Gateway), made by serverless-certificate-creator before the stack deploys
// (plugins/certificates.js). The packaged template reads an ARN with an SSM dynamic reference,
// so packaging needs no AWS call; on deploy the plugin puts the validated certificate's literal
// ARN in its place, so a replaced certificate changes the template CloudFormation receives
// (it would not re-resolve the reference of an unchanged template).
// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/dynamic-references-ssm.html
import { homeRegion, type StageSettings, ssmRoot } from './stage';

export interface CertificateSpec {
  /** Contract key of its ARN. */
  parameterKey: 'clientCertificateArn' | 'serverCertificateArn';
  region: string;
  purpose: string;
  /** serverless-domain-manager gives it to the API's custom domain. */
  apiDomain: boolean;
}

export const certificates: readonly CertificateSpec[] = [
  { parameterKey: 'clientCertificateArn', region: 'us-east-1', purpose: 'CloudFront (photos, web app)', apiDomain: false },
  { parameterKey: 'serverCertificateArn', region: homeRegion, purpose: 'API Gateway regional custom domains', apiDomain: true },
];

export const certificateParameterName = (settings: StageSettings, spec: CertificateSpec) => `${ssmRoot(settings)}/${spec.parameterKey}`;
const certificateReference = (settings: StageSettings, spec: CertificateSpec) =>
  `{{resolve:ssm:${certificateParameterName(settings, spec)}}}`;

/** `{{resolve:ssm:...}}` of a certificate's ARN; undefined on a stage without custom domain. */
export function certificateArn(settings: StageSettings, key: CertificateSpec['parameterKey']): string | undefined {
  const spec = certificates.find((candidate) => candidate.parameterKey === key);
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
    tags: { app: 'movement-pass', stage: settings.stage },
  };
}

/** What plugins/certificates.js ensures before each deploy; nothing on a stage without custom domain. */
export function certificatesPluginConfig(settings: StageSettings) {
  return {
    domain: settings.domain,
    homeRegion,
    certificates: settings.customDomain
      ? certificates.map((spec) => ({
          parameterName: certificateParameterName(settings, spec),
          purpose: spec.purpose,
          // What the packaged template holds in place of the ARN; the plugin replaces it on deploy.
          templateReference: certificateReference(settings, spec),
          apiDomain: spec.apiDomain,
          plugin: certificatePluginConfig(settings, spec),
        }))
      : [],
  };
}
