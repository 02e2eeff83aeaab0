// Runs cfn-guard with the AWS Control Tower proactive rules shipped in
// @cdklabs/cdk-validator-cfnguard, and reduces its report to (control, rule, resource) findings.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { arch, platform } from 'node:os';
import { dirname, join } from 'node:path';
import { stackDir, templatePath } from './package-stage';

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
  not_compliant: { Rule: { name: string } }[];
}

export function runControlTowerRules(templateFile: string): Finding[] {
  // --structured: one JSON array of reports, and a third less time than the report per rules file.
  const result = spawnSync(
    guardBinary(),
    ['validate', '-r', controlTowerRules, '-d', templateFile, '-o', 'json', '-S', 'none', '--structured'],
    {
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
    },
  );
  // Exit 19 means "some rule failed"; anything else non-zero is cfn-guard itself failing.
  if (result.status !== 0 && result.status !== 19) {
    throw new Error(`cfn-guard exited ${result.status}: ${result.stderr || result.error}`);
  }
  const findings = new Map<string, Finding>();
  for (const report of JSON.parse(result.stdout) as GuardReport[]) {
    for (const failure of report.not_compliant) {
      const text = JSON.stringify(failure);
      const control = /\[(CT\.[A-Z0-9]+\.PR\.\d+)\]/.exec(text)?.[1] ?? failure.Rule.name;
      const resources = new Set([...text.matchAll(/"path":"\/Resources\/([A-Za-z0-9]+)/g)].map((match) => match[1]));
      for (const resource of resources) {
        findings.set(`${control} ${resource}`, { control, rule: failure.Rule.name, resource });
      }
    }
  }
  return [...findings.values()].sort((a, b) => `${a.control}${a.resource}`.localeCompare(`${b.control}${b.resource}`));
}

const validatorVersion: string = require('@cdklabs/cdk-validator-cfnguard/package.json').version;

/**
 * The findings of a tested stack's template, kept beside its package (which is made again, and
 * the findings with it, when the template's inputs change): cfn-guard takes seconds per template.
 */
export function stackFindings(stack: string): Finding[] {
  const cache = join(stackDir(stack), `cfn-guard-${validatorVersion}.json`);
  if (existsSync(cache)) return JSON.parse(readFileSync(cache, 'utf8')) as Finding[];
  const findings = runControlTowerRules(templatePath(stack));
  writeFileSync(cache, JSON.stringify(findings));
  return findings;
}
