// No module imports itself through others: the import graph of the production code (serverless.ts,
// resources, handlers, plugins, scripts and the client's sources) has no cycle. A cycle works only
// while every use sits inside a function, and breaks the day one moves to the top level.
// Type-only imports are left out: TypeScript erases them.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from './package-stage';

const roots = ['serverless.ts', 'resources', 'handlers', 'plugins', 'scripts', 'client/src'];

function sourceFiles(path: string): string[] {
  const full = join(projectRoot, path);
  if (/\.(ts|js)$/.test(path)) return [full];
  return readdirSync(full, { recursive: true, encoding: 'utf8' })
    .filter((file) => /\.(ts|js)$/.test(file) && !file.endsWith('.d.ts'))
    .map((file) => join(full, file));
}

/** The project files a module imports or requires (relative specifiers only), at run time or, with `types`, also for its types. */
function runtimeImports(file: string, types = false): string[] {
  const source = readFileSync(file, 'utf8');
  const kind = types ? '' : '(?!type\\s)';
  const specifiers = [
    ...[...source.matchAll(new RegExp(`^import\\s+${kind}[^'"]*?from\\s+'(\\.[^']+)'`, 'gms'))].map((match) => match[1]),
    ...[...source.matchAll(new RegExp(`^export\\s+${kind}[^'"]*?from\\s+'(\\.[^']+)'`, 'gms'))].map((match) => match[1]),
    ...[...source.matchAll(/require\(\s*'(\.[^']+)'\s*\)/g)].map((match) => match[1]),
  ];
  return specifiers.flatMap((specifier) => {
    const base = resolve(dirname(file), specifier.replace(/\.js$/, ''));
    const found = [`${base}.ts`, `${base}.js`, join(base, 'index.ts'), join(base, 'index.js')].find((candidate) => existsSync(candidate));
    return found ? [found] : [];
  });
}

/** Every cycle a depth-first walk of the graph meets, each as the path that closes it. */
function cycles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (file: string, path: string[]) => {
    if (state.get(file) === 'done') return;
    if (state.get(file) === 'visiting') {
      found.push([...path.slice(path.indexOf(file)), file]);
      return;
    }
    state.set(file, 'visiting');
    for (const next of graph.get(file) ?? []) visit(next, [...path, file]);
    state.set(file, 'done');
  };
  for (const file of graph.keys()) visit(file, []);
  return found;
}

describe('the import graph of the production code', () => {
  const files = roots.flatMap(sourceFiles);
  const graph = new Map(files.map((file) => [relative(projectRoot, file), runtimeImports(file).map((to) => relative(projectRoot, to))]));

  it('covers serverless.ts, the resources, handlers, plugins and the client, with their imports', () => {
    expect([...graph.keys()]).toEqual(
      expect.arrayContaining([
        'serverless.ts',
        'resources/api.ts',
        'handlers/key-ring/index.ts',
        'plugins/diff.js',
        'client/src/contract.ts',
      ]),
    );
    expect(graph.get('plugins/diff.js')).toContain('plugins/lib/template-diff.js');
    expect(graph.get('serverless.ts')).toContain('resources/stage.ts');
  });

  it('has no cycle', () => {
    expect(cycles(graph)).toEqual([]);
  });

  it('runs one way across the seam: handlers and the client import nothing of the code that builds templates', () => {
    const construction = /^(serverless\.ts|resources\/|plugins\/|scripts\/)/;
    const backwards = files
      .map((file) => relative(projectRoot, file))
      .filter((from) => /^(handlers|client)\//.test(from))
      .flatMap((from) =>
        runtimeImports(join(projectRoot, from), true)
          .map((to) => relative(projectRoot, to))
          .filter((to) => construction.test(to))
          .map((to) => `${from} -> ${to}`),
      );

    expect(backwards).toEqual([]);
  });

  it('would name a cycle: the walk finds one in a graph that has it', () => {
    const withCycle = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts']],
    ]);
    expect(cycles(withCycle)).toEqual([['a.ts', 'b.ts', 'c.ts', 'a.ts']]);
  });
});
