// The signing keys across regions, as packaged: a secondary region's key ring follows the home
// one (reads the home key stores, nothing else there), and the home stage key lets it decrypt them.
import { describe, expect, it } from 'vitest';
import { inRegion, settingsFor } from '../resources/stage';
import { stageKeyPolicy } from '../resources/stage-key';
import { readTemplate, type Template } from './package-stage';
import { resource, resourceCountIs, resourcesOfType } from './template';

type Statement = { Sid?: string; Effect: string; Action: string[] | string; Resource?: unknown; Condition?: Record<string, any> };

const subs = (values: unknown): string[] => (values as { 'Fn::Sub': string }[]).map((value) => value['Fn::Sub']);
const roleStatements = (template: Template): Statement[] =>
  resource(template, 'KeyRingRole').Properties.Policies[0].PolicyDocument.Statement;
const variables = (template: Template) => resource(template, 'KeyRingLambdaFunction').Properties.Environment.Variables;
const keyStoreArn = (stage: string, store: string, region: string) =>
  `arn:\${AWS::Partition}:ssm:${region}:\${AWS::AccountId}:parameter/movement-pass-keys/${stage}/${store}`;

describe.each(['prod', 'bob'])('stage %s in its secondary region ap-southeast-1', (stage) => {
  const template = readTemplate(`${stage}.ap-southeast-1`);

  it('configures the key ring as a follower of the home region, from its environment', () => {
    const { KEY_RING_HOME_REGION, KEY_RING_RESOURCES } = variables(template);
    const plan = JSON.parse(KEY_RING_RESOURCES);

    expect(KEY_RING_HOME_REGION).toBe('ap-south-1');
    expect(plan.JwtKeyRing.homeKeyStore).toBe(`/movement-pass-keys/${stage}/jwt`);
    expect(plan.PhotoUrlKeyRing.homeKeyStore).toBe(`/movement-pass-keys/${stage}/photoUrl`);
    // The signing key reads this region's copy; the photo ring answers nothing, no CloudFront key here.
    expect(plan.PhotoUrlSigningKey.homeKeyStore).toBeUndefined();
    expect(plan.PhotoUrlKeyRing.attributes).toEqual([]);
    expect(plan.JwtKeyRing.attributes).toEqual(['Jwks', 'KeyId']);
    // The same names as home: the copy of a key store is where home keeps its own.
    expect(plan.JwtKeyRing.keyStore).toBe(plan.JwtKeyRing.homeKeyStore);
    expect(resource(template, 'KeyRingLambdaFunction').Properties.Description).toBe(
      "Copies the signing keys of the JWTs and the photo URLs from ap-south-1 into this region's SSM",
    );
  });

  it('publishes the JWT keys and the photo URL keys through the key ring resources, the signing key with the home public key id', () => {
    resource(template, 'JwtKeyRing', 'Custom::KeyRing');
    const ring = resource(template, 'PhotoUrlKeyRing', 'Custom::KeyRing');
    const lookup = resource(template, 'PhotoUrlPublicKeyLookup', 'Custom::CloudFrontPublicKey');
    const signingKey = resource(template, 'PhotoUrlSigningKey', 'Custom::SigningKey');

    expect(ring.Properties).toMatchObject({
      Algorithm: 'RS256',
      Rotation: '0',
      KeyStoreParameter: `/movement-pass-keys/${stage}/photoUrl`,
    });
    expect(lookup.Properties.Name).toBe(`movement-pass-${stage}-photo-url-0`);
    expect(signingKey.Properties.KeyId).toEqual({ 'Fn::GetAtt': ['PhotoUrlPublicKeyLookup', 'Id'] });
    expect(signingKey.DependsOn).toEqual(['PhotoUrlKeyRing']);
    resourceCountIs(template, 'AWS::CloudFront::PublicKey', 0);
    expect(JSON.stringify(template)).not.toContain('"PreviousPublicKey"');
  });

  it('lets the key ring role read the two home key stores, and nothing else of the home region', () => {
    const statements = roleStatements(template);
    const homeArns = (statement: Statement) =>
      JSON.stringify(statement.Resource).includes('ap-south-1')
        ? subs(statement.Resource).filter((arn) => arn.includes(':ap-south-1:'))
        : [];
    const readingHome = statements.filter((statement) => homeArns(statement).length);

    expect(readingHome).toHaveLength(1);
    expect(readingHome[0].Action).toEqual(['ssm:GetParameterHistory', 'ssm:GetParameters']);
    expect(subs(readingHome[0].Resource)).toEqual([keyStoreArn(stage, 'jwt', 'ap-south-1'), keyStoreArn(stage, 'photoUrl', 'ap-south-1')]);
    // Its writes and deletes stay in its own region (CloudFront is global; its stack is its own).
    const regional = statements.filter(
      (s) => s !== readingHome[0] && s.Resource !== undefined && !/^cloudfront:|^cloudformation:/.test(String([s.Action].flat()[0])),
    );
    for (const statement of regional) {
      const arns = Array.isArray(statement.Resource)
        ? subs(statement.Resource)
        : [(statement.Resource as { 'Fn::Sub': string })['Fn::Sub']];
      for (const arn of arns) expect(arn).toContain(':${AWS::Region}:');
    }
    expect(resource(template, 'KeyRingRole').Properties.RoleName).toEqual({
      'Fn::Sub': `movement-pass-${stage}-key-ring-\${AWS::Region}`,
    });
  });
});

describe('the stage keys of prod in both regions', () => {
  const home = readTemplate('prod');
  const regional = readTemplate('prod.ap-southeast-1');
  const policy = (template: Template): Statement[] => resource(template, 'SigningKeysKey', 'AWS::KMS::Key').Properties.KeyPolicy.Statement;
  const bySid = (template: Template, sid: string) => policy(template).find((statement) => statement.Sid === sid);

  it('home lets the secondary region’s key ring decrypt the key stores only, through SSM in the home region only', () => {
    const follower = bySid(home, 'SecondaryKeyRingsReadKeyStores') as Statement;

    expect(follower).toBeDefined();
    expect(follower.Effect).toBe('Allow');
    expect(follower.Action).toEqual(['kms:Decrypt']);
    expect(subs(follower.Condition?.ArnEquals['aws:PrincipalArn'])).toEqual([
      'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/movement-pass/prod/movement-pass-prod-key-ring-ap-southeast-1',
    ]);
    expect(follower.Condition?.StringEquals).toEqual({
      'kms:CallerAccount': { Ref: 'AWS::AccountId' },
      // The home stack's own region: the follower decrypts by calling SSM there.
      'kms:ViaService': { 'Fn::Sub': 'ssm.${AWS::Region}.amazonaws.com' },
      'kms:EncryptionContext:PARAMETER_ARN': [
        { 'Fn::Sub': keyStoreArn('prod', 'jwt', '${AWS::Region}') },
        { 'Fn::Sub': keyStoreArn('prod', 'photoUrl', '${AWS::Region}') },
      ],
    });
    // No statement of the home key lets it do anything else.
    const naming = policy(home).filter((statement) => JSON.stringify(statement).includes('key-ring-ap-southeast-1'));
    expect(naming).toEqual([follower]);
  });

  it('the secondary region’s key trusts its own key ring (writes and reads) and no other region’s', () => {
    const ring = bySid(regional, 'KeyRingWritesAndReadsSigningKeysAndKeyStores') as Statement;

    expect(ring.Action).toEqual(['kms:Encrypt', 'kms:Decrypt']);
    expect(subs(ring.Condition?.ArnEquals['aws:PrincipalArn'])).toEqual([
      'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/movement-pass/prod/movement-pass-prod-key-ring-${AWS::Region}',
    ]);
    expect(ring.Condition?.StringEquals['kms:ViaService']).toEqual({ 'Fn::Sub': 'ssm.${AWS::Region}.amazonaws.com' });
    expect(bySid(regional, 'SecondaryKeyRingsReadKeyStores')).toBeUndefined();
    expect(JSON.stringify(policy(regional))).not.toContain('ap-south-1');
    expect(variables(regional).KEY_RING_STAGE_KEY_ARN).toEqual({ 'Fn::GetAtt': ['SigningKeysKey', 'Arn'] });
  });
});

describe('the secondary region’s stage key policy', () => {
  it('lets the signers the stage settings name decrypt the signing keys there too, and no other region’s key ring', () => {
    const settings = inRegion(settingsFor('prod'), 'ap-southeast-1');
    settings.signers = { jwt: ['arn:aws:iam::123456789012:role/movement-pass-prod-login'], photoUrl: [] };
    const statements = stageKeyPolicy(settings).Statement as Statement[];
    const signers = statements.find((statement) => statement.Sid === 'JwtSignersReadTheJwtKeys');

    expect(signers?.Condition?.ArnEquals['aws:PrincipalArn']).toEqual(settings.signers.jwt);
    expect(signers?.Action).toEqual(['kms:Decrypt']);
    expect(statements.map((statement) => statement.Sid)).not.toContain('SecondaryKeyRingsReadKeyStores');
  });
});

describe('home stacks', () => {
  it.each(['prod', 'alice', 'bob'])('%s: the key ring generates (no home region in its configuration, no read elsewhere)', (stage) => {
    const template = readTemplate(stage);
    const plan = JSON.parse(variables(template).KEY_RING_RESOURCES);

    expect(variables(template).KEY_RING_HOME_REGION).toBeUndefined();
    expect(Object.values(plan).filter((resource) => (resource as { homeKeyStore?: string }).homeKeyStore)).toEqual([]);
    expect(JSON.stringify(roleStatements(template))).not.toContain('ap-south-1');
    expect(Object.keys(resourcesOfType(template, 'Custom::CloudFrontPublicKey'))).toEqual([]);
  });

  it('a home-only shared stage names no follower in its key policy', () => {
    const settings = { ...settingsFor('prod'), regions: ['ap-south-1'] };

    expect(stageKeyPolicy(settings).Statement.map((statement) => statement.Sid)).not.toContain('SecondaryKeyRingsReadKeyStores');
  });
});
