// The README's parameter tables are the contract: one for everyone (the contract root), one for
// signers (the signing root). They must name exactly the keys that get written, by the stack, by
// the key ring custom resources and by the certificates plugin, with their type.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot, readServiceState, readTemplate } from './package-stage';
import { contractParameters, resource, resourcesOfType } from './template';

const everyoneHeading = '### Everyone:';
const signersHeading = '### Signers:';

function readmeTable(heading: string, end: string): Map<string, string> {
  const readme = readFileSync(join(projectRoot, 'README.md'), 'utf8');
  const start = readme.indexOf(heading);
  expect(start, `README section "${heading}"`).toBeGreaterThan(0);
  const section = readme.slice(start, readme.indexOf(end, start));
  const rows = [...section.matchAll(/^\|\s*`([A-Za-z]+)`\s*\|\s*(String|SecureString)\s*\|/gm)];
  return new Map(rows.map(([, key, type]) => [key, type]));
}

/** Every key a stage writes, by root, with its SSM type. */
function writtenKeys(stage: string): { everyone: Map<string, string>; signers: Map<string, string> } {
  const template = readTemplate(stage);
  const root = `/movement-pass/${stage}/`;
  const signingRoot = `/movement-pass-signing/${stage}/`;
  const everyone = new Map<string, string>();
  const signers = new Map<string, string>();
  const add = (name: string, type: string) => {
    if (name.startsWith(root)) everyone.set(name.slice(root.length), type);
    else if (name.startsWith(signingRoot)) signers.set(name.slice(signingRoot.length), type);
    else throw new Error(`${name} is under neither root`);
  };
  for (const [key, parameter] of Object.entries(contractParameters(template, stage))) everyone.set(key, parameter.Properties.Type);
  const keyResources = { ...resourcesOfType(template, 'Custom::KeyRing'), ...resourcesOfType(template, 'Custom::SigningKey') };
  for (const keyResource of Object.values(keyResources)) {
    // KeyStoreParameter lives outside both roots: internal to the key ring.
    const { PrivateKeyParameter, PublicKeysParameter, PublicKeyParameter, KeyIdParameter, KeyStoreParameter } = keyResource.Properties;
    expect(KeyStoreParameter.startsWith(root) || KeyStoreParameter.startsWith(signingRoot)).toBe(false);
    if (PrivateKeyParameter) add(PrivateKeyParameter, 'SecureString');
    for (const name of [PublicKeysParameter, PublicKeyParameter, KeyIdParameter].filter(Boolean)) add(name, 'String');
  }
  // What the key ring may write with another algorithm (jwtSecret with HS256), from its configuration.
  const configured = JSON.parse(resource(template, 'KeyRingLambdaFunction').Properties.Environment.Variables.KEY_RING_RESOURCES);
  for (const { parameters } of Object.values(configured) as { parameters: string[] }[]) {
    for (const name of parameters) add(name, name.startsWith(signingRoot) ? 'SecureString' : 'String');
  }
  for (const certificate of readServiceState(stage).custom.movementPassCertificates.certificates) add(certificate.parameterName, 'String');
  return { everyone, signers };
}

describe('parameter contract', () => {
  const everyone = readmeTable(everyoneHeading, signersHeading);
  const signers = readmeTable(signersHeading, '\n## ');
  const stages = ['prod', 'alice'].map(writtenKeys);

  it('documents every key of the contract root prod and a sandbox write, with its type', () => {
    for (const written of stages) for (const [key, type] of written.everyone) expect(everyone.get(key), `${key} in the README`).toBe(type);
  });

  it('documents every key of the signing root, with its type', () => {
    for (const written of stages) for (const [key, type] of written.signers) expect(signers.get(key), `${key} in the README`).toBe(type);
  });

  it('documents no key that nothing writes', () => {
    const all = (root: 'everyone' | 'signers') => new Set(stages.flatMap((written) => [...written[root].keys()]));
    expect([...everyone.keys()].filter((key) => !all('everyone').has(key))).toEqual([]);
    expect([...signers.keys()].filter((key) => !all('signers').has(key))).toEqual([]);
  });

  it('keeps secrets out of the table everyone reads', () => {
    expect([...everyone].filter(([key, type]) => type !== 'String' || /PrivateKey$|Secret$/.test(key))).toEqual([]);
    expect([...signers.values()].every((type) => type === 'SecureString')).toBe(true);
  });

  it('keeps the names existing consumers already use', () => {
    for (const key of [
      'app',
      'version',
      'domain',
      'jwtExpire',
      'photoBucketName',
      'photoUploadExpiration',
      'photoUrlKeyPairId',
      'applicantsTable',
      'applicantsTableStreamArn',
      'passesTable',
      'passesTableStreamArn',
      'clientCertificateArn',
      'serverCertificateArn',
    ]) {
      expect(everyone.has(key), key).toBe(true);
    }
    for (const key of ['jwtSecret', 'photoUrlPrivateKey']) expect(signers.has(key), key).toBe(true);
  });
});
