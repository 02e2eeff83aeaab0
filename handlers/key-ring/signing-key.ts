// Publishes the signing key of a rotation together with an id only known once the key ring has
// run: CloudFront's id for the public key (`Ref` of an AWS::CloudFront::PublicKey). Private key
// and id are written by one resource, milliseconds apart, so a consumer never reads one of them
// a whole CloudFormation step before the other.
import { DeleteParametersCommand, GetParametersCommand, PutParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { type CustomResourceEvent, type CustomResourceResult, type Logger, propertiesToDelete } from '../lib/custom-resource';
import { type SigningAlgorithm, signingAlgorithms } from '../lib/signing-keys';
import { parameterName, readStoredKey } from './key-ring';

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
  /** 'true' on stages that keep their keys: a Delete then removes nothing. */
  Retain?: string;
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

export function signingKey(deps: { ssm: Pick<SSMClient, 'send'>; logger: Logger }) {
  const { ssm, logger } = deps;

  async function publish(properties: SigningKeyProperties): Promise<void> {
    const stored = await readStoredKey(ssm, properties.KeyStoreParameter, properties.Algorithm, Number(properties.Rotation));
    if (!stored) {
      throw new Error(
        `The key ring has no ${properties.Algorithm} key of rotation ${properties.Rotation} in ${properties.KeyStoreParameter}`,
      );
    }
    const names = [properties.PrivateKeyParameter, properties.KeyIdParameter];
    const { Parameters = [] } = await ssm.send(new GetParametersCommand({ Names: names, WithDecryption: true }));
    const latest = new Map(Parameters.map((parameter) => [parameter.Name, parameter.Value]));
    const writes: [string, string, 'String' | 'SecureString', string][] = [
      [properties.PrivateKeyParameter, stored.secret, 'SecureString', `Current ${properties.Algorithm} signing key`],
      [properties.KeyIdParameter, properties.KeyId, 'String', 'Id of the current signing key'],
    ];
    for (const [name, value, type, description] of writes) {
      if (latest.get(name) === value) continue;
      await ssm.send(new PutParameterCommand({ Name: name, Value: value, Type: type, Overwrite: true, Description: description }));
    }
    logger.info('published the signing key', { rotation: properties.Rotation, keyId: properties.KeyId });
  }

  return async function onEvent(event: CustomResourceEvent): Promise<CustomResourceResult> {
    if (event.RequestType === 'Delete') {
      const properties = propertiesToDelete(readSigningKeyProperties, event, logger);
      if (properties && properties.Retain !== 'true') {
        await ssm.send(new DeleteParametersCommand({ Names: [properties.PrivateKeyParameter, properties.KeyIdParameter] }));
      }
      return { physicalResourceId: event.PhysicalResourceId };
    }
    const properties = readSigningKeyProperties(event.ResourceProperties);
    await publish(properties);
    // Named by what it writes, which never changes for a stage.
    return { physicalResourceId: properties.PrivateKeyParameter, data: { KeyId: properties.KeyId } };
  };
}
