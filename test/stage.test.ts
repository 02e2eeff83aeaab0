import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { awsRegions } from '../resources/aws-regions';
import { helpNote, paramFromArgv, personalStage, readPersonalSettings, settingsFromArgv, stageFromArgv } from '../resources/command-line';
import { checkParams } from '../resources/params';
import { isFailoverControl, isHomeRegion, regionCode, secondaryRegionOf, settingsFor } from '../resources/stage';
import { maxStageLength, StageError, stageNameProblem, validated } from '../resources/stage-validation';

describe('stage names', () => {
  it.each(['prod', 'alice', 'bob-2', 'a'])('accepts %s', (stage) => {
    expect(stageNameProblem(stage)).toBeUndefined();
  });

  it.each([
    ['Prod_1', /uppercase/],
    ['prod_1', /other than a-z, 0-9 and "-"/],
    ['alice.b', /other than a-z, 0-9 and "-"/],
    ['a'.repeat(maxStageLength + 1), /17 characters; at most 16/],
    ['1alice', /start with a letter/],
    ['alice-', /ends with "-"/],
    ['al--ice', /holds "--"/],
    ['', /empty/],
  ])('rejects %j naming the rule it breaks', (stage, rule) => {
    expect(() => settingsFor(stage)).toThrow(StageError);
    expect(() => settingsFor(stage)).toThrow(rule);
  });

  it('reads the stage the way osls does', () => {
    const nobody = () => 'carol';
    expect(stageFromArgv(['node', 'sls', 'package', '--stage', 'prod'], nobody)).toBe('prod');
    expect(stageFromArgv(['node', 'sls', 'deploy', '-s', 'alice'], nobody)).toBe('alice');
    expect(stageFromArgv(['node', 'sls', 'info', '--stage=bob'], nobody)).toBe('bob');
    // osls also takes the short flag with "=": serverless.ts must build the stage osls acts on.
    expect(stageFromArgv(['node', 'sls', 'remove', '-s=prod'], nobody)).toBe('prod');
    expect(stageFromArgv(['node', 'sls', 'deploy', '--', '--stage', 'prod'], nobody)).toBe('carol');
  });
});

describe('default stage (no --stage)', () => {
  it.each([
    ['alice', 'alice'],
    ['Alice.Smith', 'alice-smith'],
    ['bob_o--neil', 'bob-o-neil'],
    ['42ops', 'ops'],
    ['firstname.lastname.contractor', 'firstname-lastna'],
    ['build-agent-007-', 'build-agent-007'],
  ])('is the sandbox of the operating-system user %j: %j', (username, stage) => {
    expect(stageFromArgv(['node', 'sls', 'deploy'], () => username)).toBe(stage);
    expect(settingsFor(stage).retainData).toBe(false);
  });

  it('asks for --stage when the user name cannot be read', () => {
    const unreadable = () => {
      throw new Error('ENOENT: no such file or directory, uv_os_get_passwd');
    };
    expect(() => stageFromArgv(['node', 'sls', 'deploy'], unreadable)).toThrow(/cannot be read .*pass --stage <your-name>/);
  });

  it.each(['prod', 'Prod', 'dev', 'staging', '1234', '...', 'root', 'runner', 'ec2-user'])(
    'never is a shared or common stage (user %j): asks for --stage',
    (username) => {
      expect(() => personalStage(username)).toThrow(StageError);
      expect(() => personalStage(username)).toThrow(/--stage <your-name>/);
    },
  );
});

describe('stage settings', () => {
  it('makes prod a shared stage that keeps its data', () => {
    expect(settingsFor('prod')).toMatchObject({ retainData: true, customDomain: true, regions: ['ap-south-1', 'ap-southeast-1'] });
  });

  it('makes prod observable and rate-limited per client, and sandboxes free of both', () => {
    expect(settingsFor('prod')).toMatchObject({ observability: { accessLogs: true, alarms: true }, api: { requestsPer5MinPerIp: 1000 } });
    expect(settingsFor('prod').observability.alarmEmails.length).toBeGreaterThan(0);
    expect(settingsFor('alice')).toMatchObject({ observability: { accessLogs: false, alarms: false, alarmEmails: [] } });
    expect(settingsFor('alice').api.requestsPer5MinPerIp).toBeUndefined();
  });

  it('makes any other name a deletable sandbox without domain or replicas', () => {
    expect(settingsFor('alice')).toMatchObject({ stage: 'alice', retainData: false, customDomain: false, regions: ['ap-south-1'] });
  });
});

describe('stage settings validation', () => {
  const withChange = (change: (settings: ReturnType<typeof settingsFor>) => void) => {
    const settings = settingsFor('alice');
    change(settings);
    return () => validated(settings);
  };

  it.each([
    [
      'an unknown JWT algorithm',
      (s: ReturnType<typeof settingsFor>) => Object.assign(s.jwt, { algorithm: 'RS512' }),
      /Unknown JWT algorithm "RS512" .* use one of RS256, ES256, HS256/,
    ],
    [
      'a missing domain',
      (s: ReturnType<typeof settingsFor>) => Object.assign(s, { domain: '' }),
      /The domain "" .* is not a DNS name; set it to the hosted zone's name/,
    ],
    [
      'an expiry without unit',
      (s: ReturnType<typeof settingsFor>) => Object.assign(s.jwt, { expire: '60' }),
      /JWT expiry "60" .* use a number and a unit/,
    ],
    [
      'a negative rotation',
      (s: ReturnType<typeof settingsFor>) => Object.assign(s.photos, { keyRotation: -1 }),
      /photos.keyRotation .* whole number 0 or above/,
    ],
    [
      'an upload expiry over 7 days',
      (s: ReturnType<typeof settingsFor>) => Object.assign(s.photos, { uploadExpirationSeconds: 700000 }),
      /uploadExpirationSeconds .* 1 to 604800/,
    ],
    [
      'a web origin with a path',
      (s: ReturnType<typeof settingsFor>) => Object.assign(s.photos, { webOrigins: ['https://a.com/app'] }),
      /web origin "https:\/\/a.com\/app" .* scheme and host only/,
    ],
    [
      'an alarm email that is not one',
      (s: ReturnType<typeof settingsFor>) => Object.assign(s.observability, { alarms: true, alarmEmails: ['oncall at movement-pass.com'] }),
      /alarm email "oncall at movement-pass.com" .* is not an email address; write one address per entry/,
    ],
    [
      'alarms with nobody to tell',
      (s: ReturnType<typeof settingsFor>) => Object.assign(s.observability, { alarms: true, alarmEmails: [] }),
      /observability.alarms .* alarmEmails is empty; add who should hear/,
    ],
    [
      'a log retention CloudWatch Logs does not offer',
      (s: ReturnType<typeof settingsFor>) => Object.assign(s.observability, { accessLogRetentionDays: 100 }),
      /accessLogRetentionDays .* must be 90, 180 or 365/,
    ],
    [
      'a burst below the rate',
      (s: ReturnType<typeof settingsFor>) => Object.assign(s.api, { throttle: { rateLimit: 100, burstLimit: 50 } }),
      /api.throttle .* 1 <= rateLimit <= burstLimit \(got 100\/50\)/,
    ],
    [
      'a per-IP limit below what WAF accepts',
      (s: ReturnType<typeof settingsFor>) => Object.assign(s.api, { requestsPer5MinPerIp: 5 }),
      /requestsPer5MinPerIp .* from 10 to 2000000000 .* or left out/,
    ],
  ])('rejects %s, saying how to fix it', (_, change, message) => {
    expect(withChange(change)).toThrow(message);
  });
});

describe('regions', () => {
  const fromArgv = (...args: string[]) => settingsFromArgv(['node', 'sls', 'package', ...args], () => 'alice');

  it('builds the home region without --region, and any region of the stage with it', () => {
    expect(fromArgv('--stage', 'prod')).toMatchObject({ region: 'ap-south-1', regions: ['ap-south-1', 'ap-southeast-1'] });
    expect(isHomeRegion(fromArgv('--stage', 'prod'))).toBe(true);
    for (const args of [['--region', 'ap-southeast-1'], ['-r', 'ap-southeast-1'], ['--region=ap-southeast-1'], ['-r=ap-southeast-1']]) {
      const settings = fromArgv('--stage', 'prod', ...args);
      expect(settings.region).toBe('ap-southeast-1');
      expect(isHomeRegion(settings)).toBe(false);
      expect(secondaryRegionOf(settings)).toBe('ap-southeast-1');
    }
  });

  it('builds the failover control stack of a stage that fails over in us-east-1, and refuses it elsewhere', () => {
    const control = fromArgv('--stage', 'prod', '--region', 'us-east-1');
    expect(isFailoverControl(control)).toBe(true);
    expect(isFailoverControl(fromArgv('--stage', 'prod', '--region', 'ap-southeast-1'))).toBe(false);
    expect(() => fromArgv('--stage', 'alice', '--param=secondary-region=ap-southeast-1', '--region', 'us-east-1')).toThrow(
      /Stage "alice" runs in ap-south-1 \(home\), ap-southeast-1, not us-east-1/,
    );
  });

  it.each([['--region', 'eu-west-1'], ['-r', 'us-east-2'], ['--region=eu-west-1']])(
    'refuses %s outside the stage, listing its regions',
    (...args) => {
      expect(() => fromArgv('--stage', 'prod', ...args)).toThrow(StageError);
      expect(() => fromArgv('--stage', 'prod', ...args)).toThrow(
        /Stage "prod" runs in ap-south-1 \(home\), ap-southeast-1, not .*--region ap-south-1 or --region ap-southeast-1/,
      );
    },
  );

  it('keeps a sandbox in its home region unless it opts in to a second one', () => {
    expect(fromArgv('--stage', 'alice').regions).toEqual(['ap-south-1']);
    expect(() => fromArgv('--stage', 'alice', '--region', 'ap-southeast-1')).toThrow(
      /Stage "alice" runs in ap-south-1 \(home\), not ap-southeast-1.*--param=secondary-region=ap-southeast-1/,
    );
    const optedIn = ['--param=secondary-region=ap-southeast-1'];
    expect(fromArgv('--stage', 'alice', ...optedIn).regions).toEqual(['ap-south-1', 'ap-southeast-1']);
    expect(fromArgv('--stage', 'alice', '--param', 'secondary-region=ap-southeast-1', '--region', 'ap-southeast-1')).toMatchObject({
      region: 'ap-southeast-1',
      regions: ['ap-south-1', 'ap-southeast-1'],
    });
  });

  it('refuses an opt-in on a shared stage, or one that is not a region', () => {
    expect(() => fromArgv('--stage', 'prod', '--param=secondary-region=eu-west-1')).toThrow(
      /sandbox's opt-in; stage "prod" runs in ap-south-1, ap-southeast-1/,
    );
    expect(() => fromArgv('--stage', 'alice', '--param=secondary-region=Singapore')).toThrow(/is not an AWS region.*ap-southeast-1/);
    expect(() => fromArgv('--stage', 'alice', '--param=secondary-region=ap-south-1')).toThrow(
      /home region ap-south-1 first, then at most one other/,
    );
  });

  it('reads --param the way osls does: the last value of a name wins, other names are ignored', () => {
    expect(paramFromArgv(['sls', '--param=a=1', '--param', 'secondary-region=x', '--param=b=2'], 'secondary-region')).toBe('x');
    expect(paramFromArgv(['sls', '--param=secondary-region=x', '--param=secondary-region=y'], 'secondary-region')).toBe('y');
    expect(paramFromArgv(['sls', '--param=confirm-remove=prod'], 'secondary-region')).toBeUndefined();
  });

  it('gives regions short codes for global names', () => {
    expect(['ap-southeast-1', 'ap-south-1', 'us-east-1', 'eu-central-1', 'ap-northeast-2'].map(regionCode)).toEqual([
      'apse1',
      'aps1',
      'use1',
      'euc1',
      'apne2',
    ]);
  });
});

describe('--param names', () => {
  it('accepts every parameter the project reads, with a value', () => {
    expect(() =>
      checkParams([
        'deploy',
        '--param=secondary-region=ap-southeast-1',
        '--param',
        'confirm-remove=prod',
        '--param=allow-replace=PassesTable',
      ]),
    ).not.toThrow();
  });

  it.each([
    [
      '--param=secondary-regoin=ap-southeast-1',
      /Unknown --param=secondary-regoin=ap-southeast-1: did you mean --param=secondary-region=\.\.\.\? The parameters are/,
    ],
    ['--param=secondary-region', /--param=secondary-region has no value: write --param=secondary-region=<value>/],
    ['--param=secondary-region=', /--param=secondary-region has no value/],
    ['--param=colour=blue', /Unknown --param=colour=blue: The parameters are secondary-region, photo-replication/],
  ])('refuses %s before anything runs, naming the fix', (param, message) => {
    expect(() => checkParams(['package', '--stage', 'alice', param])).toThrow(message);
  });
});

describe('the personal stage without --stage', () => {
  it('comes from MOVEMENT_PASS_STAGE first, then the user name', () => {
    expect(settingsFromArgv(['node', 'sls', 'package'], () => 'alice', { MOVEMENT_PASS_STAGE: 'bob' }).stage).toBe('bob');
    expect(settingsFromArgv(['node', 'sls', 'package'], () => 'alice', {}).stage).toBe('alice');
    expect(settingsFromArgv(['node', 'sls', 'package', '--stage', 'carol'], () => 'alice', { MOVEMENT_PASS_STAGE: 'bob' }).stage).toBe(
      'carol',
    );
  });

  it.each(['codespace', 'gitpod', 'nobody', 'root'])('is never %s, a user name many share, and says how to name one', (username) => {
    expect(() => settingsFromArgv(['node', 'sls', 'package'], () => username, {})).toThrow(/export MOVEMENT_PASS_STAGE=alice/);
  });

  it('is not needed for help: every command is listed whatever the user name', () => {
    for (const argv of [
      ['node', 'sls'],
      ['node', 'sls', '--help'],
      ['node', 'sls', 'diff', '-h'],
    ]) {
      expect(settingsFromArgv(argv, () => 'root', {}).stage).toBe('help');
    }
  });

  it('is explained above help: which stage a command acts on, and why a user name names none', () => {
    expect(helpNote(['node', 'sls', '--help'], () => 'alice', {})).toContain('Without --stage a command acts on your sandbox "alice"');
    expect(helpNote(['node', 'sls', '--help'], () => 'root', { MOVEMENT_PASS_STAGE: 'bob' })).toContain('your sandbox "bob"');
    expect(helpNote(['node', 'sls', '--help'], () => 'root', {})).toMatch(/user name "root".*export MOVEMENT_PASS_STAGE=alice/);
    expect(helpNote(['node', 'sls', 'deploy', '--stage', 'prod', '-h'], () => 'root', {})).toContain('This one: --stage prod.');
  });
});

describe('AWS regions', () => {
  it('knows every region of the commercial partition the installed AWS SDK knows', () => {
    const source = readFileSync(
      require.resolve('@aws-sdk/core/client').replace(/dist-es.*|dist-cjs.*/, 'dist-cjs/submodules/client/index.js'),
      'utf8',
    );
    const start = source.indexOf('const partitionsInfo = ');
    const info = JSON.parse(source.slice(start + 'const partitionsInfo = '.length, source.indexOf('};', start) + 1));
    const sdkRegions = Object.keys(info.partitions.find((partition: { id: string }) => partition.id === 'aws').regions).filter(
      (region) => !region.startsWith('aws-'),
    );
    expect(sdkRegions.length).toBeGreaterThan(30);
    expect(sdkRegions.filter((region) => !awsRegions.includes(region))).toEqual([]);
  });

  it.each([
    [{ region: 'eu-west-9' }, /--region eu-west-9 is not an AWS region: write its code/],
    [{ secondaryRegion: 'eu-west-9' }, /--param=secondary-region=eu-west-9 is not an AWS region/],
  ])('refuses a made-up region before anything runs, never suggesting it', (choice, message) => {
    expect(() => settingsFor('alice', choice)).toThrow(message);
    expect(() => settingsFor('alice', choice)).not.toThrow(/--param=secondary-region=eu-west-9 on every/);
  });
});

describe('personal settings (.movement-pass.local.json, never committed)', () => {
  const withFile = (content: string) => {
    const dir = mkdtempSync(join(tmpdir(), 'personal-'));
    writeFileSync(join(dir, '.movement-pass.local.json'), content);
    return dir;
  };

  it("name the sandbox and its second region, for that sandbox's commands only", () => {
    const personal = readPersonalSettings(withFile('{"stage": "alice", "secondaryRegion": "ap-southeast-1"}'));
    const own = settingsFromArgv(['node', 'sls', 'package'], () => 'root', {}, personal);
    expect([own.stage, own.regions]).toEqual(['alice', ['ap-south-1', 'ap-southeast-1']]);
    expect(settingsFromArgv(['node', 'sls', 'package', '--stage', 'bob'], () => 'root', {}, personal).regions).toEqual(['ap-south-1']);
    expect(settingsFromArgv(['node', 'sls', 'package'], () => 'root', { MOVEMENT_PASS_STAGE: 'carol' }, personal).stage).toBe('carol');
    expect(readPersonalSettings(mkdtempSync(join(tmpdir(), 'none-')))).toEqual({});
  });

  it.each([
    ['{ stage: alice }', /is not JSON .*write \{"stage": "alice"/],
    ['{"stage": "alice", "region": "x"}', /may hold "stage" and "secondaryRegion" only, not region/],
    ['{"stage": 7}', /"stage" of .movement-pass.local.json must be a string/],
    ['{"stage": "prod"}', /is the shared stage "prod": it names your sandbox only/],
  ])('refuse %s, naming the fix', (content, message) => {
    expect(() => readPersonalSettings(withFile(content))).toThrow(message);
  });
});
