// npx tsx bench/templates.ts <folder>: writes the packaged template of every tested stack to
// <folder>/<stack>.json, the functions' S3Key left out (each packaging has its own artifact
// folder). Run it before and after a refactor and compare the folders (`diff -r before after`):
// a behaviour-free change leaves them identical.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readTemplate, testedStacks } from '../test/package-stage';

const withoutS3Keys = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(withoutS3Keys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).flatMap(([key, inner]) => (key === 'S3Key' ? [] : [[key, withoutS3Keys(inner)]])));
  }
  return value;
};

const folder = process.argv[2];
if (!folder) throw new Error('Give the folder to write the templates to: npx tsx bench/templates.ts <folder>');
mkdirSync(resolve(folder), { recursive: true });
for (const stack of Object.keys(testedStacks)) {
  writeFileSync(join(resolve(folder), `${stack}.json`), `${JSON.stringify(withoutS3Keys(readTemplate(stack)), null, 1)}\n`);
  console.log(`${stack}: ${join(folder, `${stack}.json`)}`);
}
