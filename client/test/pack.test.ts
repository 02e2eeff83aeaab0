// The package as a consumer gets it: `npm pack` in client/, the tarball installed into an empty
// project, then run there against a local SSM endpoint (AWS_ENDPOINT_URL_SSM) holding a whole
// stage; its type declarations compiled there with every key's expected type.
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryParameterStore, startSsmEndpoint } from '../../test/handlers/support';
import { offlineEnv } from '../../test/package-stage';
import { type ContractKey, contractKeys, contractRoot, type ValueKind } from '../src/contract';
import { generateStageKeys, seedStage } from './stage-fixture';

const clientRoot = resolve(__dirname, '..');
const projectRoot = resolve(clientRoot, '..');
const consumer = mkdtempSync(join(tmpdir(), 'foundation-client-consumer-'));
const store = new MemoryParameterStore();
let endpoint: Awaited<ReturnType<typeof startSsmEndpoint>>;

const typeScriptType: Record<ValueKind, string> = {
  string: 'string',
  number: 'number',
  url: 'string',
  arn: 'string',
  jwks: 'PublishedJwks',
  pem: 'string',
  algorithm: "'RS256' | 'ES256' | 'HS256'",
  duration: 'string',
};
const runtimeType = (kind: ValueKind) => (kind === 'number' ? 'number' : kind === 'jwks' ? 'object' : 'string');

beforeAll(async () => {
  // `npm pack` builds first (prepack); its --json report is the last thing it prints.
  const packed = execFileSync('npm', ['pack', '--json', '--pack-destination', consumer], {
    cwd: clientRoot,
    env: offlineEnv(),
    encoding: 'utf8',
  });
  const [{ filename }] = JSON.parse(packed.slice(packed.search(/^\[/m)));
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  execFileSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', join(consumer, filename)], {
    cwd: consumer,
    env: offlineEnv(),
    stdio: 'pipe',
  });
  seedStage(store, await generateStageKeys('RS256'));
  endpoint = await startSsmEndpoint(store);
}, 300_000);

afterAll(async () => {
  await endpoint?.close();
  rmSync(consumer, { recursive: true, force: true });
});

/**
 * Runs a script of the consumer project with the SDK pointed at the local SSM endpoint
 * (asynchronously: the endpoint answers from this process).
 */
function runInConsumer(script: string): Promise<{ status: number; stdout: string; stderr: string }> {
  writeFileSync(join(consumer, 'load.mjs'), script);
  const env = {
    ...offlineEnv(),
    AWS_ENDPOINT_URL_SSM: endpoint.url,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_REGION: 'ap-south-1',
  };
  return new Promise((resolve) => {
    execFile(process.execPath, ['load.mjs'], { cwd: consumer, encoding: 'utf8', env, timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ status: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const loadScript = `
import { loadFoundationConfig } from '@movement-pass/foundation-client';
try {
  const config = await loadFoundationConfig({ stage: 'prod' });
  console.log(JSON.stringify(Object.fromEntries(Object.entries(config).map(([key, value]) => [key, typeof value]))));
} catch (error) {
  console.log(JSON.stringify({ name: error.name, code: error.code, keys: error.keys, message: error.message }));
  process.exitCode = 1;
}
`;

describe('the packed client in an empty project', () => {
  it('ships the compiled ESM and its type declarations, nothing else', () => {
    const manifest = JSON.parse(readFileSync(join(consumer, 'node_modules/@movement-pass/foundation-client/package.json'), 'utf8'));
    expect(manifest.name).toBe('@movement-pass/foundation-client');
    const files = execFileSync('find', ['.', '-type', 'f'], {
      cwd: join(consumer, 'node_modules/@movement-pass/foundation-client'),
      encoding: 'utf8',
    })
      .split('\n')
      .filter(Boolean)
      .sort();
    expect(files).toContain('./dist/index.js');
    expect(files).toContain('./dist/index.d.ts');
    expect(files.filter((file) => !file.startsWith('./dist/') && !['./package.json', './README.md', './LICENSE'].includes(file))).toEqual(
      [],
    );
  });

  it('loads a whole contract of more than 10 parameters from the SSM endpoint, every key of its type', async () => {
    expect([...store.history.keys()].filter((name) => name.startsWith(contractRoot('prod'))).length).toBeGreaterThan(10);

    const result = await runInConsumer(loadScript);

    expect(result.stderr.replace(/\(node:\d+\) Warning: NodeVersionSupportWarning[\s\S]*/m, '')).toBe('');
    expect(result.status).toBe(0);
    const types = JSON.parse(result.stdout);
    expect(Object.keys(types).sort()).toEqual(Object.keys(contractKeys).sort());
    for (const [key, declaration] of Object.entries(contractKeys)) expect(types[key], key).toBe(runtimeType(declaration.kind));
    expect(endpoint.operations.filter((operation) => operation === 'GetParametersByPath').length).toBeGreaterThan(2);
  });

  it('types every key in its declarations (compiled with tsc in the consumer project)', () => {
    const lines = (Object.entries(contractKeys) as [ContractKey, (typeof contractKeys)[ContractKey]][]).map(([key, declaration]) => {
      const optional = declaration.presence === 'always' ? '' : ' | undefined';
      return `const ${key}: ${typeScriptType[declaration.kind]}${optional} = config.${key};`;
    });
    writeFileSync(
      join(consumer, 'typed.ts'),
      [
        "import { loadFoundationConfig, type PublishedJwks } from '@movement-pass/foundation-client';",
        "const config = await loadFoundationConfig({ stage: 'prod' });",
        ...lines,
        // Each must be an error: a number is not a string, an optional key may be undefined.
        '// @ts-expect-error',
        'const wrong: string = config.photoUploadExpiration;',
        '// @ts-expect-error',
        'const maybe: string = config.clientCertificateArn;',
        `export { ${[...Object.keys(contractKeys), 'wrong', 'maybe'].join(', ')} };`,
      ].join('\n'),
    );
    const compilerOptions = {
      noEmit: true,
      strict: true,
      target: 'ES2022',
      module: 'nodenext',
      moduleResolution: 'nodenext',
      skipLibCheck: true,
      types: [],
    };
    writeFileSync(join(consumer, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['typed.ts'] }));
    const tsc = join(projectRoot, 'node_modules/typescript/bin/tsc');
    const result = spawnSync(process.execPath, [tsc, '-p', '.'], { cwd: consumer, encoding: 'utf8' });
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('runs the documented example for a Node service (docs/contract.md, Consumers)', async () => {
    const readme = readFileSync(join(projectRoot, 'docs', 'contract.md'), 'utf8');
    const example = /```js\n(\/\/ service\.mjs[\s\S]*?)```/.exec(readme)?.[1];
    expect(example, 'docs/contract.md has a service.mjs example').toBeDefined();

    const result = await runInConsumer(example!);

    expect(result.status, result.stderr).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toBe('movement-pass-prod-applicants 300');
    expect(lines[1]).toBe('applicant-42');
    expect(lines[2]).toMatch(
      /^https:\/\/photos\.movement-pass\.com\/applicants\/42\.jpg\?Expires=\d+&Key-Pair-Id=K2JCJMDEHXQW5F&Signature=/,
    );
    expect(lines[3]).toMatch(
      /^PUT https:\/\/movement-pass-prod-photos-123456789012\.s3\.ap-south-1\.amazonaws\.com\/applicants\/42\.jpg\?/,
    );
  });

  it('gives service authors a whole stage in memory to test with, offline (@movement-pass/foundation-client/testing)', async () => {
    const result = await runInConsumer(`
import { createTokenSigner, createTokenVerifier, loadFoundationConfig } from '@movement-pass/foundation-client';
import { createTestFoundation } from '@movement-pass/foundation-client/testing';
const foundation = await createTestFoundation({ stage: 'orders-test' });
const config = await loadFoundationConfig({ stage: 'orders-test', ssm: foundation.ssm, cache: false });
const token = await (await createTokenSigner(config, foundation.signingKeys)).sign({ sub: 'applicant-7' });
console.log((await createTokenVerifier(config).verify(token)).payload.sub);
`);

    expect(result.stderr).toBe('');
    expect(result.stdout.trim()).toBe('applicant-7');
  });

  it('fails naming the key when one is deleted', async () => {
    store.DeleteParameters({ Names: [`${contractRoot('prod')}passesLoadQueueArn`] });

    const result = await runInConsumer(loadScript);

    expect(result.status).toBe(1);
    const error = JSON.parse(result.stdout);
    expect(error).toMatchObject({ name: 'FoundationConfigError', code: 'FOUNDATION_KEYS_MISSING', keys: ['passesLoadQueueArn'] });
    expect(error.message).toContain('/movement-pass/prod/ lacks passesLoadQueueArn');
  });
});
