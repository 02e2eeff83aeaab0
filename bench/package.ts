// npm run bench:package [-- --pairs=5]: `sls package --stage prod` of this project against the
// floor service in bench/floor (the same three npm plugins and settings, as many functions, trivial
// handlers), in pairs, alternating which goes first. Prints each pair and the median ratio: what
// the foundation's own code adds to every command.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { offlineEnv, projectCopy } from '../test/package-stage';
import { median, option, seconds } from './lib';

const projectRoot = resolve(__dirname, '..');
const pairs = Number(option('pairs', '5'));
const out = mkdtempSync(join(tmpdir(), 'bench-package-'));
const sls = join(projectRoot, 'node_modules', '.bin', 'sls');
const services = { prod: projectCopy('bench-package'), floor: join(projectRoot, 'bench', 'floor') };

function packageOnce(name: keyof typeof services): number {
  const started = process.hrtime.bigint();
  const result = spawnSync(sls, ['package', '--stage', 'prod', '--package', join(out, name)], {
    cwd: services[name],
    env: offlineEnv(),
    encoding: 'utf8',
  });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0) throw new Error(`sls package of ${name} failed:\n${result.stdout}${result.stderr}`);
  return ms;
}

// One of each first, so that neither pays for a cold disk cache in the pairs.
packageOnce('prod');
packageOnce('floor');
const ratios: number[] = [];
for (let pair = 1; pair <= pairs; pair++) {
  const order: (keyof typeof services)[] = pair % 2 ? ['prod', 'floor'] : ['floor', 'prod'];
  const times = Object.fromEntries(order.map((name) => [name, packageOnce(name)])) as Record<keyof typeof services, number>;
  ratios.push(times.prod / times.floor);
  console.log(
    `pair ${pair}: prod ${seconds(times.prod)} s, floor ${seconds(times.floor)} s, ratio ${(times.prod / times.floor).toFixed(3)}`,
  );
}
console.log(`\nmedian ratio of ${pairs} pairs: ${median(ratios).toFixed(3)} (prod / floor)`);
rmSync(out, { recursive: true, force: true });
