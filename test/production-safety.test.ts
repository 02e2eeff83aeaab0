// plugins/production-safety.js driven through a stubbed osls provider (every AWS call goes
// through provider.request), with the configuration and templates the real serverless.ts packages.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import ProductionSafety from '../plugins/production-safety';
import { dataLossChanges } from './data-loss-changes';
import { readServiceState, readTemplate, type Template } from './package-stage';
import { prodStatefulResources } from './prod-stateful';

const stackName = (stage: string) => `movement-pass-foundation-${stage}`;
const account = '123456789012';

class ProviderError extends Error {
  constructor(
    message: string,
    readonly providerErrorCodeExtension: string,
    readonly providerError: { statusCode: number },
  ) {
    super(message);
  }
}

interface FakeAccount {
  /** The deployed template; undefined: no stack. */
  stack?: Template;
  callerAccount?: string;
  /** Physical names of tables and buckets that exist. */
  existing?: string[];
  failOn?: string;
  status?: string;
  /** Termination protection of the stack: on unless said otherwise. */
  protection?: boolean;
  /** The stack's policy as an administrator set it: the packaged one unless said otherwise; null: none. */
  policy?: unknown;
}

function fakeProvider(stage: string, state: FakeAccount, region = 'ap-south-1', packagedPolicy?: unknown) {
  const calls: { method: string; params: any }[] = [];
  const request = vi.fn(async (service: string, method: string, params: any) => {
    calls.push({ method: `${service}.${method}`, params });
    if (state.failOn === method) throw new Error(`${method} failed: AccessDenied`);
    switch (`${service}.${method}`) {
      case 'CloudFormation.describeStacks':
      case 'CloudFormation.getTemplate':
        if (!state.stack)
          throw new ProviderError(`Stack with id ${params.StackName} does not exist`, 'VALIDATION_ERROR', { statusCode: 400 });
        return method === 'getTemplate'
          ? { TemplateBody: JSON.stringify(state.stack) }
          : { Stacks: [{ StackStatus: state.status ?? 'UPDATE_COMPLETE', EnableTerminationProtection: state.protection ?? true }] };
      case 'CloudFormation.getStackPolicy': {
        const policy = state.policy === undefined ? packagedPolicy : state.policy;
        return policy === null ? {} : { StackPolicyBody: JSON.stringify(policy) };
      }
      case 'STS.getCallerIdentity':
        return { Account: state.callerAccount ?? account };
      case 'DynamoDB.describeTable':
        if (state.existing?.includes(params.TableName)) return { Table: {} };
        throw new ProviderError('Requested resource not found', 'RESOURCE_NOT_FOUND_EXCEPTION', { statusCode: 400 });
      case 'CloudWatchLogs.describeLogGroups':
        return {
          logGroups: (state.existing ?? [])
            .filter((name) => name.startsWith(params.logGroupNamePrefix))
            .map((logGroupName) => ({ logGroupName })),
        };
      case 'S3.headBucket':
        if (state.existing?.includes(params.Bucket)) return {};
        throw new ProviderError('Not Found', 'NOT_FOUND', { statusCode: 404 });
      default:
        throw new Error(`unexpected ${service}.${method}`);
    }
  });
  const provider = { request, naming: { getStackName: () => stackName(stage) }, getRegion: () => region, getStage: () => stage };
  return { provider, calls, methods: () => calls.map((call) => call.method) };
}

function plugin(
  stack: 'prod' | 'alice' | 'prod.ap-southeast-1',
  state: FakeAccount = {},
  input: { commands?: string[]; param?: string[]; isHelpRequest?: boolean; config?: Record<string, unknown> } = {},
) {
  const packaged = readServiceState(stack);
  const stage = stack.split('.')[0];
  const aws = fakeProvider(
    stage,
    state,
    packaged.custom.movementPassRegions.region,
    packaged.custom.movementPassProductionSafety.stackPolicy,
  );
  const serviceDir = mkdtempSync(join(tmpdir(), 'safety-'));
  const serverless: any = {
    service: {
      custom: { ...packaged.custom, movementPassProductionSafety: { ...packaged.custom.movementPassProductionSafety, ...input.config } },
      provider: {
        compiledCloudFormationTemplate: readTemplate(stack),
        iam: { deploymentRole: packaged.provider.iam.deploymentRole },
      },
    },
    processedInput: { commands: input.commands ?? ['deploy'], isHelpRequest: input.isHelpRequest ?? false },
    classes: { Error },
    getProvider: () => aws.provider,
    serviceDir,
  };
  const log = { notice: vi.fn(), info: vi.fn(), warning: vi.fn(), error: vi.fn() };
  const create = () => new ProductionSafety(serverless, { stage, param: input.param }, { log });
  return { aws, serverless, create, log, serviceDir };
}

/** The prod template as deployed, changed by `change`. */
function deployedProd(change: (template: Template) => void = () => undefined): Template {
  const template = structuredClone(readTemplate('prod'));
  change(template);
  return template;
}

const protectedIds = () => prodStatefulResources.prod;
const denied = (policy: any): string[] => policy.Statement.filter((s: any) => s.Effect === 'Deny').flatMap((s: any) => s.Resource);

describe('removal guard', () => {
  it.each([['remove'], ['remove-cert'], ['delete_domain']])('stops `sls %s` of a shared stage while the plugins load', (command) => {
    const { create, aws } = plugin('prod', { stack: deployedProd() }, { commands: [command] });

    expect(create).toThrow(/"prod" is a shared stage/);
    expect(create).toThrow(/--param=confirm-remove=prod/);
    expect(aws.calls).toEqual([]);
  });

  it('lets a removal through with the confirmation naming the stage, and not with another stage', () => {
    expect(plugin('prod', {}, { commands: ['remove'], param: ['confirm-remove=prod'] }).create).not.toThrow();
    expect(plugin('prod', {}, { commands: ['remove'], param: ['confirm-remove=alice'] }).create).toThrow(/shared stage/);
  });

  it.each([
    ['deploy function', /replaces a function's code with the working tree's/],
    ['rollback function', /puts an older version of a function's code back/],
    ['invoke', /runs a function with an event of your own/],
  ])('stops `sls %s` of a shared stage before any AWS call unless confirmed: it acts on a function outside any deploy', (command, what) => {
    const { create, aws } = plugin('prod', { stack: deployedProd() }, { commands: command.split(' ') });
    expect(create).toThrow(what);
    expect(create).toThrow(/--param=confirm-function=prod/);
    expect(aws.calls).toEqual([]);
    expect(plugin('prod', {}, { commands: command.split(' '), param: ['confirm-function=prod'] }).create).not.toThrow();
    expect(plugin('prod', {}, { commands: command.split(' '), param: ['confirm-function=alice'] }).create).toThrow(/shared stage/);
    expect(plugin('alice', {}, { commands: command.split(' ') }).create).not.toThrow();
  });

  it('leaves `sls invoke local` alone: it runs on this machine', () => {
    expect(plugin('prod', {}, { commands: ['invoke', 'local'] }).create).not.toThrow();
  });

  it('stops `sls rollback` of a shared stage unless confirmed: it bypasses the deploy gate', () => {
    expect(plugin('prod', {}, { commands: ['rollback'] }).create).toThrow(/--param=confirm-rollback=prod/);
    expect(plugin('prod', {}, { commands: ['rollback'], param: ['confirm-rollback=prod'] }).create).not.toThrow();
  });

  it('stops when osls works on another stage than serverless.ts was built for', () => {
    const { create, serverless } = plugin('alice', {}, { commands: ['remove'] });
    serverless.getProvider = () => ({ getStage: () => 'prod' });

    expect(create).toThrow(/osls is working on stage "prod" but serverless.ts was built for "alice"/);
  });

  it('leaves sandboxes, help and other commands alone', () => {
    expect(plugin('alice', {}, { commands: ['remove'] }).create).not.toThrow();
    expect(plugin('prod', {}, { commands: ['remove'], isHelpRequest: true }).create).not.toThrow();
    expect(plugin('prod', {}, { commands: ['info'] }).create).not.toThrow();
  });
});

describe('protection set by an administrator, checked on every deploy', () => {
  const fullPolicy = () => readServiceState('prod').custom.movementPassProductionSafety.stackPolicy;

  it('deploys prod while termination protection is on and the stack policy whole, changing neither', async () => {
    const { create, aws, log } = plugin('prod', { stack: deployedProd() });
    const safety = create();

    await safety.hooks['before:deploy:deploy']();
    await safety.hooks['after:deploy:deploy']();

    expect(aws.methods()).toEqual([
      'CloudFormation.describeStacks',
      'CloudFormation.getTemplate',
      'CloudFormation.describeStacks',
      'CloudFormation.getStackPolicy',
    ]);
    expect(denied(fullPolicy()).sort()).toEqual(
      protectedIds()
        .map((id) => `LogicalResourceId/${id}`)
        .sort(),
    );
    expect(log.warning).not.toHaveBeenCalled();
  });

  it.each([
    ['termination protection is off', { protection: false }, /termination protection is off/],
    ['the stack has no policy', { policy: null }, /the stack has no stack policy/],
    [
      'the stack policy protects less',
      { policy: { Statement: [{ Effect: 'Allow', Principal: '*', Action: 'Update:*', Resource: '*' }] } },
      /not the one this deploy needs/,
    ],
  ])("stops a deploy when %s, naming the administrator's step and writing the policy it sets", async (_, state, message) => {
    const { create, serviceDir } = plugin('prod', { stack: deployedProd(), ...state });

    const deploy = create().hooks['before:deploy:deploy']();

    await expect(deploy).rejects.toThrow(message);
    await expect(deploy).rejects.toThrow(/Nothing was deployed\..*An administrator of the account runs/s);
    await expect(deploy).rejects.toThrow(
      /aws cloudformation update-termination-protection --region ap-south-1 --stack-name movement-pass-foundation-prod --enable-termination-protection/,
    );
    const file = join(serviceDir, '.serverless', 'stack-policy-prod.json');
    await expect(deploy).rejects.toThrow(
      `aws cloudformation set-stack-policy --region ap-south-1 --stack-name movement-pass-foundation-prod --stack-policy-body file://${file}`,
    );
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(fullPolicy());
  });

  it('never touches a sandbox', async () => {
    const { create, aws } = plugin('alice', { stack: readTemplate('alice'), protection: false, policy: null });
    const safety = create();

    await safety.hooks['before:deploy:deploy']();
    await safety.hooks['after:deploy:deploy']();

    expect(aws.calls).toEqual([]);
  });

  it('asks the administrator to protect a stack its first deploy just created', async () => {
    const { create, log } = plugin('prod', { existing: [] });
    const safety = create();

    await safety.hooks['before:deploy:deploy']();
    await safety.hooks['after:deploy:deploy']();

    expect(log.warning).toHaveBeenCalledWith(
      expect.stringMatching(/was just created: until an administrator protects it, no further deploy of it will run.*set-stack-policy/s),
    );
  });

  it('removes a confirmed shared stage only once an administrator lifted termination protection', async () => {
    const confirmed = { commands: ['remove'], param: ['confirm-remove=prod'] };
    const protectedStack = plugin('prod', { stack: deployedProd() }, confirmed);
    await expect(protectedStack.create().hooks['before:remove:remove']()).rejects.toThrow(
      /keeps termination protection on, so nothing was removed.*--no-enable-termination-protection/s,
    );
    const lifted = plugin('prod', { stack: deployedProd(), protection: false }, confirmed);
    await expect(lifted.create().hooks['before:remove:remove']()).resolves.toBeUndefined();
    expect(lifted.aws.methods()).not.toContain('CloudFormation.updateTerminationProtection');
  });
});

describe('deploy gate', () => {
  it('passes an ordinary update, reading the protection and changing nothing', async () => {
    const { create, aws } = plugin('prod', {
      stack: deployedProd((t) => {
        t.Resources.PassesLoadQueue.Properties.VisibilityTimeout = 60;
      }),
    });

    await create().hooks['before:deploy:deploy']();

    expect(aws.methods()).toEqual([
      'CloudFormation.describeStacks',
      'CloudFormation.getTemplate',
      'CloudFormation.describeStacks',
      'CloudFormation.getStackPolicy',
    ]);
  });

  it.each([
    [
      'a replacement (new key schema)',
      (t: Template) => {
        t.Resources.PassesTable.Properties.KeySchema = [{ AttributeName: 'passId', KeyType: 'HASH' }];
      },
      /PassesTable \(AWS::DynamoDB::GlobalTable, retained data\) would be REPLACED/,
      'PassesTable',
    ],
    [
      'a removal (a queue the new template no longer has)',
      (t: Template) => {
        t.Resources.OldQueue = { Type: 'AWS::SQS::Queue', Properties: {} };
      },
      /OldQueue \(AWS::SQS::Queue\) would be DELETED/,
      'OldQueue',
    ],
    [
      'an orphaning (a retained bucket the new template no longer has)',
      (t: Template) => {
        t.Resources.OldBucket = { Type: 'AWS::S3::Bucket', DeletionPolicy: 'Retain', Properties: {} };
      },
      /OldBucket \(AWS::S3::Bucket, retained data\) would be REMOVED from the stack/,
      'OldBucket',
    ],
    [
      'a key ring whose physical id (key store) changes',
      (t: Template) => {
        t.Resources.JwtKeyRing.Properties.KeyStoreParameter = '/movement-pass-keys/prod/old-jwt';
      },
      /JwtKeyRing \(Custom::KeyRing, retained data\) would be REPLACED/,
      'JwtKeyRing',
    ],
  ])('stops %s before anything is written, with the diff and the override', async (_, change, message, id) => {
    const { create, aws } = plugin('prod', { stack: deployedProd(change) });

    const gate = create().hooks['before:deploy:deploy']();

    await expect(gate).rejects.toThrow(message);
    await expect(gate).rejects.toThrow(`--param=allow-replace=${id}`);
    expect(aws.methods()).not.toContain('CloudFormation.getStackPolicy');
  });

  it.each([
    [
      'a table whose retention would go',
      (t: Template) => {
        t.Resources.PassesTable.DeletionPolicy = 'Delete';
      },
      /PassesTable \(AWS::DynamoDB::GlobalTable, retained data\): its DeletionPolicy would go from Retain to Delete/,
    ],
    [
      'a replica whose deletion protection would be turned off',
      (t: Template) => {
        for (const replica of t.Resources.ApplicantsTable.Properties.Replicas) replica.DeletionProtectionEnabled = false;
      },
      /ApplicantsTable .*deletion protection of its replica in .* would be turned off/,
    ],
    [
      'a replica that would go',
      (t: Template) => {
        t.Resources.PassesTable.Properties.Replicas = t.Resources.PassesTable.Properties.Replicas.slice(0, 1);
      },
      /PassesTable .*its replica in ap-southeast-1 would be DELETED/,
    ],
  ])('stops %s: a later removal would lose the data', async (_, change, message) => {
    // The deployed stack has the protection; the new template takes it away.
    const deployed = deployedProd();
    const { create } = plugin('prod', { stack: deployed });
    const safety = create();
    const proposed = structuredClone(readTemplate('prod'));
    change(proposed);
    (safety.serverless as any).service.provider.compiledCloudFormationTemplate = proposed;

    await expect(safety.hooks['before:deploy:deploy']()).rejects.toThrow(message);
  });

  it.each(dataLossChanges)('stops %s in place, saying what would be lost and the confirmation', async (_, id, change, says) => {
    const { create } = plugin('prod', { stack: deployedProd() });
    const safety = create();
    const proposed = structuredClone(readTemplate('prod'));
    change(proposed);
    (safety.serverless as any).service.provider.compiledCloudFormationTemplate = proposed;

    const gate = safety.hooks['before:deploy:deploy']();
    await expect(gate).rejects.toThrow(says);
    await expect(gate).rejects.toThrow(`--param=allow-replace=${id}`);
  });

  it('lets an allowed replacement through once an administrator narrowed the policy for exactly it, then asks for it back', async () => {
    const replaced = (t: Template) => {
      t.Resources.PassesTable.Properties.KeySchema = [{ AttributeName: 'passId', KeyType: 'HASH' }];
    };
    const whole = plugin('prod', { stack: deployedProd(replaced) }, { param: ['allow-replace=PassesTable'] });
    const refused = whole.create().hooks['before:deploy:deploy']();
    await expect(refused).rejects.toThrow(/replaces or removes PassesTable .*narrowed it for exactly these/s);
    const narrowed = JSON.parse(readFileSync(join(whole.serviceDir, '.serverless', 'stack-policy-prod.json'), 'utf8'));
    expect(denied(narrowed)).not.toContain('LogicalResourceId/PassesTable');
    expect(denied(narrowed)).toContain('LogicalResourceId/ApplicantsTable');

    const { create, aws, log } = plugin(
      'prod',
      { stack: deployedProd(replaced), policy: narrowed },
      { param: ['allow-replace=PassesTable'] },
    );
    const safety = create();
    await safety.hooks['before:deploy:deploy']();
    await safety.hooks['after:deploy:deploy']();

    expect(aws.methods()).not.toContain('CloudFormation.setStackPolicy');
    expect(log.warning).toHaveBeenCalledWith(expect.stringMatching(/Allowed by --param=allow-replace: PassesTable/));
    expect(log.warning).toHaveBeenCalledWith(
      expect.stringMatching(/still has the stack policy narrowed for PassesTable: until an administrator restores it/),
    );
  });

  it('stops on a stack a failed first deploy left in ROLLBACK_COMPLETE, saying how to get out', async () => {
    const { create } = plugin('prod', { stack: deployedProd(), status: 'ROLLBACK_COMPLETE' });

    await expect(create().hooks['before:deploy:deploy']()).rejects.toThrow(
      /ROLLBACK_COMPLETE .*`npx sls remove --stage prod --param=confirm-remove=prod`/,
    );
  });

  it('stops a package whose stateful resources this configuration does not protect (sls deploy --package)', async () => {
    const { create, aws } = plugin('prod', { stack: deployedProd() });
    const safety = create();
    (safety.serverless as any).service.provider.compiledCloudFormationTemplate.Resources.AuditTable = {
      Type: 'AWS::DynamoDB::GlobalTable',
      DeletionPolicy: 'Retain',
      Properties: {},
    };

    await expect(safety.hooks['before:deploy:deploy']()).rejects.toThrow(/does not protect: AuditTable/);
    expect(aws.calls).toEqual([]);
  });

  it("judges a package by this serverless.ts's stack policy, not by the package's own settings that osls puts in its place", async () => {
    const { create, serverless, aws } = plugin('prod', { stack: deployedProd() });
    const safety = create();
    // `sls deploy --package` of a package from another commit: osls restores the package's whole service, custom included.
    const custom = structuredClone(readServiceState('prod').custom);
    custom.movementPassProductionSafety.protectedResources.push('AuditTable');
    serverless.service.custom = custom;
    serverless.service.provider.compiledCloudFormationTemplate = deployedProd((template) => {
      template.Resources.AuditTable = { Type: 'AWS::DynamoDB::GlobalTable', DeletionPolicy: 'Retain', Properties: {} };
    });

    await expect(safety.hooks['before:deploy:deploy']()).rejects.toThrow(
      /the stack policy of this serverless.ts does not protect: AuditTable/,
    );
    expect(aws.calls).toEqual([]);
  });

  it('refuses an override naming something that is not protected', async () => {
    const { create } = plugin('prod', { stack: deployedProd() }, { param: ['allow-replace=PasesTable'] });

    await expect(create().hooks['before:deploy:deploy']()).rejects.toThrow(/PasesTable is not one\. Protected: .*PassesTable/);
  });
});

describe('recovery of a removed shared stage', () => {
  const names = [
    'movement-pass-prod-applicants',
    'movement-pass-prod-passes',
    `movement-pass-prod-photos-aps1-${account}`,
    '/aws/apigateway/movement-pass-prod-foundation-api-access',
  ];

  it('creates a new stack when nothing of the stage is left', async () => {
    const { create } = plugin('prod', { existing: [] });

    await expect(create().hooks['before:deploy:deploy']()).resolves.toBeUndefined();
  });

  it('stops when the stack is gone but its retained data is not, and writes the import files', async () => {
    const { create, serviceDir } = plugin('prod', { existing: names });

    const deploy = create().hooks['before:deploy:deploy']();

    await expect(deploy).rejects.toThrow(/does not exist in ap-south-1, but the shared stage's retained data does: ApplicantsTable/);
    await expect(deploy).rejects.toThrow(/--change-set-type IMPORT/);
    const folder = join(serviceDir, '.serverless', 'recovery');
    const importTemplate = JSON.parse(readFileSync(join(folder, 'import-template.json'), 'utf8'));
    const toImport = JSON.parse(readFileSync(join(folder, 'resources-to-import.json'), 'utf8'));
    const packaged = readTemplate('prod');
    expect(Object.keys(importTemplate.Resources).sort()).toEqual(['ApiAccessLogGroup', 'ApplicantsTable', 'PassesTable', 'PhotoBucket']);
    expect(importTemplate.Outputs).toBeUndefined();
    for (const id of Object.keys(importTemplate.Resources)) {
      expect(importTemplate.Resources[id].DeletionPolicy).toBe(packaged.Resources[id].DeletionPolicy);
      expect(importTemplate.Resources[id].Type).toBe(packaged.Resources[id].Type);
    }
    expect(importTemplate.Resources.PassesTable.Properties.KeySchema).toEqual(packaged.Resources.PassesTable.Properties.KeySchema);
    expect(importTemplate.Resources.PhotoBucket.Properties.BucketName).toBe(`movement-pass-prod-photos-aps1-${account}`);
    expect(toImport).toEqual(
      expect.arrayContaining([
        { ResourceType: 'AWS::DynamoDB::GlobalTable', LogicalResourceId: 'PassesTable', ResourceIdentifier: { TableName: names[1] } },
        { ResourceType: 'AWS::S3::Bucket', LogicalResourceId: 'PhotoBucket', ResourceIdentifier: { BucketName: names[2] } },
        { ResourceType: 'AWS::Logs::LogGroup', LogicalResourceId: 'ApiAccessLogGroup', ResourceIdentifier: { LogGroupName: names[3] } },
      ]),
    );
    // A template CloudFormation can validate alone: every Ref, GetAtt and ${...} names a resource in it.
    const references = [...JSON.stringify(importTemplate).matchAll(/"Ref":"([^"]+)"|"Fn::GetAtt":\["([^"]+)"|\$\{([^}!.]+)/g)]
      .map((match) => match[1] ?? match[2] ?? match[3])
      .filter((id) => !id.startsWith('AWS::'));
    expect(references.filter((id) => !(id in importTemplate.Resources))).toEqual([]);
    expect(importTemplate.Resources.ApiAccessLogGroup.Properties.LogGroupName).toBe(names[3]);
    // The import binds the new stack to the stage's execution role, as every later operation on it.
    await expect(deploy).rejects.toThrow(`--role-arn ${readServiceState('prod').provider.iam.deploymentRole}`);
  });
});

describe('a secondary region of a shared stage (prod in ap-southeast-1)', () => {
  const regional = 'prod.ap-southeast-1';
  const regionalProtected = () => readServiceState(regional).custom.movementPassProductionSafety.protectedResources as string[];

  it('stops `sls remove --region` like the home one, saying which region and what it loses there', () => {
    const { create, aws } = plugin(regional, { stack: readTemplate(regional) }, { commands: ['remove'] });

    expect(create).toThrow(
      /"prod" in ap-southeast-1 \(its secondary region\) is a shared stage: `sls remove` in ap-southeast-1 deletes this region's stack: its queues/,
    );
    expect(create).toThrow(/--param=confirm-remove=prod/);
    expect(aws.calls).toEqual([]);
    expect(plugin(regional, {}, { commands: ['remove'], param: ['confirm-remove=prod'] }).create).not.toThrow();
    expect(plugin(regional, {}, { commands: ['rollback'] }).create).toThrow(/in ap-southeast-1 .*--param=confirm-rollback=prod/);
  });

  it('stops when osls works on another region than serverless.ts was built for', () => {
    const { create, serverless, aws } = plugin(regional, {}, { commands: ['deploy'] });
    serverless.getProvider = () => ({ ...aws.provider, getRegion: () => 'ap-south-1' });

    expect(create).toThrow(/osls is working on region ap-south-1 but serverless.ts was built for ap-southeast-1/);
  });

  it("checks the region's own protection: its stack policy protects the region's stateful resources", async () => {
    const { create, aws } = plugin(regional, { stack: readTemplate(regional) });
    const off = plugin(regional, { stack: readTemplate(regional), protection: false });

    await create().hooks['before:deploy:deploy']();
    await expect(off.create().hooks['before:deploy:deploy']()).rejects.toThrow(
      /"prod" in ap-southeast-1 \(its secondary region\): termination protection is off.*--region ap-southeast-1 --stack-name movement-pass-foundation-prod/s,
    );

    expect(aws.methods()).toContain('CloudFormation.getStackPolicy');
    expect(denied(readServiceState(regional).custom.movementPassProductionSafety.stackPolicy).sort()).toEqual(
      regionalProtected()
        .map((id) => `LogicalResourceId/${id}`)
        .sort(),
    );
    // Its KMS key, queues and retained log groups, as the rules of resources/production-safety.ts decide.
    expect(regionalProtected()).toEqual(
      expect.arrayContaining(['SigningKeysKey', 'PassesLoadQueue', 'PassesLoadDeadLetterQueue', 'ApiAccessLogGroup', 'JwtKeyRing']),
    );
    expect(regionalProtected().filter((id) => id.endsWith('TableReplica'))).toEqual([]);
  });

  it('stops a deploy that would replace the regional queue, naming the region', async () => {
    const deployed = structuredClone(readTemplate(regional));
    deployed.Resources.PassesLoadQueue.Properties.QueueName = 'movement-pass-prod-passes-load-old.fifo';
    const { create } = plugin(regional, { stack: deployed });

    await expect(create().hooks['before:deploy:deploy']()).rejects.toThrow(
      /This deploy of the shared stage "prod" in ap-southeast-1 \(its secondary region\) would lose data/,
    );
  });

  it('writes the recovery files of the region beside the home ones, and the command deploys that region', async () => {
    const { create, serviceDir } = plugin(regional, { existing: ['/aws/apigateway/movement-pass-prod-foundation-api-access'] });

    const deploy = create().hooks['before:deploy:deploy']();

    await expect(deploy).rejects.toThrow(/The stack movement-pass-foundation-prod does not exist in ap-southeast-1/);
    await expect(deploy).rejects.toThrow(/create-change-set --region ap-southeast-1 /);
    await expect(deploy).rejects.toThrow(/\n {2}npx sls deploy --stage prod --region ap-southeast-1\n/);
    const folder = join(serviceDir, '.serverless', 'recovery', 'ap-southeast-1');
    expect(Object.keys(JSON.parse(readFileSync(join(folder, 'import-template.json'), 'utf8')).Resources)).toEqual(['ApiAccessLogGroup']);
    expect(() => readFileSync(join(serviceDir, '.serverless', 'recovery', 'import-template.json'))).toThrow(/ENOENT/);
  });

  it("imports the region's photo bucket with properties CloudFormation accepts: a property needing a resource left out goes whole", async () => {
    const bucket = `movement-pass-prod-photos-apse1-${account}`;
    const { create, serviceDir } = plugin(regional, { existing: [bucket] });

    await expect(create().hooks['before:deploy:deploy']()).rejects.toThrow(`PhotoBucket (${bucket})`);
    const folder = join(serviceDir, '.serverless', 'recovery', 'ap-southeast-1');
    const imported = JSON.parse(readFileSync(join(folder, 'import-template.json'), 'utf8')).Resources.PhotoBucket;
    const packaged = readTemplate(regional).Resources.PhotoBucket;
    expect(imported.Properties.BucketName).toBe(bucket);
    expect(imported.Properties.VersioningConfiguration).toEqual(packaged.Properties.VersioningConfiguration);
    // Its replication rule needs the replication role (not imported): the import leaves the whole rule to the
    // deploy that follows, never a ReplicationConfiguration without its required Role.
    expect(packaged.Properties.ReplicationConfiguration.Role).toBeDefined();
    expect(imported.Properties.ReplicationConfiguration).toBeUndefined();
  });

  /** What osls's deploy does with `--package <dir>` before the deploy hooks: the package's state replaces serverless.ts's. */
  function deployPackageOf(serverless: any, packaged: 'prod' | 'alice' | 'prod.ap-southeast-1') {
    serverless.service.custom = readServiceState(packaged).custom;
    serverless.service.provider.compiledCloudFormationTemplate = readTemplate(packaged);
  }

  it('stops `sls deploy --region <secondary> --package` of a package built for the home region, before any AWS call', async () => {
    const { create, serverless, aws } = plugin(regional, { stack: readTemplate(regional) });
    const safety = create();
    deployPackageOf(serverless, 'prod');

    await expect(safety.hooks['before:deploy:deploy']()).rejects.toThrow(
      /The package to deploy was built for stage "prod" in ap-south-1, but this deploy acts on the stack of stage "prod" in ap-southeast-1\. Nothing was deployed\..*npx sls package --stage prod --region ap-southeast-1 --package <dir>/,
    );
    expect(aws.calls).toEqual([]);
  });

  it("stops a shared stage's deploy of a sandbox's package: the sandbox's settings would skip the deploy gate", async () => {
    const { create, serverless, aws } = plugin(regional, { stack: readTemplate(regional) });
    const safety = create();
    deployPackageOf(serverless, 'alice');

    await expect(safety.hooks['before:deploy:deploy']()).rejects.toThrow(
      /built for stage "alice" in ap-south-1, but this deploy acts on the stack of stage "prod" in ap-southeast-1/,
    );
    expect(aws.calls).toEqual([]);
  });

  it('deploys a package of this very stack (`sls package` then `sls deploy --package`) through the gate', async () => {
    const { create, serverless, aws } = plugin(regional, { stack: readTemplate(regional) });
    const safety = create();
    deployPackageOf(serverless, regional);

    await expect(safety.hooks['before:deploy:deploy']()).resolves.toBeUndefined();
    expect(aws.methods()).toContain('CloudFormation.getTemplate');
  });

  it('says how to remove a regional stack left in ROLLBACK_COMPLETE, in its region', async () => {
    const { create } = plugin(regional, { stack: readTemplate(regional), status: 'ROLLBACK_COMPLETE' });

    await expect(create().hooks['before:deploy:deploy']()).rejects.toThrow(
      /in ap-southeast-1 is in ROLLBACK_COMPLETE .*`npx sls remove --stage prod --region ap-southeast-1 --param=confirm-remove=prod`/,
    );
  });
});
