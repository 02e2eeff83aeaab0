// Runs the real CLI on the real serverless.ts, offline: no AWS variables reach the child.
//
// A stack is packaged when a test first reads it, and the result is kept in
// `.serverless-test/stacks/<name>` for as long as what shapes the template is unchanged (the
// fingerprint below), so a second run of one test file packages nothing. The CLI always runs in a
// copy of the project (node_modules linked), because osls's package step deletes
// `<service>/.serverless`, even with --package: the tests leave the developer's own
// `sls package` output alone.
import { execFileSync, type SpawnOptions, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { teamSettings } from '../resources/stage';
import { type TeamSettings, teamSettingsFile } from '../resources/team';
import { promotedTeam } from '../scripts/promotion-plan';

export const projectRoot = resolve(__dirname, '..');
export const packageRoot = join(projectRoot, '.serverless-test');
const stacksRoot = join(packageRoot, 'stacks');
const copiesRoot = join(packageRoot, 'copies');
const locksRoot = join(packageRoot, 'locks');

/** Build output and local state: never copied, at any depth (nor recursed into). */
const neverCopied = new Set([
  'node_modules',
  '.git',
  '.serverless',
  '.serverless-test',
  '.bootstrap',
  // A developer's own defaults: the tests name every stack they package in full.
  '.movement-pass.local.json',
  '.esbuild',
  '.build',
  'coverage',
  'dist',
]);
/** What only documents or tests the product: it shapes no template, so a change to it packages nothing again. */
const notTemplateInputs = new Set(['test', 'client/test', 'bench', 'docs', '.ci']);

/** The files a packaging reads from the project, relative to it, sorted. */
export function templateInputs(dir = projectRoot): string[] {
  const files: string[] = [];
  const walk = (current: string) => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const path = join(current, entry.name);
      const name = relative(dir, path);
      if (neverCopied.has(entry.name) || notTemplateInputs.has(name)) continue;
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile() && !entry.name.endsWith('.md')) files.push(name);
    }
  };
  walk(dir);
  return files.sort();
}

/** The tools whose installed versions shape a package. */
const packagingTools = ['osls', 'serverless-esbuild', 'serverless-certificate-creator', 'serverless-domain-manager', 'esbuild', 'tsx'];

/**
 * The environment of a machine with no AWS account: only what a shell needs, and the SDK's
 * credential chain pointed nowhere, so any accidental AWS call fails instead of finding
 * credentials. The SDK's warning about Node 20 (true, and said once in the README) is silenced
 * with its own switch in these child processes only.
 */
export function offlineEnv(): NodeJS.ProcessEnv {
  const kept = Object.fromEntries(['PATH', 'HOME', 'LANG', 'TMPDIR'].flatMap((key) => (process.env[key] ? [[key, process.env[key]]] : [])));
  return {
    ...kept,
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}

/** What shapes every package made from `dir`: its template inputs, the tools' versions, Node's, the environment. */
export function inputsFingerprint(dir: string): string {
  const hash = createHash('sha256');
  for (const file of templateInputs(dir))
    hash
      .update(`${file}\0`)
      .update(readFileSync(join(dir, file)))
      .update('\0');
  for (const tool of packagingTools) {
    hash.update(`${tool}@${JSON.parse(readFileSync(join(projectRoot, 'node_modules', tool, 'package.json'), 'utf8')).version}\0`);
  }
  hash.update(`node ${process.version}\0${JSON.stringify(offlineEnv())}`);
  return hash.digest('hex');
}

let projectInputs: string | undefined;
/** The project's fingerprint, read once per test file. */
export const projectFingerprint = (): string => (projectInputs ??= inputsFingerprint(projectRoot));

const stackFingerprint = (args: readonly string[]) =>
  createHash('sha256').update(projectFingerprint()).update(JSON.stringify(args)).digest('hex');

const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** Takes a lock that other test processes wait for (a directory: mkdir is atomic), or returns undefined if it is held. */
function tryLock(name: string): (() => void) | undefined {
  const lock = join(locksRoot, name);
  mkdirSync(locksRoot, { recursive: true });
  try {
    mkdirSync(lock);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const owner = lockOwner(lock);
    // A lock whose holder died (a run stopped halfway) is free.
    if (owner && !processAlive(owner)) rmSync(lock, { recursive: true, force: true });
    return undefined;
  }
  writeFileSync(join(lock, 'pid'), String(process.pid));
  return () => rmSync(lock, { recursive: true, force: true });
}

/** Runs `work` while holding a lock, waiting for it as long as another process holds it. */
function withLock<T>(name: string, work: () => T): T {
  const deadline = Date.now() + 300_000;
  let release = tryLock(name);
  while (!release) {
    if (Date.now() > deadline)
      throw new Error(`${join(locksRoot, name)} is still held after 5 minutes: remove it if no test run is going on`);
    sleep(100);
    release = tryLock(name);
  }
  try {
    return work();
  } finally {
    release();
  }
}

/** The process holding a lock, or 0 while it has not yet written its id. */
function lockOwner(lock: string): number {
  try {
    return Number(readFileSync(join(lock, 'pid'), 'utf8'));
  } catch {
    return 0;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * A copy of the project's template inputs where the CLI runs, made again when they changed:
 * `.serverless-test/copies/<slot>`, one slot per user at a time (a stack's packaging, a test worker).
 */
export function projectCopy(slot: string): string {
  const copy = join(copiesRoot, slot);
  const stamp = `${copy}.fingerprint`;
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === projectFingerprint()) return copy;
  rmSync(copy, { recursive: true, force: true });
  for (const file of templateInputs()) cpSync(join(projectRoot, file), join(copy, file));
  symlinkSync(join(projectRoot, 'node_modules'), join(copy, 'node_modules'), 'dir');
  writeFileSync(stamp, projectFingerprint());
  return copy;
}

/** The copy this test worker runs the CLI in (Vitest runs one file at a time per worker). */
export const workerCopy = (): string => projectCopy(`worker-${process.env.VITEST_POOL_ID ?? process.pid}`);

export interface CliResult {
  status: number | null;
  output: string;
}

/**
 * Runs `sls` asynchronously, offline, in a copy of its own (`slot`): runs that overlap must not
 * share a copy, since packaging works in the copy's `.esbuild` folder.
 */
export function slsAsync(args: string[], slot: string, env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  const bin = join(projectRoot, 'node_modules', '.bin', 'sls');
  return runChild(bin, args, { cwd: projectCopy(slot), env: { ...offlineEnv(), ...env }, timeout: 180_000 });
}

/** Runs a child process to its end, without blocking this one: its exit status and all it printed. */
export function runChild(command: string, args: string[], options: SpawnOptions): Promise<CliResult> {
  const child = spawn(command, args, options);
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, output })));
}

/** Runs `sls` in a copy of the project (this worker's, unless `cwd` says another), offline. */
export function sls(args: string[], env: NodeJS.ProcessEnv = {}, cwd = workerCopy()): CliResult {
  const bin = join(projectRoot, 'node_modules', '.bin', 'sls');
  const result = spawnSync(bin, args, { cwd, env: { ...offlineEnv(), ...env }, encoding: 'utf8', timeout: 180_000 });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/** The sandbox the tests opt in to a second region, and the option that does it. */
export const optedInSandbox = 'bob';
export const secondaryRegionOptIn = '--param=secondary-region=ap-southeast-1';

/**
 * The stacks the template tests read, by the name of their package folder: a stage's home stack
 * is named after the stage, a secondary region's regional stack `<stage>.<region>`.
 */
export const testedStacks = {
  prod: ['--stage', 'prod'],
  'prod.ap-southeast-1': ['--stage', 'prod', '--region', 'ap-southeast-1'],
  // The failover control stack of prod (resources/failover-control.ts).
  'prod.us-east-1': ['--stage', 'prod', '--region', 'us-east-1'],
  alice: ['--stage', 'alice'],
  [optedInSandbox]: ['--stage', optedInSandbox, secondaryRegionOptIn],
  [`${optedInSandbox}.ap-southeast-1`]: ['--stage', optedInSandbox, secondaryRegionOptIn, '--region', 'ap-southeast-1'],
} as const satisfies Record<string, readonly string[]>;
export type TestedStack = keyof typeof testedStacks;

/**
 * Stacks packaged from a copy whose team.json is changed: prod promoted, its secondary region home
 * (scripts/promotion-plan.ts rehearses the same).
 */
export const promotedStacks = {
  'prod.promoted': { args: ['--stage', 'prod'], team: (team: TeamSettings) => promotedTeam(team, 'prod', 'ap-southeast-1') },
} as const;

/** What `sls package` printed for a stack, kept beside its package. */
export const packagingLogFile = 'packaging.log';
const fingerprintFile = '.fingerprint';

/**
 * The folder of a tested stack's package, `sls package` run first if it is missing or was made
 * from other inputs. One worker packages a stack while the others wait for it.
 */
export function stackDir(name: string): string {
  if (isFresh(name)) return stackFolder(name);
  return withLock(`stack-${name}`, () => {
    if (!isFresh(name)) {
      keepPackage(name, sls(packageCommand(name), {}, stackCopy(name)));
    }
    return stackFolder(name);
  });
}

/**
 * Packages every tested stack that is not fresh, `concurrency` at a time, while the first tests
 * start: the whole suite reads every stack, and waiting for them one at a time would leave a core
 * idle. A stack a test is packaging already is left to it; one that fails here is packaged again
 * by the first test that reads it, which reports the failure.
 */
export async function packageStaleStacks(concurrency: number): Promise<void> {
  const queue = [...Object.keys(testedStacks), ...Object.keys(promotedStacks)].filter((name) => !isFresh(name));
  const packageNext = async (): Promise<void> => {
    for (let name = queue.shift(); name; name = queue.shift()) {
      const release = tryLock(`stack-${name}`);
      if (!release) continue;
      try {
        stackCopy(name);
        keepPackage(name, await slsAsync(packageCommand(name), `stack-${name}`));
      } catch {
        // left to the test that reads the stack
      } finally {
        release();
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, packageNext));
}

/** The copy a stack is packaged in: the project's, with the changed team.json of a promoted stack. */
function stackCopy(name: string): string {
  const copy = projectCopy(`stack-${name}`);
  const promoted = promotedStacks[name as keyof typeof promotedStacks];
  if (promoted) {
    const team = promoted.team(teamSettings());
    writeFileSync(join(copy, teamSettingsFile), `${JSON.stringify(team, null, 2)}\n`);
  }
  return copy;
}

const stackFolder = (name: string) => join(stacksRoot, name);
const stagingFolder = (name: string) => `${stackFolder(name)}.packaging`;

function stackArgs(name: string): readonly string[] {
  const promoted = promotedStacks[name as keyof typeof promotedStacks];
  if (promoted) return [...promoted.args, `team=${JSON.stringify(promoted.team(teamSettings()))}`];
  const args: readonly string[] | undefined = testedStacks[name as TestedStack];
  if (!args) throw new Error(`${name} is not a tested stack: add it to testedStacks in test/package-stage.ts`);
  return args;
}

/** `sls package` of a stack into its empty staging folder. */
function packageCommand(name: string): string[] {
  rmSync(stagingFolder(name), { recursive: true, force: true });
  return ['package', ...stackArgs(name).filter((arg) => !arg.startsWith('team=')), '--package', stagingFolder(name)];
}

function isFresh(name: string): boolean {
  const stamp = join(stackFolder(name), fingerprintFile);
  return existsSync(stamp) && readFileSync(stamp, 'utf8') === stackFingerprint(stackArgs(name));
}

/** Makes the staging folder of a successful packaging the stack's package, stamped with its inputs. */
function keepPackage(name: string, result: CliResult): void {
  if (result.status !== 0) throw new Error(`sls package ${stackArgs(name).join(' ')} failed:\n${result.output}`);
  const staging = stagingFolder(name);
  writeFileSync(join(staging, packagingLogFile), result.output);
  writeFileSync(join(staging, fingerprintFile), stackFingerprint(stackArgs(name)));
  rmSync(stackFolder(name), { recursive: true, force: true });
  renameSync(staging, stackFolder(name));
}

export interface Template {
  Resources: Record<string, { Type: string; Properties: Record<string, any>; [key: string]: any }>;
  Outputs?: Record<string, { Value: unknown; Description?: string }>;
  Conditions?: Record<string, unknown>;
}

export const templatePath = (stack: string): string => join(stackDir(stack), 'cloudformation-template-update-stack.json');

export function readTemplate(stack: string): Template {
  return JSON.parse(readFileSync(templatePath(stack), 'utf8')) as Template;
}

/** The service configuration osls resolved from serverless.ts for a stack, plugin settings included. */
export function readServiceState(stack: string): {
  custom: Record<string, any>;
  functions: Record<string, any>;
  plugins: string[];
  provider: { region: string; stage: string; iam: { deploymentRole: string }; deploymentBucket: string; [key: string]: any };
} {
  return JSON.parse(readFileSync(join(stackDir(stack), 'serverless-state.json'), 'utf8')).service;
}

/** What the project's own `.serverless/` holds (name, size, mtime), to prove the tests left it alone. */
export function serverlessDirFingerprint(): string[] {
  const dir = join(projectRoot, '.serverless');
  if (!existsSync(dir)) return ['(absent)'];
  return readdirSync(dir)
    .sort()
    .map((name) => {
      const stats = statSync(join(dir, name));
      return `${name} ${stats.size} ${stats.mtimeMs}`;
    });
}
export const serverlessDirFingerprintFile = join(packageRoot, 'serverless-dir-before.json');

/** A folder of scratch files for one test file, emptied first. */
export function scratchDir(name: string): string {
  const dir = join(packageRoot, 'scratch', name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}

/**
 * A function's bundle from a tested stack's package, unzipped once beside it. It sits inside the
 * project, so its external `@aws-sdk/*` resolves from node_modules as the Lambda runtime's would.
 */
export function unpackedBundle(stack: string, functionName: string): string {
  const dir = join(stackDir(stack), 'bundles', functionName);
  if (existsSync(join(dir, '.unpacked'))) return dir;
  return withLock(`bundle-${stack}-${functionName}`, () => {
    if (existsSync(join(dir, '.unpacked'))) return dir;
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    execFileSync('unzip', ['-q', join(stackDir(stack), `${functionName}.zip`), '-d', dir]);
    writeFileSync(join(dir, '.unpacked'), '');
    return dir;
  });
}
