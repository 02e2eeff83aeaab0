// Once per run, before any test file: notes what the project's own `.serverless/` holds, so a test
// can prove the run left it alone. Stacks are packaged by the first test that reads one
// (test/package-stage.ts) and kept between runs while their inputs are unchanged; a run of the
// whole suite, which reads them all, starts packaging the stale ones at once, two at a time.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { packageRoot, packageStaleStacks, serverlessDirFingerprint, serverlessDirFingerprintFile } from './package-stage';

/** Whether this run is the whole suite: no file filter and no test name pattern on the command line. */
function wholeSuite(project: TestProject): boolean {
  const { filenamePattern } = project.vitest as unknown as { filenamePattern?: string[] };
  return !filenamePattern?.length && !project.config.testNamePattern;
}

export default function setup(project: TestProject): () => Promise<void> {
  mkdirSync(packageRoot, { recursive: true });
  rmSync(join(packageRoot, 'scratch'), { recursive: true, force: true });
  writeFileSync(serverlessDirFingerprintFile, JSON.stringify(serverlessDirFingerprint()));
  const packaging = wholeSuite(project) ? packageStaleStacks(2) : Promise.resolve();
  return () => packaging;
}
