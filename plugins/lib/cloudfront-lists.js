// @ts-check
// CloudFront's account-wide lists, read whole, page by page, through osls's provider (CloudFront
// is global: no region). Shared by the regional lookups' pinning and `sls verify`.

/**
 * @typedef {{ Id: string, ARN: string, DomainName: string, Origins?: { Items?: { DomainName: string }[] } }} DistributionSummary
 * @typedef {{ Id: string, Name: string }} PublicKeySummary
 */

/**
 * Every item of a paged CloudFront list.
 * @param {(marker: string | undefined) => Promise<{ Items?: any[], IsTruncated?: boolean, NextMarker?: string } | undefined>} page
 */
async function listAll(page) {
  /** @type {any[]} */
  const items = [];
  /** @type {string | undefined} */
  let marker;
  do {
    const list = (await page(marker)) ?? {};
    items.push(...(list.Items ?? []));
    marker = list.IsTruncated ? list.NextMarker : undefined;
  } while (marker);
  return items;
}

/**
 * @param {import('./service').AwsProvider} provider
 * @returns {Promise<DistributionSummary[]>}
 */
const allDistributions = (provider) =>
  listAll((Marker) => provider.request('CloudFront', 'listDistributions', Marker ? { Marker } : {}).then((page) => page.DistributionList));

/**
 * @param {import('./service').AwsProvider} provider
 * @returns {Promise<PublicKeySummary[]>}
 */
const allPublicKeys = (provider) =>
  listAll((Marker) => provider.request('CloudFront', 'listPublicKeys', Marker ? { Marker } : {}).then((page) => page.PublicKeyList));

/**
 * The distribution with an origin of this domain name (how the photo distribution is found by
 * its home bucket, as the regional lookup finds it).
 * @param {DistributionSummary[]} distributions @param {string} origin
 */
const distributionWithOrigin = (distributions, origin) =>
  distributions.find((d) => (d.Origins?.Items ?? []).some((item) => item.DomainName === origin));

module.exports = { allDistributions, allPublicKeys, distributionWithOrigin };
