// A key store: one SecureString parameter outside the contract root holding every key a ring
// made, one version each, labeled with its algorithm and rotation number (`RS256-k3`). Looking
// keys up by label gives a rolled-back rotation, a retried Lambda or a re-created retained stage
// exactly the same keys. Two SSM rules shape it: SSM keeps the 100 newest versions of a parameter
// and refuses a new one while the oldest of them is labeled, and it encrypts a new version with
// the key it is given but never re-encrypts an old one.
// https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-versions.html
import type { SigningAlgorithm } from '../lib/signing-keys';
import { type ParameterAccess, underStageKey } from './parameters';

/** SSM keeps this many versions of a parameter. */
export const maxVersions = 100;
/** A labeled key is always among this many newest versions, far from the one SSM drops next. */
const labeledHorizon = maxVersions / 2;

export const keyLabel = (algorithm: SigningAlgorithm, rotation: number) => `${algorithm}-k${rotation}`;
const labelPattern = /^(RS256|ES256|HS256)-k(\d+)$/;

const description = 'Key store of a Movement Pass key ring (internal: read the contract parameters instead)';

interface StoredVersion {
  version: number;
  labels: string[];
  keyId?: string;
}

/** Opens a key store as SSM has it now (history only: values are read one key at a time). */
export async function openKeyStore(ssm: ParameterAccess, name: string, stageKeyArn: string | undefined) {
  const versions: StoredVersion[] = (await ssm.history(name)).map((v) => ({
    version: v.Version ?? 0,
    labels: [...(v.Labels ?? [])],
    keyId: v.KeyId,
  }));

  const versionOf = (label: string) => versions.find((v) => v.labels.includes(label));

  /** A new version, recorded the way SSM keeps it: the oldest goes once there are more than 100. */
  async function append(value: string): Promise<number> {
    const version = await ssm.put(name, value, 'SecureString', description);
    versions.push({ version, labels: [], keyId: stageKeyArn });
    while (versions.length > maxVersions) versions.shift();
    return version;
  }

  async function moveLabels(version: number, labels: string[]): Promise<void> {
    await ssm.label(name, version, labels);
    for (const v of versions) v.labels = v.labels.filter((label) => !labels.includes(label));
    versions.find((v) => v.version === version)?.labels.push(...labels);
  }

  /**
   * Copies a version forward and moves its labels to the copy. When it is the oldest of 100, SSM
   * can only make room by dropping it: its labels go first (a store stuck that way by an earlier
   * version of the key ring is freed so), and come back on the copy.
   */
  async function copyForward(stored: StoredVersion): Promise<void> {
    const value = await ssm.select(name, stored.version);
    if (value === undefined) throw new Error(`SSM has no version ${stored.version} of ${name} to copy`);
    const labels = [...stored.labels];
    if (versions.length >= maxVersions && versions[0] === stored) {
      await ssm.unlabel(name, stored.version, labels);
      stored.labels = [];
    }
    await moveLabels(await append(value), labels);
  }

  /** Labeled versions SSM would drop within the next puts, oldest first. */
  const growingOld = () => versions.slice(0, Math.max(0, versions.length - labeledHorizon)).filter((v) => v.labels.length);

  return {
    /** Labeled keys by algorithm: the rotation numbers the store holds. */
    rotations(algorithm: SigningAlgorithm): number[] {
      return versions.flatMap((v) =>
        v.labels.flatMap((label) => {
          const match = labelPattern.exec(label);
          return match && match[1] === algorithm ? [Number(match[2])] : [];
        }),
      );
    },

    has: (algorithm: SigningAlgorithm, rotation: number) => versionOf(keyLabel(algorithm, rotation)) !== undefined,

    async read(algorithm: SigningAlgorithm, rotation: number): Promise<string | undefined> {
      return versionOf(keyLabel(algorithm, rotation)) ? ssm.select(name, keyLabel(algorithm, rotation)) : undefined;
    },

    /** Stores a new key under its label, first carrying labeled keys that grow old forward. */
    async add(algorithm: SigningAlgorithm, rotation: number, secret: string): Promise<void> {
      for (const old of growingOld()) await copyForward(old);
      await moveLabels(await append(secret), [keyLabel(algorithm, rotation)]);
    },

    /** Releases every label `keep` rejects, so SSM may drop those versions in time. */
    async release(keep: (algorithm: SigningAlgorithm, rotation: number) => boolean): Promise<string[]> {
      const released: string[] = [];
      for (const v of versions) {
        const gone = v.labels.filter((label) => {
          const match = labelPattern.exec(label);
          return match !== null && !keep(match[1] as SigningAlgorithm, Number(match[2]));
        });
        if (!gone.length) continue;
        await ssm.unlabel(name, v.version, gone);
        v.labels = v.labels.filter((label) => !gone.includes(label));
        released.push(...gone);
      }
      return released;
    },

    /**
     * Makes every version SSM keeps encrypted under the stage key: each labeled key is copied
     * under it (labels follow), then copies of the newest push the old versions out of the 100 SSM
     * keeps. Deleting the store would be quicker, but the ring's role may not delete a key store
     * on a stage that keeps its keys. Returns how many versions it wrote.
     */
    async reencrypt(): Promise<number> {
      if (!stageKeyArn) return 0;
      const foreign = () => versions.filter((v) => !underStageKey(v.keyId, stageKeyArn));
      if (!foreign().length) return 0;
      let written = 0;
      // Oldest first: each copy may make SSM drop the oldest version.
      for (const old of foreign().filter((v) => v.labels.length)) {
        await copyForward(old);
        written++;
      }
      const newest = versions.at(-1);
      const value = newest && (await ssm.select(name, newest.version));
      if (value === undefined) throw new Error(`SSM has no value for ${name}`);
      while (foreign().length) {
        // As add does: the labeled copies made above would otherwise end up as the oldest
        // versions, and the next rotation would have to unlabel them to carry them forward.
        for (const old of growingOld()) {
          await copyForward(old);
          written++;
        }
        await append(value);
        written++;
      }
      return written;
    },

    /** Whether SSM holds this store at all. */
    exists: () => versions.length > 0,
  };
}

export type KeyStore = Awaited<ReturnType<typeof openKeyStore>>;
