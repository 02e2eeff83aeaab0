// The contract is declared once (client/src/contract.ts): the README's tables must be rendered from
// it, and the keys the stack, the key ring custom resources and the certificates plugin write must
// be exactly the declared ones, under the declared root, with the declared writer and presence.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { contractKeys, contractRoot, type KeyDeclaration, signingKeys, signingRoot, type Writer } from '../client/src/contract';
import { jwtKeyRingProperties } from '../resources/jwt';
import { type StageSettings, settingsFor } from '../resources/stage';
import { readmePath, readmeTables, renderContractTables } from './contract-table';
import { readServiceState, readTemplate } from './package-stage';
import { resourcesOfType } from './template';

const declared: Record<string, KeyDeclaration & { root: 'contract' | 'signing' }> = {
  ...Object.fromEntries(Object.entries(contractKeys).map(([key, declaration]) => [key, { ...declaration, root: 'contract' as const }])),
  ...Object.fromEntries(Object.entries(signingKeys).map(([key, declaration]) => [key, { ...declaration, root: 'signing' as const }])),
};

interface Written {
  name: string;
  type: string;
  writer: Writer;
}

/** Every parameter a stage writes: its full name, SSM type and writer. */
function writtenParameters(stage: string): Written[] {
  const template = readTemplate(stage);
  const written: Written[] = Object.values(resourcesOfType(template, 'AWS::SSM::Parameter')).map((parameter) => ({
    name: parameter.Properties.Name,
    type: parameter.Properties.Type,
    writer: 'stack',
  }));
  for (const [type, writer] of [
    ['Custom::KeyRing', 'keyRing'],
    ['Custom::SigningKey', 'signingKey'],
  ] as const) {
    for (const resource of Object.values(resourcesOfType(template, type))) written.push(...keyRingWrites(resource.Properties, writer));
  }
  for (const certificate of readServiceState(stage).custom.movementPassCertificates.certificates) {
    written.push({ name: certificate.parameterName, type: 'String', writer: 'certificates' });
  }
  return written;
}

/** The parameters a key ring resource writes, by its properties (KeyStoreParameter is the ring's own state, outside both roots). */
function keyRingWrites(properties: Record<string, string>, writer: Writer): Written[] {
  const { PrivateKeyParameter, PublicKeysParameter, PublicKeyParameter, KeyIdParameter } = properties;
  return [
    ...(PrivateKeyParameter ? [{ name: PrivateKeyParameter, type: 'SecureString', writer }] : []),
    ...[PublicKeysParameter, PublicKeyParameter, KeyIdParameter].filter(Boolean).map((name) => ({ name, type: 'String', writer })),
  ];
}

/** The declared key a parameter name stands for, with the root it is under. */
function locate(stage: string, name: string): { key: string; root: 'contract' | 'signing' } {
  for (const [root, prefix] of [
    ['contract', contractRoot(stage)],
    ['signing', signingRoot(stage)],
  ] as const) {
    if (name.startsWith(prefix)) return { key: name.slice(prefix.length), root };
  }
  throw new Error(`${name} is under neither ${contractRoot(stage)} nor ${signingRoot(stage)}`);
}

function expectedPresent(declaration: KeyDeclaration, settings: StageSettings): boolean {
  switch (declaration.presence) {
    case 'always':
      return true;
    case 'customDomain':
      return settings.customDomain;
    case 'asymmetric':
      return settings.jwt.algorithm !== 'HS256';
    case 'symmetric':
      return settings.jwt.algorithm === 'HS256';
  }
}

describe('parameter contract', () => {
  it('README tables are the ones rendered from the declaration (npm run readme:contract)', () => {
    const tables = readmeTables(readFileSync(readmePath, 'utf8'));
    expect(tables, 'README.md is out of date: run npm run readme:contract').toBe(renderContractTables());
  });

  for (const stage of ['prod', 'alice']) {
    describe(`${stage} stage`, () => {
      it('writes only declared keys, under their root, with their SSM type and writer', () => {
        for (const { name, type, writer } of writtenParameters(stage)) {
          const { key, root } = locate(stage, name);
          const declaration = declared[key];
          expect(declaration, `${name} is declared in client/src/contract.ts`).toBeDefined();
          expect(writer, `${key} writer`).toBe(declaration.writer);
          expect(root, `${key} root`).toBe(declaration.root);
          expect(type, `${key} SSM type`).toBe(root === 'contract' ? 'String' : 'SecureString');
        }
      });

      it('writes every key the declaration says this stage holds, and none it says it lacks', () => {
        const settings = settingsFor(stage);
        const written = new Set(writtenParameters(stage).map(({ name }) => locate(stage, name).key));
        for (const [key, declaration] of Object.entries(declared)) {
          expect(written.has(key), `${key} (present: ${declaration.presence}) on ${stage}`).toBe(expectedPresent(declaration, settings));
        }
      });
    });
  }

  it('HS256 stages write jwtSecret and no public key', () => {
    const base = settingsFor('alice');
    const settings: StageSettings = { ...base, jwt: { ...base.jwt, algorithm: 'HS256' } };
    const keys = keyRingWrites(jwtKeyRingProperties(settings) as Record<string, string>, 'keyRing').map(
      ({ name }) => locate('alice', name).key,
    );
    expect(keys).toContain('jwtSecret');
    for (const [key, declaration] of Object.entries(declared).filter(([key]) =>
      /^jwt(PrivateKey|Secret|PublicKey|KeyId)$|^jwks$/.test(key),
    )) {
      expect(keys.includes(key), key).toBe(expectedPresent(declaration, settings));
    }
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
      expect(declared[key], key).toBeDefined();
    }
  });
});
