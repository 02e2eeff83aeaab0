// What Route 53 checks in each region of a stage that fails over: a health route of the region's
// API on a hostname of the region's own, `public-api-<region>.<domain>` (the certificate's
// `*.<domain>` covers it), with its own API Gateway custom domain, mapping and alias record. A
// check of `public-api.<domain>` itself would follow the failover record to whichever region
// answers, and a check of the execute-api hostname cannot see a broken custom domain or mapping.
// The route has its own method throttle, apart from the JWKS's, so a flood on the JWKS (429s)
// never moves `public-api`; the web ACL's per-address limit covers it like every route. The checks themselves live in the failover control
// stack (resources/failover-control.ts).
import { mockGetMethod } from './api-methods';
import { healthPath, restApiId } from './api-names';
import { certificateArn } from './certificates';
import { type CfnResource, type Fragment, getAtt, output, ref, sub } from './cloudformation';
import { type StageSettings, secondaryRegionOf } from './stage';

/** A stage fails over when it has a custom domain and a second region: `public-api.<domain>` moves between them. */
export const failsOver = (settings: StageSettings): boolean => settings.customDomain && secondaryRegionOf(settings) !== undefined;

/** The region's own hostname, which only its health check calls. */
export const healthHostname = (settings: Pick<StageSettings, 'domain'>, region: string): string =>
  `public-api-${region}.${settings.domain}`;

/**
 * The health route's own token bucket, apart from the one every JWKS caller shares (`/*`): a flood
 * of JWKS requests drains that one, not this. It is shared by all callers too, so it is wide:
 * Route 53's checkers send about one request a second in all, each checker's address once every
 * 30 seconds, far under the web ACL's per-address limit, which blocks any one address flooding
 * it; draining this bucket would take a flood from hundreds of addresses at once.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-request-throttling.html
 */
export const healthThrottle = { rateLimit: 1000, burstLimit: 2000 };

/** API Gateway's MethodSettings name a resource path with `/` written `~1`. */
const methodSettingPath = (path: string) => `/${path.replaceAll('/', '~1')}`;

/** The health method: API Gateway answers it itself (MOCK), so it is healthy when the region's API, domain and mapping are. */
export function healthMethod(settings: StageSettings): Record<string, CfnResource> {
  if (!failsOver(settings)) return {};
  return {
    HealthResource: {
      Type: 'AWS::ApiGateway::Resource',
      Properties: { RestApiId: ref(restApiId), ParentId: getAtt(restApiId, 'RootResourceId'), PathPart: healthPath.slice(1) },
    },
    // Route 53's checkers carry no credentials; nothing may cache the answer.
    HealthMethod: mockGetMethod('HealthResource', sub(`{"stage":"${settings.stage}","region":"\${AWS::Region}"}`), {
      'Cache-Control': "'no-store'",
    }),
  };
}

/** The health method's own throttle, beside the stage's `/*` one. */
export function healthMethodSettings(settings: StageSettings) {
  if (!failsOver(settings)) return [];
  return [
    {
      ResourcePath: methodSettingPath(healthPath),
      HttpMethod: 'GET',
      ThrottlingRateLimit: healthThrottle.rateLimit,
      ThrottlingBurstLimit: healthThrottle.burstLimit,
      MetricsEnabled: true,
    },
  ];
}

/** The region's health hostname: custom domain, mapping of the whole stage at its root, alias record. */
export function regionHealth(settings: StageSettings): Fragment {
  if (!failsOver(settings)) return { Resources: {} };
  const hostname = healthHostname(settings, settings.region);
  return {
    Resources: {
      HealthDomainName: {
        Type: 'AWS::ApiGateway::DomainName',
        Properties: {
          DomainName: hostname,
          // The region's own certificate (<domain> and *.<domain>), as for public-api.
          RegionalCertificateArn: certificateArn(settings, 'serverCertificateArn'),
          EndpointConfiguration: { Types: ['REGIONAL'] },
          SecurityPolicy: 'TLS_1_2',
        },
      },
      HealthBasePathMapping: {
        Type: 'AWS::ApiGateway::BasePathMapping',
        Properties: { DomainName: ref('HealthDomainName'), RestApiId: ref(restApiId), Stage: ref('ApiStage') },
      },
      HealthRecord: {
        Type: 'AWS::Route53::RecordSet',
        Properties: {
          HostedZoneName: `${settings.domain}.`,
          Name: hostname,
          Type: 'A',
          AliasTarget: {
            DNSName: getAtt('HealthDomainName', 'RegionalDomainName'),
            HostedZoneId: getAtt('HealthDomainName', 'RegionalHostedZoneId'),
            EvaluateTargetHealth: false,
          },
        },
      },
    },
    Outputs: {
      HealthUrl: output(`What Route 53 checks in ${settings.region}`, `https://${hostname}${healthPath}`),
    },
  };
}
