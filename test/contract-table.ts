// The README's contract tables, rendered from the declaration in client/src/contract.ts.
// `npm run readme:contract` writes them between the README's markers; test/contract.test.ts fails
// when the README holds anything else.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  contractKeys,
  type KeyDeclaration,
  type Presence,
  type Scope,
  signingKeys,
  type ValueKind,
  type Writer,
} from '../client/src/contract';

export const tableBegin = '<!-- contract-table:begin (generated from client/src/contract.ts by `npm run readme:contract`) -->';
export const tableEnd = '<!-- contract-table:end -->';

const kinds: Record<ValueKind, string> = {
  string: 'string',
  number: 'number',
  url: 'URL',
  arn: 'ARN',
  jwks: 'JSON (JWKS)',
  pem: 'PEM',
  algorithm: '`RS256` \\| `ES256` \\| `HS256`',
  duration: 'duration',
};

const presences: Record<Presence, string> = {
  always: 'always',
  customDomain: 'shared stages',
  asymmetric: 'RS256, ES256',
  symmetric: 'HS256',
};

const scopes: Record<Scope, string> = {
  global: 'same in every region',
  regional: "the region's own",
};

const writers: Record<Writer, (source: string) => string> = {
  stack: (source) => `stack (\`${source}\`)`,
  keyRing: (source) => `key ring custom resource (\`${source}\`)`,
  signingKey: (source) => `signing key custom resource (\`${source}\`)`,
  certificates: (source) => `\`${source}\` on \`sls deploy\``,
};

const cell = (text: string) => text.replace(/\|/g, '\\|');
const code = (text: string) => (text.includes('`') ? text : `\`${text}\``);

function table(keys: Record<string, KeyDeclaration>, ssmType: string): string[] {
  const header = ['Key', `Value (SSM ${ssmType})`, 'Present', 'Per region', 'Meaning', 'Example (prod, home)', 'Written by'];
  const rows = Object.entries(keys).map(([key, declaration]) => [
    `\`${key}\``,
    kinds[declaration.kind],
    presences[declaration.presence],
    scopes[declaration.scope],
    cell(declaration.description),
    cell(code(declaration.example)),
    writers[declaration.writer](declaration.source),
  ]);
  const widths = header.map((_, column) => Math.max(...[header, ...rows].map((row) => row[column].length)));
  const line = (row: string[]) => `| ${row.map((text, column) => text.padEnd(widths[column])).join(' | ')} |`;
  return [line(header), `| ${widths.map((width) => '-'.repeat(width)).join(' | ')} |`, ...rows.map(line)];
}

/** Both tables, as they stand between the README's markers. */
export function renderContractTables(): string {
  return [
    tableBegin,
    '',
    '**Contract root** `/movement-pass/<stage>/` in each region of the stage: public values, readable by every service of the account.',
    '',
    ...table(contractKeys, 'String'),
    '',
    '**Signing root** `/movement-pass-signing/<stage>/` in each region of the stage: the signing keys, read only by the services that sign.',
    '',
    ...table(signingKeys, 'SecureString'),
    '',
    tableEnd,
  ].join('\n');
}

export const readmePath = join(__dirname, '..', 'docs', 'contract.md');

/** The README's text between the markers, markers included (undefined when they are missing). */
export function readmeTables(readme: string): string | undefined {
  const begin = readme.indexOf(tableBegin);
  const end = readme.indexOf(tableEnd);
  return begin < 0 || end < begin ? undefined : readme.slice(begin, end + tableEnd.length);
}

if (require.main === module) {
  const readme = readFileSync(readmePath, 'utf8');
  const current = readmeTables(readme);
  if (current === undefined)
    throw new Error(`README.md lacks the markers ${tableBegin} ... ${tableEnd} in its "Parameter contract" section.`);
  writeFileSync(readmePath, readme.replace(current, renderContractTables()));
}
