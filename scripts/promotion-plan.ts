// The rehearsal of a promotion: after the permanent loss of a stage's home region, its secondary
// region becomes home. Offline, from two packaged templates:
//   npm run promotion:plan -- --stage prod
// packages the secondary region's stack as it is, and the same stack with the secondary as home
// (team.json with `regions: [<secondary>]`, in a copy of the project), and prints what the
// promotion deploy would do to the stack that already runs in that region: the resources it
// keeps, those it must import (they exist there, owned by the lost home stack: the tables'
// replicas), those it creates, those it deletes, and the global names it cannot create while the
// lost home's resources hold them (CloudFront, S3 and CloudWatch Logs names are not per region).
// It cannot prove what only AWS knows: see "Promoting the secondary region" in docs/runbooks.md.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CfnResource } from '../resources/cloudformation';
import { optionFromArgv } from '../resources/command-line';
import { isSharedStage, settingsFor } from '../resources/stage';
import { StageError } from '../resources/stage-validation';
import { type TeamSettings, teamSettingsFile } from '../resources/team';

export interface Template {
  Resources: Record<string, CfnResource>;
}

export type PromotionAction = 'keep' | 'import' | 'create' | 'delete';

export interface PromotionStep {
  logicalId: string;
  type: string;
  action: PromotionAction;
  /** Why, in a few words; for a conflict, the lost home's resource holding the name. */
  note: string;
}

export interface PromotionPlan {
  steps: PromotionStep[];
  /** Resources to create whose global name a resource of the lost home still holds. */
  conflicts: PromotionStep[];
}

/** team.json with `stage` run from `newHome` alone: the lost home gone, no secondary yet. */
export function promotedTeam(team: TeamSettings, stage: string, newHome: string): TeamSettings {
  const entry = team.sharedStages[stage];
  if (!entry) throw new StageError(`${stage} is not a shared stage of ${teamSettingsFile}: only a shared stage is promoted.`);
  if (!entry.regions.includes(newHome) || entry.regions[0] === newHome) {
    throw new StageError(
      `${newHome} is not the secondary region of ${stage} (${entry.regions.join(', ')}): only the secondary is promoted.`,
    );
  }
  return { ...team, sharedStages: { ...team.sharedStages, [stage]: { ...entry, regions: [newHome] } } };
}

/** `{ "Fn::Sub": ... }` or a string, with the pseudo parameters of an account and region. */
function resolved(value: unknown, account: string, region: string): string | undefined {
  const text = typeof value === 'object' && value !== null && 'Fn::Sub' in value ? (value as { 'Fn::Sub': unknown })['Fn::Sub'] : value;
  if (typeof text !== 'string') return undefined;
  return text.replaceAll('${AWS::AccountId}', account).replaceAll('${AWS::Region}', region).replaceAll('${AWS::Partition}', 'aws');
}

/** The properties that carry a resource's names. */
interface NamingProperties {
  BucketName?: unknown;
  RoleName?: unknown;
  TableName?: unknown;
  Name?: unknown;
  PublicKeyConfig?: { Name?: unknown };
  KeyGroupConfig?: { Name?: unknown };
  OriginAccessControlConfig?: { Name?: unknown };
  DistributionConfig?: { Aliases?: unknown[] };
}

/** The names a resource holds in a namespace wider than its region (the account, or all of AWS). */
function globalNames(resource: CfnResource, account: string, region: string): string[] {
  const p = (resource.Properties ?? {}) as NamingProperties;
  const names: unknown[] =
    {
      'AWS::S3::Bucket': [p.BucketName],
      'AWS::IAM::Role': [p.RoleName],
      'AWS::CloudFront::PublicKey': [p.PublicKeyConfig?.Name],
      'AWS::CloudFront::KeyGroup': [p.KeyGroupConfig?.Name],
      'AWS::CloudFront::OriginAccessControl': [p.OriginAccessControlConfig?.Name],
      'AWS::CloudFront::Distribution': p.DistributionConfig?.Aliases ?? [],
      // The photo distribution's log delivery, in us-east-1 whatever the home region.
      'Custom::CloudFrontLogDelivery': [p.Name],
    }[resource.Type] ?? [];
  return names.map((name) => resolved(name, account, region)).filter((name): name is string => name !== undefined);
}

/** The names of the tables, buckets and parameters a resource owns or looks up in its region. */
function regionalNames(resource: CfnResource): string[] {
  const { TableName } = (resource.Properties ?? {}) as NamingProperties;
  return typeof TableName === 'string' ? [TableName] : [];
}

/**
 * What deploying `promoted` (the stage's home stack, built for the secondary region) over
 * `current` (the secondary region's stack, which runs there) does, and which names the lost home
 * (`lostHome`, its template) still holds.
 */
export function promotionPlan(
  current: Template,
  promoted: Template,
  lostHome: Template,
  account: string,
  regions: { lost: string; newHome: string },
): PromotionPlan {
  const existing = new Set(Object.values(current.Resources).flatMap(regionalNames));
  const held = new Map<string, string>();
  for (const [id, resource] of Object.entries(lostHome.Resources)) {
    for (const name of globalNames(resource, account, regions.lost)) held.set(name, id);
  }
  const steps: PromotionStep[] = [];
  for (const [logicalId, resource] of Object.entries(promoted.Resources)) {
    const before = current.Resources[logicalId];
    if (before?.Type === resource.Type) {
      steps.push({
        logicalId,
        type: resource.Type,
        action: 'keep',
        note: 'in the stack already: updated in place (the deploy gate stops a replacement)',
      });
    } else if (regionalNames(resource).some((name) => existing.has(name))) {
      steps.push({
        logicalId,
        type: resource.Type,
        action: 'import',
        note: `${regionalNames(resource).join(', ')} exists in ${regions.newHome} (the lost home's replica): import it, it cannot be created`,
      });
    } else {
      steps.push({ logicalId, type: resource.Type, action: 'create', note: 'new' });
    }
  }
  for (const [logicalId, resource] of Object.entries(current.Resources)) {
    if (promoted.Resources[logicalId]?.Type !== resource.Type) {
      steps.push({ logicalId, type: resource.Type, action: 'delete', note: "the secondary's own: not needed at home" });
    }
  }
  const conflicts = steps
    .filter((step) => step.action === 'create')
    .flatMap((step) =>
      globalNames(promoted.Resources[step.logicalId], account, regions.newHome)
        .filter((name) => held.has(name))
        .map((name) => ({ ...step, note: `${name} is still held by ${held.get(name)} of the lost home stack` })),
    );
  return { steps, conflicts };
}

export function renderPlan(plan: PromotionPlan): string {
  const order: PromotionAction[] = ['import', 'create', 'keep', 'delete'];
  const lines = order.flatMap((action) => {
    const steps = plan.steps.filter((step) => step.action === action);
    if (steps.length === 0) return [];
    return [`${action.toUpperCase()} (${steps.length})`, ...steps.map((step) => `  ${step.logicalId} ${step.type}: ${step.note}`)];
  });
  const conflicts = plan.conflicts.length
    ? [
        'NAMES STILL HELD BY THE LOST HOME (free them first)',
        ...plan.conflicts.map((step) => `  ${step.logicalId} ${step.type}: ${step.note}`),
      ]
    : ['No global name of the new home is held by the lost home.'];
  return [...lines, ...conflicts].join('\n');
}

/** `sls package` of a stack into a folder, in a directory holding the project. */
function packageStack(cwd: string, args: string[], into: string): Template {
  const result = spawnSync(join(cwd, 'node_modules', '.bin', 'sls'), ['package', ...args, '--package', into], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: '1' },
  });
  if (result.status !== 0) throw new StageError(`sls package ${args.join(' ')} failed:\n${result.stdout}${result.stderr}`);
  return JSON.parse(readFileSync(join(into, 'cloudformation-template-update-stack.json'), 'utf8'));
}

function main(argv: string[]) {
  const stage = optionFromArgv(argv, 'stage', 's');
  if (!stage || !isSharedStage(stage)) throw new StageError('Which stage? npm run promotion:plan -- --stage prod');
  const settings = settingsFor(stage);
  const [lost, newHome] = settings.regions;
  if (!newHome) throw new StageError(`${stage} runs in ${lost} only: it has no secondary region to promote.`);
  const root = join(__dirname, '..');
  const work = mkdtempSync(join(tmpdir(), 'promotion-'));
  try {
    const lostHome = packageStack(root, ['--stage', stage], join(work, 'home'));
    const current = packageStack(root, ['--stage', stage, '--region', newHome], join(work, 'secondary'));
    // The promoted stage, built in a copy of the project whose team.json names the new home alone.
    const copy = join(work, 'project');
    const listed = spawnSync('git', ['ls-files'], { cwd: root, encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
    for (const file of listed) cpSync(join(root, file), join(copy, file));
    symlinkSync(join(root, 'node_modules'), join(copy, 'node_modules'), 'dir');
    const team = JSON.parse(readFileSync(join(root, teamSettingsFile), 'utf8')) as TeamSettings;
    writeFileSync(join(copy, teamSettingsFile), `${JSON.stringify(promotedTeam(team, stage, newHome), null, 2)}\n`);
    const promoted = packageStack(copy, ['--stage', stage], join(work, 'promoted'));
    const plan = promotionPlan(current, promoted, lostHome, settings.accountId, { lost, newHome });
    console.log(`Promoting ${newHome} to home of ${stage} (${lost} lost), as a deploy of the stack that runs in ${newHome}:\n`);
    console.log(renderPlan(plan));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (require.main === module) {
  try {
    main(process.argv.slice(2));
  } catch (error) {
    console.error((error as Error).message);
    process.exitCode = 1;
  }
}
