// The key ring custom resources (handlers/key-ring): one function generates and rotates every
// signing key of the stage (JWTs, photo URLs) straight into SSM, so no key is ever in a template.
// In a secondary region the same resources follow the home region's key ring: they copy its keys
// (never generate one), so a token or URL signed in either region verifies in both.
// This module owns their names: the key stores, what each resource writes, and the function's
// configuration, which the handler trusts instead of the event.

import { type SigningKeyName, signingKeys } from '../client/src/contract';
import { environmentNames, type KeyRingResourcePlan } from '../handlers/key-ring/contract';
import { type CfnResource, dataPolicies, type Fragment, getAtt, type Intrinsic, sub } from './cloudformation';
import { stagePath } from './deployment';
import { customResourceFunction, serviceToken } from './functions';
import { app, physicalName, signingRoot, ssmRoot } from './names';
import { cloudFrontPublicKeyLookup, lookupIds } from './regional-lookup';
import { homeRegionOf, isHomeRegion, type StageSettings, secondaryRegionOf } from './stage';

export const keyRingFunctionName = 'keyRing';

/**
 * The key stores: every key a ring ever made, one labeled version each. Outside the contract
 * root, so a consumer's GetParametersByPath never sees keys that do not sign yet or any more.
 */
export const keyStores = ['jwt', 'photoUrl'] as const;
export const keyStoreParameter = (settings: StageSettings, store: (typeof keyStores)[number]) => `/${app}-keys/${settings.stage}/${store}`;

/** The secrets of the signing root: signers read them, nobody else. */
/** The signing root's keys, as the contract declares them. */
const signingKeyNames = Object.keys(signingKeys) as SigningKeyName[];
export const signingParameter = (settings: StageSettings, key: SigningKeyName) => `${signingRoot(settings)}/${key}`;
const contractParameter = (settings: StageSettings, key: string) => `${ssmRoot(settings)}/${key}`;

/**
 * SecureStrings the stage key encrypts (signing keys and key stores): what its key policy lets
 * SSM decrypt, by the encryption context SSM sends (`PARAMETER_ARN`).
 */
export const protectedParameters = (settings: StageSettings): string[] => [
  ...signingKeyNames.map((key) => signingParameter(settings, key)),
  ...keyStores.map((store) => keyStoreParameter(settings, store)),
];

export const parameterArn = (name: string) => sub(`arn:\${AWS::Partition}:ssm:\${AWS::Region}:\${AWS::AccountId}:parameter${name}`);

/** The home region, whose key stores are the keys of record; a secondary region's key ring copies them. */
/** A key store of the home region, by ARN (the follower's role reads it there, and only it). */
export const homeKeyStoreArn = (settings: StageSettings, store: (typeof keyStores)[number]) =>
  sub(`arn:\${AWS::Partition}:ssm:${homeRegionOf(settings)}:\${AWS::AccountId}:parameter${keyStoreParameter(settings, store)}`);

export type KeyRingResourceId = 'JwtKeyRing' | 'PhotoUrlKeyRing' | 'PhotoUrlSigningKey';

/** What one key ring resource is, as the handler reads it from its environment. */
/** Where the JWT ring writes, for the configured algorithm: a public key and a JWKS only for RS256 and ES256. */
function jwtNames(settings: StageSettings): KeyRingResourcePlan['names'] {
  const symmetric = settings.jwt.algorithm === 'HS256';
  return {
    PrivateKeyParameter: signingParameter(settings, symmetric ? 'jwtSecret' : 'jwtPrivateKey'),
    PublicKeysParameter: contractParameter(settings, 'jwks'),
    ...(symmetric ? {} : { PublicKeyParameter: contractParameter(settings, 'jwtPublicKey') }),
    KeyIdParameter: contractParameter(settings, 'jwtKeyId'),
  };
}

/** CloudFront signs URLs with RSA keys only. */
const photoUrlAlgorithm = 'RS256';
const photoUrlRingNames = (settings: StageSettings) => ({ PublicKeysParameter: contractParameter(settings, 'photoUrlPublicKeys') });
const photoUrlSigningKeyNames = (settings: StageSettings) => ({
  PrivateKeyParameter: signingParameter(settings, 'photoUrlPrivateKey'),
  KeyIdParameter: contractParameter(settings, 'photoUrlKeyPairId'),
});

/** The photo ring's window as the template uses it: one CloudFront public key per rotation number. */
export function photoUrlKeySlots(settings: StageSettings): { keyRotation: number; attribute: string }[] {
  const rotation = settings.photos.keyRotation;
  return [
    ...(rotation > 0 ? [{ keyRotation: rotation - 1, attribute: 'PreviousPublicKey' }] : []),
    { keyRotation: rotation, attribute: 'PublicKey' },
    { keyRotation: rotation + 1, attribute: 'NextPublicKey' },
  ];
}

export function keyRingPlan(settings: StageSettings): Record<KeyRingResourceId, KeyRingResourcePlan> {
  const contract = (key: string) => contractParameter(settings, key);
  // The same names in every region: a secondary region's copy of a key store has the home one's name.
  const follows = (store: (typeof keyStores)[number]) =>
    isHomeRegion(settings) ? {} : { homeKeyStore: keyStoreParameter(settings, store) };
  return {
    JwtKeyRing: {
      kind: 'ring',
      keyStore: keyStoreParameter(settings, 'jwt'),
      parameters: [
        signingParameter(settings, 'jwtPrivateKey'),
        signingParameter(settings, 'jwtSecret'),
        contract('jwtPublicKey'),
        contract('jwtKeyId'),
        contract('jwks'),
      ],
      obsolete: [contract('jwtPrivateKey'), contract('jwtSecret')],
      // The JWKS endpoint (resources/api.ts) and the JwtKeyId output.
      attributes: ['Jwks', 'KeyId'],
      algorithm: settings.jwt.algorithm,
      rotation: settings.jwt.rotation,
      names: jwtNames(settings),
      ...follows('jwt'),
    },
    PhotoUrlKeyRing: {
      kind: 'ring',
      keyStore: keyStoreParameter(settings, 'photoUrl'),
      parameters: [contract('photoUrlPublicKeys')],
      obsolete: [],
      // The CloudFront public keys (resources/photos.ts), which only the home stack has.
      attributes: isHomeRegion(settings) ? photoUrlKeySlots(settings).map(({ attribute }) => attribute) : [],
      algorithm: photoUrlAlgorithm,
      rotation: settings.photos.keyRotation,
      names: photoUrlRingNames(settings),
      ...follows('photoUrl'),
    },
    PhotoUrlSigningKey: {
      kind: 'signingKey',
      keyStore: keyStoreParameter(settings, 'photoUrl'),
      parameters: [signingParameter(settings, 'photoUrlPrivateKey'), contract('photoUrlKeyPairId')],
      obsolete: [contract('photoUrlPrivateKey')],
      attributes: [],
      algorithm: photoUrlAlgorithm,
      rotation: settings.photos.keyRotation,
      names: photoUrlSigningKeyNames(settings),
    },
  };
}

export const jwtKeyRingProperties = (settings: StageSettings): Record<string, unknown> => ({
  Algorithm: settings.jwt.algorithm,
  Rotation: String(settings.jwt.rotation),
  KeyStoreParameter: keyStoreParameter(settings, 'jwt'),
  ...jwtNames(settings),
});

const photoUrlKey = (settings: StageSettings) => ({
  Algorithm: photoUrlAlgorithm,
  Rotation: String(settings.photos.keyRotation),
  KeyStoreParameter: keyStoreParameter(settings, 'photoUrl'),
});

export const photoUrlKeyRingProperties = (settings: StageSettings): Record<string, unknown> => ({
  ...photoUrlKey(settings),
  ...photoUrlRingNames(settings),
});

/** The private key goes out with CloudFront's id of its public key (`keyId`). */
export const photoUrlSigningKeyProperties = (settings: StageSettings, keyId: Intrinsic): Record<string, unknown> => ({
  ...photoUrlKey(settings),
  ...photoUrlSigningKeyNames(settings),
  KeyId: keyId,
});

/** The stage key's logical id (resources/stage-key.ts); only stages that keep their data have one. */
export const stageKeyId = 'SigningKeysKey';

/**
 * The key ring's role has a fixed name: the stage key's policy names it by ARN in a condition, so
 * a role created again (a re-created stage) still reads the keys a retained store holds. Per
 * region, as a regional stack of the same stage has its own; under the stage's IAM path
 * (resources/deployment.ts), which its ARN carries.
 */
const keyRingRole = (settings: StageSettings, region = '${AWS::Region}') => `${app}-${settings.stage}-key-ring-${region}`;
export const keyRingRoleName = (settings: StageSettings): Intrinsic => sub(keyRingRole(settings));
export const keyRingRoleArn = (settings: StageSettings, region?: string): Intrinsic =>
  sub(`arn:\${AWS::Partition}:iam::\${AWS::AccountId}:role${stagePath(settings.stage)}${keyRingRole(settings, region)}`);
/** The secondary region of a home stack, whose key ring follows each rotation; none elsewhere. */
const followerRegionOf = (settings: StageSettings): string | undefined =>
  isHomeRegion(settings) ? secondaryRegionOf(settings) : undefined;

/** The key ring roles of the stage's secondary regions, which read the home key stores (home stack only). */
export const followerKeyRingRoleArns = (settings: StageSettings): Intrinsic[] => {
  const secondary = isHomeRegion(settings) ? secondaryRegionOf(settings) : undefined;
  return secondary ? [keyRingRoleArn(settings, secondary)] : [];
};

/** The function's environment: what it serves and may write, read by handlers/key-ring/configuration.ts. */
export function keyRingEnvironment(settings: StageSettings): Record<string, Intrinsic> {
  return {
    [environmentNames.retain]: String(settings.retainData),
    ...(settings.retainData ? { [environmentNames.stageKeyArn]: getAtt(stageKeyId, 'Arn') } : {}),
    // A secondary region's key ring copies from the home region's key stores, never generates.
    ...(isHomeRegion(settings) ? {} : { [environmentNames.homeRegion]: homeRegionOf(settings) }),
    // Home only: the region that must follow a rotation before home makes the next one.
    ...(followerRegionOf(settings) ? { [environmentNames.followerRegion]: followerRegionOf(settings) } : {}),
    [environmentNames.resources]: JSON.stringify(keyRingPlan(settings)),
  };
}

export function keyRingFunction(settings: StageSettings) {
  const plan = Object.values(keyRingPlan(settings));
  const unique = (names: string[]) => [...new Set(names)];
  const outputs = unique(plan.flatMap((resource) => resource.parameters));
  const obsolete = unique(plan.flatMap((resource) => resource.obsolete));
  const stores = unique(plan.map((resource) => resource.keyStore));
  const home = isHomeRegion(settings);
  return customResourceFunction(settings, {
    name: keyRingFunctionName,
    handler: 'handlers/key-ring/index.handler',
    description: home
      ? 'Generates and rotates the signing keys of the JWTs and the photo URLs into SSM'
      : `Copies the signing keys of the JWTs and the photo URLs from ${homeRegionOf(settings)} into this region's SSM`,
    // RSA key generation is CPU-bound; Lambda's CPU share grows with memory.
    memorySize: 1024,
    timeout: 300,
    roleName: keyRingRoleName(settings),
    environment: keyRingEnvironment(settings),
    statements: [
      {
        Effect: 'Allow',
        Action: [
          'ssm:PutParameter',
          'ssm:LabelParameterVersion',
          'ssm:UnlabelParameterVersion',
          'ssm:GetParameters',
          'ssm:GetParameterHistory',
        ],
        Resource: [...outputs, ...stores].map(parameterArn),
      },
      {
        // Outputs an algorithm switch leaves behind, and the private keys of the earlier layout;
        // deleting a key store would lose every key: only a sandbox's own removal may.
        Effect: 'Allow',
        Action: ['ssm:GetParameters', 'ssm:DeleteParameters'],
        Resource: [...outputs, ...obsolete, ...(settings.retainData ? [] : stores)].map(parameterArn),
      },
      // A secondary region's key ring reads the home key stores, nothing else there, and never writes them.
      ...(home
        ? []
        : [
            {
              Effect: 'Allow',
              Action: ['ssm:GetParameterHistory', 'ssm:GetParameters'],
              Resource: keyStores.map((store) => homeKeyStoreArn(settings, store)),
            },
          ]),
      // Home only: whether the secondary region followed the last rotation (the labels of its key
      // stores, never their values) before the next one is made (handlers/key-ring/follower.ts).
      ...(followerRegionOf(settings)
        ? [
            {
              Effect: 'Allow',
              Action: 'ssm:GetParameterHistory',
              Resource: keyStores.map((store) =>
                sub(
                  `arn:\${AWS::Partition}:ssm:${followerRegionOf(settings)}:\${AWS::AccountId}:parameter${keyStoreParameter(settings, store)}`,
                ),
              ),
            },
          ]
        : []),
      // The photo URL key pair id it publishes must be a CloudFront public key holding the ring's key
      // (handlers/key-ring/signing-key.ts); public keys have generated ids.
      {
        Effect: 'Allow',
        Action: 'cloudfront:GetPublicKey',
        Resource: sub('arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:public-key/*'),
      },
      // No KMS statement: the stage keys' policies name this role themselves (resources/stage-key.ts;
      // the home one lets a secondary region's key ring decrypt the key stores), and aws/ssm lets
      // every principal of the account use it through SSM in its region.
    ],
  });
}

/** A custom resource of the key ring function; its properties name what it writes. */
export function keyRingResource(settings: StageSettings, logicalId: KeyRingResourceId, properties: Record<string, unknown>): CfnResource {
  return {
    Type: keyRingPlan(settings)[logicalId].kind === 'ring' ? 'Custom::KeyRing' : 'Custom::SigningKey',
    // Shared stages keep their keys: once created, CloudFormation never sends them a Delete, and
    // the handler's own configuration (not the event) says that a Delete removes nothing.
    ...dataPolicies(settings),
    Properties: {
      ServiceToken: serviceToken(keyRingFunctionName),
      // Without it a handler that never answers holds the stack for an hour.
      ServiceTimeout: 360, // function timeout + a minute
      ...properties,
    },
  };
}

/**
 * The photo URL keys of a secondary region: the ring copies the home keys and publishes their
 * JWKS; the signing key is published with the id CloudFront gave the home stack's public key of
 * the current rotation (CloudFront is global: the regional stack creates no public key).
 */
export function regionalPhotoUrlKeys(settings: StageSettings): Fragment {
  const lookupId = lookupIds.photoUrlPublicKey;
  return {
    Resources: {
      PhotoUrlKeyRing: keyRingResource(settings, 'PhotoUrlKeyRing', photoUrlKeyRingProperties(settings)),
      [lookupId]: cloudFrontPublicKeyLookup(physicalName(settings, `photo-url-${settings.photos.keyRotation}`)),
      PhotoUrlSigningKey: {
        ...keyRingResource(settings, 'PhotoUrlSigningKey', photoUrlSigningKeyProperties(settings, getAtt(lookupId, 'Id'))),
        // It reads the key the ring has copied; nothing else in its properties says so.
        DependsOn: ['PhotoUrlKeyRing'],
      },
    },
  };
}
