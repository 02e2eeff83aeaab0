// Every `--param=<name>=<value>` the project understands, each declared by the module that reads
// it, and the check that refuses any other before anything runs: a misspelt opt-in
// (`--param=secondary-regoin=...`) or one without a value would otherwise be dropped silently,
// and the stack built without what it asked for.
import { legacyDeploymentBucketParam } from './deployment';
import { photoReplicationParam } from './photo-replication';
import { confirmations } from './production-safety';
import { secondaryRegionParam } from './stage';
import { StageError } from './stage-validation';

export const knownParams: readonly string[] = [
  secondaryRegionParam,
  photoReplicationParam,
  legacyDeploymentBucketParam,
  ...Object.values(confirmations),
];

/** How many single-character edits turn one name into the other. */
function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length];
}

/** The `--param` values of a command line, as osls reads them (`--param=x=y` or `--param x=y`). */
function paramsOf(argv: readonly string[]): string[] {
  const values: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--') break;
    if (argv[i].startsWith('--param=')) values.push(argv[i].slice('--param='.length));
    else if (argv[i] === '--param') values.push(argv[i + 1] ?? '');
  }
  return values;
}

/** Refuses a `--param` the project does not read, or one without a value, naming the fix. */
export function checkParams(argv: readonly string[]): void {
  for (const param of paramsOf(argv)) {
    const at = param.indexOf('=');
    const name = at < 0 ? param : param.slice(0, at);
    if (!knownParams.includes(name)) {
      const near = knownParams.filter((known) => distance(known, name) <= 3);
      throw new StageError(
        `Unknown --param=${param}: ${near.length ? `did you mean ${near.map((known) => `--param=${known}=...`).join(' or ')}? ` : ''}` +
          `The parameters are ${knownParams.join(', ')} (see "Overrides" in docs/protecting-prod.md and "Regions" in docs/stages-and-regions.md). Nothing was done.`,
      );
    }
    if (at < 0 || at === param.length - 1) {
      throw new StageError(
        `--param=${name} has no value: write --param=${name}=<value> (see "Overrides" in docs/protecting-prod.md and "Regions" in docs/stages-and-regions.md). Nothing was done.`,
      );
    }
  }
}
