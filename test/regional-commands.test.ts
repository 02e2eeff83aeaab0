// The real CLI on a secondary region of prod, offline (no AWS variables): the removal guard names
// the region before any AWS call, however the options are spelled, and `sls diff --against`
// compares the regional stack's own template.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot, sls } from './package-stage';

describe('prod in ap-southeast-1, offline', { timeout: 180_000 }, () => {
  it.each(['--stage prod --region ap-southeast-1', '-s prod -r=ap-southeast-1'])(
    '`sls remove %s` stops on the shared stage, naming the region, before any AWS call',
    (options) => {
      const result = sls(['remove', ...options.split(' ')]);

      expect(result.status).not.toBe(0);
      expect(result.output).toContain('"prod" in ap-southeast-1 (its secondary region) is a shared stage: `sls remove` in ap-southeast-1');
      expect(result.output).toContain('--param=confirm-remove=prod');
      expect(result.output).not.toMatch(/credentials/i);
    },
  );

  it('`sls diff --against` the regional template finds no difference and names the stack of that region', () => {
    const regional = join(packageRoot, 'prod.ap-southeast-1', 'cloudformation-template-update-stack.json');

    const result = sls(['diff', '--stage', 'prod', '--region', 'ap-southeast-1', '--against', regional]);

    expect(result.status, result.output).toBe(0);
    expect(result.output).toContain('movement-pass-foundation-prod in ap-southeast-1 (secondary region of prod)');
    expect(result.output).toContain('There were no differences');
  });
});
