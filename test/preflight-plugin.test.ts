// plugins/preflight.js: one STS call before a command that talks to AWS, through a stubbed
// provider.request; then the real CLI on a sandbox stage, offline.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import Preflight from '../plugins/preflight';
import { readServiceState } from './package-stage';

function fakeServerless(
  command: string[],
  request: (...args: unknown[]) => Promise<unknown>,
  credentials: Record<string, unknown> = {},
  stack: { stage?: string; region?: string; custom?: Record<string, unknown> } = {},
) {
  const logged: string[] = [];
  const serverless = {
    processedInput: { commands: command },
    service: { custom: stack.custom },
    getProvider: () => ({
      request,
      getRegion: () => stack.region ?? 'ap-south-1',
      getStage: () => stack.stage ?? 'alice',
      getCredentials: () => ({ credentials }),
    }),
    classes: { Error },
  };
  const log = { notice: (text: string) => logged.push(text), info: () => undefined, warning: () => undefined };
  const plugin = new Preflight(serverless as any, {}, { log });
  // The real one ends the process a second after the error, not to wait for osls's retries.
  const abandoned = vi.spyOn(plugin, 'abandonPendingRequests').mockImplementation(() => undefined);
  return { plugin, logged, abandoned };
}

/** How osls's request fails without credentials (lib/aws/request.js). */
const noCredentials = () =>
  Promise.reject(
    Object.assign(new Error('AWS provider credentials not found.'), {
      code: 'AWS_CREDENTIALS_NOT_FOUND',
      providerError: { retryable: false },
    }),
  );

describe('preflight plugin', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('says which account and region a deploy is about to use, after one STS call', async () => {
    const request = vi.fn(async () => ({ Account: '123456789012', Arn: 'arn:aws:iam::123456789012:user/alice' }));
    const { plugin, logged } = fakeServerless(['deploy'], request);

    await plugin.hooks.initialize();

    expect(request.mock.calls).toEqual([['STS', 'getCallerIdentity', {}]]);
    expect(logged).toEqual(['AWS account 123456789012 as arn:aws:iam::123456789012:user/alice, region ap-south-1, stage alice']);
  });

  it.each([['remove'], ['info'], ['deploy', 'function'], ['logs'], ['rollback']])('checks before `sls %s`', async (...command) => {
    const request = vi.fn(async () => ({ Account: '1', Arn: 'arn:aws:iam::1:user/a' }));
    const { plugin } = fakeServerless(command, request);

    await plugin.hooks.initialize();

    expect(request).toHaveBeenCalledOnce();
  });

  it.each([['package'], ['print'], ['invoke', 'local']])('leaves the offline command `sls %s` alone', async (...command) => {
    const request = vi.fn(noCredentials);
    const { plugin, logged } = fakeServerless(command, request);

    await plugin.hooks.initialize();

    expect(request).not.toHaveBeenCalled();
    expect(logged).toEqual([]);
  });

  it('says there are no credentials, and where to put them', async () => {
    const { plugin } = fakeServerless(['remove'], noCredentials);

    await expect(plugin.hooks.initialize()).rejects.toThrow(
      /^No AWS credentials found\. `sls remove` stopped before doing anything\. .*AWS_PROFILE=<profile>.*AWS_ACCESS_KEY_ID/,
    );
  });

  it('says AWS cannot be reached when STS does not answer within 8 seconds', async () => {
    // osls retries a network error for about 25 s before it gives up: the preflight does not wait for that.
    const { plugin, abandoned } = fakeServerless(['info'], () => new Promise(() => undefined));

    const check = plugin.hooks.initialize();
    const settled = expect(check).rejects.toThrow(
      /^AWS cannot be reached: STS in ap-south-1 gave no answer \(no answer in 8 s\)\. `sls info` stopped .*HTTPS_PROXY/,
    );
    await vi.advanceTimersByTimeAsync(7_999);
    expect(abandoned).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    await settled;
    expect(abandoned).toHaveBeenCalledOnce();
  });

  it('does not count the time the user takes to type an MFA code', async () => {
    // osls's profile credentials ask for the code on stdin during the first request.
    const credentials: { tokenCodeFn?: (serial: string, callback: (error: unknown, code?: string) => void) => void } = {
      tokenCodeFn: (_serial, callback) => setTimeout(() => callback(null, '123456'), 30_000),
    };
    const request = () =>
      new Promise((resolve, reject) =>
        credentials.tokenCodeFn?.('arn:aws:iam::1:mfa/alice', (error) =>
          error ? reject(error) : setTimeout(() => resolve({ Account: '1', Arn: 'arn:aws:iam::1:user/alice' }), 1_000),
        ),
      );
    const { plugin, logged } = fakeServerless(['deploy'], request, credentials);

    const check = plugin.hooks.initialize();
    await vi.advanceTimersByTimeAsync(31_000);
    await check;

    expect(logged).toEqual(['AWS account 1 as arn:aws:iam::1:user/alice, region ap-south-1, stage alice']);
  });

  it('says AWS cannot be reached when the network fails at once', async () => {
    const offline = () =>
      Promise.reject(Object.assign(new Error('getaddrinfo ENOTFOUND sts.amazonaws.com'), { providerError: { code: 'UnknownEndpoint' } }));
    const { plugin } = fakeServerless(['deploy'], offline);

    await expect(plugin.hooks.initialize()).rejects.toThrow(/^AWS cannot be reached: .*ENOTFOUND sts\.amazonaws\.com/);
  });

  describe('in a region of a stage with two', () => {
    const regional = () => ({ stage: 'prod', region: 'ap-southeast-1', custom: readServiceState('prod.ap-southeast-1').custom });

    it('says the region is a secondary one', async () => {
      const prodAccount = readServiceState('prod').custom.movementPassAccount.accountId;
      const request = vi.fn(async () => ({ Account: prodAccount, Arn: `arn:aws:iam::${prodAccount}:user/alice` }));
      const { plugin, logged } = fakeServerless(['deploy'], request, {}, regional());

      await plugin.hooks.initialize();

      expect(logged).toEqual([
        `AWS account ${prodAccount} as arn:aws:iam::${prodAccount}:user/alice, region ap-southeast-1 (secondary region of prod), stage prod`,
      ]);
    });
  });

  describe("the stage's account (team.json)", () => {
    it.each([
      ['prod', 'sharedStages.prod.account of team.json'],
      ['alice', 'sandboxAccount of team.json'],
    ])('stops %s with credentials of another account before anything, naming both accounts and the setting', async (stack, setting) => {
      const { accountId } = readServiceState(stack).custom.movementPassAccount;
      const request = vi.fn(async (..._args: unknown[]) => ({ Account: '999988887777', Arn: 'arn:aws:iam::999988887777:user/alice' }));
      for (const command of [['deploy'], ['info'], ['remove'], ['verify']]) {
        const { plugin } = fakeServerless(command, request, {}, { stage: stack, custom: readServiceState(stack).custom });
        const run = plugin.hooks.initialize();
        await expect(run).rejects.toThrow(
          `Stage "${stack}" lives in AWS account ${accountId} (${setting}), but these credentials are of account 999988887777 (arn:aws:iam::999988887777:user/alice). \`sls ${command.join(' ')}\` stopped before doing anything.`,
        );
      }
      // One STS call per command, nothing else.
      expect(request.mock.calls.map((call) => `${call[0]}.${call[1]}`)).toEqual(Array(4).fill('STS.getCallerIdentity'));
    });

    it('names the other region when STS of this one cannot be reached', async () => {
      const offline = () =>
        Promise.reject(
          Object.assign(new Error('getaddrinfo ENOTFOUND sts.ap-south-1.amazonaws.com'), { providerError: { code: 'UnknownEndpoint' } }),
        );
      const { plugin } = fakeServerless(['deploy'], offline, {}, { stage: 'prod', custom: readServiceState('prod').custom });

      await expect(plugin.hooks.initialize()).rejects.toThrow(
        /STS in ap-south-1 gave no answer .* If ap-south-1 itself is down, the stage's other region still answers: --region ap-southeast-1 acts on that alone/,
      );
    });

    it('gives no such hint for a stage with one region', async () => {
      const offline = () =>
        Promise.reject(Object.assign(new Error('getaddrinfo ENOTFOUND'), { providerError: { code: 'UnknownEndpoint' } }));
      const { plugin } = fakeServerless(['deploy'], offline, {}, { custom: readServiceState('alice').custom });

      await expect(plugin.hooks.initialize()).rejects.toThrow(/HTTPS_PROXY\), then run it again\.$/);
    });
  });

  it('passes on any other answer of STS with its code', async () => {
    const throttled = () => Promise.reject(Object.assign(new Error('Rate exceeded'), { providerError: { code: 'Throttling' } }));
    const { plugin } = fakeServerless(['deploy'], throttled);

    await expect(plugin.hooks.initialize()).rejects.toThrow(/^STS in ap-south-1 answered Throttling: Rate exceeded\. `sls deploy` stopped/);
  });

  it('says AWS refused the credentials, and how to refresh them', async () => {
    const expired = () =>
      Promise.reject(
        Object.assign(new Error('The security token included in the request is expired'), { providerError: { code: 'ExpiredToken' } }),
      );
    const { plugin } = fakeServerless(['deploy'], expired);

    await expect(plugin.hooks.initialize()).rejects.toThrow(/^AWS refused the credentials \(ExpiredToken: .*expired\)\. .*aws sso login/);
  });
});

describe('serverless.ts', () => {
  it('lists the preflight first of the local plugins, before the certificates and the domain plugin', () => {
    const plugins = readServiceState('prod').plugins;
    const local = plugins.filter((name) => name.startsWith('./plugins/'));
    expect(local[0]).toBe('./plugins/preflight');
    expect(plugins.indexOf('./plugins/preflight')).toBeLessThan(plugins.indexOf('serverless-domain-manager'));
  });
});
