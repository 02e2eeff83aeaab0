// The README's parameter table is the contract: it must name exactly the keys that get written,
// by the stack, by the key ring custom resources and by the certificates plugin, with their type.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot, readServiceState, readTemplate } from './package-stage';
import { contractParameters, resourcesOfType } from './template';

function readmeContract(): Map<string, string> {
  const readme = readFileSync(join(projectRoot, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Parameter contract'), readme.indexOf('## JWT keys'));
  const rows = [...section.matchAll(/^\|\s*`([A-Za-z]+)`\s*\|\s*(String|SecureString)\s*\|/gm)];
  return new Map(rows.map(([, key, type]) => [key, type]));
}

/** Every key a stage writes, with its SSM type. */
function writtenKeys(stage: string): Map<string, string> {
  const template = readTemplate(stage);
  const keys = new Map<string, string>();
  for (const [key, parameter] of Object.entries(contractParameters(template, stage))) keys.set(key, parameter.Properties.Type);
  const root = `/movement-pass/${stage}/`;
  const keyResources = { ...resourcesOfType(template, 'Custom::KeyRing'), ...resourcesOfType(template, 'Custom::SigningKey') };
  for (const resource of Object.values(keyResources)) {
    // KeyStoreParameter lives outside the contract root: internal to the key ring.
    const { PrivateKeyParameter, PublicKeysParameter, PublicKeyParameter, KeyIdParameter, KeyStoreParameter } = resource.Properties;
    expect(KeyStoreParameter.startsWith(root)).toBe(false);
    if (PrivateKeyParameter) keys.set(PrivateKeyParameter.slice(root.length), 'SecureString');
    for (const name of [PublicKeysParameter, PublicKeyParameter, KeyIdParameter].filter(Boolean))
      keys.set(name.slice(root.length), 'String');
  }
  for (const certificate of readServiceState(stage).custom.movementPassCertificates.certificates) {
    keys.set(certificate.parameterName.slice(root.length), 'String');
  }
  return keys;
}

describe('parameter contract', () => {
  const documented = readmeContract();

  it('documents every key prod and a sandbox write, with its type', () => {
    for (const stage of ['prod', 'alice']) {
      for (const [key, type] of writtenKeys(stage)) expect(documented.get(key), `${key} (${stage}) in the README`).toBe(type);
    }
  });

  it('documents no key that nothing writes (jwtSecret is written with HS256)', () => {
    const written = new Set([...writtenKeys('prod').keys(), ...writtenKeys('alice').keys(), 'jwtSecret']);
    expect([...documented.keys()].filter((key) => !written.has(key))).toEqual([]);
  });

  it('keeps the names existing consumers already use', () => {
    for (const key of [
      'app',
      'version',
      'domain',
      'jwtExpire',
      'jwtSecret',
      'photoBucketName',
      'photoUploadExpiration',
      'photoUrlKeyPairId',
      'photoUrlPrivateKey',
      'applicantsTable',
      'applicantsTableStreamArn',
      'passesTable',
      'passesTableStreamArn',
      'clientCertificateArn',
      'serverCertificateArn',
    ]) {
      expect(documented.has(key), key).toBe(true);
    }
  });
});
