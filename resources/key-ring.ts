// The key ring custom resource (handlers/key-ring): one function generates and rotates every
// signing key of the stage (JWTs, photo URLs) straight into SSM, so no key is ever in a template.
import { type CfnResource, dataPolicies } from './cloudformation';
import { customResourceFunction, serviceToken } from './functions';
import { app, type StageSettings, ssmRoot } from './stage';

export const keyRingFunctionName = 'keyRing';

/**
 * The key stores: every key a ring ever made, one labeled version each. Outside the contract
 * root, so a consumer's GetParametersByPath never sees keys that do not sign yet or any more.
 */
export const keyStores = ['jwt', 'photoUrl'] as const;
export const keyStoreParameter = (settings: StageSettings, store: (typeof keyStores)[number]) => `/${app}-keys/${settings.stage}/${store}`;

/** Every contract parameter a key ring may write or delete (both algorithms' names: a switch cleans up the other). */
export const keyRingParameterKeys = [
  'jwtPrivateKey',
  'jwtSecret',
  'jwtPublicKey',
  'jwtKeyId',
  'jwks',
  'photoUrlPrivateKey',
  'photoUrlPublicKeys',
  'photoUrlKeyPairId',
];

export function keyRingFunction(settings: StageSettings) {
  const parameterArn = (name: string) => ({
    'Fn::Sub': `arn:\${AWS::Partition}:ssm:\${AWS::Region}:\${AWS::AccountId}:parameter${name}`,
  });
  return customResourceFunction(settings, {
    name: keyRingFunctionName,
    handler: 'handlers/key-ring/index.handler',
    description: 'Generates and rotates the signing keys of the JWTs and the photo URLs into SSM',
    // RSA key generation is CPU-bound; Lambda's CPU share grows with memory.
    memorySize: 1024,
    timeout: 300,
    statements: [
      {
        Effect: 'Allow',
        Action: [
          'ssm:PutParameter',
          'ssm:LabelParameterVersion',
          'ssm:UnlabelParameterVersion',
          'ssm:GetParameters',
          'ssm:DeleteParameters',
        ],
        Resource: [
          ...keyRingParameterKeys.map((key) => parameterArn(`${ssmRoot(settings)}/${key}`)),
          ...keyStores.map((store) => parameterArn(keyStoreParameter(settings, store))),
        ],
      },
    ],
  });
}

/** A custom resource of the key ring function (a ring, or a signing key it publishes); its properties name what it writes. */
export function keyRingResource(
  settings: StageSettings,
  type: 'Custom::KeyRing' | 'Custom::SigningKey',
  properties: Record<string, unknown>,
): CfnResource {
  return {
    Type: type,
    // Shared stages keep their keys: once created, CloudFormation never sends them a Delete ...
    ...dataPolicies(settings),
    Properties: {
      ServiceToken: serviceToken(keyRingFunctionName),
      // Without it a handler that never answers holds the stack for an hour.
      ServiceTimeout: 360, // function timeout + a minute
      ...properties,
      // ... and the Delete of a rolled-back re-creation, or of a replaced ring, removes nothing.
      ...(settings.retainData ? { Retain: 'true' } : {}),
    },
  };
}
