// Packages the stages the template tests read, once per run and one after the other
// (serverless-esbuild works in one shared .esbuild folder, so two packagings cannot overlap),
// from a copy of the project, so the project's own `.serverless/` stays as the developer left it.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import {
  copyProject,
  packageRoot,
  packageStack,
  serverlessDirFingerprint,
  serverlessDirFingerprintFile,
  testedStacks,
} from './package-stage';

/** The home stacks of a shared stage and of a sandbox, as most template tests read them. */
export const testedStages = ['prod', 'alice'] as const;

export default function setup(): void {
  rmSync(packageRoot, { recursive: true, force: true });
  mkdirSync(packageRoot, { recursive: true });
  writeFileSync(serverlessDirFingerprintFile, JSON.stringify(serverlessDirFingerprint()));
  copyProject();
  for (const [name, args] of Object.entries(testedStacks)) packageStack(name, args);
}
