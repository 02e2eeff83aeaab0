// The team's settings (team.json, committed): which AWS account each shared stage lives in, the
// development account every sandbox lives in, and the roles of the services that sign with a
// shared stage's keys. Read and checked here, once, for serverless.ts, the bootstrap and the plugins.
// Every command that acts on AWS stops when its credentials are of another account (plugins/preflight.js).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isAwsRegion } from './aws-regions';
import { StageError } from './stage-validation';

/** Who signs with which of a stage's keys: the login service the JWTs, the photo service the photo URLs. */
export const signerKinds = ['jwt', 'photoUrl'] as const;
export type SignerKind = (typeof signerKinds)[number];

export interface SharedStageTeamSettings {
  /** The AWS account the stage lives in (prod: the account with the hosted zone). */
  account: string;
  /**
   * The regions the stage runs in, home first: the home stack owns what is global. Changing the
   * first is a promotion (see "Promoting the secondary region" in docs/runbooks.md).
   */
  regions: string[];
  /**
   * IAM role ARNs of the services that sign, by key: besides the key ring, the only principals that
   * may decrypt the stage's signing keys, each only its own (`jwt`: the JWT keys; `photoUrl`: the photo URL key).
   */
  signers: Record<SignerKind, string[]>;
}

export interface TeamSettings {
  /** The development account: every sandbox lives there. */
  sandboxAccount: string;
  /** The home region of every sandbox (a sandbox may opt in to a second region). */
  sandboxHomeRegion: string;
  /** Each shared stage of resources/stage.ts, by name. */
  sharedStages: Record<string, SharedStageTeamSettings>;
}

export const teamSettingsFile = 'team.json';

const accountPattern = /^\d{12}$/;
/** An IAM role ARN, path included (what the key policy compares `aws:PrincipalArn` with). */
export const roleArnPattern = /^arn:aws(-[a-z]+)*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Checks team.json's content against the shared stages serverless.ts knows, failing with the
 * field that is wrong and how to write it.
 */
export function checkedTeamSettings(raw: unknown, sharedStageNames: readonly string[]): TeamSettings {
  const where = (field: string) => `${field} in ${teamSettingsFile}`;
  if (!isRecord(raw)) throw new StageError(`${teamSettingsFile} must hold one JSON object with sandboxAccount and sharedStages.`);
  const account = (value: unknown, field: string): string => {
    if (typeof value !== 'string' || !accountPattern.test(value)) {
      throw new StageError(
        `${where(field)} is ${JSON.stringify(value)}, not an AWS account id; write its 12 digits as a string, e.g. "123456789012".`,
      );
    }
    return value;
  };
  const sandboxAccount = account(raw.sandboxAccount, 'sandboxAccount');
  const region = (value: unknown, field: string): string => {
    if (typeof value !== 'string' || !isAwsRegion(value)) {
      throw new StageError(`${where(field)} is ${JSON.stringify(value)}, not an AWS region; write its code, e.g. "ap-south-1".`);
    }
    return value;
  };
  const sandboxHomeRegion = region(raw.sandboxHomeRegion, 'sandboxHomeRegion');
  if (!isRecord(raw.sharedStages))
    throw new StageError(`${where('sharedStages')} must be an object with one entry per shared stage, e.g. {"prod": {...}}.`);
  const named = Object.keys(raw.sharedStages);
  const missing = sharedStageNames.filter((stage) => !named.includes(stage));
  const unknown = named.filter((stage) => !sharedStageNames.includes(stage));
  if (missing.length || unknown.length) {
    throw new StageError(
      `${where('sharedStages')} must name exactly the shared stages of resources/stage.ts (${sharedStageNames.join(', ')})` +
        `${missing.length ? `; add ${missing.join(', ')}` : ''}${unknown.length ? `; ${unknown.join(', ')} is not a shared stage, remove it or add it to resources/stage.ts` : ''}.`,
    );
  }
  const sharedStages: Record<string, SharedStageTeamSettings> = {};
  for (const [stage, entry] of Object.entries(raw.sharedStages)) {
    if (!isRecord(entry)) throw new StageError(`${where(`sharedStages.${stage}`)} must be an object with account and signers.`);
    const signers = entry.signers;
    const kinds = signerKinds.map((kind) => `"${kind}": [...]`).join(', ');
    if (!isRecord(signers) || Object.keys(signers).some((kind) => !(signerKinds as readonly string[]).includes(kind))) {
      throw new StageError(
        `${where(`sharedStages.${stage}.signers`)} must be {${kinds}}: the role ARNs that sign with each key ([] for none).`,
      );
    }
    const byKind = Object.fromEntries(
      signerKinds.map((kind) => {
        const field = `sharedStages.${stage}.signers.${kind}`;
        const arns = signers[kind] ?? [];
        if (!Array.isArray(arns)) throw new StageError(`${where(field)} must be a list of IAM role ARNs ([] for none).`);
        for (const arn of arns) {
          if (typeof arn !== 'string' || !roleArnPattern.test(arn)) {
            throw new StageError(
              `The signer ${JSON.stringify(arn)} of ${where(field)} is not an IAM role ARN; ` +
                'write the role\'s full ARN, e.g. "arn:aws:iam::123456789012:role/movement-pass-prod-login".',
            );
          }
        }
        return [kind, arns as string[]];
      }),
    ) as Record<SignerKind, string[]>;
    const regionsField = `sharedStages.${stage}.regions`;
    if (!Array.isArray(entry.regions) || entry.regions.length < 1 || entry.regions.length > 2) {
      throw new StageError(
        `${where(regionsField)} must list the stage's home region, then at most one secondary region, e.g. ["ap-south-1", "ap-southeast-1"].`,
      );
    }
    const regions = entry.regions.map((value, index) => region(value, `${regionsField}[${index}]`));
    sharedStages[stage] = { account: account(entry.account, `sharedStages.${stage}.account`), regions, signers: byKind };
  }
  return { sandboxAccount, sandboxHomeRegion, sharedStages };
}

/** team.json of this checkout, checked. */
export function readTeamSettings(sharedStageNames: readonly string[], directory = join(__dirname, '..')): TeamSettings {
  const path = join(directory, teamSettingsFile);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new StageError(`Could not read the team's settings from ${teamSettingsFile}: ${(error as Error).message}. Restore it from git.`);
  }
  return checkedTeamSettings(raw, sharedStageNames);
}
