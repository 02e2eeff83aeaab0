// Packages the stages the template tests read, once per run and one after the other
// (serverless-esbuild works in one shared .esbuild folder, so two packagings cannot overlap).
import { rmSync } from 'node:fs';
import { packageRoot, packageStage } from './package-stage';

export const testedStages = ['prod', 'alice'] as const;

export default function setup(): void {
  rmSync(packageRoot, { recursive: true, force: true });
  for (const stage of testedStages) packageStage(stage);
}
