// SSM as one event of the key ring sees it: every call carries the event's abort signal (after
// the handler has answered, nothing more reaches SSM), SecureStrings go to the stage's KMS key,
// and the parameters the event tries to write are remembered so a failed Create can remove them.
import {
  DeleteParametersCommand,
  GetParameterHistoryCommand,
  GetParametersCommand,
  LabelParameterVersionCommand,
  type ParameterHistory,
  PutParameterCommand,
  type SSMClient,
  UnlabelParameterVersionCommand,
} from '@aws-sdk/client-ssm';

export type Ssm = Pick<SSMClient, 'send'>;

export interface ParameterOptions {
  ssm: Ssm;
  signal: AbortSignal;
  /** The stage's KMS key for SecureStrings; absent where aws/ssm serves. */
  stageKeyArn?: string;
  /**
   * The only names a SecureString may be written to (the key store, the signing-root parameter of
   * the resource): a secret never lands where consumers read public values, whatever asks for it.
   */
  secureNames: string[];
}

/** What one event did to SSM, shared by the calls made under its work and cleanup signals. */
export interface EventWrites {
  /** What existed of the resource's names when a Create started; unknown (nothing is undone) until read. */
  existedAtStart?: Set<string>;
  /**
   * Every name the event sent a PutParameter for, answered or not: SSM may have applied a call
   * whose answer was lost, aborted or retried (the retry then answers version 2).
   */
  attempted: Set<string>;
}

export const newEventWrites = (): EventWrites => ({ attempted: new Set() });

/** Whether a version is encrypted with the stage key (SSM reports the KeyId it was given: its ARN, or its id). */
export function underStageKey(keyId: string | undefined, stageKeyArn: string): boolean {
  return keyId === stageKeyArn || (keyId !== undefined && stageKeyArn.endsWith(`:key/${keyId}`));
}

export function parameters(options: ParameterOptions, writes: EventWrites = newEventWrites()) {
  const { ssm, signal, stageKeyArn, secureNames } = options;

  // Checked before each call too: a call started after the answer must never reach SSM.
  const abortable = () => {
    signal.throwIfAborted();
    return { abortSignal: signal };
  };

  return {
    writes,

    /** Latest values by name, missing ones absent. */
    async latest(names: string[]): Promise<Map<string, string>> {
      if (!names.length) return new Map();
      const { Parameters = [] } = await ssm.send(new GetParametersCommand({ Names: names, WithDecryption: true }), abortable());
      return new Map(Parameters.map((parameter) => [parameter.Name ?? '', parameter.Value ?? '']));
    },

    /** Which of the names exist (values are not decrypted). */
    async existing(names: string[]): Promise<string[]> {
      const found: string[] = [];
      // GetParameters takes at most 10 names.
      for (let start = 0; start < names.length; start += 10) {
        const Names = names.slice(start, start + 10);
        const { Parameters = [] } = await ssm.send(new GetParametersCommand({ Names, WithDecryption: false }), abortable());
        found.push(...Parameters.map((parameter) => parameter.Name ?? ''));
      }
      return found;
    },

    /** The value of `name:label` or `name:version`, undefined when SSM has none. */
    async select(name: string, selector: string | number): Promise<string | undefined> {
      const { Parameters = [] } = await ssm.send(
        new GetParametersCommand({ Names: [`${name}:${selector}`], WithDecryption: true }),
        abortable(),
      );
      return Parameters[0]?.Value;
    },

    /** Every version SSM keeps (at most 100), oldest first, without values; empty when the parameter does not exist. */
    async history(name: string): Promise<ParameterHistory[]> {
      const versions: ParameterHistory[] = [];
      let NextToken: string | undefined;
      try {
        do {
          const page = await ssm.send(
            new GetParameterHistoryCommand({ Name: name, WithDecryption: false, MaxResults: 50, NextToken }),
            abortable(),
          );
          versions.push(...(page.Parameters ?? []));
          NextToken = page.NextToken;
        } while (NextToken);
      } catch (error) {
        if ((error as { name?: string }).name === 'ParameterNotFound') return [];
        throw error;
      }
      return versions.sort((a, b) => (a.Version ?? 0) - (b.Version ?? 0));
    },

    /** Writes a new version; SecureStrings under the stage key. Returns the version number. */
    async put(name: string, value: string, type: 'String' | 'SecureString', description: string): Promise<number> {
      if (type === 'SecureString' && !secureNames.includes(name)) {
        throw new Error(`refusing to write a secret to ${name}: secrets go to ${secureNames.join(', ')} only`);
      }
      const keyId = type === 'SecureString' ? stageKeyArn : undefined;
      writes.attempted.add(name);
      const { Version } = await ssm.send(
        new PutParameterCommand({
          Name: name,
          Value: value,
          Type: type,
          Overwrite: true,
          Description: description,
          KeyId: keyId,
          // Never the account's default tier: an Advanced SecureString is envelope-encrypted
          // (kms:GenerateDataKey, which the stage key's policy does not grant) and costs per month.
          Tier: 'Standard',
        }),
        abortable(),
      );
      return Version ?? 0;
    },

    async label(name: string, version: number, labels: string[]): Promise<void> {
      const { InvalidLabels = [] } = await ssm.send(
        new LabelParameterVersionCommand({ Name: name, ParameterVersion: version, Labels: labels }),
        abortable(),
      );
      if (InvalidLabels.length) throw new Error(`SSM refused the label ${InvalidLabels.join(', ')} on ${name}`);
    },

    async unlabel(name: string, version: number, labels: string[]): Promise<void> {
      await ssm.send(new UnlabelParameterVersionCommand({ Name: name, ParameterVersion: version, Labels: labels }), abortable());
    },

    /** Deletes the parameters; missing ones are reported by SSM, not failed, so deleting twice is harmless. */
    async delete(names: string[]): Promise<void> {
      if (!names.length) return;
      // DeleteParameters takes at most 10 names.
      for (let start = 0; start < names.length; start += 10) {
        const batch = names.slice(start, start + 10);
        await ssm.send(new DeleteParametersCommand({ Names: batch }), abortable());
      }
    },
  };
}

export type ParameterAccess = ReturnType<typeof parameters>;
