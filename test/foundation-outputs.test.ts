// plugins/foundation-outputs.js with osls's provider stubbed at `request`, over an in-memory SSM
// holding a whole stage (and, as older stages do, a signing key under the contract root).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { format } from 'node:util';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { contractKeys, contractRoot, signingKeys } from '../client/src/contract';
import { generateStageKeys, type StageKeys, seedStage } from '../client/test/stage-fixture';
import FoundationOutputs from '../plugins/foundation-outputs';
import { regionsPluginConfig } from '../resources/regions';
import { settingsFor } from '../resources/stage';
import { MemoryParameterStore } from './handlers/support';

let keys: StageKeys;
beforeAll(async () => {
  keys = await generateStageKeys('RS256');
});

const serviceDirs: string[] = [];
afterEach(() => {
  for (const dir of serviceDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function fakeServerless(
  store: MemoryParameterStore,
  options: Record<string, unknown> = {},
  stack: { region?: string; custom?: Record<string, unknown> } = {},
) {
  const region = stack.region ?? 'ap-south-1';
  const serviceDir = mkdtempSync(join(tmpdir(), 'foundation-outputs-'));
  serviceDirs.push(serviceDir);
  const request = vi.fn(async (service: string, method: string, params: any, requestOptions?: { region?: string }) => {
    // The stack's own region only: each region has its own contract.
    if (service === 'SSM' && method === 'getParametersByPath' && requestOptions?.region === region)
      return store.GetParametersByPath(params);
    throw new Error(`unexpected ${service}.${method} (${requestOptions?.region})`);
  });
  const serverless: any = {
    serviceDir,
    serviceOutputs: new Map([['endpoints', ['GET - https://example']]]),
    servicePluginOutputs: new Map(),
    getProvider: () => ({ request, getStage: () => 'prod', getRegion: () => region }),
    // As osls has it: a service, whose custom settings serverless.ts may not give (a one-region stack then).
    service: { custom: stack.custom ?? {} },
    classes: { Error },
  };
  const printed: string[] = [];
  const notices: string[] = [];
  const log = { notice: (line: string) => notices.push(line), warning: (line: string) => notices.push(`warning: ${line}`) };
  const plugin = new FoundationOutputs(serverless, options, { log, writeText: (text: string) => printed.push(text) });
  return { serverless, plugin, request, printed, notices, file: join(serviceDir, '.serverless', 'foundation-prod.json') };
}

function seededStore() {
  const store = new MemoryParameterStore();
  seedStage(store, keys);
  // A stage deployed before the signing root existed keeps its private keys under the contract root.
  store.PutParameter({ Name: `${contractRoot('prod')}jwtPrivateKey`, Value: keys.jwtPrivateKey!, Type: 'SecureString' });
  store.PutParameter({ Name: `${contractRoot('prod')}photoUrlPrivateKey`, Value: keys.photoUrlPrivateKey, Type: 'String' });
  return store;
}

describe('foundation outputs plugin', () => {
  it('sls info writes every non-secret contract value, typed, to .serverless/foundation-<stage>.json', async () => {
    const { plugin, request, file } = fakeServerless(seededStore());

    await plugin.hooks['after:info:info']();

    const written = JSON.parse(readFileSync(file, 'utf8'));
    expect(Object.keys(written).sort()).toEqual(Object.keys(contractKeys).sort());
    expect(written.photoUploadExpiration).toBe(300);
    expect(written.jwks.keys[0].kid).toBe(keys.kid);
    const text = readFileSync(file, 'utf8');
    for (const secret of Object.keys(signingKeys)) expect(written[secret]).toBeUndefined();
    expect(text).not.toContain('PRIVATE KEY');
    // Every page, through provider.request in the stage's region.
    const pages = request.mock.calls.filter(([, method]) => method === 'getParametersByPath');
    expect(pages.length).toBeGreaterThan(2);
    expect(pages[0][2]).toEqual({ Path: '/movement-pass/prod', Recursive: true });
    expect(pages[0][3]).toEqual({ region: 'ap-south-1' });
  });

  it('never asks SSM to decrypt: osls logs every request and its result under --debug', async () => {
    const { plugin, request } = fakeServerless(seededStore());

    await plugin.hooks['after:deploy:deploy']();

    // What osls's lib/aws/request.js prints with --debug=aws or SLS_LOG_DEBUG.
    const logged = await Promise.all(
      request.mock.calls.map(async ([service, method, params], index) =>
        format('[%d] %O %s %O\n[%d] %O', index, service, method, params, index, await request.mock.results[index].value),
      ),
    );
    for (const [, , params] of request.mock.calls) expect(params.WithDecryption).toBeUndefined();
    expect(logged.join('\n')).toContain('jwtKeyId');
    expect(logged.join('\n')).not.toContain(keys.jwtPrivateKey!.split('\n')[1]);
  });

  it('sls info prints every non-secret value of the contract', async () => {
    const { serverless, plugin } = fakeServerless(seededStore());

    await plugin.hooks['after:info:info']();

    const lines: string[] = serverless.serviceOutputs.get('contract /movement-pass/prod/ (ap-south-1)');
    expect(lines.map((line) => line.split(':')[0]).sort()).toEqual(Object.keys(contractKeys).sort());
    expect(lines).toContain('applicantsTable: movement-pass-prod-applicants');
    expect(lines).toContain('photoUploadExpiration: 300');
    expect(lines.join('\n')).not.toContain('PRIVATE KEY');
    expect(serverless.serviceOutputs.get('endpoints')).toEqual(['GET - https://example']);
  });

  it('sls info --json prints the same values alone', async () => {
    const { serverless, plugin, printed, file } = fakeServerless(seededStore(), { json: true });

    await plugin.hooks['after:info:info']();

    expect(printed).toHaveLength(1);
    expect(JSON.parse(printed[0])).toEqual(JSON.parse(readFileSync(file, 'utf8')));
    expect(serverless.serviceOutputs.size).toBe(0);
  });

  it('sls info still prints the rest when the contract cannot be read; --json fails', async () => {
    const denied = () => {
      const stage = fakeServerless(seededStore());
      stage.request.mockRejectedValue(new Error('not authorized to perform: ssm:GetParametersByPath'));
      return stage;
    };
    const plain = denied();

    await plain.plugin.hooks['after:info:info']();

    expect(plain.notices).toContain(
      'warning: Could not read the contract values from SSM: not authorized to perform: ssm:GetParametersByPath',
    );
    expect(plain.serverless.serviceOutputs.get('endpoints')).toEqual(['GET - https://example']);
    const json = denied();
    json.plugin.options.json = true;
    await expect(json.plugin.hooks['after:info:info']()).rejects.toThrow(/ssm:GetParametersByPath/);
    expect(json.printed).toEqual([]);
  });

  it('sls deploy writes the file too, warning about keys the stage lacks', async () => {
    const store = seededStore();
    store.DeleteParameters({ Names: [`${contractRoot('prod')}jwksUrl`] });
    const { plugin, notices, file } = fakeServerless(store);

    await plugin.hooks['after:deploy:deploy']();

    expect(JSON.parse(readFileSync(file, 'utf8')).applicantsTable).toBe('movement-pass-prod-applicants');
    expect(notices).toContain('warning: The contract at /movement-pass/prod/ in ap-south-1 lacks jwksUrl: run `sls deploy --stage prod`.');
  });

  describe('in a secondary region', () => {
    const secondary = {
      region: 'ap-southeast-1',
      custom: { movementPassRegions: regionsPluginConfig(settingsFor('prod', { region: 'ap-southeast-1' })) },
    };

    it("writes that region's contract to foundation-<stage>.<region>.json, leaving the home file alone", async () => {
      const homeStore = seededStore();
      const secondaryStore = seededStore();
      const bucket = 'movement-pass-prod-photos-apse1-123456789012';
      secondaryStore.PutParameter({ Name: `${contractRoot('prod')}photoBucketName`, Value: bucket, Type: 'String', Overwrite: true });
      const home = fakeServerless(homeStore);
      await home.plugin.hooks['after:deploy:deploy']();
      const homeFile = readFileSync(home.file, 'utf8');
      const { plugin, serverless, notices } = fakeServerless(secondaryStore, {}, secondary);
      serverless.serviceDir = home.serverless.serviceDir;

      await plugin.hooks['after:deploy:deploy']();

      const file = join(home.serverless.serviceDir, '.serverless', 'foundation-prod.ap-southeast-1.json');
      expect(JSON.parse(readFileSync(file, 'utf8')).photoBucketName).toBe(bucket);
      expect(readFileSync(home.file, 'utf8')).toBe(homeFile);
      expect(JSON.parse(homeFile).photoBucketName).toBe(contractKeys.photoBucketName.example);
      expect(notices).toContain(`Contract values of /movement-pass/prod/ in ap-southeast-1 written to ${file}`);
    });

    it('sls info shows the region with its contract values, and a warning says how to deploy that region', async () => {
      const store = seededStore();
      store.DeleteParameters({ Names: [`${contractRoot('prod')}jwksUrl`] });
      const { plugin, serverless, notices } = fakeServerless(store, {}, secondary);

      await plugin.hooks['after:info:info']();

      expect(serverless.serviceOutputs.get('contract /movement-pass/prod/ (ap-southeast-1)')).toContain(
        'applicantsTable: movement-pass-prod-applicants',
      );
      expect(notices).toContain(
        'warning: The contract at /movement-pass/prod/ in ap-southeast-1 lacks jwksUrl: run `sls deploy --stage prod --region ap-southeast-1`.',
      );
    });
  });
});
