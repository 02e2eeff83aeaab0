// Runs cfn-guard with the AWS Control Tower proactive rules shipped in
// @cdklabs/cdk-validator-cfnguard, and reduces its report to (control, rule, resource) findings.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { arch, platform } from 'node:os';
import { dirname, join } from 'node:path';
import { accountTemplate, stageTemplate } from '../bootstrap/templates';
import { settingsFor } from '../resources/stage';
import { packageRoot, stackDir, templatePath, testedStacks } from './package-stage';

const validatorRoot = dirname(require.resolve('@cdklabs/cdk-validator-cfnguard/package.json'));
export const controlTowerRules = join(validatorRoot, 'rules', 'control-tower', 'cfn-guard');

function guardBinary(): string {
  const os = platform() === 'darwin' ? 'macos' : 'ubuntu';
  const cpu = arch() === 'arm64' ? 'aarch64' : 'x86_64';
  return join(validatorRoot, 'bin', os, cpu, 'cfn-guard');
}

export interface Finding {
  /** Control Tower control id, e.g. CT.S3.PR.1. */
  control: string;
  rule: string;
  resource: string;
}

interface GuardReport {
  /** The data file the report is of. */
  name: string;
  not_compliant: { Rule: { name: string } }[];
}

/**
 * The findings of each template, by file: one cfn-guard run for all of them, since reading the
 * rules is most of its time (five templates take twice as long as one, not five times).
 */
export function runControlTowerRulesOn(templateFiles: string[]): Map<string, Finding[]> {
  // --structured: one JSON array of reports, and a third less time than the report per rules file.
  const result = spawnSync(
    guardBinary(),
    ['validate', '-r', controlTowerRules, ...templateFiles.flatMap((file) => ['-d', file]), '-o', 'json', '-S', 'none', '--structured'],
    { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 },
  );
  // Exit 19 means "some rule failed"; anything else non-zero is cfn-guard itself failing.
  if (result.status !== 0 && result.status !== 19) {
    throw new Error(`cfn-guard exited ${result.status}: ${result.stderr || result.error}`);
  }
  const byFile = new Map(templateFiles.map((file) => [file, new Map<string, Finding>()]));
  for (const report of JSON.parse(result.stdout) as GuardReport[]) {
    const findings = byFile.get(report.name);
    if (!findings) throw new Error(`cfn-guard reported on ${report.name}, which it was not given`);
    for (const failure of report.not_compliant) {
      const text = JSON.stringify(failure);
      const control = /\[(CT\.[A-Z0-9]+\.PR\.\d+)\]/.exec(text)?.[1] ?? failure.Rule.name;
      const resources = new Set([...text.matchAll(/"path":"\/Resources\/([A-Za-z0-9]+)/g)].map((match) => match[1]));
      for (const resource of resources) {
        findings.set(`${control} ${resource}`, { control, rule: failure.Rule.name, resource });
      }
    }
  }
  return new Map(
    [...byFile].map(([file, findings]) => [
      file,
      [...findings.values()].sort((a, b) => `${a.control}${a.resource}`.localeCompare(`${b.control}${b.resource}`)),
    ]),
  );
}

export const runControlTowerRules = (templateFile: string): Finding[] => runControlTowerRulesOn([templateFile]).get(templateFile) ?? [];

const validatorVersion: string = require('@cdklabs/cdk-validator-cfnguard/package.json').version;
const findingsFile = (stack: string) => join(stackDir(stack), `cfn-guard-${validatorVersion}.json`);

/**
 * The findings of every tested stack's template, kept beside its package (which is made again,
 * and the findings with it, when the template's inputs change); the stacks without them are
 * checked in one cfn-guard run.
 */
export function stackFindings(): Record<string, Finding[]> {
  const stacks = Object.keys(testedStacks);
  const unchecked = stacks.filter((stack) => !existsSync(findingsFile(stack)));
  const bootstrap = writeBootstrapTemplate();
  const toCheck = [...unchecked.map((stack) => templatePath(stack)), ...(existsSync(bootstrap.findings) ? [] : [bootstrap.template])];
  if (toCheck.length) {
    const found = runControlTowerRulesOn(toCheck);
    for (const stack of unchecked) writeFileSync(findingsFile(stack), JSON.stringify(found.get(templatePath(stack)) ?? []));
    if (toCheck.includes(bootstrap.template)) writeFileSync(bootstrap.findings, JSON.stringify(found.get(bootstrap.template) ?? []));
  }
  return {
    ...Object.fromEntries(stacks.map((stack) => [stack, JSON.parse(readFileSync(findingsFile(stack), 'utf8')) as Finding[]])),
    [bootstrapStage]: JSON.parse(readFileSync(bootstrap.findings, 'utf8')) as Finding[],
  };
}

/** How the findings of the bootstrap's templates are named beside the stacks'. */
export const bootstrapStage = 'bootstrap';

/**
 * The bootstrap's templates (the account's and prod's, in prod's home region: every resource the
 * bootstrap has) as one template, and its findings file, named by its content.
 */
function writeBootstrapTemplate(): { template: string; findings: string } {
  const prod = settingsFor('prod');
  const account = accountTemplate({ global: true, deployer: 'shared-stage' });
  const stage = stageTemplate(prod, prod.regions[0], { global: true });
  const text = JSON.stringify({ ...account, Resources: { ...account.Resources, ...stage.Resources } }, null, 2);
  const folder = join(packageRoot, 'bootstrap');
  mkdirSync(folder, { recursive: true });
  const template = join(folder, 'template.json');
  writeFileSync(template, text);
  const digest = createHash('sha256').update(text).digest('hex').slice(0, 16);
  return { template, findings: join(folder, `cfn-guard-${validatorVersion}-${digest}.json`) };
}
