// The repository stands alone: no file points at a document or folder outside it.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot, templateInputs } from './package-stage';

/**
 * References that would only resolve on the machine the project was first written on. Spelled in
 * pieces so that this file, which looks for them, does not itself contain them.
 */
const outsideReferences = [
  ['DESIGN', '.md'],
  ['DESIGN', ' §'],
  ['..', '/shared'],
  ['/work', '/shared'],
].map((parts) => parts.join(''));
// The lockfile holds third-party text only.
const exempt = new Set(['package-lock.json', relative(projectRoot, __filename)]);

function trackedFiles(): string[] {
  return execFileSync('git', ['ls-files', '-z'], { cwd: projectRoot, encoding: 'utf8' })
    .split('\0')
    .filter((file) => file !== '' && !exempt.has(file));
}

describe('the repository', () => {
  it('tracks every file that shapes the templates: a clean clone packages what this checkout packages', () => {
    const tracked = new Set(trackedFiles());
    tracked.add('package-lock.json');

    expect(templateInputs().filter((file) => !tracked.has(file))).toEqual([]);
  });

  it('refers to no document outside itself', () => {
    const offenders = trackedFiles().flatMap((file) => {
      const text = readFileSync(join(projectRoot, file), 'utf8');
      return outsideReferences.filter((reference) => text.includes(reference)).map((reference) => `${file}: ${reference}`);
    });

    expect(offenders).toEqual([]);
  });
});
