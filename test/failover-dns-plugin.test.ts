// plugins/failover-dns.js through a stubbed osls provider (every AWS call goes through
// provider.request), with the plugin settings the real serverless.ts packages for prod's two
// regions, against a fake Route 53 that applies a change batch the way Route 53 does: whole or
// not at all, refusing a batch that would mix failover and simple records of one name and type.
import ServerlessError from 'osls/lib/serverless-error';
import { describe, expect, it, vi } from 'vitest';
import FailoverDns from '../plugins/failover-dns';
import { readServiceState } from './package-stage';

const zoneId = 'ZMP';
const name = 'public-api.movement-pass.com.';
const stackName = 'movement-pass-foundation-prod';
const healthCheckId = 'hc-0123';
/** API Gateway's regional domains of public-api in each region, as GetDomainName reports them. */
const apiDomains: Record<string, { regionalDomainName: string; regionalHostedZoneId: string }> = {
  'ap-south-1': { regionalDomainName: 'd-home.execute-api.ap-south-1.amazonaws.com', regionalHostedZoneId: 'Z3VO1THU9YC4UR' },
  'ap-southeast-1': { regionalDomainName: 'd-second.execute-api.ap-southeast-1.amazonaws.com', regionalHostedZoneId: 'ZL327KTPIQFUL' },
};

type RecordSet = {
  Name: string;
  Type: string;
  SetIdentifier?: string;
  Failover?: string;
  HealthCheckId?: string;
  AliasTarget: { DNSName: string; HostedZoneId: string; EvaluateTargetHealth: boolean };
};
type Change = { Action: string; ResourceRecordSet: RecordSet };

const awsError = (code: string, statusCode = 400) => Object.assign(new Error(`${code}: refused`), { providerError: { code, statusCode } });
const same = (a: RecordSet, b: RecordSet) => JSON.stringify(a) === JSON.stringify(b);
const key = (record: RecordSet) => `${record.Name} ${record.Type} ${record.SetIdentifier ?? ''}`;

/** serverless-domain-manager's simple alias records, as it wrote them for the home region. */
const simpleRecords = (): RecordSet[] =>
  ['A', 'AAAA'].map((Type) => ({
    Name: name,
    Type,
    AliasTarget: {
      DNSName: `${apiDomains['ap-south-1'].regionalDomainName}.`,
      HostedZoneId: 'Z3VO1THU9YC4UR',
      EvaluateTargetHealth: false,
    },
  }));

function fakeRoute53(records: RecordSet[] = []) {
  const state = { records: [...records], batches: [] as Change[][], refuse: undefined as string | undefined };
  /** Route 53's rules for one name and type: one routing policy, one simple record, one PRIMARY and one SECONDARY. */
  const valid = (all: RecordSet[]) =>
    ['A', 'AAAA'].every((type) => {
      const group = all.filter((record) => record.Name === name && record.Type === type);
      const failover = group.filter((record) => record.Failover);
      if (failover.length > 0 && failover.length < group.length) return false;
      if (failover.length === 0) return group.length <= 1;
      return ['PRIMARY', 'SECONDARY'].every((role) => failover.filter((record) => record.Failover === role).length <= 1);
    });
  const apply = (changes: Change[]) => {
    if (state.refuse) throw awsError(state.refuse);
    let next = [...state.records];
    for (const { Action, ResourceRecordSet: record } of changes) {
      if (Action === 'DELETE') {
        if (!next.some((candidate) => same(candidate, record))) throw awsError('InvalidChangeBatch');
        next = next.filter((candidate) => !same(candidate, record));
      } else {
        if (next.some((candidate) => key(candidate) === key(record))) throw awsError('InvalidChangeBatch');
        next.push(record);
      }
    }
    if (!valid(next)) throw awsError('InvalidChangeBatch');
    state.batches.push(changes);
    state.records = next;
  };
  return { state, apply };
}

interface FakeAccount {
  route53: ReturnType<typeof fakeRoute53>;
  /** The account has no public hosted zone of the domain. */
  noZone?: boolean;
  /** Regions whose API domain exists. */
  apiDomainIn?: string[];
  /** The failover control stack's outputs. */
  outputs?: { OutputKey: string; OutputValue: string }[];
}

function fakeProvider(account: FakeAccount) {
  const calls: string[] = [];
  const request = vi.fn(async (service: string, method: string, params: any, options?: { region?: string }) => {
    calls.push(`${service}.${method}${options?.region ? ` ${options.region}` : ''}`);
    switch (`${service}.${method}`) {
      case 'Route53.listHostedZonesByName':
        if (account.noZone) return { HostedZones: [], IsTruncated: false };
        return { HostedZones: [{ Id: `/hostedzone/${zoneId}`, Name: 'movement-pass.com.', Config: { PrivateZone: false } }] };
      case 'Route53.listResourceRecordSets': {
        expect(params.HostedZoneId).toBe(zoneId);
        const sorted = [...account.route53.state.records].sort((a, b) => key(a).localeCompare(key(b)));
        return { ResourceRecordSets: structuredClone(sorted), IsTruncated: false };
      }
      case 'Route53.changeResourceRecordSets':
        expect(params.HostedZoneId).toBe(zoneId);
        account.route53.apply(structuredClone(params.ChangeBatch.Changes));
        return { ChangeInfo: { Status: 'PENDING' } };
      case 'APIGateway.getDomainName': {
        const region = options?.region as string;
        if (!(account.apiDomainIn ?? Object.keys(apiDomains)).includes(region)) throw awsError('NotFoundException', 404);
        return { domainName: params.domainName, ...apiDomains[region] };
      }
      case 'CloudFormation.describeStacks':
        // The routing check is the failover control stack's, in us-east-1.
        expect(params.StackName).toBe(stackName);
        expect(options?.region).toBe('us-east-1');
        return {
          Stacks: [
            { StackName: stackName, Outputs: account.outputs ?? [{ OutputKey: 'RoutingHealthCheckId', OutputValue: healthCheckId }] },
          ],
        };
      default:
        throw new Error(`unexpected ${service}.${method}`);
    }
  });
  return { request, calls, naming: { getStackName: () => stackName } };
}

/** The plugin as osls loads it for one packaged stack: `prod` (home) or `prod.ap-southeast-1`. */
function plugin(stack: 'prod' | 'prod.ap-southeast-1' | 'alice', account: FakeAccount) {
  const provider = fakeProvider(account);
  const serverless: any = {
    service: { custom: structuredClone(readServiceState(stack).custom), provider: { stage: stack === 'alice' ? 'alice' : 'prod' } },
    classes: { Error: ServerlessError },
    getProvider: () => provider,
    serviceOutputs: new Map(),
  };
  const log = { notice: vi.fn(), info: vi.fn(), warning: vi.fn() };
  return { plugin: new FailoverDns(serverless, {}, { log }), provider, serverless, log };
}
const home = (account: FakeAccount) => plugin('prod', account);
const secondary = (account: FakeAccount) => plugin('prod.ap-southeast-1', account);

describe('failover DNS plugin: the home region (PRIMARY)', () => {
  it("replaces serverless-domain-manager's simple records with PRIMARY failover records in one batch, with the health check", async () => {
    const route53 = fakeRoute53(simpleRecords());
    const { plugin: primary } = home({ route53 });

    await primary.hooks['after:deploy:deploy']();

    expect(route53.state.batches).toHaveLength(1);
    const [batch] = route53.state.batches;
    expect(batch.filter((change) => change.Action === 'DELETE').map((change) => change.ResourceRecordSet)).toEqual(simpleRecords());
    expect(batch.filter((change) => change.Action === 'CREATE').map((change) => change.ResourceRecordSet)).toEqual(
      ['A', 'AAAA'].map((Type) => ({
        Name: name,
        Type,
        SetIdentifier: 'ap-south-1',
        Failover: 'PRIMARY',
        HealthCheckId: healthCheckId,
        AliasTarget: {
          DNSName: 'd-home.execute-api.ap-south-1.amazonaws.com.',
          HostedZoneId: 'Z3VO1THU9YC4UR',
          EvaluateTargetHealth: false,
        },
      })),
    );
    // Every name and type had an answer before the batch and has one after: no gap between delete and create.
    expect(route53.state.records.map((record) => `${record.Type} ${record.Failover}`).sort()).toEqual(['A PRIMARY', 'AAAA PRIMARY']);
  });

  it('reads the routing check id from the failover control stack and the alias target from API Gateway in the home region', async () => {
    const route53 = fakeRoute53();
    const { plugin: primary, provider } = home({ route53 });

    await primary.hooks['after:deploy:deploy']();

    expect(provider.calls).toEqual(
      expect.arrayContaining(['APIGateway.getDomainName ap-south-1', 'CloudFormation.describeStacks us-east-1']),
    );
    expect(provider.calls.filter((call) => call.includes('ap-southeast-1'))).toEqual([]);
  });

  it('changes nothing on a rerun: the records are already what it wants', async () => {
    const route53 = fakeRoute53(simpleRecords());
    await home({ route53 }).plugin.hooks['after:deploy:deploy']();
    const { plugin: again, provider, log } = home({ route53 });

    await again.hooks['after:deploy:deploy']();

    expect(route53.state.batches).toHaveLength(1);
    expect(provider.calls).not.toContain('Route53.changeResourceRecordSets');
    expect(log.info).toHaveBeenCalledWith(expect.stringContaining('already in place'));
  });

  it('moves its record to a new API domain or health check by deleting and creating in one batch, leaving the SECONDARY alone', async () => {
    const route53 = fakeRoute53(simpleRecords());
    await home({ route53 }).plugin.hooks['after:deploy:deploy']();
    await secondary({ route53 }).plugin.hooks['after:deploy:deploy']();
    const secondaryRecords = route53.state.records.filter((record) => record.Failover === 'SECONDARY');

    await home({ route53, outputs: [{ OutputKey: 'RoutingHealthCheckId', OutputValue: 'hc-new' }] }).plugin.hooks['after:deploy:deploy']();

    const last = route53.state.batches.at(-1) as Change[];
    expect(last.map((change) => `${change.Action} ${change.ResourceRecordSet.Type} ${change.ResourceRecordSet.HealthCheckId}`)).toEqual([
      `DELETE A ${healthCheckId}`,
      `DELETE AAAA ${healthCheckId}`,
      'CREATE A hc-new',
      'CREATE AAAA hc-new',
    ]);
    expect(route53.state.records.filter((record) => record.Failover === 'SECONDARY')).toEqual(secondaryRecords);
  });

  it('says which output is missing, and how to get it, when the failover control stack has no routing check output', async () => {
    const route53 = fakeRoute53(simpleRecords());
    const { plugin: primary } = home({ route53, outputs: [] });

    const failure = primary.hooks['after:deploy:deploy']();

    await expect(failure).rejects.toBeInstanceOf(ServerlessError);
    await expect(failure).rejects.toThrow(
      /control stack movement-pass-foundation-prod in us-east-1 has no output RoutingHealthCheckId.*npx sls deploy --stage prod --region us-east-1/,
    );
    expect(route53.state.batches).toEqual([]);
  });

  it('says the API domain is missing in its region instead of pointing the name nowhere', async () => {
    const route53 = fakeRoute53(simpleRecords());
    const { plugin: primary } = home({ route53, apiDomainIn: [] });

    await expect(primary.hooks['after:deploy:deploy']()).rejects.toThrow(
      /API Gateway in ap-south-1 has no regional custom domain public-api\.movement-pass\.com.*deploy this region again/,
    );
    expect(route53.state.batches).toEqual([]);
  });

  it('says nothing changed and to run again when Route 53 refuses the batch', async () => {
    const route53 = fakeRoute53(simpleRecords());
    route53.state.refuse = 'InvalidChangeBatch';
    const { plugin: primary } = home({ route53 });

    const failure = primary.hooks['after:deploy:deploy']();

    await expect(failure).rejects.toBeInstanceOf(ServerlessError);
    await expect(failure).rejects.toThrow(
      /refused the failover records of public-api\.movement-pass\.com in ap-south-1.*nothing was changed/,
    );
    expect(route53.state.records).toEqual(simpleRecords());
  });
});

describe('failover DNS plugin: the secondary region (SECONDARY)', () => {
  it('adds SECONDARY records without health check next to the PRIMARY, touching nothing else', async () => {
    const route53 = fakeRoute53(simpleRecords());
    await home({ route53 }).plugin.hooks['after:deploy:deploy']();
    const primaries = structuredClone(route53.state.records);
    const { plugin: second, provider } = secondary({ route53 });

    await second.hooks['before:deploy:deploy']();
    await second.hooks['after:deploy:deploy']();

    expect(route53.state.batches.at(-1)).toEqual(
      ['A', 'AAAA'].map((Type) => ({
        Action: 'CREATE',
        ResourceRecordSet: {
          Name: name,
          Type,
          SetIdentifier: 'ap-southeast-1',
          Failover: 'SECONDARY',
          AliasTarget: {
            DNSName: 'd-second.execute-api.ap-southeast-1.amazonaws.com.',
            HostedZoneId: 'ZL327KTPIQFUL',
            EvaluateTargetHealth: false,
          },
        },
      })),
    );
    expect(route53.state.records.filter((record) => record.Failover === 'PRIMARY')).toEqual(primaries);
    // It needs nothing from the home region: no call names it, and no stack output is read.
    expect(provider.calls.filter((call) => call.includes('ap-south-1') || call.startsWith('CloudFormation'))).toEqual([]);
  });

  it('changes nothing on a rerun', async () => {
    const route53 = fakeRoute53();
    await secondary({ route53 }).plugin.hooks['after:deploy:deploy']();
    const { plugin: again, provider } = secondary({ route53 });

    await again.hooks['after:deploy:deploy']();

    expect(route53.state.batches).toHaveLength(1);
    expect(provider.calls).not.toContain('Route53.changeResourceRecordSets');
  });

  it('refuses to deploy, before the stack, while the name still has simple records only the home deploy may replace', async () => {
    const route53 = fakeRoute53(simpleRecords());
    const { plugin: second } = secondary({ route53 });

    const failure = second.hooks['before:deploy:deploy']();

    await expect(failure).rejects.toBeInstanceOf(ServerlessError);
    await expect(failure).rejects.toThrow(
      /still has A and AAAA records without failover routing.*npx sls deploy --stage prod --region ap-south-1` first, then this region again/,
    );
    expect(route53.state.records).toEqual(simpleRecords());
    expect(route53.state.batches).toEqual([]);
  });
});

describe('failover DNS plugin on sls remove', () => {
  async function bothRegions() {
    const route53 = fakeRoute53(simpleRecords());
    await home({ route53 }).plugin.hooks['after:deploy:deploy']();
    await secondary({ route53 }).plugin.hooks['after:deploy:deploy']();
    return route53;
  }

  it("deletes the secondary region's records only", async () => {
    const route53 = await bothRegions();

    await secondary({ route53 }).plugin.hooks['before:remove:remove']();

    expect(route53.state.batches.at(-1)?.map((change) => `${change.Action} ${change.ResourceRecordSet.Failover}`)).toEqual([
      'DELETE SECONDARY',
      'DELETE SECONDARY',
    ]);
    expect(route53.state.records.map((record) => `${record.Type} ${record.Failover}`).sort()).toEqual(['A PRIMARY', 'AAAA PRIMARY']);
  });

  it("deletes the home region's records and warns that the name now answers from the secondary", async () => {
    const route53 = await bothRegions();
    const { plugin: primary, log } = home({ route53 });

    await primary.hooks['before:remove:remove']();

    expect(route53.state.records.map((record) => record.Failover)).toEqual(['SECONDARY', 'SECONDARY']);
    expect(log.warning).toHaveBeenCalledWith(expect.stringContaining('now answers from ap-southeast-1 only'));
  });

  it('has nothing to remove, and says so, when the hosted zone is gone', async () => {
    const route53 = fakeRoute53();
    const { plugin: second, provider, log } = secondary({ route53, noZone: true });

    await second.hooks['before:remove:remove']();

    expect(provider.calls).toEqual(['Route53.listHostedZonesByName']);
    expect(log.info).toHaveBeenCalledWith(expect.stringContaining('has no record to remove'));
  });

  it('stops a deploy when the hosted zone is missing, saying how to fix it', async () => {
    const route53 = fakeRoute53();
    const { plugin: primary } = home({ route53, noZone: true });

    const failure = primary.hooks['after:deploy:deploy']();

    await expect(failure).rejects.toBeInstanceOf(ServerlessError);
    await expect(failure).rejects.toThrow(/No public Route 53 hosted zone named movement-pass\.com .* create it/);
  });

  it('does nothing when its records are already gone', async () => {
    const route53 = fakeRoute53();
    const { plugin: second, provider } = secondary({ route53 });

    await second.hooks['before:remove:remove']();

    expect(provider.calls).not.toContain('Route53.changeResourceRecordSets');
  });
});

describe('failover DNS plugin: settings', () => {
  it('does nothing at all in a sandbox (no custom domain)', async () => {
    const route53 = fakeRoute53();
    const { plugin: sandbox, provider } = plugin('alice', { route53 });

    await sandbox.hooks['before:deploy:deploy']();
    await sandbox.hooks['after:deploy:deploy']();
    await sandbox.hooks['before:remove:remove']();
    await sandbox.hooks['after:info:info']();

    expect(provider.calls).toEqual([]);
  });

  it('refuses wrong settings before any AWS call, naming the module to fix', async () => {
    const route53 = fakeRoute53();
    const { plugin: primary, serverless, provider } = home({ route53 });
    serverless.service.custom.movementPassFailoverDns.failover = 'LATENCY';

    const failure = primary.hooks['after:deploy:deploy']();

    await expect(failure).rejects.toBeInstanceOf(ServerlessError);
    await expect(failure).rejects.toThrow(/failover is "LATENCY", not PRIMARY or SECONDARY.*resources\/failover-dns\.ts/);
    expect(provider.calls).toEqual([]);
  });

  it('lists the records of the name on sls info', async () => {
    const route53 = fakeRoute53(simpleRecords());
    await home({ route53 }).plugin.hooks['after:deploy:deploy']();
    const { plugin: primary, serverless } = home({ route53 });

    await primary.hooks['after:info:info']();

    expect(serverless.serviceOutputs.get('public-api.movement-pass.com failover')).toEqual([
      `A PRIMARY ap-south-1 -> d-home.execute-api.ap-south-1.amazonaws.com. (health check ${healthCheckId})`,
      `AAAA PRIMARY ap-south-1 -> d-home.execute-api.ap-south-1.amazonaws.com. (health check ${healthCheckId})`,
    ]);
  });
});
