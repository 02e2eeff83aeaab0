// The key ring custom resource (handlers/key-ring): one function generates and rotates every
// signing key of the stage (JWTs, photo URLs) straight into SSM, so no key is ever in a template.
import { type CfnResource, dataPolicies } from './cloudformation';
import { customResourceFunction, serviceToken } from './functions';
import { type StageSettings, ssmRoot } from './stage';

export const keyRingFunctionName = 'keyRing';

/** Every parameter a key ring may write or delete (both algorithms' names: a switch cleans up the other). */
export const keyRingParameterKeys = [
  'jwtPrivateKey',
  'jwtSecret',
  'jwtPublicKey',
  'jwtKeyId',
  'jwks',
  'photoUrlPrivateKey',
  'photoUrlPublicKeys',
];

export function keyRingFunction(settings: StageSettings) {
  const parameterArn = (key: string) => ({
    'Fn::Sub': `arn:\${AWS::Partition}:ssm:\${AWS::Region}:\${AWS::AccountId}:parameter${ssmRoot(settings)}/${key}`,
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
        Action: ['ssm:PutParameter', 'ssm:LabelParameterVersion', 'ssm:GetParameters', 'ssm:DeleteParameters'],
        Resource: keyRingParameterKeys.map(parameterArn),
      },
    ],
  });
}

/** The key ring custom resource of one purpose; its parameters name what it writes. */
export function keyRingResource(settings: StageSettings, properties: Record<string, unknown>): CfnResource {
  return {
    Type: 'Custom::KeyRing',
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
