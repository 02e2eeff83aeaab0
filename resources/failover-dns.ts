// How `public-api.<domain>` picks a region: Route 53 failover records written by
// plugins/failover-dns.js (home PRIMARY, secondary SECONDARY), and the health check on the home
// region's API that decides between them, a CloudFormation resource of the home stack.
// https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-types.html
import { apiHostname } from './api';
import { jwksPath, restApiId } from './api-names';
import type { Fragment } from './cloudformation';
import { output, ref, sub } from './cloudformation';
import { app, physicalName } from './names';
import { homeRegionOf, isHomeRegion, type StageSettings, secondaryRegionOf } from './stage';

export const apiHealthCheckId = 'ApiHealthCheck';
/** The stack output the plugin reads the health check's id from. */
export const apiHealthCheckOutput = 'ApiHealthCheckId';

/**
 * Where Route 53's checkers call from: three regions (the fewest Route 53 accepts), in Asia and
 * Oceania like the product's users. Each region's checkers call every 30 seconds, so fewer
 * regions are fewer requests billed by API Gateway and WAF.
 * https://docs.aws.amazon.com/Route53/latest/APIReference/API_HealthCheckConfig.html
 */
export const healthCheckerRegions = ['ap-southeast-1', 'ap-northeast-1', 'ap-southeast-2'];
/** Three failed checks 30 seconds apart: the home region is unhealthy after about 90 seconds. */
export const healthCheckIntervalSeconds = 30;
export const healthCheckFailureThreshold = 3;

/** The health check exists on a custom-domain stage with a secondary region to fail over to. */
const checksHome = (settings: StageSettings): boolean =>
  settings.customDomain && isHomeRegion(settings) && secondaryRegionOf(settings) !== undefined;

/**
 * The home stack's health check: HTTPS to the home API's own `execute-api` hostname and the JWKS,
 * never to `public-api.<domain>`, which answers from whichever region the check itself chose.
 */
export function apiHealthCheck(settings: StageSettings): Fragment {
  if (!checksHome(settings)) return { Resources: {} };
  return {
    Resources: {
      [apiHealthCheckId]: {
        Type: 'AWS::Route53::HealthCheck',
        // A check that starts before the stage exists would report the home region down.
        DependsOn: ['ApiStage'],
        Properties: {
          HealthCheckConfig: {
            Type: 'HTTPS',
            FullyQualifiedDomainName: sub(`\${${restApiId}}.execute-api.\${AWS::Region}.\${AWS::URLSuffix}`),
            Port: 443,
            // The stage name is the first path segment on the execute-api hostname.
            ResourcePath: `/${settings.stage}${jwksPath}`,
            // execute-api serves its certificate by SNI only.
            EnableSNI: true,
            RequestInterval: healthCheckIntervalSeconds,
            FailureThreshold: healthCheckFailureThreshold,
            Regions: healthCheckerRegions,
          },
          HealthCheckTags: [
            // The console lists health checks by their Name tag.
            { Key: 'Name', Value: physicalName(settings, `public-api-${settings.region}`) },
            { Key: 'app', Value: app },
            { Key: 'stage', Value: settings.stage },
          ],
        },
      },
    },
    Outputs: {
      [apiHealthCheckOutput]: output(`Route 53 health check of the foundation API in ${settings.region}`, ref(apiHealthCheckId)),
    },
  };
}

/** What plugins/failover-dns.js writes: this region's failover records of `public-api.<domain>`. */
export function failoverDnsPluginConfig(settings: StageSettings) {
  const home = isHomeRegion(settings);
  return {
    // Sandboxes have no custom domain: the plugin does nothing there.
    enabled: settings.customDomain,
    domain: settings.domain,
    recordName: apiHostname(settings),
    region: settings.region,
    homeRegion: homeRegionOf(settings),
    failover: home ? ('PRIMARY' as const) : ('SECONDARY' as const),
    // The record's SetIdentifier: one per region, so each region's deploy owns its own record.
    setIdentifier: settings.region,
    healthCheckOutput: checksHome(settings) ? apiHealthCheckOutput : undefined,
  };
}
