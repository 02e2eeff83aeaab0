// The stage key of a shared stage, as packaged: who may do what with the signing keys.
import { describe, expect, it } from 'vitest';
import { signingKeys } from '../client/src/contract';
import { keyRingRoleName } from '../resources/key-ring';
import { settingsFor } from '../resources/stage';
import { signerKeys, stageKey } from '../resources/stage-key';
import { maxStageLength } from '../resources/stage-validation';
import { readTemplate } from './package-stage';
import { resource, resourceCountIs, resourcesOfType } from './template';

type Statement = {
  Sid: string;
  Effect: string;
  Principal: { AWS: unknown };
  Action: string[];
  Condition?: Record<string, Record<string, unknown>>;
};

const prod = readTemplate('prod');
const key = resource(prod, 'SigningKeysKey', 'AWS::KMS::Key');
const statements: Statement[] = key.Properties.KeyPolicy.Statement;
const allows = (action: string) => statements.filter((s) => s.Effect === 'Allow' && s.Action.some((a) => a === action || a === 'kms:*'));
const signingArns = ['jwtPrivateKey', 'jwtSecret', 'photoUrlPrivateKey'].map(
  (key) => `arn:\${AWS::Partition}:ssm:\${AWS::Region}:\${AWS::AccountId}:parameter/movement-pass-signing/prod/${key}`,
);
const storeArns = ['jwt', 'photoUrl'].map(
  (store) => `arn:\${AWS::Partition}:ssm:\${AWS::Region}:\${AWS::AccountId}:parameter/movement-pass-keys/prod/${store}`,
);
const subs = (values: unknown) => (values as { 'Fn::Sub': string }[]).map((value) => value['Fn::Sub']);

describe('prod stage key', () => {
  it('is a retained, rotated, symmetric key with a 30-day deletion window and an alias naming app and stage', () => {
    expect(key).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    expect(key.Properties).toMatchObject({ EnableKeyRotation: true, PendingWindowInDays: 30, KeySpec: 'SYMMETRIC_DEFAULT' });
    expect(key.Properties.BypassPolicyLockoutSafetyCheck).toBeUndefined();
    expect(resource(prod, 'SigningKeysKeyAlias', 'AWS::KMS::Alias').Properties).toEqual({
      AliasName: 'alias/movement-pass-prod-signing-keys',
      TargetKeyId: { Ref: 'SigningKeysKey' },
    });
  });

  it('lets the account administer the key (PutKeyPolicy included, so KMS accepts the policy) but not use it', () => {
    const [account] = statements.filter((s) => JSON.stringify(s.Principal).includes(':root'));
    expect(account.Action).toContain('kms:PutKeyPolicy');
    for (const action of account.Action) expect(action).not.toMatch(/\*|Decrypt|Encrypt|ReEncrypt|CreateGrant|GenerateDataKey/);
    expect(account.Condition).toBeUndefined();
  });

  it('lets nobody decrypt without conditions naming the principal, SSM in the home region and the signing parameters', () => {
    const decrypters = allows('kms:Decrypt');
    expect(decrypters.length).toBeGreaterThan(0);
    for (const statement of decrypters) {
      expect(JSON.stringify(statement.Principal)).not.toContain(':root');
      expect(statement.Condition?.ArnEquals?.['aws:PrincipalArn']).toBeDefined();
      expect(statement.Condition?.StringEquals).toMatchObject({
        'kms:CallerAccount': { Ref: 'AWS::AccountId' },
        'kms:ViaService': { 'Fn::Sub': 'ssm.${AWS::Region}.amazonaws.com' },
      });
      const parameters = subs(statement.Condition?.StringEquals['kms:EncryptionContext:PARAMETER_ARN']);
      expect(parameters.every((arn) => [...signingArns, ...storeArns].includes(arn))).toBe(true);
    }
    expect(allows('kms:ReEncryptFrom')).toEqual([]);
    expect(allows('kms:CreateGrant')).toEqual([]);
  });

  it('lets the key ring, by its role name, encrypt and decrypt the signing keys and the key stores', () => {
    const [ring] = allows('kms:Encrypt');
    expect(ring.Action).toEqual(['kms:Encrypt', 'kms:Decrypt']);
    expect(subs(ring.Condition?.ArnEquals['aws:PrincipalArn'])).toEqual([
      'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/movement-pass/prod/movement-pass-prod-key-ring-${AWS::Region}',
    ]);
    expect(resource(prod, 'KeyRingRole').Properties.RoleName).toEqual({
      'Fn::Sub': 'movement-pass-prod-key-ring-${AWS::Region}',
    });
    expect(subs(ring.Condition?.StringEquals['kms:EncryptionContext:PARAMETER_ARN']).sort()).toEqual([...signingArns, ...storeArns].sort());
  });

  it('gives the key ring role a name IAM accepts for the longest stage name in any region', () => {
    const name = (keyRingRoleName(settingsFor('a'.repeat(maxStageLength))) as { 'Fn::Sub': string })['Fn::Sub'];
    expect(name.replace('${AWS::Region}', 'ap-southeast-1').length).toBeLessThanOrEqual(64);
  });

  it("lets each signer team.json names decrypt its own signing keys only: never the other signer's, never the key stores", () => {
    const settings = settingsFor('prod');
    const login = 'arn:aws:iam::123456789012:role/movement-pass-prod-login';
    const photo = 'arn:aws:iam::123456789012:role/movement-pass-prod-photo';
    settings.signers = { jwt: [login], photoUrl: [photo] };
    const policy = stageKey(settings).Resources.SigningKeysKey.Properties?.KeyPolicy as { Statement: Statement[] };
    const bySid = (sid: string) => policy.Statement.filter((s) => s.Sid === sid);

    const [jwt] = bySid('JwtSignersReadTheJwtKeys');
    const [photoUrl] = bySid('PhotoUrlSignersReadThePhotoUrlKey');
    expect([jwt.Action, photoUrl.Action]).toEqual([['kms:Decrypt'], ['kms:Decrypt']]);
    expect(jwt.Condition?.ArnEquals['aws:PrincipalArn']).toEqual([login]);
    expect(photoUrl.Condition?.ArnEquals['aws:PrincipalArn']).toEqual([photo]);
    expect(subs(jwt.Condition?.StringEquals['kms:EncryptionContext:PARAMETER_ARN']).sort()).toEqual(signingArns.slice(0, 2).sort());
    expect(subs(photoUrl.Condition?.StringEquals['kms:EncryptionContext:PARAMETER_ARN'])).toEqual([signingArns[2]]);
    // prod names no signer yet: only the key ring decrypts.
    expect(statements.filter((s) => /Signers/.test(s.Sid ?? ''))).toEqual([]);
  });

  it('gives every signing key to exactly one kind of signer', () => {
    expect(Object.values(signerKeys).flat().sort()).toEqual(Object.keys(signingKeys).sort());
  });

  it('gives the key ring function the key to encrypt with', () => {
    expect(resource(prod, 'KeyRingLambdaFunction').Properties.Environment.Variables.KEY_RING_STAGE_KEY_ARN).toEqual({
      'Fn::GetAtt': ['SigningKeysKey', 'Arn'],
    });
  });
});

describe('sandbox', () => {
  it('has no KMS key: its keys stay under aws/ssm, at no cost', () => {
    const sandbox = readTemplate('alice');
    resourceCountIs(sandbox, 'AWS::KMS::Key', 0);
    expect(Object.keys(resourcesOfType(sandbox, 'AWS::KMS::Alias'))).toEqual([]);
    expect(resource(sandbox, 'KeyRingLambdaFunction').Properties.Environment.Variables.KEY_RING_STAGE_KEY_ARN).toBeUndefined();
  });
});
