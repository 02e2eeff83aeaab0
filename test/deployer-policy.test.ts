// The deployers' policies (iam/sandbox-deployer.json, iam/shared-stage-deployer.json) allow every
// AWS call a deploy makes with the deployer's own credentials (the project's plugins, the two
// domain plugins, osls itself), and the execution role (iam/execution-role.json) what
// CloudFormation does for every resource type of the packaged templates. A new call or resource
// type fails here until a policy says how it is allowed. Which deployer may do what on which stage
// is test/deployer-policies.test.ts's, with the evaluator.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import FoundationOutputs from '../plugins/foundation-outputs';
import { projectRoot, readServiceState, readTemplate, scratchDir, testedStacks } from './package-stage';

const testedStackNames = Object.keys(testedStacks);
// Read while the file is collected, where waiting for a cold run's packaging counts against no test's timeout.
const templates = Object.fromEntries(testedStackNames.map((stack) => [stack, readTemplate(stack)]));
const states = Object.fromEntries(testedStackNames.map((stack) => [stack, readServiceState(stack)]));

interface Statement {
  Sid: string;
  Effect: string;
  Action: string | string[];
  Resource: string | string[];
  Condition?: unknown;
}

const readIam = (file: string) => readFileSync(join(projectRoot, 'iam', file), 'utf8');
const deployerFiles = ['sandbox-deployer.json', 'shared-stage-deployer.json'];
const executionRole = JSON.parse(readIam('execution-role.json')) as { Statement: Statement[] };
const list = (value: string | string[]) => (Array.isArray(value) ? value : [value]);

/** IAM's own matching: case-insensitive, `*` for any characters. */
function allows(statements: Statement[], action: string): boolean {
  return statements.some(
    (statement) =>
      statement.Effect === 'Allow' &&
      list(statement.Action).some((pattern) =>
        new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`, 'i').test(action),
      ),
  );
}

const iamPrefix: Record<string, string> = {
  ACM: 'acm',
  APIGateway: 'apigateway',
  CloudFormation: 'cloudformation',
  CloudWatchLogs: 'logs',
  Lambda: 'lambda',
  Route53: 'route53',
  S3: 's3',
  SSM: 'ssm',
  STS: 'sts',
};
/** API Gateway's control plane is authorised by HTTP verb; a few S3 SDK calls by another action's name. */
const s3Actions: Record<string, string> = {
  upload: 'PutObject',
  headObject: 'GetObject',
  headBucket: 'ListBucket',
  listObjectsV2: 'ListBucket',
  listObjectVersions: 'ListBucketVersions',
  deleteObjects: 'DeleteObject',
};
function iamAction(service: string, method: string): string {
  if (service === 'APIGateway') {
    const verb = method.match(/^(get|create|update|delete)/i)?.[1].toLowerCase();
    return `apigateway:${{ get: 'GET', create: 'POST', update: 'PATCH', delete: 'DELETE' }[verb ?? 'get']}`;
  }
  if (service === 'S3' && s3Actions[method]) return `s3:${s3Actions[method]}`;
  if (service === 'ACM' && method === 'waitFor') return 'acm:DescribeCertificate';
  return `${iamPrefix[service] ?? service.toLowerCase()}:${method[0].toUpperCase()}${method.slice(1)}`;
}

/** `provider.request('Service', 'method', ...)` calls in JavaScript sources. */
function providerRequests(sources: string[]): string[] {
  const calls = sources.flatMap((source) =>
    [...source.matchAll(/request\(\s*'(\w+)',\s*'(\w+)'/g)].map(([, service, method]) => [service, method]),
  );
  return [...new Set(calls.map(([service, method]) => iamAction(service, method)))].sort();
}

const jsFiles = (dir: string): string[] =>
  readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.js'))
    .map((file) => readFileSync(join(dir, file), 'utf8'));

describe("the deployers' policies", () => {
  // What either deployer may do: a call the deploy makes must be allowed to the deployer that makes it.
  const policy = { Statement: deployerFiles.flatMap((file) => (JSON.parse(readIam(file)) as { Statement: Statement[] }).Statement) };

  it.each([...deployerFiles, 'execution-role.json', 'permissions-boundary.json', 'stack-administrator.json'])(
    '%s is a valid IAM policy document: version, unique Sids, service:Action names, no full access',
    (file) => {
      const document = JSON.parse(readIam(file)) as { Version: string; Statement: Statement[] };
      expect(document.Version).toBe('2012-10-17');
      expect(new Set(document.Statement.map((statement) => statement.Sid)).size).toBe(document.Statement.length);
      for (const statement of document.Statement) {
        expect(statement.Sid).toMatch(/^[A-Za-z0-9]+$/);
        expect(['Allow', 'Deny']).toContain(statement.Effect);
        expect(list(statement.Resource).length).toBeGreaterThan(0);
        for (const action of list(statement.Action)) expect(action).toMatch(/^[a-z0-9-]+:[A-Za-z*]+$/);
        // Full access to a service is granted nowhere (a deny may name it whole).
        if (statement.Effect === 'Allow') expect(list(statement.Action).filter((action) => /^([a-z0-9-]+:)?\*$/.test(action))).toEqual([]);
      }
    },
  );

  it('lets every region of the tested stacks be deployed: no regional resource ARN is pinned to another region', () => {
    // A secondary region's stack has the home one's names: only the region part of an ARN tells them apart.
    const regions = [...new Set(testedStackNames.map((stack) => states[stack].custom.movementPassRegions.region as string))];
    expect(regions).toEqual(expect.arrayContaining(['ap-south-1', 'ap-southeast-1']));
    const global = ['iam', 's3', 'route53', 'cloudfront'];
    const pinned = [...policy.Statement, ...executionRole.Statement].flatMap((statement) =>
      list(statement.Resource).flatMap((arn) => {
        const [, , service, region] = arn.split(':');
        if (region === undefined || region === '' || global.includes(service)) return [];
        const pattern = new RegExp(`^${region.replace(/\*/g, '.*')}$`);
        return regions.filter((wanted) => !pattern.test(wanted)).map((wanted) => `${statement.Sid}: ${arn} excludes ${wanted}`);
      }),
    );
    expect(pinned).toEqual([]);
  });

  it("allows every call of the project's plugins: the deploy's to the deployers, `sls failover`'s to the failover operator", () => {
    const failoverPlugin = join(projectRoot, 'plugins', 'failover.js');
    const calls = providerRequests(
      readdirSync(join(projectRoot, 'plugins'), { recursive: true, encoding: 'utf8' })
        .filter((file) => file.endsWith('.js') && join(projectRoot, 'plugins', file) !== failoverPlugin)
        .map((file) => readFileSync(join(projectRoot, 'plugins', file), 'utf8')),
    );
    const operatorCalls = providerRequests([readFileSync(failoverPlugin, 'utf8')]);
    const operator = JSON.parse(readIam('failover-operator.json')) as { Statement: Statement[] };
    expect(operatorCalls).toEqual(expect.arrayContaining(['route53:UpdateHealthCheck', 'cloudwatch:GetMetricData', 'dynamodb:PutItem']));
    expect(operatorCalls.filter((action) => !allows(operator.Statement, action))).toEqual([]);
    // The deploy of the control stack reads the gate (a closed one stays closed in the template it deploys), never flips it.
    expect(['cloudformation:DescribeStacks', 'route53:GetHealthCheck'].filter((a) => !allows(policy.Statement, a))).toEqual([]);
    expect(allows(policy.Statement, 'route53:UpdateHealthCheck')).toBe(false);

    expect(calls).toEqual(
      expect.arrayContaining([
        'apigateway:PATCH',
        'route53:ListHostedZonesByName',
        'route53:ChangeResourceRecordSets',
        'route53:ListResourceRecordSets',
        'ssm:PutParameter',
        'sts:GetCallerIdentity',
      ]),
    );
    expect(calls.filter((action) => !allows(policy.Statement, action))).toEqual([]);
  });

  it('allows what the plugins send through osls for the consumer client, recorded from a run of sls info', async () => {
    const calls: string[] = [];
    const provider = {
      request: async (service: string, method: string) => {
        calls.push(iamAction(service, method));
        return { Parameters: [] };
      },
      getStage: () => 'prod',
      getRegion: () => 'ap-south-1',
    };
    const serverless = {
      serviceDir: scratchDir('deployer-policy'),
      service: { custom: states.prod.custom },
      getProvider: () => provider,
      classes: { Error },
      serviceOutputs: new Map(),
      servicePluginOutputs: new Map(),
    };
    const quiet = { notice: () => undefined, warning: () => undefined };
    const plugin = new FoundationOutputs(serverless as any, {}, { log: quiet, writeText: () => undefined });

    await plugin.hooks['after:info:info']();

    expect(calls).toContain('ssm:GetParametersByPath');
    expect(calls.filter((action) => !allows(policy.Statement, action))).toEqual([]);
  });

  it('allows the AWS SDK v3 calls the plugins make through the consumer client (the signing keys, the presigned upload)', () => {
    const dir = join(projectRoot, 'client', 'src');
    const calls = readdirSync(dir)
      .filter((file) => file.endsWith('.ts'))
      .flatMap((file) => {
        const source = readFileSync(join(dir, file), 'utf8');
        const service = source.match(/from '@aws-sdk\/client-(\w+)'/)?.[1];
        return [...source.matchAll(/new (\w+)Command\(/g)].map(([, command]) => `${service}:${command}`);
      });

    // Decrypted signing keys go through an SDK client of their own, never provider.request (osls logs its results).
    expect(calls).toEqual(expect.arrayContaining(['ssm:GetParameters', 's3:PutObject']));
    expect(calls.filter((action) => !allows(policy.Statement, action))).toEqual([]);
  });

  it('allows what serverless-certificate-creator calls on deploy (not its own remove-cert command)', () => {
    const source = readFileSync(join(projectRoot, 'node_modules', 'serverless-certificate-creator', 'index.js'), 'utf8');
    const calls = [...source.matchAll(/this\.(acm|route53)\.(\w+)\(/g)]
      .map(([, client, method]) => iamAction(client === 'acm' ? 'ACM' : 'Route53', method))
      .filter((action) => action !== 'acm:DeleteCertificate');

    expect(calls).toContain('acm:RequestCertificate');
    expect(calls.filter((action) => !allows(policy.Statement, action))).toEqual([]);
  });

  it('allows what serverless-domain-manager calls for a regional REST domain', () => {
    const dir = join(projectRoot, 'node_modules', 'serverless-domain-manager', 'dist', 'src', 'aws');
    // Not used here: HTTP/WebSocket or multi-level mappings (API Gateway v2), mutual TLS (S3).
    const wrappers: Record<string, string> = {
      'acm-wrapper.js': 'ACM',
      'api-gateway-v1-wrapper.js': 'APIGateway',
      'cloud-formation-wrapper.js': 'CloudFormation',
      'route53-wrapper.js': 'Route53',
    };
    const calls = Object.entries(wrappers).flatMap(([file, service]) =>
      [...readFileSync(join(dir, file), 'utf8').matchAll(/new client_[\w]+\.(\w+)Command\(/g)].map(([, command]) =>
        iamAction(service, command[0].toLowerCase() + command.slice(1)),
      ),
    );

    expect(calls).toEqual(
      expect.arrayContaining(['apigateway:POST', 'route53:ChangeResourceRecordSets', 'cloudformation:DescribeStackResource']),
    );
    expect(calls.filter((action) => !allows(policy.Statement, action))).toEqual([]);
  });

  it("allows osls's own deploy, info and remove calls", () => {
    const aws = join(projectRoot, 'node_modules', 'osls', 'lib', 'plugins', 'aws');
    const sources = ['deploy', 'info', 'remove', 'lib'].flatMap((dir) => jsFiles(join(aws, dir)));
    // What this service does not use: container images (ECR; osls skips it when denied), log
    // subscriptions, API keys, HTTP APIs, osls's own stack policy (`provider.stackPolicy`: an
    // administrator sets a shared stack's, lib/stack-protection.js).
    const unused = /^(ecr:|logs:\w+SubscriptionFilters?$|apigatewayv2:|cloudformation:SetStackPolicy$)/;
    const calls = providerRequests(sources).filter((action) => !unused.test(action));

    expect(calls).toEqual(expect.arrayContaining(['cloudformation:UpdateStack', 's3:PutObject', 'lambda:GetFunction']));
    expect(calls.filter((action) => !allows(policy.Statement, action))).toEqual([]);
  });

  it("lets CloudFormation, with the execution role, set the photo buckets' replication, passing the stage's roles to S3 and Lambda only", () => {
    const replicating = testedStackNames.filter((stage) =>
      Object.values(templates[stage].Resources).some((resource) => resource.Properties?.ReplicationConfiguration),
    );
    expect(replicating).toEqual(['prod', 'prod.ap-southeast-1', 'bob', 'bob.ap-southeast-1']);
    // S3's DeleteBucketReplication is authorised as PutReplicationConfiguration too.
    for (const action of ['s3:PutReplicationConfiguration', 's3:GetReplicationConfiguration', 's3:GetBucketVersioning']) {
      expect(allows(executionRole.Statement, action), action).toBe(true);
    }
    const passes = executionRole.Statement.filter((statement) => list(statement.Action).includes('iam:PassRole'));
    expect(passes.map((statement) => [statement.Resource, statement.Condition])).toEqual([
      [
        'arn:aws:iam::*:role/movement-pass/${aws:PrincipalTag/stage}/*',
        { StringEquals: { 'iam:PassedToService': ['lambda.amazonaws.com', 's3.amazonaws.com'] } },
      ],
    ]);
  });

  it.each(testedStackNames)('lets CloudFormation, with the execution role, create every resource type of the %s template', (stage) => {
    const createdWith: Record<string, string[]> = {
      'AWS::ApiGateway': ['apigateway:POST', 'apigateway:PATCH'],
      'AWS::CloudFront::Distribution': ['cloudfront:CreateDistribution', 'cloudfront:UpdateDistribution'],
      'AWS::CloudFront::KeyGroup': ['cloudfront:CreateKeyGroup'],
      'AWS::CloudFront::OriginAccessControl': ['cloudfront:CreateOriginAccessControl'],
      'AWS::CloudFront::PublicKey': ['cloudfront:CreatePublicKey'],
      'AWS::DynamoDB::GlobalTable': ['dynamodb:CreateTable', 'dynamodb:CreateTableReplica', 'dynamodb:UpdateContinuousBackups'],
      'AWS::IAM::Role': ['iam:CreateRole', 'iam:PutRolePolicy', 'iam:PassRole'],
      'AWS::Lambda::Function': ['lambda:CreateFunction', 'lambda:UpdateFunctionCode'],
      'AWS::Lambda::Permission': ['lambda:AddPermission', 'lambda:RemovePermission'],
      'AWS::Logs::LogGroup': ['logs:CreateLogGroup', 'logs:PutRetentionPolicy'],
      'AWS::Route53::RecordSet': ['route53:ChangeResourceRecordSets', 'route53:GetChange'],
      'AWS::Route53::HealthCheck': ['route53:CreateHealthCheck', 'route53:GetHealthCheck', 'route53:ChangeTagsForResource'],
      'AWS::S3::Bucket': ['s3:CreateBucket', 's3:PutBucketVersioning', 's3:PutEncryptionConfiguration'],
      'AWS::S3::BucketPolicy': ['s3:PutBucketPolicy'],
      'AWS::SQS::Queue': ['sqs:CreateQueue', 'sqs:SetQueueAttributes'],
      'AWS::SSM::Parameter': ['ssm:PutParameter', 'ssm:AddTagsToResource'],
      'AWS::KMS::Key': ['kms:CreateKey', 'kms:PutKeyPolicy', 'kms:EnableKeyRotation'],
      'AWS::KMS::Alias': ['kms:CreateAlias'],
      'AWS::SNS::Topic': ['sns:CreateTopic', 'sns:SetTopicAttributes'],
      'AWS::SNS::Subscription': ['sns:Subscribe'],
      'AWS::CloudWatch::Alarm': ['cloudwatch:PutMetricAlarm'],
      'AWS::Logs::MetricFilter': ['logs:PutMetricFilter'],
      'AWS::WAFv2': ['wafv2:CreateWebACL', 'wafv2:AssociateWebACL', 'apigateway:SetWebACL'],
      // CloudFormation invokes a custom resource's function with the execution role.
      Custom: ['lambda:InvokeFunction'],
    };
    const types = [...new Set(Object.values(templates[stage].Resources).map((resource) => resource.Type))];
    const needs = (type: string) =>
      createdWith[type] ?? createdWith[type.split('::').slice(0, 2).join('::')] ?? createdWith[type.split('::')[0]];

    expect(types.filter((type) => !needs(type)).map((type) => `${type}: say in the policy how it is created`)).toEqual([]);
    expect(types.flatMap((type) => needs(type)).filter((action) => !allows(executionRole.Statement, action))).toEqual([]);
  });
});
