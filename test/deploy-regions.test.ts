// scripts/deploy-regions.ts, the one command that deploys every region of a stage: the order
// (three steps while the secondary bucket is not ready), the options passed through, the stop at
// the first failure, against a fake `sls` executable that records its arguments; the S3 question
// through the AWS SDK, mocked with aws-sdk-client-mock.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetBucketVersioningCommand, S3Client } from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { settingsFor } from '../resources/stage';
import { StageError } from '../resources/stage-validation';
import { type BucketState, DeployError, deployRegions, deploySteps, secondaryBucketState } from '../scripts/deploy-regions';
import { offlineEnv, projectRoot } from './package-stage';

/** A directory holding `node_modules/.bin/sls`: a fake that records its arguments, says so, and fails on request. */
function fakeSls(): { dir: string; sls: string; calls: () => string[][] } {
  const dir = mkdtempSync(join(tmpdir(), 'fake-sls-'));
  const bin = join(dir, 'node_modules', '.bin');
  mkdirSync(bin, { recursive: true });
  const sls = join(bin, 'sls');
  const log = join(dir, 'calls.jsonl');
  writeFileSync(log, '');
  writeFileSync(
    sls,
    `#!/usr/bin/env node
const fs = require('node:fs');
fs.appendFileSync(${JSON.stringify(log)}, JSON.stringify(process.argv.slice(2)) + '\\n');
const call = fs.readFileSync(${JSON.stringify(log)}, 'utf8').trim().split('\\n').length;
console.log('fake sls call ' + call + ': ' + process.argv.slice(2).join(' '));
if (String(call) === process.env.FAKE_SLS_FAIL_AT) {
  console.error('fake sls failed');
  process.exit(Number(process.env.FAKE_SLS_EXIT ?? 1));
}
`,
  );
  chmodSync(sls, 0o755);
  const calls = () =>
    readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as string[]);
  return { dir, sls, calls };
}

function runWith(argv: string[], state: BucketState) {
  const fake = fakeSls();
  const lines: string[] = [];
  const checkBucket = vi.fn(async () => state);
  const run = () => deployRegions({ argv, sls: fake.sls, checkBucket, log: (line) => lines.push(line), stdio: 'ignore' });
  return { run, fake, lines, checkBucket };
}

describe('deploy steps', () => {
  it('deploys home, then the secondary region, once the secondary bucket is ready', () => {
    expect(deploySteps(settingsFor('prod'), 'ready').map(({ region, options }) => [region, ...options])).toEqual([
      ['us-east-1'],
      ['ap-south-1'],
      ['ap-southeast-1'],
    ]);
  });

  it.each(['missing', 'unversioned'] as const)('takes three steps while the secondary bucket is %s', (state) => {
    expect(deploySteps(settingsFor('prod'), state).map(({ region, options }) => [region, ...options])).toEqual([
      ['us-east-1'],
      ['ap-south-1', '--param=photo-replication=off'],
      ['ap-southeast-1'],
      ['ap-south-1'],
    ]);
  });

  it('deploys the home region alone for a stage in one region', () => {
    expect(deploySteps(settingsFor('alice')).map(({ region, options }) => [region, ...options])).toEqual([['ap-south-1']]);
  });
});

describe('npm run deploy:regions', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('performs the first deploy of a new secondary region in three steps, home first, passing the options through', async () => {
    const { run, fake, checkBucket } = runWith(['--stage', 'prod', '--verbose'], 'missing');

    expect(await run()).toBe(0);

    expect(checkBucket).toHaveBeenCalledWith(expect.objectContaining({ stage: 'prod', region: 'ap-south-1' }), undefined);
    expect(fake.calls()).toEqual([
      // The failover control stack first: the PRIMARY record of the home deploy carries its routing check.
      ['deploy', '--stage', 'prod', '--verbose', '--region', 'us-east-1'],
      ['deploy', '--stage', 'prod', '--verbose', '--region', 'ap-south-1', '--param=photo-replication=off'],
      ['deploy', '--stage', 'prod', '--verbose', '--region', 'ap-southeast-1'],
      ['deploy', '--stage', 'prod', '--verbose', '--region', 'ap-south-1'],
    ]);
  });

  it("deploys home then the secondary region when the secondary bucket is ready, with the sandbox's opt-in and profile", async () => {
    const argv = ['--stage', 'bob', '--param=secondary-region=ap-southeast-1', '--aws-profile', 'sandbox'];
    const { run, fake, checkBucket } = runWith(argv, 'ready');

    expect(await run()).toBe(0);

    expect(checkBucket).toHaveBeenCalledWith(
      expect.objectContaining({ stage: 'bob', regions: ['ap-south-1', 'ap-southeast-1'] }),
      'sandbox',
    );
    expect(fake.calls()).toEqual([
      ['deploy', ...argv, '--region', 'ap-south-1'],
      ['deploy', ...argv, '--region', 'ap-southeast-1'],
    ]);
  });

  it('deploys a stage in one region without asking S3 anything', async () => {
    const { run, fake, checkBucket } = runWith(['--stage', 'alice'], 'missing');

    expect(await run()).toBe(0);

    expect(checkBucket).not.toHaveBeenCalled();
    expect(fake.calls()).toEqual([['deploy', '--stage', 'alice', '--region', 'ap-south-1']]);
  });

  it('stops at the first failure with its exit code, saying what completed and what to run', async () => {
    vi.stubEnv('FAKE_SLS_FAIL_AT', '3');
    vi.stubEnv('FAKE_SLS_EXIT', '7');
    const { run, fake, lines } = runWith(['--stage', 'prod'], 'missing');

    expect(await run()).toBe(7);

    expect(fake.calls()).toHaveLength(3);
    const report = lines.at(-1);
    expect(report).toContain(
      'deploy:regions stopped: step 3 of 4 (secondary region ap-southeast-1 (its photo bucket, replicating to home)) failed with exit code 7.',
    );
    expect(report).toContain(
      'Completed:\n  1. failover control stack in us-east-1\n  2. home region ap-south-1 without its photo replication rule (the ap-southeast-1 bucket does not exist yet)\n',
    );
    expect(report).toContain(
      'Not done:\n' +
        '  3. secondary region ap-southeast-1 (its photo bucket, replicating to home): npx sls deploy --stage prod --region ap-southeast-1\n' +
        '  4. home region ap-south-1 again, with its photo replication rule: npx sls deploy --stage prod --region ap-south-1\n',
    );
    expect(report).toContain('run the same command again (npm run deploy:regions -- --stage prod)');
  });

  it('says nothing completed when the first step fails', async () => {
    vi.stubEnv('FAKE_SLS_FAIL_AT', '1');
    const { run, fake, lines } = runWith(['--stage', 'prod'], 'ready');

    expect(await run()).toBe(1);

    expect(fake.calls()).toHaveLength(1);
    expect(lines.at(-1)).toContain('Completed:\n  nothing\n');
  });

  it.each([
    [['--stage', 'prod', '--region', 'ap-southeast-1'], /--region: this command deploys every region of the stage/],
    [['--stage', 'prod', '-r', 'ap-south-1'], /--region: this command deploys every region of the stage/],
    [['--stage', 'prod', '--package', 'dist'], /--package: a package is built for one region/],
    [
      ['--stage', 'prod', '--param=photo-replication=off'],
      /--param=photo-replication: this command switches the home replication rule itself/,
    ],
    [['--stage', 'prod', '--param=allow-replace=PassesTable'], /--param=allow-replace: a replacement is allowed in one region's stack/],
  ])('refuses %j before any AWS call or deploy', async (argv, message) => {
    const { run, fake, checkBucket } = runWith(argv, 'ready');

    await expect(run()).rejects.toThrow(DeployError);
    await expect(run()).rejects.toThrow(message);

    expect(checkBucket).not.toHaveBeenCalled();
    expect(fake.calls()).toEqual([]);
  });

  it('refuses a stage that cannot work, with the stage rules, before anything', async () => {
    const { run, fake, checkBucket } = runWith(['--stage', 'Prod'], 'ready');

    await expect(run()).rejects.toThrow(StageError);
    await expect(run()).rejects.toThrow(/Invalid stage name "Prod": it has uppercase letters/);

    expect(checkBucket).not.toHaveBeenCalled();
    expect(fake.calls()).toEqual([]);
  });

  it('forwards the output and the exit code of sls, run as npm runs it (tsx, the project directory)', () => {
    const fake = fakeSls();
    const tsx = join(projectRoot, 'node_modules', '.bin', 'tsx');
    const script = join(projectRoot, 'scripts', 'deploy-regions.ts');
    const scriptLine = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')).scripts['deploy:regions'];

    const ok = spawnSync(tsx, [script, '--stage', 'alice'], { cwd: fake.dir, env: offlineEnv(), encoding: 'utf8' });
    const failed = spawnSync(tsx, [script, '--stage', 'alice'], {
      cwd: fake.dir,
      env: { ...offlineEnv(), FAKE_SLS_FAIL_AT: '2', FAKE_SLS_EXIT: '5' },
      encoding: 'utf8',
    });

    expect(scriptLine).toBe('tsx scripts/deploy-regions.ts');
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('fake sls call 1: deploy --stage alice --region ap-south-1');
    expect(ok.stderr).toContain('deploy:regions: stage alice deployed in ap-south-1.');
    expect(failed.status).toBe(5);
    expect(failed.stdout).toContain('fake sls call 2: deploy --stage alice --region ap-south-1');
    expect(failed.stderr).toContain('fake sls failed');
    expect(failed.stderr).toContain('deploy:regions stopped: step 1 of 1 (home region ap-south-1) failed with exit code 5.');
  });

  it('prints the refusal and exits 1 from the command line, without a stack trace', () => {
    const fake = fakeSls();
    const result = spawnSync(
      join(projectRoot, 'node_modules', '.bin', 'tsx'),
      [join(projectRoot, 'scripts', 'deploy-regions.ts'), '--stage', 'prod', '--region', 'ap-south-1'],
      { cwd: fake.dir, env: offlineEnv(), encoding: 'utf8' },
    );

    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toMatch(/^Not an option of deploy:regions: --region: this command deploys every region of the stage; .*$/);
    expect(fake.calls()).toEqual([]);
  });
});

describe('the secondary bucket question', () => {
  const sts = mockClient(STSClient);
  const s3 = mockClient(S3Client);
  afterAll(() => {
    sts.restore();
    s3.restore();
  });
  beforeEach(() => {
    sts.reset();
    s3.reset();
    sts.on(GetCallerIdentityCommand).resolves({ Account: '123456789012' });
  });

  it('asks S3 for the versioning of the secondary bucket of the caller account', async () => {
    s3.on(GetBucketVersioningCommand).resolves({ Status: 'Enabled' });

    expect(await secondaryBucketState(settingsFor('prod'))).toBe('ready');

    expect(s3.commandCalls(GetBucketVersioningCommand).map((call) => call.args[0].input)).toEqual([
      { Bucket: 'movement-pass-prod-photos-apse1-123456789012', ExpectedBucketOwner: '123456789012' },
    ]);
    expect(await s3.commandCalls(GetBucketVersioningCommand)[0].thisValue.config.region()).toBe('ap-southeast-1');
  });

  it('says missing for NoSuchBucket and unversioned for a bucket never versioned', async () => {
    s3.on(GetBucketVersioningCommand).rejectsOnce(
      Object.assign(new Error('The specified bucket does not exist'), { name: 'NoSuchBucket' }),
    );
    expect(await secondaryBucketState(settingsFor('prod'))).toBe('missing');

    s3.on(GetBucketVersioningCommand).resolves({});
    expect(await secondaryBucketState(settingsFor('prod'))).toBe('unversioned');
  });

  it('stops with what to give it when the credentials cannot ask', async () => {
    sts
      .on(GetCallerIdentityCommand)
      .rejects(Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }));

    await expect(secondaryBucketState(settingsFor('prod'))).rejects.toThrow(
      /Could not check the photo bucket movement-pass-prod-photos-apse1-<account id> in ap-southeast-1 \(CredentialsProviderError: Could not load credentials from any providers\)\. Nothing was deployed\..* the credentials sls uses/,
    );
    expect(s3.commandCalls(GetBucketVersioningCommand)).toEqual([]);
  });
});
