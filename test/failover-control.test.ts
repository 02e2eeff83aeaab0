// Region failover an operator controls: each region's own health hostname and route, prod's
// failover control stack in us-east-1 (its checks, the gate and its latch, the alarms), read from
// the packaged templates; the latch's entry driven with a stubbed Route 53.
import { GetHealthCheckCommand, Route53Client, UpdateHealthCheckCommand } from '@aws-sdk/client-route-53';
import type { SNSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { healthThrottle } from '../resources/region-health';
import { settingsFor } from '../resources/stage';
import { readTemplate, type Template } from './package-stage';
import { resource, resourcesOfType } from './template';

const prod = readTemplate('prod');
const secondary = readTemplate('prod.ap-southeast-1');
const control = readTemplate('prod.us-east-1');

describe.each([
  ['ap-south-1', prod],
  ['ap-southeast-1', secondary],
])("prod's API in %s: a health route on the region's own hostname", (region, template) => {
  it('answers GET /health itself (MOCK), so it is healthy when the API, its domain and its mapping are', () => {
    expect(resource(template, 'HealthResource').Properties.PathPart).toBe('health');
    expect(resource(template, 'HealthMethod', 'AWS::ApiGateway::Method').Properties).toMatchObject({
      HttpMethod: 'GET',
      AuthorizationType: 'NONE',
      Integration: { Type: 'MOCK' },
    });
  });

  it(`serves it on public-api-${region}.movement-pass.com, a domain, mapping and alias record of its own`, () => {
    const hostname = `public-api-${region}.movement-pass.com`;
    expect(resource(template, 'HealthDomainName', 'AWS::ApiGateway::DomainName').Properties).toEqual({
      DomainName: hostname,
      RegionalCertificateArn: '{{resolve:ssm:/movement-pass/prod/serverCertificateArn}}',
      EndpointConfiguration: { Types: ['REGIONAL'] },
      SecurityPolicy: 'TLS_1_2',
    });
    expect(resource(template, 'HealthBasePathMapping').Properties).toEqual({
      DomainName: { Ref: 'HealthDomainName' },
      RestApiId: { Ref: 'ApiGatewayRestApi' },
      Stage: { Ref: 'ApiStage' },
    });
    expect(resource(template, 'HealthRecord').Properties).toMatchObject({
      HostedZoneName: 'movement-pass.com.',
      Name: hostname,
      Type: 'A',
      AliasTarget: { DNSName: { 'Fn::GetAtt': ['HealthDomainName', 'RegionalDomainName'] } },
    });
  });

  it('keeps answering 200 through a flood of 429s on the JWKS: its own throttle', () => {
    const api = apiModel(template);
    // A few dozen addresses, each under the web ACL's limit per address.
    const flooder = (i: number) => `203.0.113.${i % 50}`;
    const checker = '54.251.31.1';
    // Ten seconds of 1,000 JWKS requests a second, with a check every second.
    const answers: number[] = [];
    let jwks429 = 0;
    for (let second = 0; second < 10; second++) {
      for (let i = 0; i < 1000; i++) if (api.request(flooder(i), '/.well-known/jwks.json', second) === 429) jwks429++;
      answers.push(api.request(checker, '/health', second));
    }
    expect(jwks429).toBeGreaterThan(5000);
    expect(answers).toEqual(Array(10).fill(200));
    // The model can fail: with the stage throttle alone, the same flood starves the health route.
    const shared = apiModel(template, { withoutHealthSettings: true });
    const starved: number[] = [];
    for (let second = 0; second < 10; second++) {
      for (let i = 0; i < 1000; i++) shared.request(flooder(i), '/.well-known/jwks.json', second);
      starved.push(shared.request(checker, '/health', second));
    }
    expect(starved).toContain(429);
  });

  it('keeps answering the checkers through a flood on itself: one address is blocked, many are under its ceiling', () => {
    const api = apiModel(template);
    const checker = '54.251.31.1';
    const answers: number[] = [];
    let blocked = 0;
    for (let second = 0; second < 10; second++) {
      // One address at 200 requests a second, and a hundred more at 5 a second each.
      for (let i = 0; i < 200; i++) if (api.request('198.51.100.7', '/health', second) === 429) blocked++;
      for (let i = 0; i < 500; i++) api.request(`203.0.113.${i % 100}`, '/health', second);
      answers.push(api.request(checker, '/health', second));
    }
    expect(blocked).toBeGreaterThan(900);
    expect(answers).toEqual(Array(10).fill(200));
  });
});

describe('sandboxes: no failover, no health route, nothing billed', () => {
  it.each(['alice', 'bob', 'bob.ap-southeast-1'])('%s has no health route, domain, record or check', (stack) => {
    const template = readTemplate(stack);
    for (const type of ['AWS::ApiGateway::DomainName', 'AWS::Route53::RecordSet', 'AWS::Route53::HealthCheck']) {
      expect(resourcesOfType(template, type), `${stack} ${type}`).toEqual({});
    }
    expect(template.Resources.HealthMethod).toBeUndefined();
  });
});

describe("prod's failover control stack (us-east-1)", () => {
  const checkConfig = (id: string) => resource(control, id, 'AWS::Route53::HealthCheck').Properties.HealthCheckConfig;

  it.each([
    ['HomeHealthCheck', 'ap-south-1'],
    ['SecondaryHealthCheck', 'ap-southeast-1'],
  ])("%s calls the health route of %s's own hostname over HTTPS with SNI", (id, region) => {
    expect(checkConfig(id)).toEqual({
      Type: 'HTTPS',
      FullyQualifiedDomainName: `public-api-${region}.movement-pass.com`,
      Port: 443,
      ResourcePath: '/health',
      EnableSNI: true,
      RequestInterval: 30,
      FailureThreshold: 3,
      Regions: ['ap-southeast-1', 'ap-northeast-1', 'ap-southeast-2'],
    });
  });

  it('routes public-api home only while home is healthy AND the gate is open', () => {
    // No child and a threshold of 0: healthy until inverted.
    expect(checkConfig('FailoverGate')).toEqual({ Type: 'CALCULATED', HealthThreshold: 0, ChildHealthChecks: [], Inverted: false });
    expect(checkConfig('RoutingHealthCheck')).toEqual({
      Type: 'CALCULATED',
      HealthThreshold: 2,
      ChildHealthChecks: [{ Ref: 'HomeHealthCheck' }, { Ref: 'FailoverGate' }],
    });
    expect(control.Outputs?.RoutingHealthCheckId.Value).toEqual({ Ref: 'RoutingHealthCheck' });
  });

  it("tells the latch and the stage when home's check fails, within a minute of Route 53's verdict", () => {
    const alarm = resource(control, 'HomeRegionDownAlarm', 'AWS::CloudWatch::Alarm').Properties;
    expect(alarm).toMatchObject({
      AlarmName: 'movement-pass-prod-failover-home-down',
      Namespace: 'AWS/Route53',
      MetricName: 'HealthCheckStatus',
      Dimensions: [{ Name: 'HealthCheckId', Value: { Ref: 'HomeHealthCheck' } }],
      Statistic: 'Minimum',
      Period: 60,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      AlarmActions: [{ Ref: 'AlarmTopic' }, { Ref: 'FailoverTopic' }],
      OKActions: [{ Ref: 'AlarmTopic' }],
    });
    expect(resource(control, 'SecondaryRegionDownAlarm').Properties).toMatchObject({
      Dimensions: [{ Name: 'HealthCheckId', Value: { Ref: 'SecondaryHealthCheck' } }],
      AlarmActions: [{ Ref: 'AlarmTopic' }],
    });
  });

  it('runs the latch on the failover topic, allowed to flip the gate and nothing else', () => {
    const subscriptions = Object.values(resourcesOfType(control, 'AWS::SNS::Subscription')).map((s) => s.Properties);
    expect(subscriptions).toContainEqual({
      TopicArn: { Ref: 'FailoverTopic' },
      Protocol: 'lambda',
      Endpoint: { 'Fn::GetAtt': ['FailoverLatchLambdaFunction', 'Arn'] },
    });
    const fn = resource(control, 'FailoverLatchLambdaFunction', 'AWS::Lambda::Function').Properties;
    expect(fn.Environment.Variables).toEqual({
      FAILOVER_GATE_ID: { Ref: 'FailoverGate' },
      HOME_DOWN_ALARM_NAME: resource(control, 'HomeRegionDownAlarm').Properties.AlarmName,
    });
    const statements = resource(control, 'FailoverLatchRole', 'AWS::IAM::Role').Properties.Policies[0].PolicyDocument.Statement;
    expect(statements.filter((statement: { Action: string[] }) => !JSON.stringify(statement.Action).includes('logs:'))).toEqual([
      {
        Effect: 'Allow',
        Action: ['route53:GetHealthCheck', 'route53:UpdateHealthCheck'],
        Resource: { 'Fn::Sub': 'arn:${AWS::Partition}:route53:::healthcheck/${FailoverGate}' },
      },
    ]);
    expect(resource(control, 'FailoverTopic', 'AWS::SNS::Topic').Properties.KmsMasterKeyId).toEqual({ Ref: 'ObservabilityKey' });
  });

  it('raises an alarm when the latch fails or cannot be reached: failback would be automatic again', () => {
    expect(resource(control, 'FailoverLatchErrorsAlarm').Properties).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: 'movement-pass-foundation-prod-failoverLatch' }],
      AlarmActions: [{ Ref: 'AlarmTopic' }],
    });
    expect(resource(control, 'FailoverTopicDeliveryAlarm').Properties).toMatchObject({
      Namespace: 'AWS/SNS',
      MetricName: 'NumberOfNotificationsFailed',
      Dimensions: [{ Name: 'TopicName', Value: 'movement-pass-prod-failover' }],
    });
    const emails = Object.values(resourcesOfType(control, 'AWS::SNS::Subscription')).filter((s) => s.Properties.Protocol === 'email');
    expect(emails.map((s) => s.Properties.Endpoint)).toEqual(settingsFor('prod').observability.alarmEmails);
  });

  it('holds no data and writes no contract: only checks, alarms, topics, the latch and its key', () => {
    const types = new Set(Object.values(control.Resources).map((r) => r.Type));
    expect([...types].sort()).toEqual(
      [
        'AWS::CloudWatch::Alarm',
        'AWS::IAM::Role',
        'AWS::KMS::Alias',
        'AWS::KMS::Key',
        'AWS::Lambda::Function',
        'AWS::Lambda::Permission',
        'AWS::Logs::LogGroup',
        'AWS::Route53::HealthCheck',
        'AWS::SNS::Subscription',
        'AWS::SNS::Topic',
      ].sort(),
    );
  });
});

describe('the failover latch (handlers/failover-latch), with a stubbed Route 53', () => {
  const route53 = mockClient(Route53Client);
  let handler: (event: SNSEvent) => Promise<unknown>;
  let inverted = false;

  beforeAll(async () => {
    vi.stubEnv('FAILOVER_GATE_ID', 'gate-1');
    vi.stubEnv('HOME_DOWN_ALARM_NAME', 'movement-pass-prod-failover-home-down');
    ({ handler } = await import('../handlers/failover-latch/index'));
  });
  afterEach(() => {
    route53.reset();
    inverted = false;
  });
  const stub = () => {
    route53.on(GetHealthCheckCommand, { HealthCheckId: 'gate-1' }).callsFake(async () => ({
      HealthCheck: { Id: 'gate-1', HealthCheckConfig: { Type: 'CALCULATED', Inverted: inverted } },
    }));
    route53.on(UpdateHealthCheckCommand, { HealthCheckId: 'gate-1' }).callsFake(async (input) => {
      inverted = input.Inverted;
      return {};
    });
  };
  const notification = (fields: Record<string, string>): SNSEvent =>
    ({
      Records: [
        {
          Sns: {
            Message: JSON.stringify({ AlarmName: 'movement-pass-prod-failover-home-down', NewStateReason: 'Threshold Crossed', ...fields }),
          },
        },
      ],
    }) as unknown as SNSEvent;

  it('closes the gate when the status alarm fires (OK -> ALARM)', async () => {
    stub();
    vi.stubEnv('FAILOVER_GATE_ID', 'gate-1');
    vi.stubEnv('HOME_DOWN_ALARM_NAME', 'movement-pass-prod-failover-home-down');
    await expect(handler(notification({ OldStateValue: 'OK', NewStateValue: 'ALARM' }))).resolves.toEqual(['closed']);
    expect(inverted).toBe(true);
    // A second delivery of the same notification changes nothing.
    await expect(handler(notification({ OldStateValue: 'OK', NewStateValue: 'ALARM' }))).resolves.toEqual(['already-closed']);
    expect(route53.commandCalls(UpdateHealthCheckCommand)).toHaveLength(1);
  });

  it.each([
    ['a new alarm over a region not serving yet', { OldStateValue: 'INSUFFICIENT_DATA', NewStateValue: 'ALARM' }],
    ['home recovering', { OldStateValue: 'ALARM', NewStateValue: 'OK' }],
    ['another alarm', { AlarmName: 'movement-pass-prod-jwks-5xx', OldStateValue: 'OK', NewStateValue: 'ALARM' }],
  ])('leaves the gate alone on %s', async (_, fields) => {
    stub();
    vi.stubEnv('FAILOVER_GATE_ID', 'gate-1');
    vi.stubEnv('HOME_DOWN_ALARM_NAME', 'movement-pass-prod-failover-home-down');
    await expect(handler(notification(fields))).resolves.toEqual(['ignored']);
    expect(route53.commandCalls(UpdateHealthCheckCommand)).toHaveLength(0);
  });

  it('fails when Route 53 refuses, so Lambda retries and the errors alarm fires', async () => {
    vi.stubEnv('FAILOVER_GATE_ID', 'gate-1');
    vi.stubEnv('HOME_DOWN_ALARM_NAME', 'movement-pass-prod-failover-home-down');
    route53.on(GetHealthCheckCommand).resolves({ HealthCheck: { HealthCheckConfig: { Inverted: false } } } as never);
    route53.on(UpdateHealthCheckCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'Throttling' }));
    await expect(handler(notification({ OldStateValue: 'OK', NewStateValue: 'ALARM' }))).rejects.toThrow(/Rate exceeded/);
  });
});

/**
 * What API Gateway and WAF answer a request, from the template: the web ACL's rate rule (a source
 * IP above its limit in 5 minutes gets 429), then the token bucket of the most specific method
 * setting, shared by every caller (one bucket per setting: the stage's `/*` one is shared by every
 * method without its own, the worst case).
 */
function apiModel(template: Template, options: { withoutHealthSettings?: boolean } = {}) {
  const settings = (resource(template, 'ApiStage').Properties.MethodSettings as Record<string, any>[]).filter(
    (setting) => !(options.withoutHealthSettings && setting.ResourcePath !== '/*'),
  );
  const rule = resource(template, 'ApiWebAcl').Properties.Rules[0].Statement.RateBasedStatement;
  const buckets = new Map<Record<string, any>, { tokens: number; second: number }>();
  const perIp = new Map<string, number>();
  // A rule the model does not know would make its answers wrong.
  expect(rule.ScopeDownStatement).toBeUndefined();
  return {
    request(ip: string, path: string, second: number): number {
      const count = (perIp.get(ip) ?? 0) + 1;
      perIp.set(ip, count);
      if (count > rule.Limit) return 429;
      const setting =
        settings.find((candidate) => candidate.ResourcePath === `/${path.replaceAll('/', '~1')}`) ??
        settings.find((candidate) => candidate.ResourcePath === '/*');
      if (!setting) throw new Error('no method setting');
      const bucket = buckets.get(setting) ?? { tokens: setting.ThrottlingBurstLimit, second };
      bucket.tokens = Math.min(setting.ThrottlingBurstLimit, bucket.tokens + (second - bucket.second) * setting.ThrottlingRateLimit);
      bucket.second = second;
      buckets.set(setting, bucket);
      if (bucket.tokens < 1) return 429;
      bucket.tokens -= 1;
      return 200;
    },
  };
}

it('gives the health route a ceiling of its own, well above what the checkers send', () => {
  const setting = (resource(prod, 'ApiStage').Properties.MethodSettings as Record<string, unknown>[]).find(
    (candidate) => candidate.ResourcePath === '/~1health',
  );
  expect(setting).toMatchObject({
    HttpMethod: 'GET',
    ThrottlingRateLimit: healthThrottle.rateLimit,
    ThrottlingBurstLimit: healthThrottle.burstLimit,
  });
});
