// `sls failover` (plugins/failover.js) with the settings the real serverless.ts packages for prod,
// through a stubbed osls provider: Route 53 (the checks' observations, the gate), CloudWatch (the
// secondary's replication metrics), DynamoDB (a replica per region, copying an item home after a
// delay) and CloudFormation (the control stack's outputs).
import ServerlessError from 'osls/lib/serverless-error';
import { describe, expect, it, vi } from 'vitest';
import Failover from '../plugins/failover';
import { readServiceState, readTemplate } from './package-stage';

const home = 'ap-south-1';
const secondary = 'ap-southeast-1';
const ids = {
  RoutingHealthCheckId: 'hc-routing',
  HomeHealthCheckId: 'hc-home',
  SecondaryHealthCheckId: 'hc-second',
  FailoverGateId: 'hc-gate',
};

interface World {
  /** Checkers reporting success, of 16, per check id. */
  healthy: Record<string, number>;
  gateInverted: boolean;
  /** ReplicationLatency (ms) from the secondary to home, per table; absent: no recent writes. */
  latencyMs: Record<string, number>;
  photosPending?: number;
  /** How long an item written in the secondary takes to be readable at home; Infinity: never. */
  replicationDelayMs: number;
  /** The home-down alarm's state (OK unless said). */
  alarmState?: string;
  /** The control stack: there (default), not deployed yet, or CloudFormation throttling. */
  controlStack?: 'missing' | 'throttled';
}

function fakeAws(world: World) {
  let clock = 0;
  /** Items by region, table and key, with the time they become readable there. */
  const items = new Map<string, { availableAt: number }>();
  const calls: string[] = [];
  const itemKey = (region: string, table: string, key: { id: { S: string } }) => `${region} ${table} ${key.id.S}`;
  const request = vi.fn(async (service: string, method: string, params: any, options?: { region?: string }) => {
    calls.push(`${service}.${method}${options?.region ? ` ${options.region}` : ''}`);
    switch (`${service}.${method}`) {
      case 'CloudFormation.describeStacks':
        expect(options?.region).toBe('us-east-1');
        if (world.controlStack === 'missing') throw new Error('Stack with id movement-pass-foundation-prod does not exist');
        if (world.controlStack === 'throttled') throw new Error('Rate exceeded');
        return { Stacks: [{ Outputs: Object.entries(ids).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })) }] };
      case 'Route53.getHealthCheckStatus': {
        const success = world.healthy[params.HealthCheckId] ?? 0;
        return {
          HealthCheckObservations: Array.from({ length: 16 }, (_, i) => ({
            Region: 'ap-southeast-1',
            StatusReport: { Status: i < success ? 'Success: HTTP Status Code 200, OK.' : 'Failure: Connection timed out.' },
          })),
        };
      }
      case 'CloudWatch.describeAlarms':
        expect(options?.region).toBe('us-east-1');
        expect(params.AlarmNames).toEqual(['movement-pass-prod-failover-home-down']);
        return { MetricAlarms: [{ AlarmName: params.AlarmNames[0], StateValue: world.alarmState ?? 'OK' }] };
      case 'Route53.getHealthCheck':
        expect(params.HealthCheckId).toBe(ids.FailoverGateId);
        return { HealthCheck: { Id: params.HealthCheckId, HealthCheckConfig: { Type: 'CALCULATED', Inverted: world.gateInverted } } };
      case 'Route53.updateHealthCheck':
        expect(params.HealthCheckId).toBe(ids.FailoverGateId);
        world.gateInverted = params.Inverted;
        return {};
      case 'CloudWatch.getMetricData': {
        expect(options?.region).toBe(secondary);
        return {
          MetricDataResults: params.MetricDataQueries.map((query: any) => {
            const { MetricName, Dimensions } = query.MetricStat.Metric;
            const dimension = (name: string) => Dimensions.find((d: any) => d.Name === name)?.Value;
            if (MetricName === 'ReplicationLatency') {
              expect(dimension('ReceivingRegion')).toBe(home);
              const value = world.latencyMs[dimension('TableName')];
              return { Id: query.Id, Values: value === undefined ? [] : [value] };
            }
            expect(MetricName).toBe('OperationsPendingReplication');
            expect(dimension('SourceBucket')).toBe('movement-pass-prod-photos-apse1-111122223333');
            expect(dimension('DestinationBucket')).toBe('movement-pass-prod-photos-aps1-111122223333');
            return { Id: query.Id, Values: world.photosPending === undefined ? [] : [world.photosPending] };
          }),
        };
      }
      case 'DynamoDB.putItem':
        expect(options?.region).toBe(secondary);
        expect(params.Item.id.S).toMatch(/^foundation-replication-marker#/);
        items.set(itemKey(secondary, params.TableName, params.Item), { availableAt: clock });
        items.set(itemKey(home, params.TableName, params.Item), { availableAt: clock + world.replicationDelayMs });
        return {};
      case 'DynamoDB.getItem': {
        expect(options?.region).toBe(home);
        expect(params.ConsistentRead).toBe(true);
        const found = items.get(itemKey(home, params.TableName, params.Key));
        return found && found.availableAt <= clock ? { Item: params.Key } : {};
      }
      case 'DynamoDB.deleteItem':
        items.delete(itemKey(secondary, params.TableName, params.Key));
        items.delete(itemKey(home, params.TableName, params.Key));
        return {};
      default:
        throw new Error(`unexpected ${service}.${method}`);
    }
  });
  return {
    provider: { request, naming: { getStackName: () => 'movement-pass-foundation-prod' } },
    calls,
    items,
    advance: (ms: number) => {
      clock += ms;
    },
    now: () => clock,
  };
}

function failover(stack: 'prod' | 'prod.ap-southeast-1' | 'prod.us-east-1' | 'alice', world: World, options: Record<string, unknown> = {}) {
  const aws = fakeAws(world);
  const serverless: any = {
    service: {
      custom: structuredClone(readServiceState(stack).custom),
      provider: { stage: stack === 'alice' ? 'alice' : 'prod', compiledCloudFormationTemplate: structuredClone(readTemplate(stack)) },
    },
    classes: { Error: ServerlessError },
    getProvider: () => aws.provider,
  };
  const log = { notice: vi.fn(), info: vi.fn(), warning: vi.fn() };
  const plugin = new Failover(serverless, options, { log });
  plugin.sleep = async (ms: number) => aws.advance(ms);
  plugin.now = aws.now;
  const printed = () => log.notice.mock.calls.map(([line]) => line).join('\n');
  return { plugin, aws, log, printed, serverless, run: () => plugin.hooks['failover:failover']() };
}

/** After a failover: home is back, the latch closed the gate, the secondary's writes reach home. */
const afterOutage = (overrides: Partial<World> = {}): World => ({
  healthy: { 'hc-home': 16, 'hc-second': 16 },
  gateInverted: true,
  latencyMs: { 'movement-pass-prod-applicants': 800, 'movement-pass-prod-passes': 1200 },
  photosPending: 0,
  replicationDelayMs: 4000,
  ...overrides,
});

describe('sls failover: status', () => {
  it('shows where traffic goes, both checks, the gate, replication lag and counts, and the RTO', async () => {
    const { run, printed } = failover('prod', afterOutage({ photosPending: 3, healthy: { 'hc-home': 2, 'hc-second': 16 } }));
    await run();
    const text = printed();
    expect(text).toContain('public-api answers from ap-southeast-1 (secondary)');
    expect(text).toContain('ap-south-1 (home): UNHEALTHY (2 of 16 checkers report success)');
    expect(text).toContain('ap-southeast-1 (secondary): healthy (16 of 16 checkers report success)');
    expect(text).toMatch(/gate: CLOSED, traffic held in ap-southeast-1 until `sls failover --stage prod --to home`/);
    expect(text).toContain('movement-pass-prod-applicants 0.8 s, movement-pass-prod-passes 1.2 s; photos pending: 3');
    expect(text).toContain('RTO of the API: about 150 s (90 s for Route 53 to see home fail, 60 s of DNS TTL)');
  });

  it('runs from the secondary region too, the one that answers while home is down', async () => {
    const { run, printed } = failover('prod.ap-southeast-1', afterOutage({ healthy: { 'hc-home': 0, 'hc-second': 16 } }));
    await run();
    expect(printed()).toContain('public-api answers from ap-southeast-1 (secondary)');
  });

  it('says home when home is healthy and the gate open', async () => {
    const { run, printed } = failover('prod', afterOutage({ gateInverted: false, latencyMs: {} }));
    await run();
    expect(printed()).toContain('public-api answers from ap-south-1 (home)');
    expect(printed()).toContain('movement-pass-prod-applicants no recent writes');
  });

  it('refuses settings that lack what it acts on, naming the module that makes them', async () => {
    const broken = failover('prod', afterOutage());
    broken.serverless.service.custom.movementPassFailover.tables = [];
    await expect(broken.run()).rejects.toThrow(/movementPassFailover of serverless.ts lacks tables.*resources\/failover-control.ts/);
    expect(broken.aws.calls).toEqual([]);
  });

  it('explains a stage without failover, and a wrong direction, before any AWS call', async () => {
    const sandbox = failover('alice', afterOutage());
    await expect(sandbox.run()).rejects.toThrow(/Stage "alice" does not fail over/);
    const wrong = failover('prod', afterOutage(), { to: 'back' });
    await expect(wrong.run()).rejects.toThrow(/--to back is not a direction: write --to home .* or --to secondary/);
    expect([...sandbox.aws.calls, ...wrong.aws.calls]).toEqual([]);
  });
});

describe('sls failover --to home', () => {
  it('refuses while a table replicates home too late, changing nothing and writing no marker', async () => {
    const world = afterOutage({ latencyMs: { 'movement-pass-prod-applicants': 45_000, 'movement-pass-prod-passes': 900 } });
    const { run, aws } = failover('prod', world, { to: 'home' });
    await expect(run()).rejects.toThrow(
      /Traffic stays in ap-southeast-1: movement-pass-prod-applicants replicates to ap-south-1 45\.0 s late \(limit 10 s\)\. Nothing was changed/,
    );
    expect(world.gateInverted).toBe(true);
    expect(aws.calls.filter((call) => call.startsWith('DynamoDB'))).toEqual([]);
  });

  it('refuses while the home-down alarm is not back to OK: opened then, the latch could not close the gate again', async () => {
    const world = afterOutage({ alarmState: 'ALARM' });
    await expect(failover('prod', world, { to: 'home' }).run()).rejects.toThrow(
      /the alarm movement-pass-prod-failover-home-down is ALARM, not OK yet/,
    );
    expect(world.gateInverted).toBe(true);
  });

  it('refuses while photos wait to replicate, or home is unhealthy', async () => {
    const pending = afterOutage({ photosPending: 12 });
    await expect(failover('prod', pending, { to: 'home' }).run()).rejects.toThrow(/12 photo operations of ap-southeast-1 still wait/);
    const down = afterOutage({ healthy: { 'hc-home': 0, 'hc-second': 16 } });
    await expect(failover('prod', down, { to: 'home' }).run()).rejects.toThrow(/ap-south-1 fails its health check/);
    expect([pending.gateInverted, down.gateInverted]).toEqual([true, true]);
  });

  it('refuses when a marker written in the secondary does not reach home in time, and removes the markers', async () => {
    const world = afterOutage({ replicationDelayMs: Number.POSITIVE_INFINITY });
    const { run, aws } = failover('prod', world, { to: 'home' });
    await expect(run()).rejects.toThrow(
      /a marker written in ap-southeast-1 did not reach ap-south-1 within 60 s \(movement-pass-prod-applicants, movement-pass-prod-passes\)/,
    );
    expect(world.gateInverted).toBe(true);
    expect(aws.items.size).toBe(0);
  });

  it('opens the gate once replication has caught up, after reading the markers at home', async () => {
    const world = afterOutage();
    const { run, aws, printed } = failover('prod', world, { to: 'home' });
    await run();
    expect(world.gateInverted).toBe(false);
    expect(aws.now()).toBeGreaterThanOrEqual(4000);
    expect(aws.calls.filter((call) => call === 'DynamoDB.putItem ap-southeast-1')).toHaveLength(2);
    expect(aws.items.size).toBe(0);
    expect(printed()).toMatch(/Gate open: public-api answers from ap-south-1 again/);
  });
});

describe('sls failover --to secondary', () => {
  it('closes the gate for a planned failover, and refuses when the secondary is unhealthy', async () => {
    const open = afterOutage({ gateInverted: false });
    await failover('prod', open, { to: 'secondary' }).run();
    expect(open.gateInverted).toBe(true);
    const broken = afterOutage({ gateInverted: false, healthy: { 'hc-home': 16, 'hc-second': 1 } });
    await expect(failover('prod', broken, { to: 'secondary' }).run()).rejects.toThrow(/ap-southeast-1 fails its health check/);
    expect(broken.gateInverted).toBe(false);
  });
});

describe('a deploy of the failover control stack', () => {
  const gateConfig = (template: any) => template.Resources.FailoverGate.Properties.HealthCheckConfig;

  it('keeps a closed gate closed: the template it deploys says Inverted, so CloudFormation never opens it', async () => {
    const { plugin, serverless, log } = failover('prod.us-east-1', afterOutage());
    expect(gateConfig(serverless.service.provider.compiledCloudFormationTemplate).Inverted).toBe(false);
    await plugin.hooks['before:deploy:deploy']();
    expect(gateConfig(serverless.service.provider.compiledCloudFormationTemplate).Inverted).toBe(true);
    expect(log.notice).toHaveBeenCalledWith(expect.stringMatching(/gate is closed: this deploy keeps it closed/));
  });

  it('leaves an open gate open, a control stack not deployed yet alone, and the regions’ deploys alone', async () => {
    const open = failover('prod.us-east-1', afterOutage({ gateInverted: false }));
    await open.plugin.hooks['before:deploy:deploy']();
    expect(gateConfig(open.serverless.service.provider.compiledCloudFormationTemplate).Inverted).toBe(false);
    const first = failover('prod.us-east-1', afterOutage({ controlStack: 'missing' }));
    await first.plugin.hooks['before:deploy:deploy']();
    expect(gateConfig(first.serverless.service.provider.compiledCloudFormationTemplate).Inverted).toBe(false);
    const region = failover('prod', afterOutage());
    await region.plugin.hooks['before:deploy:deploy']();
    expect(region.aws.calls).toEqual([]);
  });

  it('stops the deploy when it cannot tell whether the gate is closed', async () => {
    const { plugin } = failover('prod.us-east-1', afterOutage({ controlStack: 'throttled' }));
    await expect(plugin.hooks['before:deploy:deploy']()).rejects.toThrow(/Rate exceeded/);
  });
});
