import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bootstrapStage, runControlTowerRules, stackFindings } from './cfn-guard';
import { acceptedFindings } from './cfn-guard-exceptions';
import { testedStacks } from './package-stage';

// The tested stacks, and the bootstrap's templates beside them.
const testedStackNames = [...Object.keys(testedStacks), bootstrapStage];
const findingsOf = stackFindings();

describe.each(testedStackNames)('AWS Control Tower proactive controls, stage %s', (stage) => {
  const findings = findingsOf[stage];
  const isAccepted = (finding: { control: string; resource: string }) =>
    acceptedFindings.some(
      (accepted) =>
        accepted.control === finding.control &&
        accepted.resources.includes(finding.resource) &&
        (accepted.stages === undefined || accepted.stages.includes(stage)),
    );

  it('has no finding outside test/cfn-guard-exceptions.ts', () => {
    expect(findings.filter((finding) => !isAccepted(finding))).toEqual([]);
  });

  it('gives every exception a reason', () => {
    for (const accepted of acceptedFindings) expect(accepted.reason.length, accepted.control).toBeGreaterThan(20);
  });
});

describe('the accepted exceptions', () => {
  const findingsByStage = testedStackNames.map((stage) => ({ stage, findings: findingsOf[stage] }));

  it('are each still needed: every one matches a finding of some stage', () => {
    const unused = acceptedFindings.filter(
      (accepted) =>
        !findingsByStage.some(
          ({ stage, findings }) =>
            (accepted.stages === undefined || accepted.stages.includes(stage)) &&
            findings.some((finding) => finding.control === accepted.control && accepted.resources.includes(finding.resource)),
        ),
    );
    expect(unused.map((accepted) => `${accepted.control} ${accepted.resources.join(',')}`)).toEqual([]);
  });

  // Before shared stages got their access logs, key and alarms, prod accepted 17 findings.
  it('are fewer on prod than the 17 accepted before', () => {
    const prod = findingsByStage.find(({ stage }) => stage === 'prod')?.findings ?? [];
    expect(prod.length).toBeGreaterThan(0);
    expect(prod.length).toBeLessThan(17);
  });
});

describe('the cfn-guard run itself', () => {
  it('reports a public, unencrypted bucket, so a clean result means something', () => {
    const dir = mkdtempSync(join(tmpdir(), 'guard-'));
    const file = join(dir, 'template.json');
    writeFileSync(file, JSON.stringify({ Resources: { OpenBucket: { Type: 'AWS::S3::Bucket', Properties: {} } } }));
    const controls = runControlTowerRules(file)
      .filter((finding) => finding.resource === 'OpenBucket')
      .map((finding) => finding.control);
    expect(controls).toContain('CT.S3.PR.1');
  });
});
