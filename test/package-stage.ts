// Runs the real CLI on the real serverless.ts, offline: no AWS variables reach the child.
// It runs in a copy of the project (node_modules linked), because osls's package step always
// deletes `<service>/.serverless`, even with --package: the tests must leave the developer's
// own `sls package` output alone.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const projectRoot = resolve(__dirname, '..');
export const packageRoot = join(projectRoot, '.serverless-test');
/** Where the tests run the CLI: a copy of the project's sources. */
export const projectCopy = join(packageRoot, 'project');

/** Build output and local state that a copy must not carry (nor recurse into). */
const notCopied = new Set(['node_modules', '.git', '.serverless', '.serverless-test', '.esbuild', '.build', 'coverage']);

export function copyProject(): void {
  mkdirSync(projectCopy, { recursive: true });
  for (const entry of readdirSync(projectRoot)) {
    if (!notCopied.has(entry)) cpSync(join(projectRoot, entry), join(projectCopy, entry), { recursive: true });
  }
  symlinkSync(join(projectRoot, 'node_modules'), join(projectCopy, 'node_modules'), 'dir');
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

export interface CliResult {
  status: number | null;
  output: string;
}

/** The environment of a machine with no AWS account: every AWS_* variable removed. */
export function offlineEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('AWS_')) env[key] = value;
  }
  // Point the SDK's credential chain nowhere, so any accidental AWS call fails instead of finding credentials.
  return { ...env, AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null', AWS_EC2_METADATA_DISABLED: 'true' };
}

export function sls(args: string[], env: NodeJS.ProcessEnv = {}): CliResult {
  const bin = join(projectRoot, 'node_modules', '.bin', 'sls');
  const result = spawnSync(bin, args, { cwd: projectCopy, env: { ...offlineEnv(), ...env }, encoding: 'utf8', timeout: 180_000 });
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
  alice: ['--stage', 'alice'],
  [optedInSandbox]: ['--stage', optedInSandbox, secondaryRegionOptIn],
  [`${optedInSandbox}.ap-southeast-1`]: ['--stage', optedInSandbox, secondaryRegionOptIn, '--region', 'ap-southeast-1'],
} as const satisfies Record<string, readonly string[]>;
export type TestedStack = keyof typeof testedStacks;

/** Packages one stack into `.serverless-test/<name>`, `args` choosing stage, region and opt-ins. */
export function packageStack(name: string, args: readonly string[]): void {
  const result = sls(['package', ...args, '--package', join(packageRoot, name)]);
  if (result.status !== 0) throw new Error(`sls package ${args.join(' ')} failed:\n${result.output}`);
}

export function packageStage(stage: string): void {
  packageStack(stage, ['--stage', stage]);
}

export interface Template {
  Resources: Record<string, { Type: string; Properties: Record<string, any>; [key: string]: any }>;
  Outputs?: Record<string, { Value: unknown; Description?: string }>;
  Conditions?: Record<string, unknown>;
}

export const templatePath = (stage: string): string => join(packageRoot, stage, 'cloudformation-template-update-stack.json');

export function readTemplate(stage: string): Template {
  return JSON.parse(readFileSync(templatePath(stage), 'utf8')) as Template;
}

/** The service configuration osls resolved from serverless.ts for a stage, plugin settings included. */
export function readServiceState(stage: string): {
  custom: Record<string, any>;
  plugins: string[];
  provider: { region: string; stage: string };
} {
  return JSON.parse(readFileSync(join(packageRoot, stage, 'serverless-state.json'), 'utf8')).service;
}
