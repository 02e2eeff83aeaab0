import { describe, expect, it } from 'vitest';
import { assertHomeRegion, maxStageLength, StageError, settingsFor, stageFromArgv, stageNameProblem, validated } from '../resources/stage';
import { sls } from './package-stage';

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
    expect(stageFromArgv(['node', 'sls', 'package', '--stage', 'prod'])).toBe('prod');
    expect(stageFromArgv(['node', 'sls', 'deploy', '-s', 'alice'])).toBe('alice');
    expect(stageFromArgv(['node', 'sls', 'info', '--stage=bob'])).toBe('bob');
    expect(stageFromArgv(['node', 'sls', 'package'])).toBe('dev');
  });
});

describe('stage settings', () => {
  it('makes prod a shared stage that keeps its data', () => {
    expect(settingsFor('prod')).toMatchObject({ retainData: true, customDomain: true, replicaRegions: ['ap-southeast-1'] });
  });

  it('accepts signer role ARNs on a shared stage, paths included', () => {
    const settings = settingsFor('prod');
    settings.signerRoleArns = ['arn:aws:iam::123456789012:role/services/movement-pass-prod-login'];
    expect(validated(settings).signerRoleArns).toHaveLength(1);
  });

  it('makes any other name a deletable sandbox without domain or replicas', () => {
    expect(settingsFor('alice')).toMatchObject({ stage: 'alice', retainData: false, customDomain: false, replicaRegions: [] });
  });
});

describe('sls with a bad stage name', () => {
  it.each(['Prod_1', 'this-stage-is-far-too-long'])('stops %s before anything runs, naming the rule', (stage) => {
    const result = sls(['package', '--stage', stage]);
    expect(result.status).not.toBe(0);
    expect(result.output).toContain(`Invalid stage name "${stage}"`);
    expect(result.output).not.toContain('Packaging');
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
      'a signer that is not a role ARN',
      (s: ReturnType<typeof settingsFor>) => Object.assign(s, { retainData: true, signerRoleArns: ['movement-pass-prod-login'] }),
      /The signer "movement-pass-prod-login" .* is not an IAM role ARN; write the role's full ARN/,
    ],
    [
      'signers on a sandbox',
      (s: ReturnType<typeof settingsFor>) => Object.assign(s, { signerRoleArns: ['arn:aws:iam::123456789012:role/login'] }),
      /signerRoleArns .* only apply to shared stages .* leave it empty/,
    ],
    [
      'a web origin with a path',
      (s: ReturnType<typeof settingsFor>) => Object.assign(s.photos, { webOrigins: ['https://a.com/app'] }),
      /web origin "https:\/\/a.com\/app" .* scheme and host only/,
    ],
  ])('rejects %s, saying how to fix it', (_, change, message) => {
    expect(withChange(change)).toThrow(message);
  });
});

describe('region', () => {
  it('accepts the home region or none', () => {
    expect(() => assertHomeRegion(['sls', 'deploy', '--stage', 'prod'])).not.toThrow();
    expect(() => assertHomeRegion(['sls', 'deploy', '--region', 'ap-south-1'])).not.toThrow();
  });

  it.each([['--region', 'us-west-2'], ['-r', 'eu-west-1'], ['--region=us-east-1']])('refuses %s elsewhere, saying why', (...args) => {
    expect(() => assertHomeRegion(['sls', 'deploy', ...args])).toThrow(/deploys to ap-south-1 only .* drop --region/);
  });
});
