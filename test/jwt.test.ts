// JWT configuration and the JWKS API, as packaged for prod and a sandbox.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { api } from '../resources/api';
import { jwtKeyRingProperties } from '../resources/jwt';
import { settingsFor } from '../resources/stage';
import { readTemplate, stackDir } from './package-stage';
import { contractParameters, ownStackStatement, resource, resourcesOfType } from './template';

describe.each(['prod', 'alice'])('stage %s', (stage) => {
  const template = readTemplate(stage);
  const root = `/movement-pass/${stage}`;
  const parameters = contractParameters(template, stage);

  it('seeds the JWT keys through the key ring custom resource, with a service timeout', () => {
    const ring = resource(template, 'JwtKeyRing', 'Custom::KeyRing');
    expect(ring.Properties).toEqual({
      ServiceToken: { 'Fn::GetAtt': ['KeyRingLambdaFunction', 'Arn'] },
      ServiceTimeout: 360,
      Algorithm: 'RS256',
      Rotation: '0',
      KeyStoreParameter: `/movement-pass-keys/${stage}/jwt`,
      PrivateKeyParameter: `/movement-pass-signing/${stage}/jwtPrivateKey`,
      PublicKeysParameter: `${root}/jwks`,
      PublicKeyParameter: `${root}/jwtPublicKey`,
      KeyIdParameter: `${root}/jwtKeyId`,
    });
  });

  it('runs the key ring on a supported Node.js runtime with its own role', () => {
    expect(resource(template, 'KeyRingLambdaFunction', 'AWS::Lambda::Function').Properties).toMatchObject({
      Runtime: 'nodejs24.x',
      Role: { 'Fn::GetAtt': ['KeyRingRole', 'Arn'] },
      FunctionName: `movement-pass-foundation-${stage}-keyRing`,
    });
    expect(template.Resources.IamRoleLambdaExecution).toBeUndefined();
  });

  it('lets the key ring role touch only its own SSM parameters and its own logs', () => {
    const role = resource(template, 'KeyRingRole', 'AWS::IAM::Role').Properties;
    const statements = role.Policies[0].PolicyDocument.Statement;
    expect(statements.map((s: { Action: string[] }) => s.Action)).toEqual([
      ['logs:CreateLogStream', 'logs:PutLogEvents'],
      ['ssm:PutParameter', 'ssm:LabelParameterVersion', 'ssm:UnlabelParameterVersion', 'ssm:GetParameters', 'ssm:GetParameterHistory'],
      ['ssm:GetParameters', 'ssm:DeleteParameters'],
      // Home of a stage in two regions: whether the secondary followed the last rotation (its key stores' labels).
      ...(stage === 'prod' ? ['ssm:GetParameterHistory'] : []),
      // The photo key pair id it publishes must hold the ring's key; its events are checked against its stack.
      'cloudfront:GetPublicKey',
      ownStackStatement.Action,
    ]);
    expect(statements.at(-1)).toEqual(ownStackStatement);
    if (stage === 'prod') {
      const follower = statements.find((s: { Action: unknown }) => s.Action === 'ssm:GetParameterHistory');
      expect(follower.Resource.map((r: { 'Fn::Sub': string }) => r['Fn::Sub'])).toEqual([
        'arn:${AWS::Partition}:ssm:ap-southeast-1:${AWS::AccountId}:parameter/movement-pass-keys/prod/jwt',
        'arn:${AWS::Partition}:ssm:ap-southeast-1:${AWS::AccountId}:parameter/movement-pass-keys/prod/photoUrl',
      ]);
      expect(resource(template, 'KeyRingLambdaFunction').Properties.Environment.Variables.KEY_RING_FOLLOWER_REGION).toBe('ap-southeast-1');
    }
    expect(statements[0].Resource['Fn::Sub']).toContain(`:log-group:/aws/lambda/movement-pass-foundation-${stage}-keyRing:*`);
    const arns = (statement: { Resource: { 'Fn::Sub': string }[] }) => statement.Resource.map((r) => r['Fn::Sub']);
    for (const arn of arns(statements[1])) {
      expect(arn).toMatch(new RegExp(`:parameter(${root}|/movement-pass-signing/${stage}|/movement-pass-keys/${stage})/[A-Za-z]+$`));
    }
    expect(arns(statements[1]).map((arn: string) => arn.split('/').pop())).toEqual(
      expect.arrayContaining(['jwtPrivateKey', 'jwtSecret', 'jwtPublicKey', 'jwtKeyId', 'jwks']),
    );
    // A stage's key ring role has a fixed name: the stage key's policy names it.
    expect(role.RoleName).toEqual({ 'Fn::Sub': `movement-pass-${stage}-key-ring-\${AWS::Region}` });
  });

  it('deletes a key store only where the stage does not keep its keys', () => {
    const [, , deletes] = resource(template, 'KeyRingRole').Properties.Policies[0].PolicyDocument.Statement;
    const deletable = deletes.Resource.map((r: { 'Fn::Sub': string }) => r['Fn::Sub']);
    const stores = deletable.filter((arn: string) => arn.includes(':parameter/movement-pass-keys/'));
    expect(stores).toHaveLength(stage === 'prod' ? 0 : 2);
    expect(deletable.length).toBeGreaterThan(0);
    // The contract root's old private keys may be deleted, never written.
    const writable = (statements: { Resource: { 'Fn::Sub': string }[] }) => statements.Resource.map((r) => r['Fn::Sub']);
    const [, writes] = resource(template, 'KeyRingRole').Properties.Policies[0].PolicyDocument.Statement;
    expect(writable(writes).filter((arn: string) => /:parameter\/movement-pass\/[a-z]+\/\w*(PrivateKey|Secret)$/.test(arn))).toEqual([]);
    expect(deletable).toEqual(expect.arrayContaining([expect.stringContaining(`:parameter${root}/jwtPrivateKey`)]));
  });

  it('gives the key ring function its configuration: the stack, retention, the names each resource writes', () => {
    const variables = resource(template, 'KeyRingLambdaFunction').Properties.Environment.Variables;
    expect(variables.STACK_ID).toEqual({ Ref: 'AWS::StackId' });
    expect(variables.KEY_RING_RETAIN).toBe(stage === 'prod' ? 'true' : 'false');
    const resources = JSON.parse(variables.KEY_RING_RESOURCES);
    const keyRingResources = { ...resourcesOfType(template, 'Custom::KeyRing'), ...resourcesOfType(template, 'Custom::SigningKey') };
    expect(Object.keys(keyRingResources).sort()).toEqual(Object.keys(resources).sort());
    for (const [id, ring] of Object.entries(keyRingResources)) {
      const { Algorithm, PrivateKeyParameter, PublicKeysParameter, PublicKeyParameter, KeyIdParameter, KeyStoreParameter } =
        ring.Properties;
      expect(resources[id].keyStore).toBe(KeyStoreParameter);
      expect(resources[id].algorithm).toBe(Algorithm);
      // The handler lets each property name exactly this parameter, and no other.
      const names = { PrivateKeyParameter, PublicKeysParameter, PublicKeyParameter, KeyIdParameter };
      expect(resources[id].names, id).toEqual(Object.fromEntries(Object.entries(names).filter(([, name]) => name !== undefined)));
      for (const name of Object.values(resources[id].names)) expect(resources[id].parameters).toContain(name);
      if (resources[id].names.PrivateKeyParameter) expect(resources[id].names.PrivateKeyParameter).toMatch(/^\/movement-pass-signing\//);
    }
  });

  it('returns from each key ring resource exactly the attributes the template reads', () => {
    const resources = JSON.parse(resource(template, 'KeyRingLambdaFunction').Properties.Environment.Variables.KEY_RING_RESOURCES);
    const read = new Map<string, Set<string>>();
    JSON.stringify(template, (key, value) => {
      if (key === 'Fn::GetAtt' && value[0] in resources) read.set(value[0], (read.get(value[0]) ?? new Set()).add(value[1]));
      return value;
    });
    for (const [id, configuration] of Object.entries(resources) as [string, { attributes: string[] }][]) {
      expect([...configuration.attributes].sort(), id).toEqual([...(read.get(id) ?? [])].sort());
    }
  });

  it('writes the static JWT settings and the JWKS URL as parameters of the contract', () => {
    expect(parameters.jwtAlgorithm.Properties?.Value).toBe('RS256');
    expect(parameters.jwtExpire.Properties?.Value).toBe('1h');
    expect(parameters.jwtIssuer.Properties?.Value).toEqual(expect.any(String));
    expect(parameters.jwtAudience.Properties?.Value).toEqual(expect.any(String));
    expect(parameters.jwksUrl.Properties?.Value).toEqual(template.Outputs?.JwksUrl.Value);
  });

  it('never puts key material in the template', () => {
    const text = JSON.stringify(template);
    expect(text).not.toMatch(/PRIVATE KEY|BEGIN PUBLIC KEY|SecureString/);
    for (const key of ['jwtPrivateKey', 'jwtSecret', 'jwtPublicKey', 'jwtKeyId', 'jwks']) expect(parameters[key]).toBeUndefined();
  });

  it('has no secret under the contract root: no parameter, and no name a key ring resource writes', () => {
    const secretName = new RegExp(`^${root}/\\w*(PrivateKey|Secret)$`);
    const ssmNames = Object.values(resourcesOfType(template, 'AWS::SSM::Parameter')).map((p) => p.Properties.Name);
    const keyRingResources = { ...resourcesOfType(template, 'Custom::KeyRing'), ...resourcesOfType(template, 'Custom::SigningKey') };
    const toldToWrite = Object.values(keyRingResources).flatMap((r) =>
      ['PrivateKeyParameter', 'PublicKeysParameter', 'PublicKeyParameter', 'KeyIdParameter'].map((key) => r.Properties[key]),
    );
    const configured = Object.values(
      JSON.parse(resource(template, 'KeyRingLambdaFunction').Properties.Environment.Variables.KEY_RING_RESOURCES) as Record<
        string,
        { parameters: string[] }
      >,
    ).flatMap((r) => r.parameters);
    const names = [...ssmNames, ...toldToWrite, ...configured].filter((name): name is string => typeof name === 'string');
    expect(names.filter((name) => secretName.test(name))).toEqual([]);
    expect(names.filter((name) => name.startsWith(`/movement-pass-signing/${stage}/`)).length).toBeGreaterThan(0);
  });

  it('serves GET /.well-known/jwks.json from API Gateway itself, cacheable, without a Lambda', () => {
    expect(resource(template, 'WellKnownResource').Properties?.PathPart).toBe('.well-known');
    expect(resource(template, 'JwksResource').Properties).toMatchObject({ PathPart: 'jwks.json', ParentId: { Ref: 'WellKnownResource' } });
    const method = resource(template, 'JwksMethod', 'AWS::ApiGateway::Method').Properties;
    expect(method).toMatchObject({ HttpMethod: 'GET', AuthorizationType: 'NONE', Integration: { Type: 'MOCK' } });
    const [integrationResponse] = method.Integration.IntegrationResponses;
    expect(integrationResponse.ResponseTemplates['application/json']).toEqual({ 'Fn::GetAtt': ['JwtKeyRing', 'Jwks'] });
    expect(integrationResponse.ResponseParameters['method.response.header.Cache-Control']).toBe("'public, max-age=300'");
  });

  it('deploys the API after its methods and points the stage at that deployment', () => {
    const [[deploymentId, deployment]] = Object.entries(resourcesOfType(template, 'AWS::ApiGateway::Deployment'));
    // A stage that fails over also serves the health route Route 53 checks.
    expect([...deployment.DependsOn].sort()).toEqual(Object.keys(resourcesOfType(template, 'AWS::ApiGateway::Method')).sort());
    expect(resource(template, 'ApiStage').Properties).toMatchObject({ StageName: stage, DeploymentId: { Ref: deploymentId } });
  });

  it('gives the JWKS URL and the key id as stack outputs', () => {
    expect(JSON.stringify(template.Outputs?.JwksUrl.Value)).toContain('/.well-known/jwks.json');
    expect(template.Outputs?.JwtKeyId.Value).toEqual({ 'Fn::GetAtt': ['JwtKeyRing', 'KeyId'] });
  });
});

describe('key ring retention', () => {
  it("keeps the prod keys when the stack goes, and deletes a sandbox's", () => {
    expect(resource(readTemplate('prod'), 'JwtKeyRing')).toMatchObject({
      DeletionPolicy: 'RetainExceptOnCreate',
      UpdateReplacePolicy: 'Retain',
    });
    expect(resource(readTemplate('alice'), 'JwtKeyRing')).toMatchObject({ DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Delete' });
  });
});

describe('API deployment on rotation', () => {
  const deploymentIds = (rotation: number) => {
    const settings = settingsFor('alice');
    settings.jwt.rotation = rotation;
    return Object.keys(api(settings, 'jwks', jwtKeyRingProperties(settings)).Resources).filter((id) => id.startsWith('ApiDeployment'));
  };

  it('redeploys the API when the key ring rotates, and only then', () => {
    expect(deploymentIds(0)).toEqual(deploymentIds(0));
    expect(deploymentIds(1)).not.toEqual(deploymentIds(0));
  });
});

describe('key ring bundle', () => {
  it('is a minified artifact of at most 150 KB', () => {
    const size = statSync(join(stackDir('prod'), 'keyRing.zip')).size;
    expect(size).toBeLessThanOrEqual(150 * 1024);
  });
});
