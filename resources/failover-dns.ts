// How `public-api.<domain>` picks a region: Route 53 failover records written by
// plugins/failover-dns.js (home PRIMARY, secondary SECONDARY); the PRIMARY carries the routing
// check of the failover control stack (resources/failover-control.ts): home healthy AND the gate open.
// https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-types.html
import { apiHostname } from './api';
import { controlOutputs } from './failover-control';
import { failsOver } from './region-health';
import { failoverControlRegion, homeRegionOf, isHomeRegion, type StageSettings } from './stage';

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
    // The PRIMARY record's health check, an output of the failover control stack.
    ...(home && failsOver(settings) && { healthCheck: { region: failoverControlRegion, output: controlOutputs.routingCheck } }),
  };
}
