// One command deploys every region of a stage, home first (after the failover control stack in
// us-east-1 of a stage that fails over, whose routing check the home deploy puts on public-api):
//   npm run deploy:regions -- --stage prod [other sls deploy options]
// runs `sls deploy --region <region>` for each region of the stage (team.json), with the
// options given, forwarding output and exit codes, and stops at the first failure saying what
// completed and what to run again. The first deploy of a new secondary region takes three steps,
// because S3 refuses a replication rule whose destination bucket does not exist yet: home without
// its rule, the secondary region (its bucket, replicating to home), home again with its rule. The
// script finds out by asking S3 whether the secondary bucket exists and is versioned (the default
// AWS credential chain, or --aws-profile). Each region can still be deployed alone with
// `npx sls deploy --stage S --region R`.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants, userInfo } from 'node:os';
import { join } from 'node:path';
import { GetBucketVersioningCommand, S3Client } from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { optionFromArgv, paramFromArgv, settingsFromArgv } from '../resources/command-line';
import { missingBucketCode, stateOfVersioning, uncheckedBucket } from '../resources/photo-bucket-check';
import { photoBucketName, photoReplicationParam } from '../resources/photo-replication';
import { confirmations } from '../resources/production-safety';
import { failsOver } from '../resources/region-health';
import { deployAllScript, stageOptions } from '../resources/regions';
import { failoverControlRegion, homeRegionOf, type StageSettings, secondaryRegionOf } from '../resources/stage';
import { StageError } from '../resources/stage-validation';

/** Whether the secondary region's photo bucket can receive the home bucket's replication rule. */
export type { BucketState } from '../resources/photo-bucket-check';

import type { BucketState } from '../resources/photo-bucket-check';

export interface DeployStep {
  region: string;
  /** Extra options of this step (the home rule's switch). */
  options: string[];
  /** What the step is, for the progress and failure messages. */
  what: string;
}

/** The steps that deploy every region of the stage, from the state of the secondary bucket. */
export function deploySteps(settings: StageSettings, secondaryBucket?: BucketState): DeployStep[] {
  const [home] = settings.regions;
  const secondary = secondaryRegionOf(settings);
  if (secondary === undefined) return [{ region: home, options: [], what: `home region ${home}` }];
  // First: the home deploy's PRIMARY record of public-api carries the control stack's routing check.
  const control: DeployStep[] = failsOver(settings)
    ? [{ region: failoverControlRegion, options: [], what: `failover control stack in ${failoverControlRegion}` }]
    : [];
  if (secondaryBucket === 'ready') {
    return [
      ...control,
      { region: home, options: [], what: `home region ${home}` },
      { region: secondary, options: [], what: `secondary region ${secondary}` },
    ];
  }
  return [
    ...control,
    {
      region: home,
      options: [`--param=${photoReplicationParam}=off`],
      what: `home region ${home} without its photo replication rule (the ${secondary} bucket ${secondaryBucket === 'missing' ? 'does not exist yet' : 'is not versioned'})`,
    },
    { region: secondary, options: [], what: `secondary region ${secondary} (its photo bucket, replicating to home)` },
    { region: home, options: [], what: `home region ${home} again, with its photo replication rule` },
  ];
}

/** Options this script sets itself, or that mean one region only. */
function refusedOption(argv: readonly string[]): string | undefined {
  if (optionFromArgv(argv, 'region', 'r') !== undefined) {
    return '--region: this command deploys every region of the stage; deploy one region alone with npx sls deploy --stage <stage> --region <region>.';
  }
  if (optionFromArgv(argv, 'package', 'p') !== undefined) {
    return '--package: a package is built for one region; this command packages each region as it deploys it.';
  }
  if (paramFromArgv(argv, photoReplicationParam) !== undefined) {
    return `--param=${photoReplicationParam}: this command switches the home replication rule itself, when the secondary bucket is not ready yet.`;
  }
  // Both name what one region's stack holds: given to every step, they would stop the region they do not fit after the others deployed.
  if (paramFromArgv(argv, confirmations.replace) !== undefined) {
    return `--param=${confirmations.replace}: a replacement is allowed in one region's stack; deploy that region alone with npx sls deploy --stage <stage> --region <region> --param=${confirmations.replace}=<ids>.`;
  }
  return undefined;
}

export interface AwsClients {
  sts?: Pick<STSClient, 'send'>;
  s3?: Pick<S3Client, 'send'>;
}

/** The secondary photo bucket, asked of S3 in its region: exists and versioned, missing, or unversioned. */
export async function secondaryBucketState(settings: StageSettings, profile?: string, clients: AwsClients = {}): Promise<BucketState> {
  const region = secondaryRegionOf(settings);
  if (region === undefined) throw new Error(`stage ${settings.stage} has no secondary region`);
  const sts = clients.sts ?? new STSClient({ region: homeRegionOf(settings), ...(profile && { profile }) });
  const s3 = clients.s3 ?? new S3Client({ region, ...(profile && { profile }) });
  const name = photoBucketName(settings, region);
  let bucket = name.replace('${AWS::AccountId}', '<account id>');
  try {
    const { Account } = await sts.send(new GetCallerIdentityCommand({}));
    bucket = name.replace('${AWS::AccountId}', String(Account));
    // Owned by this account only: a bucket of that name elsewhere answers 403.
    const { Status } = await s3.send(new GetBucketVersioningCommand({ Bucket: bucket, ExpectedBucketOwner: Account }));
    return stateOfVersioning(Status);
  } catch (error) {
    if ((error as { name?: string }).name === missingBucketCode) return 'missing';
    throw new DeployError(
      `${uncheckedBucket({ bucket, region, code: (error as Error).name, message: (error as Error).message })} ` +
        'This command asks with the credentials sls uses (AWS_PROFILE, --aws-profile, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY). ' +
        `If ${region} does not answer (an outage), deploy a region alone: npx sls deploy ${[...stageOptions(settings), '--region', '<region>'].join(' ')}.`,
      1,
    );
  }
}

export class DeployError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = 'DeployError';
  }
}

export interface DeployOptions {
  /** The command line after `npm run deploy:regions --`: sls deploy options. */
  argv: readonly string[];
  /** The sls executable. */
  sls: string;
  /** Asks S3 for the secondary bucket's state. */
  checkBucket?: (settings: StageSettings, profile?: string) => Promise<BucketState>;
  /** Where the script's own lines go (sls writes to the terminal itself). */
  log?: (line: string) => void;
  /** The OS user, whose sandbox a command without --stage deploys (as sls does). */
  username?: () => string;
  stdio?: 'inherit' | 'ignore';
}

const quote = (arg: string) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, "'\\''")}'`);
const commandLine = (args: readonly string[]) => args.map(quote).join(' ');

/** Runs `sls` with `args`, its output on the terminal; resolves to its exit code. */
function run(sls: string, args: string[], stdio: 'inherit' | 'ignore'): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(sls, args, { stdio });
    child.on('error', reject);
    // Killed by a signal: 128 + its number, as a shell reports it.
    child.on('close', (code, signal) => resolve(code ?? 128 + (signal ? constants.signals[signal] : 0)));
  });
}

/** Deploys every region of the stage in order; resolves to the exit code of the whole run. */
export async function deployRegions(options: DeployOptions): Promise<number> {
  const log = options.log ?? ((line: string) => console.error(line));
  const { argv } = options;
  const refused = refusedOption(argv);
  if (refused) throw new DeployError(`Not an option of deploy:regions: ${refused}`, 1);
  const settings = settingsFromArgv(argv, options.username ?? (() => userInfo().username));
  const profile = optionFromArgv(argv, 'aws-profile', 'aws-profile');
  const secondary = secondaryRegionOf(settings);
  const bucket = secondary === undefined ? undefined : await (options.checkBucket ?? secondaryBucketState)(settings, profile);
  const steps = deploySteps(settings, bucket);
  const commands = steps.map((step) => ['deploy', ...argv, '--region', step.region, ...step.options]);
  log(
    `deploy:regions: stage ${settings.stage}, ${steps.length} step${steps.length > 1 ? 's' : ''}:\n` +
      steps.map((step, index) => `  ${index + 1}. ${step.what}: sls ${commandLine(commands[index])}`).join('\n'),
  );
  for (const [index, step] of steps.entries()) {
    log(`\ndeploy:regions: step ${index + 1} of ${steps.length}, ${step.what}`);
    const code = await run(options.sls, commands[index], options.stdio ?? 'inherit');
    if (code === 0) continue;
    const done = steps.slice(0, index).map((completed, at) => `  ${at + 1}. ${completed.what}`);
    const left = steps
      .slice(index)
      .map((pending, at) => `  ${index + at + 1}. ${pending.what}: npx sls ${commandLine(commands[index + at])}`);
    log(
      `\ndeploy:regions stopped: step ${index + 1} of ${steps.length} (${step.what}) failed with exit code ${code}.\n` +
        `Completed:\n${done.length ? done.join('\n') : '  nothing'}\n` +
        `Not done:\n${left.join('\n')}\n` +
        `Fix the cause above, then run the same command again (${deployAllScript} ${commandLine(argv)}): it checks the ` +
        'secondary bucket again and deploys every region in order; a region without changes is skipped by sls in seconds.',
    );
    return code;
  }
  log(`\ndeploy:regions: stage ${settings.stage} deployed in ${settings.regions.join(', ')}.`);
  return 0;
}

/** The sls that `npx sls` runs: the project's own. */
export function projectSls(projectRoot: string): string {
  const sls = join(projectRoot, 'node_modules', '.bin', 'sls');
  if (!existsSync(sls)) throw new DeployError(`${sls} is missing: run npm ci in ${projectRoot} first.`, 1);
  return sls;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(
      `Usage: ${deployAllScript} --stage <stage> [sls deploy options]\n` +
        'Deploys every region of the stage in order, home first (three steps for the first deploy of a new secondary region).',
    );
    return;
  }
  try {
    process.exitCode = await deployRegions({ argv, sls: projectSls(process.cwd()) });
  } catch (error) {
    if (!(error instanceof DeployError || error instanceof StageError)) throw error;
    console.error(error.message);
    process.exitCode = error instanceof DeployError ? error.exitCode : 1;
  }
}

if (require.main === module) void main();
