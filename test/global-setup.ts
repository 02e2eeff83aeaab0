// Once per run, before any test file: notes what the project's own `.serverless/` holds, so a test
// can prove the run left it alone. Stacks are packaged later, by the first test that reads one
// (test/package-stage.ts), and kept between runs while their inputs are unchanged.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot, serverlessDirFingerprint, serverlessDirFingerprintFile } from './package-stage';

export default function setup(): void {
  mkdirSync(packageRoot, { recursive: true });
  rmSync(join(packageRoot, 'scratch'), { recursive: true, force: true });
  writeFileSync(serverlessDirFingerprintFile, JSON.stringify(serverlessDirFingerprint()));
}
