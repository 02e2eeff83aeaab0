// @ts-check
// The public Route 53 hosted zone of the product's domain, shared by the certificates plugin
// (DNS validation records) and the failover DNS plugin (public-api's records).

/**
 * The one public hosted zone named `domain`. ListHostedZonesByName starts at the name and pages
 * (100 zones at most per page): private zones of the same name may come first.
 * @param {{ request: (service: string, method: string, params: object, options?: object) => Promise<any> }} provider
 * @param {string} domain
 * @param {new (message: string) => Error} ServerlessError
 * @param {{ optional?: boolean }} [options] optional: no zone is an answer (undefined), not an error
 * @returns {Promise<{ hostedZoneId: string, Name: string } | undefined>}
 */
async function findHostedZone(provider, domain, ServerlessError, { optional = false } = {}) {
  const zoneName = `${domain}.`;
  /** @type {any[]} */
  const found = [];
  /** @type {Record<string, string>} */
  let page = { DNSName: domain, MaxItems: '100' };
  for (;;) {
    const {
      HostedZones = [],
      IsTruncated,
      NextDNSName,
      NextHostedZoneId,
    } = await provider.request('Route53', 'listHostedZonesByName', page);
    found.push(
      ...HostedZones.filter(
        (/** @type {{ Name: string, Config?: { PrivateZone?: boolean } }} */ zone) => zone.Name === zoneName && !zone.Config?.PrivateZone,
      ),
    );
    // Zones come sorted by name: once another name shows up, no later page holds ours.
    const pastTheName = HostedZones.some((/** @type {{ Name: string }} */ zone) => zone.Name !== zoneName);
    if (!IsTruncated || pastTheName) break;
    page = { DNSName: NextDNSName, HostedZoneId: NextHostedZoneId, MaxItems: '100' };
  }
  if (found.length === 0) {
    if (optional) return undefined;
    throw new ServerlessError(
      `No public Route 53 hosted zone named ${domain} in this account. The certificates are validated and public-api's records ` +
        'written through it: create it (registering the domain in Route 53 does so) and run `sls deploy` again. Nothing was deployed.',
    );
  }
  const ids = found.map((zone) => zone.Id.replace('/hostedzone/', ''));
  if (ids.length > 1) {
    throw new ServerlessError(
      `${ids.length} public Route 53 hosted zones are named ${domain} (${ids.join(', ')}); only the one the registrar ` +
        'delegates to (dig NS) can validate a certificate. Delete the others and run `sls deploy` again. Nothing was deployed.',
    );
  }
  return { hostedZoneId: ids[0], Name: domain };
}

module.exports = { findHostedZone };
