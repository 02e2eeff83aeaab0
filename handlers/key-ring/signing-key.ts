// Publishes the signing key of a rotation together with an id only known once the key ring has
// run: CloudFront's id for the public key (`Ref` of an AWS::CloudFront::PublicKey). Private key
// (signing root) and id (contract root) are written by one resource, milliseconds apart, so a
// consumer never reads one of them a whole CloudFormation step before the other.
import { createPublicKey } from 'node:crypto';
import { CloudFrontClient, GetPublicKeyCommand } from '@aws-sdk/client-cloudfront';
import type { CustomResourceResult, Logger } from '../lib/custom-resource';
import { type SigningAlgorithm, signingAlgorithms } from '../lib/signing-keys';
import {
  deleteResource,
  eventParameters,
  existingId,
  forgetForeignVersions,
  type KeyRingRequest,
  noteExisting,
  parameterName,
  pick,
  removeUnused,
  undoCreate,
  writable,
} from './key-ring';
import { openKeyStore } from './key-store';
import { type EventWrites, newEventWrites, type Ssm } from './parameters';

export interface SigningKeyProperties {
  Algorithm: SigningAlgorithm;
  Rotation: string;
  /** The key ring's store the key is read from. */
  KeyStoreParameter: string;
  /** SecureString written with the key. */
  PrivateKeyParameter: string;
  /** String written with `KeyId`. */
  KeyIdParameter: string;
  KeyId: string;
}

export function readSigningKeyProperties(raw: Record<string, unknown> | undefined): SigningKeyProperties {
  const properties = (raw ?? {}) as Partial<Record<keyof SigningKeyProperties, unknown>>;
  const problems: string[] = [];
  if (!signingAlgorithms.includes(properties.Algorithm as SigningAlgorithm))
    problems.push(`Algorithm must be one of ${signingAlgorithms.join(', ')}`);
  if (!/^\d{1,9}$/.test(String(properties.Rotation ?? ''))) problems.push('Rotation must be a whole number below 10^9');
  for (const key of ['KeyStoreParameter', 'PrivateKeyParameter', 'KeyIdParameter'] as const) {
    if (!parameterName.test(String(properties[key] ?? ''))) problems.push(`${key} must be an SSM parameter name starting with /`);
  }
  if (typeof properties.KeyId !== 'string' || !properties.KeyId) problems.push('KeyId must be a non-empty string');
  if (problems.length) throw new Error(`Invalid signing key properties: ${problems.join('; ')}`);
  return properties as SigningKeyProperties;
}

/** CloudFront's public keys, by id. */
export interface PublicKeys {
  /** The key's PEM as CloudFront holds it, or undefined when CloudFront has no key of that id. */
  encodedKey(id: string): Promise<string | undefined>;
}

/** CloudFront's public keys through its global endpoint, with the function's role (cloudfront:GetPublicKey). */
export function cloudFrontPublicKeys(client: Pick<CloudFrontClient, 'send'> = new CloudFrontClient({ region: 'us-east-1' })): PublicKeys {
  return {
    async encodedKey(id) {
      try {
        const { PublicKey } = await client.send(new GetPublicKeyCommand({ Id: id }));
        return PublicKey?.PublicKeyConfig?.EncodedKey;
      } catch (error) {
        if ((error as { name?: string }).name === 'NoSuchPublicKey') return undefined;
        throw error;
      }
    },
  };
}

/** A public key in one form, whatever the PEM it came in (a private key gives its public half). */
const spki = (pem: string) => createPublicKey(pem).export({ type: 'spki', format: 'der' });

/**
 * The key pair id an event asks to publish must be a CloudFront public key that holds the public
 * half of the private key published with it: a forged id would make every signed URL fail.
 */
async function checkKeyPairId(publicKeys: PublicKeys, properties: SigningKeyProperties, secret: string): Promise<void> {
  const held = await publicKeys.encodedKey(properties.KeyId);
  if (held === undefined) throw new Error(`CloudFront has no public key ${properties.KeyId}; refusing to publish it as the key pair id`);
  if (!spki(held).equals(spki(secret))) {
    throw new Error(
      `The CloudFront public key ${properties.KeyId} is not the key ring's ${properties.Algorithm} key of rotation ${properties.Rotation}; refusing to publish it`,
    );
  }
}

export function signingKey(deps: { ssm: Ssm; logger: Logger; publicKeys: PublicKeys }) {
  const { logger } = deps;

  async function publish(request: KeyRingRequest, properties: SigningKeyProperties, writes: EventWrites): Promise<CustomResourceResult> {
    const { event, resource, configuration, invocation } = request;
    const ssm = eventParameters(deps.ssm, request, invocation.signal, writes);
    if (event.RequestType === 'Create') await noteExisting(ssm, resource);
    const store = await openKeyStore(ssm, properties.KeyStoreParameter, configuration.stageKeyArn);
    const secret = await store.read(properties.Algorithm, Number(properties.Rotation));
    if (secret === undefined) {
      throw new Error(
        `The key ring has no ${properties.Algorithm} key of rotation ${properties.Rotation} in ${properties.KeyStoreParameter}`,
      );
    }
    await checkKeyPairId(deps.publicKeys, properties, secret);
    const names = writable(resource, [properties.PrivateKeyParameter, properties.KeyIdParameter], logger);
    await forgetForeignVersions(
      ssm,
      names.includes(properties.PrivateKeyParameter) ? [properties.PrivateKeyParameter] : [],
      configuration.stageKeyArn,
    );
    const latest = await ssm.latest(names);
    const values: [string, string, 'String' | 'SecureString', string][] = [
      [properties.PrivateKeyParameter, secret, 'SecureString', `Current ${properties.Algorithm} signing key`],
      [properties.KeyIdParameter, properties.KeyId, 'String', 'Id of the current signing key'],
    ];
    for (const [name, value, type, description] of values) {
      if (names.includes(name) && latest.get(name) !== value) await ssm.put(name, value, type, description);
    }
    await removeUnused(ssm, resource, [properties.PrivateKeyParameter, properties.KeyIdParameter]);
    logger.info('published the signing key', { rotation: properties.Rotation, keyId: properties.KeyId });
    // A stable id: a new one would make CloudFormation delete the "old" resource.
    const physicalResourceId = event.RequestType === 'Update' ? existingId(event) : resource.parameters[0];
    return { physicalResourceId, data: pick({ KeyId: properties.KeyId }, resource.attributes) };
  }

  return async function onSigningKey(request: KeyRingRequest): Promise<CustomResourceResult> {
    if (request.event.RequestType === 'Delete') return deleteResource(deps, request);
    // A malformed event fails here, before any AWS call, on Create as on Update.
    const properties = readSigningKeyProperties(request.event.ResourceProperties);
    const writes = newEventWrites();
    try {
      return await publish(request, properties, writes);
    } catch (error) {
      if (request.event.RequestType === 'Create') await undoCreate(deps, request, writes);
      throw error;
    }
  };
}
