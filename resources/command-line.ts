// The stack osls was started for, read from its command line the way osls reads it: serverless.ts
// is evaluated before osls resolves its options. Without --stage, the personal sandbox.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isSharedStage, type StageSettings, secondaryRegionParam, settingsFor } from './stage';
import { maxStageLength, StageError } from './stage-validation';

/** Stage names a person's sandbox must never take: shared stages, and names everybody would share. */
const commonStageNames = ['dev', 'test', 'staging', 'stage', 'main', 'default', 'sandbox'];
/** Operating-system users that CI runners, containers and cloud images share. */
const sharedUserNames = [
  'root',
  'runner',
  'node',
  'ubuntu',
  'ec2-user',
  'admin',
  'user',
  'ci',
  'jenkins',
  'circleci',
  'vscode',
  'codespace',
  'gitpod',
  'nobody',
];

/** The environment variable that names the sandbox without `--stage` (as SST's SST_STAGE does). */
export const stageVariable = 'MOVEMENT_PASS_STAGE';

/**
 * The sandbox of whoever runs `sls` without `--stage`: their operating-system user name made a
 * valid stage (`Alice.Smith` is `alice-smith`). Never a shared stage, never a name two people
 * would both get by default.
 */
export function personalStage(username: string): string {
  const stage = username
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^[^a-z]+/, '')
    .slice(0, maxStageLength)
    .replace(/-+$/, '');
  if (!stage || isSharedStage(stage) || commonStageNames.includes(stage) || sharedUserNames.includes(stage)) {
    throw new StageError(
      `Without --stage the stage is your own sandbox, named after your user name "${username}", which gives ` +
        `${stage ? `"${stage}", a name others use too` : 'no usable name'}. Name your sandbox: --stage <your-name>, e.g. --stage alice, ` +
        `or once for every command: export ${stageVariable}=alice.`,
    );
  }
  return stage;
}

/**
 * The stage osls was started with. serverless.ts is evaluated before osls resolves its
 * options, so the stage is read from the command line the same way osls reads it; without
 * one, it is the personal sandbox of `username`.
 */
export function stageFromArgv(argv: readonly string[], username: () => string, environmentStage?: string): string {
  const stage = optionFromArgv(argv, 'stage', 's');
  if (stage !== undefined) return stage;
  if (environmentStage) return environmentStage;
  let name: string;
  try {
    name = username();
  } catch (error) {
    // os.userInfo() throws for a user id without a passwd entry (some containers).
    throw new StageError(
      `Without --stage the stage is named after your user name, which cannot be read (${String(error)}); pass --stage <your-name> ` +
        `or set ${stageVariable}=<your-name>.`,
    );
  }
  return personalStage(name);
}

/**
 * osls's own pattern of a command-line option (`--name`, `--name=value`, `-n`, `-n=value`), so
 * the stage and region serverless.ts builds for are the ones osls acts on, whatever the spelling.
 */
const optionPattern: RegExp = require('osls/lib/cli/param-reg-exp');

/** The value of an option as osls reads it: the last one given, `--` ending the options. */
export function optionFromArgv(argv: readonly string[], name: string, alias: string): string | undefined {
  let found: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--') break;
    const groups = argv[i].match(optionPattern)?.groups;
    if (!groups || (groups.fullName !== name && groups.aliasNames !== alias)) continue;
    found = groups.value ?? argv[i + 1] ?? '';
  }
  return found;
}

/**
 * The values of osls's `--param="<name>=<value>"` options named `name`, the last one winning,
 * as osls itself resolves `${param:<name>}`.
 */
export function paramFromArgv(argv: readonly string[], name: string): string | undefined {
  let found: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--') break;
    const groups = argv[i].match(optionPattern)?.groups;
    if (groups?.fullName !== 'param') continue;
    const value = groups.value ?? argv[i + 1] ?? '';
    const separator = value.indexOf('=');
    if (separator > 0 && value.slice(0, separator) === name) found = value.slice(separator + 1);
  }
  return found;
}

/** The stage, region and opt-ins of the command line, as the settings of the stack to build. */
/**
 * A developer's own defaults, in a file of their checkout that is never committed: their sandbox
 * (so no command needs --stage) and its second region (so no command of it forgets
 * --param=secondary-region, which would drop the replica and the replication on that deploy).
 */
export const personalSettingsFile = '.movement-pass.local.json';
export interface PersonalSettings {
  stage?: string;
  /** Applies to `stage` only, when no --param=secondary-region is given. */
  secondaryRegion?: string;
}

/** The personal settings of a checkout, checked; none when the file does not exist. */
export function readPersonalSettings(directory: string): PersonalSettings {
  const path = join(directory, personalSettingsFile);
  if (!existsSync(path)) return {};
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new StageError(
      `${personalSettingsFile} is not JSON (${(error as Error).message}); write {"stage": "alice", "secondaryRegion": "ap-southeast-1"} or delete it.`,
    );
  }
  const settings = (raw ?? {}) as Record<string, unknown>;
  const unknown = Object.keys(settings).filter((key) => !['stage', 'secondaryRegion'].includes(key));
  if (typeof raw !== 'object' || Array.isArray(raw) || unknown.length) {
    throw new StageError(
      `${personalSettingsFile} may hold "stage" and "secondaryRegion" only${unknown.length ? `, not ${unknown.join(', ')}` : ''}.`,
    );
  }
  for (const key of ['stage', 'secondaryRegion'] as const) {
    if (settings[key] !== undefined && typeof settings[key] !== 'string')
      throw new StageError(`"${key}" of ${personalSettingsFile} must be a string.`);
  }
  if (typeof settings.stage === 'string' && isSharedStage(settings.stage)) {
    throw new StageError(
      `"stage" of ${personalSettingsFile} is the shared stage "${settings.stage}": it names your sandbox only; a shared stage takes --stage every time.`,
    );
  }
  return settings as PersonalSettings;
}

/** `sls`, `sls help`, `sls --help`, `sls <command> --help`: osls prints help, for which any stage will do. */
export const isHelp = (argv: readonly string[]) => argv.length <= 2 || argv[2] === 'help' || argv.includes('--help') || argv.includes('-h');

/**
 * What osls's help cannot say, printed above it: every command acts on one stage, which stage
 * that is without --stage, and, when the user name cannot name a sandbox, why and what to do.
 */
export function helpNote(
  argv: readonly string[],
  username: () => string,
  environment: Record<string, string | undefined> = {},
  personal: PersonalSettings = {},
): string {
  let sandbox = 'your sandbox';
  let problem: string | undefined;
  try {
    sandbox = `your sandbox "${stageFromArgv([], username, environment[stageVariable] || personal.stage)}"`;
  } catch (error) {
    problem = (error as Error).message;
  }
  const given = optionFromArgv(argv, 'stage', 's');
  return [
    'Movement Pass foundation: every command acts on one stage of the foundation.',
    given
      ? `This one: --stage ${given}.`
      : `Without --stage a command acts on ${sandbox}, never on a shared stage: prod takes --stage prod on every command, so nothing reaches prod by omission.`,
    ...(given || !problem ? [] : [problem]),
    'The project adds diff, verify and failover to the commands below; README.md has the daily ones.',
    '',
  ].join('\n');
}

/**
 * `environment`: where the personal stage comes from without --stage, the project's variable
 * first. Help needs no stage: a user name that cannot name a sandbox still gets every command listed.
 */
export function settingsFromArgv(
  argv: readonly string[],
  username: () => string,
  environment: Record<string, string | undefined> = {},
  personal: PersonalSettings = {},
): StageSettings {
  let stage: string;
  try {
    stage = stageFromArgv(argv, username, environment[stageVariable] || personal.stage);
  } catch (error) {
    if (!(error instanceof StageError) || !isHelp(argv)) throw error;
    stage = 'help';
  }
  return settingsFor(stage, {
    region: optionFromArgv(argv, 'region', 'r'),
    secondaryRegion: paramFromArgv(argv, secondaryRegionParam) ?? (stage === personal.stage ? personal.secondaryRegion : undefined),
  });
}
