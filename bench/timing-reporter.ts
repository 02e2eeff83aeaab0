// A Vitest reporter for the bench: each test file's time in its worker (prepare, setup, import and
// tests), written as JSON to the file named by BENCH_TIMINGS_FILE.
import { writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import type { Reporter, TestModule } from 'vitest/node';

export default class TimingReporter implements Reporter {
  private readonly files: Record<string, number> = {};

  onTestModuleEnd(module: TestModule): void {
    const { prepareDuration, setupDuration, collectDuration, duration } = module.diagnostic();
    this.files[relative(process.cwd(), module.moduleId)] = prepareDuration + setupDuration + collectDuration + duration;
  }

  onTestRunEnd(): void {
    const out = process.env.BENCH_TIMINGS_FILE;
    if (out) writeFileSync(out, JSON.stringify(this.files));
  }
}
