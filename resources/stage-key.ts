// The stage key: on stages that keep their data, a customer managed KMS key encrypts the signing
// keys and the key stores, so only the key ring and the signers the stage settings name can read
// them. Sandboxes keep SSM's AWS managed key (aws/ssm), which every principal of the account may
// use through SSM, at no cost.
// https://docs.aws.amazon.com/systems-manager/latest/userguide/ps-restrict-decryption.html
import type { SigningKeyName } from '../client/src/contract';
import { dataPolicies, type Fragment, getAtt, type Intrinsic, output, ref, sub } from './cloudformation';
import {
  followerKeyRingRoleArns,
  keyRingRoleArn,
  keyStoreParameter,
  keyStores,
  parameterArn,
  protectedParameters,
  signingParameter,
  stageKeyId,
} from './key-ring';
import { app } from './names';
import type { StageSettings } from './stage';
import { type SignerKind, signerKinds } from './team';

export const stageKeyAlias = (settings: StageSettings) => `alias/${app}-${settings.stage}-signing-keys`;

/** The signing keys each kind of signer decrypts: every signing key is one signer's. */
export const signerKeys = {
  jwt: ['jwtPrivateKey', 'jwtSecret'],
  photoUrl: ['photoUrlPrivateKey'],
} as const satisfies Record<SignerKind, readonly SigningKeyName[]>;
const signerStatementIds: Record<SignerKind, string> = { jwt: 'JwtSignersReadTheJwtKeys', photoUrl: 'PhotoUrlSignersReadThePhotoUrlKey' };

/**
 * What the account may do with the key: administer it, never use it. Listed one by one (no
 * `kms:Create*` or `kms:*`), because this statement delegates to IAM: any action named here can
 * be handed out by an IAM policy, so kms:Decrypt, kms:ReEncrypt* and kms:CreateGrant are not.
 * kms:PutKeyPolicy must stay: KMS refuses a policy that would lock its creator out.
 * https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html
 */
export const administrativeActions = [
  'kms:DescribeKey',
  'kms:GetKeyPolicy',
  'kms:PutKeyPolicy',
  'kms:ListKeyPolicies',
  'kms:GetKeyRotationStatus',
  'kms:EnableKeyRotation',
  'kms:DisableKeyRotation',
  'kms:ListKeyRotations',
  'kms:RotateKeyOnDemand',
  'kms:EnableKey',
  'kms:DisableKey',
  'kms:UpdateKeyDescription',
  'kms:CreateAlias',
  'kms:UpdateAlias',
  'kms:DeleteAlias',
  'kms:ListAliases',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:ListResourceTags',
  'kms:ListGrants',
  'kms:RevokeGrant',
  'kms:ScheduleKeyDeletion',
  'kms:CancelKeyDeletion',
];

/**
 * Use of the key: only through SSM in this region, only for these parameters (SSM sends the
 * parameter's ARN as encryption context), only by these roles. The principal is `*` narrowed to
 * this account and to role ARNs by `aws:PrincipalArn`: a key policy that names a role as
 * principal fails when the role does not exist yet (a signer deployed after the foundation) and
 * stops matching when it is created again (a re-created stage's key ring).
 * https://docs.aws.amazon.com/kms/latest/developerguide/services-parameter-store.html
 */
function useStatement(sid: string, actions: string[], roleArns: Intrinsic[], parameters: string[]) {
  return {
    Sid: sid,
    Effect: 'Allow',
    Principal: { AWS: '*' },
    Action: actions,
    Resource: '*',
    Condition: {
      StringEquals: {
        'kms:CallerAccount': ref('AWS::AccountId'),
        'kms:ViaService': sub('ssm.${AWS::Region}.amazonaws.com'),
        'kms:EncryptionContext:PARAMETER_ARN': parameters.map(parameterArn),
      },
      ArnEquals: { 'aws:PrincipalArn': roleArns },
    },
  };
}

export function stageKeyPolicy(settings: StageSettings) {
  // The home key's policy only: a secondary region's key ring copies the key stores from here.
  const followers = followerKeyRingRoleArns(settings);
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'AccountAdministersTheKeyButCannotUseIt',
        Effect: 'Allow',
        Principal: { AWS: sub('arn:${AWS::Partition}:iam::${AWS::AccountId}:root') },
        Action: administrativeActions,
        Resource: '*',
      },
      useStatement(
        'KeyRingWritesAndReadsSigningKeysAndKeyStores',
        ['kms:Encrypt', 'kms:Decrypt'],
        [keyRingRoleArn(settings)],
        [...protectedParameters(settings)],
      ),
      {
        // Nobody may create grants (the account's statement above leaves kms:CreateGrant out too);
        // this also keeps an edited policy from handing decryption out through a grant.
        Sid: 'NoGrantsButForAwsResources',
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: ['kms:CreateGrant'],
        Resource: '*',
        Condition: { BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' } },
      },
      // Each signer its own key only (team.json): the login service the JWT keys, the photo service the photo URL key.
      ...signerKinds.flatMap((kind) =>
        settings.signers[kind].length
          ? [
              useStatement(
                signerStatementIds[kind],
                ['kms:Decrypt'],
                settings.signers[kind],
                signerKeys[kind].map((key) => signingParameter(settings, key)),
              ),
            ]
          : [],
      ),
      // Through SSM of this (the home) region, as every statement: the follower calls SSM here, and
      // its own region's copy is under its own region's stage key.
      ...(followers.length
        ? [
            useStatement(
              'SecondaryKeyRingsReadKeyStores',
              ['kms:Decrypt'],
              followers,
              keyStores.map((store) => keyStoreParameter(settings, store)),
            ),
          ]
        : []),
    ],
  };
}

export function stageKey(settings: StageSettings): Fragment {
  if (!settings.retainData) return { Resources: {} };
  return {
    Resources: {
      [stageKeyId]: {
        Type: 'AWS::KMS::Key',
        // Always retained, a failed first deploy included: keys a retained store holds stay readable.
        ...dataPolicies(settings, { retainOnFailedCreate: true }),
        Properties: {
          Description: `Movement Pass ${settings.stage}: signing keys and key stores in SSM`,
          KeySpec: 'SYMMETRIC_DEFAULT',
          KeyUsage: 'ENCRYPT_DECRYPT',
          EnableKeyRotation: true,
          PendingWindowInDays: 30,
          KeyPolicy: stageKeyPolicy(settings),
        },
      },
      SigningKeysKeyAlias: {
        Type: 'AWS::KMS::Alias',
        Properties: { AliasName: stageKeyAlias(settings), TargetKeyId: ref(stageKeyId) },
      },
    },
    Outputs: {
      SigningKeysKeyArn: output(
        'KMS key of the signing keys (signers decrypt through SSM; see signers in team.json)',
        getAtt(stageKeyId, 'Arn'),
      ),
    },
  };
}
