// The documents link to each other by file and heading: every relative link names a file that
// exists, and every `#anchor` a heading of that file (GitHub's slugs), so moving a section breaks
// this test rather than the reader's path.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { describe, expect, it } from 'vitest';
import { failbackLimits, recoveryFigures } from '../resources/failover-control';
import { projectRoot, stackDir, unpackedBundle } from './package-stage';

const documents = ['README.md', 'client/README.md', ...readdirSync(join(projectRoot, 'docs')).map((file) => `docs/${file}`)].filter(
  (file) => file.endsWith('.md'),
);

/** Lines outside fenced code blocks. */
function prose(text: string): string[] {
  let code = false;
  return text.split('\n').filter((line) => {
    if (line.startsWith('```')) code = !code;
    return !code && !line.startsWith('```');
  });
}

/** GitHub's anchors of a document's headings, repeats numbered as GitHub numbers them. */
function anchors(file: string): Set<string> {
  const seen = new Map<string, number>();
  const found = new Set<string>();
  for (const line of prose(readFileSync(join(projectRoot, file), 'utf8'))) {
    const heading = /^#{1,6} (.*)$/.exec(line)?.[1];
    if (!heading) continue;
    const slug = heading
      .trim()
      .toLowerCase()
      .replace(/[^\w\- ]/g, '')
      .replace(/ /g, '-');
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    found.add(count ? `${slug}-${count}` : slug);
  }
  return found;
}

describe.each(documents)('the links of %s', (file) => {
  const links = prose(readFileSync(join(projectRoot, file), 'utf8')).flatMap((line) =>
    [...line.matchAll(/\]\(([^)\s]+)\)/g)].map((match) => match[1]).filter((target) => !/^[a-z]+:/.test(target)),
  );

  it('name files that exist and headings those files have', () => {
    const broken = links.filter((target) => {
      const [path, anchor] = target.split('#');
      const linked = path ? normalize(join(dirname(file), path)) : file;
      if (!existsSync(join(projectRoot, linked))) return true;
      return anchor !== undefined && linked.endsWith('.md') && !anchors(linked).has(anchor);
    });
    expect(broken).toEqual([]);
  });
});

it('keeps the README a five-minute read: at most about 15 KB', () => {
  expect(readFileSync(join(projectRoot, 'README.md')).length).toBeLessThanOrEqual(15_500);
});

it("states the key ring bundle's size as it is (docs/keys.md), within 15%", () => {
  const text = readFileSync(join(projectRoot, 'docs', 'keys.md'), 'utf8');
  const [, minified, zipped] = /bundle is about (\d+) KB minified \((\d+) KB zipped\)/.exec(text) ?? [];
  const actual = {
    minified: statSync(join(unpackedBundle('alice', 'keyRing'), 'handlers', 'key-ring', 'index.js')).size / 1024,
    zipped: statSync(join(stackDir('alice'), 'keyRing.zip')).size / 1024,
  };
  expect(Number(minified) / actual.minified).toBeGreaterThan(0.85);
  expect(Number(minified) / actual.minified).toBeLessThan(1.15);
  expect(Number(zipped) / actual.zipped).toBeGreaterThan(0.85);
  expect(Number(zipped) / actual.zipped).toBeLessThan(1.15);
});

it('states the recovery figures the settings give (docs/runbooks.md)', () => {
  const figures = recoveryFigures();
  const runbook = readFileSync(join(projectRoot, 'docs', 'runbooks.md'), 'utf8');
  const row = (name: string) => runbook.split('\n').find((line) => line.startsWith(`| ${name}`)) ?? '';
  expect(row('API recovery time')).toContain(`**${figures.apiRtoSeconds} s**`);
  expect(row('API recovery time')).toContain(`${figures.detectionSeconds} s for Route 53 to see home fail`);
  expect(row('API recovery time')).toContain(`then ${figures.apiRtoSeconds - figures.detectionSeconds} s of DNS TTL`);
  expect(row('Gate closed by the latch')).toContain(`| ${figures.latchSeconds} s `);
  expect(row('Photo read during a home failure')).toContain(`**${figures.photoFailoverSeconds} s**`);
  expect(row('Table writes lost with home')).toContain(`alarmed beyond **${figures.tableRpoAlarmSeconds} s**`);
  expect(runbook).toContain(`under ${failbackLimits.maxReplicationLatencySeconds} s`);
  expect(runbook).toContain(`in \`ap-south-1\` within ${failbackLimits.markerWaitSeconds} s`);
});

it("adds up prod's idle cost in the README's cost table", () => {
  const readme = readFileSync(join(projectRoot, 'README.md'), 'utf8');
  const usd = (row: string) => {
    const line = readme.split('\n').find((candidate) => candidate.startsWith(`| ${row}`)) ?? '';
    return Number(/about ([\d.]+) USD/.exec(line)?.[1]);
  };
  const parts = ['Prod, home region', 'Prod, secondary region', 'Prod, failover control'].map(usd);
  for (const part of parts) expect(part).toBeGreaterThan(0);
  expect(Math.abs(usd('**Prod in all**') - parts.reduce((sum, part) => sum + part, 0))).toBeLessThanOrEqual(0.5);
});
