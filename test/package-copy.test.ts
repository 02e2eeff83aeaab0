// `npm test` packages from a copy of the project: the `.serverless/` folder the README tells
// people to read (after their own `sls package`) is still there, untouched, afterwards.
import { existsSync, lstatSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectCopy, projectRoot, serverlessDirFingerprint, serverlessDirFingerprintFile } from './package-stage';

describe('packaging for the tests', () => {
  it('runs the CLI in a copy of the project with node_modules linked, not in the project itself', () => {
    expect(projectCopy).not.toBe(projectRoot);
    expect(readFileSync(join(projectCopy, 'serverless.ts'), 'utf8')).toBe(readFileSync(join(projectRoot, 'serverless.ts'), 'utf8'));
    expect(lstatSync(join(projectCopy, 'node_modules')).isSymbolicLink()).toBe(true);
    expect(existsSync(join(projectCopy, '.serverless-test'))).toBe(false);
  });

  it("leaves the project's .serverless/ as it was before the run", () => {
    const before = JSON.parse(readFileSync(serverlessDirFingerprintFile, 'utf8'));

    expect(serverlessDirFingerprint()).toEqual(before);
  });
});
