// plugins/regional-lookups.js on the real packaged template of prod's secondary region, through a
// stubbed osls provider: DynamoDB (this region's replicas) and CloudFront (paged lists). The same
// answers pin the same Refresh (a skipped deploy, a clean diff); a home stack created anew changes
// the lookups that see it, and only those; nothing is asked of the home region.
import ServerlessError from 'osls/lib/serverless-error';
import { describe, expect, it, vi } from 'vitest';
import RegionalLookups from '../plugins/regional-lookups';
import { readServiceState, readTemplate } from './package-stage';

const region = 'ap-southeast-1';
const account = '111122223333';

interface World {
  tables: Record<string, { TableArn: string; LatestStreamArn: string }>;
  distributions: { Id: string; ARN: string; DomainName: string; origin: string }[];
  keys: { Id: string; Name: string }[];
}

const world = (): World => ({
  tables: Object.fromEntries(
    ['applicants', 'passes'].map((name) => [
      `movement-pass-prod-${name}`,
      {
        TableArn: `arn:aws:dynamodb:${region}:${account}:table/movement-pass-prod-${name}`,
        LatestStreamArn: `arn:aws:dynamodb:${region}:${account}:table/movement-pass-prod-${name}/stream/2026-01-01T00:00:00.000`,
      },
    ]),
  ),
  distributions: [
    // Another distribution of the account comes first, on its own page.
    {
      Id: 'EOTHER',
      ARN: 'arn:aws:cloudfront::111122223333:distribution/EOTHER',
      DomainName: 'x.cloudfront.net',
      origin: 'other.s3.amazonaws.com',
    },
    {
      Id: 'EPHOTOS1',
      ARN: 'arn:aws:cloudfront::111122223333:distribution/EPHOTOS1',
      DomainName: 'd1.cloudfront.net',
      origin: `movement-pass-prod-photos-aps1-${account}.s3.ap-south-1.amazonaws.com`,
    },
  ],
  keys: [{ Id: 'K2PUBLIC', Name: 'movement-pass-prod-photo-url-0' }],
});

function plugin(stack: 'prod' | 'prod.ap-southeast-1', aws: World, options: Record<string, unknown> = {}, commands = ['deploy']) {
  const calls: string[] = [];
  const request = vi.fn(async (service: string, method: string, params: any, requestOptions?: { region?: string }) => {
    calls.push(`${service}.${method}${requestOptions?.region ? ` ${requestOptions.region}` : ''}`);
    if (service === 'DynamoDB' && method === 'describeTable') {
      expect(requestOptions?.region).toBe(region);
      const table = aws.tables[params.TableName];
      if (!table) throw Object.assign(new Error('not found'), { providerError: { code: 'ResourceNotFoundException' } });
      return { Table: table };
    }
    if (service === 'CloudFront' && method === 'listDistributions') {
      const index = params.Marker ? Number(params.Marker) : 0;
      const d = aws.distributions[index];
      const more = index + 1 < aws.distributions.length;
      return {
        DistributionList: {
          Items: d ? [{ Id: d.Id, ARN: d.ARN, DomainName: d.DomainName, Origins: { Items: [{ DomainName: d.origin }] } }] : [],
          IsTruncated: more,
          ...(more && { NextMarker: String(index + 1) }),
        },
      };
    }
    if (service === 'CloudFront' && method === 'listPublicKeys') return { PublicKeyList: { Items: aws.keys } };
    throw new Error(`unexpected ${service}.${method}`);
  });
  const template = structuredClone(readTemplate(stack));
  const serverless: any = {
    service: { custom: structuredClone(readServiceState(stack).custom), provider: { compiledCloudFormationTemplate: template } },
    processedInput: { commands },
    classes: { Error: ServerlessError },
    getProvider: () => ({ request, getRegion: () => (stack === 'prod' ? 'ap-south-1' : region) }),
  };
  const log = { notice: vi.fn(), info: vi.fn(), warning: vi.fn() };
  const lookups = new RegionalLookups(serverless, options, { log });
  const refresh = () =>
    Object.fromEntries(
      Object.entries(template.Resources)
        .filter(([, r]) => /^Custom::(TableReplica|PhotoDistribution|CloudFrontPublicKey)$/.test(r.Type))
        .map(([id, r]) => [id, r.Properties.Refresh]),
    );
  return { lookups, calls, refresh };
}

describe('regional lookups at deploy time', () => {
  it('pins every lookup of a secondary region to what it finds there, the same answers to the same Refresh', async () => {
    const first = plugin('prod.ap-southeast-1', world());
    await first.lookups.hooks['before:deploy:deploy']();
    const pinned = first.refresh();
    expect(Object.keys(pinned).sort()).toEqual([
      'ApplicantsTableReplica',
      'PassesTableReplica',
      'PhotoDistributionLookup',
      'PhotoUrlPublicKeyLookup',
    ]);
    for (const value of Object.values(pinned)) expect(value).toMatch(/^[0-9a-f]{16}$/);
    // Nothing asked of the home region; CloudFront's list read page by page.
    expect(first.calls.filter((call) => call.includes('ap-south-1'))).toEqual([]);
    expect(first.calls.filter((call) => call === 'CloudFront.listDistributions')).toHaveLength(2);

    const again = plugin('prod.ap-southeast-1', world());
    await again.lookups.hooks['before:deploy:deploy']();
    expect(again.refresh()).toEqual(pinned);
  });

  it('changes the Refresh of exactly the lookups whose answer changed: a home stack created anew', async () => {
    const before = plugin('prod.ap-southeast-1', world());
    await before.lookups.hooks['before:deploy:deploy']();
    const recreated = world();
    recreated.distributions[1] = {
      ...recreated.distributions[1],
      Id: 'EPHOTOS2',
      ARN: 'arn:aws:cloudfront::111122223333:distribution/EPHOTOS2',
    };
    recreated.keys = [{ Id: 'K9NEW', Name: 'movement-pass-prod-photo-url-0' }];
    const after = plugin('prod.ap-southeast-1', recreated);
    await after.lookups.hooks['before:deploy:deploy']();
    const [was, is] = [before.refresh(), after.refresh()];
    expect(is.PhotoDistributionLookup).not.toBe(was.PhotoDistributionLookup);
    expect(is.PhotoUrlPublicKeyLookup).not.toBe(was.PhotoUrlPublicKeyLookup);
    expect(is.ApplicantsTableReplica).toBe(was.ApplicantsTableReplica);
    expect(is.PassesTableReplica).toBe(was.PassesTableReplica);
  });

  it('leaves a lookup with nothing to find yet to say so itself', async () => {
    const missing = world();
    missing.tables = {};
    const { lookups, refresh } = plugin('prod.ap-southeast-1', missing);
    await lookups.hooks['before:deploy:deploy']();
    expect(refresh().ApplicantsTableReplica).toBeUndefined();
    expect(refresh().PhotoDistributionLookup).toMatch(/^[0-9a-f]{16}$/);
  });

  it('asks nothing for the home stack (no lookups), nor for an offline diff or a package', async () => {
    const home = plugin('prod', world());
    await home.lookups.hooks['before:deploy:deploy']();
    const offline = plugin('prod.ap-southeast-1', world(), { against: 'old.json' }, ['diff']);
    await offline.lookups.hooks['after:package:finalize']();
    const pack = plugin('prod.ap-southeast-1', world(), {}, ['package']);
    await pack.lookups.hooks['after:package:finalize']();
    expect([...home.calls, ...offline.calls, ...pack.calls]).toEqual([]);
    const online = plugin('prod.ap-southeast-1', world(), {}, ['diff']);
    await online.lookups.hooks['after:package:finalize']();
    expect(online.refresh().PassesTableReplica).toMatch(/^[0-9a-f]{16}$/);
  });
});
