// `npm test` packages from a copy of the project: the `.serverless/` folder the README tells
// people to read (after their own `sls package`) is still there, untouched, afterwards. A package
// is kept between runs only while what shapes it is unchanged.
import { cpSync, existsSync, lstatSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  inputsFingerprint,
  projectRoot,
  scratchDir,
  serverlessDirFingerprint,
  serverlessDirFingerprintFile,
  templateInputs,
  workerCopy,
} from './package-stage';

describe('packaging for the tests', () => {
  it('runs the CLI in a copy of every template input, node_modules linked, not in the project itself', () => {
    const copy = workerCopy();

    expect(copy.startsWith(join(projectRoot, '.serverless-test'))).toBe(true);
    expect(templateInputs()).toEqual(expect.arrayContaining(['serverless.ts', 'package-lock.json', 'handlers/key-ring/index.ts']));
    expect(templateInputs(copy)).toEqual(templateInputs());
    expect(inputsFingerprint(copy)).toBe(inputsFingerprint(projectRoot));
    expect(lstatSync(join(copy, 'node_modules')).isSymbolicLink()).toBe(true);
    expect(existsSync(join(copy, '.serverless-test'))).toBe(false);
  });

  it('packages again when a module serverless.ts imports changes, not when a test or a document does', () => {
    const copy = scratchDir('fingerprint');
    cpSync(workerCopy(), copy, { recursive: true, filter: (source) => !source.endsWith('node_modules') });
    const before = inputsFingerprint(copy);
    const change = (file: string) => {
      const path = join(copy, file);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, `${existsSync(path) ? readFileSync(path, 'utf8') : ''}\n// changed\n`);
      return inputsFingerprint(copy);
    };

    expect(change('test/stage.test.ts')).toBe(before);
    expect(change('README.md')).toBe(before);
    expect(change('resources/queue.ts')).not.toBe(before);
  });

  it("leaves the project's .serverless/ as it was before the run", () => {
    const before = JSON.parse(readFileSync(serverlessDirFingerprintFile, 'utf8'));

    expect(serverlessDirFingerprint()).toEqual(before);
  });
});
