// The real CLI on the real serverless.ts, offline (no AWS variable, no credentials): what only the
// CLI proves. osls parses the command line, loads serverless.ts and the plugins, and runs the
// lifecycle; a guard must act there before any AWS call. One run per scenario, every assertion
// about that scenario on its output; what the plugins do beyond that is tested in-process.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type CliResult, packagingLogFile, readTemplate, scratchDir, slsAsync, stackDir } from './package-stage';

let runs = 0;
/** The CLI in a copy of its own, so the scenarios of this file run side by side. */
const sls = (args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> => slsAsync(args, `cli-${++runs}`, env);

// Each runs the real CLI: a few seconds to start, more on a busy machine.
describe.concurrent('the real CLI, offline', { timeout: 120_000 }, () => {
  describe('the removal guard', () => {
    it('stops `sls remove -s=prod` (a spelling osls also reads) on the shared stage, before any AWS call', async () => {
      const result = await sls(['remove', '-s=prod']);

      expect(result.status).not.toBe(0);
      expect(result.output).toContain('"prod" is a shared stage');
      expect(result.output).toContain('--param=confirm-remove=prod');
      expect(result.output).not.toMatch(/credentials/i);
    });

    // The long spelling, `--stage prod --region ap-southeast-1`, is the in-process guard's (production-safety.test.ts).
    it.each(['-s prod -r=ap-southeast-1'])(
      'stops `sls remove %s` on the shared stage, naming the region, before any AWS call',
      async (options) => {
        const result = await sls(['remove', ...options.split(' ')]);

        expect(result.status).not.toBe(0);
        expect(result.output).toContain(
          '"prod" in ap-southeast-1 (its secondary region) is a shared stage: `sls remove` in ap-southeast-1',
        );
        expect(result.output).toContain('--param=confirm-remove=prod');
        expect(result.output).not.toMatch(/credentials/i);
      },
    );

    it('stops `sls deploy function -f keyRing --stage prod` before any AWS call: code goes to prod only through a reviewed deploy', async () => {
      const result = await sls(['deploy', 'function', '-f', 'keyRing', '--stage', 'prod']);

      expect(result.status).not.toBe(0);
      expect(result.output).toContain("`sls deploy function` in ap-south-1 replaces a function's code");
      expect(result.output).toContain('--param=confirm-function=prod');
      expect(result.output).not.toMatch(/credentials/i);
    });

    it('lets `sls remove --stage alice` go on to AWS, where the preflight stops it without credentials, clearly', async () => {
      const result = await sls(['remove', '--stage', 'alice']);

      expect(result.status).not.toBe(0);
      expect(result.output).not.toContain('shared stage');
      expect(result.output).toContain('No AWS credentials found. `sls remove` stopped before doing anything.');
      expect(result.output).not.toContain('Uncaught exception');
      expect(result.output).not.toMatch(/\n\s+at /);
    });
  });

  describe('the preflight', () => {
    it('says within seconds that AWS cannot be reached, with credentials and no network', async () => {
      // Credentials, and every AWS request sent to a proxy port nothing listens on.
      const started = Date.now();
      const result = await sls(['info', '--stage', 'alice'], {
        AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
        AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
        HTTPS_PROXY: 'http://127.0.0.1:9',
      });

      expect(result.status).not.toBe(0);
      expect(result.output).toContain('AWS cannot be reached: STS in ap-south-1 gave no answer');
      // The preflight's own bound (8 s) is tested in-process; here the CLI's start counts too, on a busy machine.
      expect(Date.now() - started).toBeLessThan(60_000);
    });

    it('lets an offline command run without credentials: the tests package every stack so', () => {
      const log = readFileSync(join(stackDir('alice'), packagingLogFile), 'utf8');

      expect(log).toContain('✔ Service packaged');
      expect(log).not.toContain('No AWS credentials found');
    });
  });

  it('`sls diff --against` packages prod as the command line says and shows what differs, the dangers first', async () => {
    // The template prod packaged, its passes table keyed differently; the command line switches
    // the home bucket's replication off: those two differences and nothing else.
    const changed = join(scratchDir('cli-diff'), 'prod-new-key-schema.json');
    const template = structuredClone(readTemplate('prod'));
    template.Resources.PassesTable.Properties.KeySchema = [{ AttributeName: 'passId', KeyType: 'HASH' }];
    writeFileSync(changed, JSON.stringify(template));

    const result = await sls(['diff', '--stage', 'prod', '--param=photo-replication=off', '--against', changed]);

    expect(result.status, result.output).toBe(0);
    expect(result.output).toContain('as movement-pass-foundation-prod in ap-south-1 (home region)');
    expect(result.output).toContain('PassesTable (AWS::DynamoDB::GlobalTable, retained data) would be REPLACED');
    expect(result.output.match(/^\[[~+-]\] .*$/gm)).toEqual([
      '[~] AWS::DynamoDB::GlobalTable PassesTable replace',
      '[~] AWS::S3::Bucket PhotoBucket',
    ]);
    expect(result.output).toMatch(/\[-\] ReplicationConfiguration/);
  });

  describe('serverless.ts', () => {
    it('stops a bad stage name before anything runs, naming the rule', async () => {
      const result = await sls(['package', '--stage', 'Prod_1']);

      expect(result.status).not.toBe(0);
      expect(result.output).toContain('Invalid stage name "Prod_1"');
      expect(result.output).not.toContain('Packaging');
    });
  });

  it('sls --help lists the foundation commands beside the plugins, as root and without --stage too', async () => {
    // The user name of a container (root) names no sandbox: help needs none.
    const result = await sls(['--help'], { USER: 'root', LOGNAME: 'root' });

    expect(result.status, result.output).toBe(0);
    expect(result.output).toMatch(/verify\s+Proves a deployed stage works end to end/);
    expect(result.output).toContain('exits non-zero if any fails');
    expect(result.output).toMatch(/diff\s+Shows what `sls deploy` of this stage would change/);
    expect(result.output).toMatch(/create-cert\s+/);
    expect(result.output).toMatch(/delete_domain\s+/);
    expect(result.output).toMatch(/failover\s+Shows where public-api answers/);
    // Why no sandbox: the user name, and how to name one.
    expect(result.output).toMatch(
      /Without --stage a command acts on your sandbox, never on a shared stage.*\n.*"root".*MOVEMENT_PASS_STAGE/,
    );
    expect(result.output).toContain('prod takes --stage prod on every command');
  });
});
