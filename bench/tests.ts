// npm run bench:tests [-- --runs=3 --warm]: runs the whole suite (`npm test`) several times and
// prints each file's time and the total wall time, median over the runs. Cold by default: each run
// first drops the packaged stacks the tests keep between runs, as a clean clone in CI has none.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { median, option, seconds } from './lib';

const projectRoot = resolve(__dirname, '..');
const runs = Number(option('runs', '3'));
const warm = process.argv.includes('--warm');
const work = mkdtempSync(join(tmpdir(), 'bench-tests-'));
const totals: number[] = [];
const files: Record<string, number[]> = {};

for (let run = 1; run <= runs; run++) {
  if (!warm) rmSync(join(projectRoot, '.serverless-test'), { recursive: true, force: true });
  const timings = join(work, `run-${run}.json`);
  const started = Date.now();
  const result = spawnSync('npx', ['vitest', 'run', '--reporter=dot', '--reporter=./bench/timing-reporter.ts'], {
    cwd: projectRoot,
    env: { ...process.env, BENCH_TIMINGS_FILE: timings },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const wall = Date.now() - started;
  if (result.status !== 0 || !existsSync(timings)) {
    console.error(`run ${run}: the suite failed (exit ${result.status}); run npm test to see why`);
    process.exit(1);
  }
  totals.push(wall);
  for (const [file, ms] of Object.entries(JSON.parse(readFileSync(timings, 'utf8')) as Record<string, number>)) {
    files[file] = [...(files[file] ?? []), ms];
  }
  console.log(`run ${run}: ${seconds(wall)} s wall${warm ? ' (warm)' : ''}`);
}

console.log('\nper file, median s (time in its worker: import and tests)');
for (const [file, ms] of Object.entries(files).sort(([, a], [, b]) => median(b) - median(a))) {
  console.log(`${seconds(median(ms))}  ${file}`);
}
console.log(`\ntotal wall, median of ${runs}: ${seconds(median(totals))} s (runs: ${totals.map((ms) => seconds(ms).trim()).join(', ')})`);
rmSync(work, { recursive: true, force: true });
