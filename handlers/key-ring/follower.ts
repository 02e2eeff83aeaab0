// The key ring of a secondary region follows the home region's: before it publishes anything, it
// copies the keys of the asked window from the home key store (SSM of the home region) into its
// own key store, byte for byte under the same labels, encrypted with its own region's stage key.
// It never generates a key: a key made here would sign tokens the home region cannot verify.
// When the home region does not answer, the keys this region already holds still serve a deploy
// that asks for them; anything else fails, saying what to do.
import { GetParameterHistoryCommand, SSMClient, type SSMClientConfig } from '@aws-sdk/client-ssm';
import type { Logger } from '../lib/custom-resource';
import type { SigningAlgorithm } from '../lib/signing-keys';
import { type KeyStore, keyLabel, openKeyStore } from './key-store';
import { type ParameterAccess, parameters, type Ssm } from './parameters';

/**
 * How long the home region may take before this deploy counts it as down: a connection within 3 s,
 * an answer within 5 s, one retry, and 20 s for the whole read of the home store. A region that
 * cannot answer a few reads in that time would not let the copy finish either.
 */
export const homeRegionBounds = { connectionTimeoutMs: 3_000, requestTimeoutMs: 5_000, maxAttempts: 2, budgetMs: 20_000 } as const;

/** The SSM client of the stage's other region (home for a follower, the follower for home), with the bounds above (built once, at cold start). */
export function otherRegionSsm(region: string, options: Pick<SSMClientConfig, 'endpoint' | 'credentials'> = {}) {
  return new SSMClient({
    region,
    maxAttempts: homeRegionBounds.maxAttempts,
    requestHandler: {
      connectionTimeout: homeRegionBounds.connectionTimeoutMs,
      requestTimeout: homeRegionBounds.requestTimeoutMs,
      throwOnRequestTimeout: true,
    },
    ...options,
  });
}

/** The rotations a ring of rotation `rotation` needs: next, current and (after the first) previous. */
export const windowRotations = (rotation: number): number[] => [rotation + 1, rotation, ...(rotation > 0 ? [rotation - 1] : [])];

/** Errors of a connection that never got an answer from SSM, as Node and the SDK name them. */
const networkCodes = ['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE'];
const unavailableNames = ['TimeoutError', 'RequestTimeout', 'RequestTimeoutException', 'ThrottlingException', 'ServiceUnavailable'];

/**
 * Whether an error of a home region call means the home region is down rather than misconfigured:
 * no answer (refused, unresolved, reset, timed out, over the budget), a 5xx or throttling from SSM.
 * An access denial, a KMS refusal or a validation error is an answer: it fails the deploy loudly.
 */
export function homeUnavailable(error: unknown, budget: AbortSignal): boolean {
  if (budget.aborted) return true;
  const { name, code, $metadata } = (error ?? {}) as { name?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  if (code !== undefined && networkCodes.includes(code)) return true;
  if (name !== undefined && unavailableNames.includes(name)) return true;
  return ($metadata?.httpStatusCode ?? 0) >= 500;
}

/** The home store through a view that can only read: a follower never writes or deletes there. */
function readOnly(access: ParameterAccess, region: string): ParameterAccess {
  const refuse = () => Promise.reject(new Error(`the key ring of this region never writes to ${region}`));
  return { ...access, put: refuse, label: refuse, unlabel: refuse, delete: refuse };
}

const list = (rotations: number[]) => (rotations.length ? [...rotations].sort((a, b) => a - b).join(', ') : 'none');

export interface Follow {
  homeSsm: Ssm;
  homeRegion: string;
  homeKeyStore: string;
  /** This region's key store, already open. */
  local: KeyStore;
  localKeyStore: string;
  algorithm: SigningAlgorithm;
  rotation: number;
  /** The event's signal: once it aborts, nothing more reaches either region. */
  signal: AbortSignal;
  logger: Logger;
}

type HomeRead = { reachable: true; keys: Map<number, string>; rotations: number[] } | { reachable: false; reason: string };

/** The window's keys the home store holds, or why the home region did not answer. */
async function readHome(follow: Follow): Promise<HomeRead> {
  const { homeSsm, homeRegion, homeKeyStore, algorithm, rotation, signal } = follow;
  const budget = AbortSignal.timeout(homeRegionBounds.budgetMs);
  const access = readOnly(parameters({ ssm: homeSsm, signal: AbortSignal.any([signal, budget]), secureNames: [] }), homeRegion);
  try {
    const home = await openKeyStore(access, homeKeyStore, undefined);
    const keys = new Map<number, string>();
    for (const r of windowRotations(rotation)) {
      const secret = await home.read(algorithm, r);
      if (secret !== undefined) keys.set(r, secret);
    }
    return { reachable: true, keys, rotations: home.rotations(algorithm) };
  } catch (error) {
    // Out of the invocation's time: the handler says so itself.
    if (signal.aborted) throw error;
    if (homeUnavailable(error, budget)) {
      return { reachable: false, reason: budget.aborted ? `no answer within ${homeRegionBounds.budgetMs / 1000} s` : String(error) };
    }
    throw new Error(
      `Reading the home key store ${homeKeyStore} in ${homeRegion} failed: ${String(error)}. The home region answered, so this is ` +
        "not an outage: this region's key ring role must be allowed ssm:GetParameterHistory and ssm:GetParameters on it, and on a " +
        "shared stage the home stage key's policy must let it decrypt (deploy the home region first: its key policy names this region's key ring).",
    );
  }
}

/**
 * Makes this region's key store hold the home keys of the asked window, or, with the home region
 * down, checks that it already does. Returns the labels it copied.
 */
export async function followHome(follow: Follow): Promise<string[]> {
  const { homeRegion, local, localKeyStore, algorithm, rotation, logger } = follow;
  const needed = windowRotations(rotation);
  const home = await readHome(follow);
  if (!home.reachable) {
    const held = needed.filter((r) => local.has(algorithm, r));
    if (held.length === needed.length) {
      logger.info('the home region did not answer: publishing the keys this region holds', {
        homeRegion,
        reason: home.reason,
        algorithm,
        rotation,
      });
      return [];
    }
    throw new Error(
      `The home region ${homeRegion} did not answer (${home.reason}), and ${algorithm} rotation ${rotation} needs keys ` +
        `${needed.map((r) => keyLabel(algorithm, r)).join(', ')}, of which this region's key store ${localKeyStore} holds ` +
        `${held.length ? held.map((r) => keyLabel(algorithm, r)).join(', ') : 'none'} (its ${algorithm} keys: ${list(local.rotations(algorithm))}). ` +
        `Deploy this region once ${homeRegion} is back (the home region first, if it has not deployed rotation ${rotation} either), ` +
        'or keep the rotation this region already holds until then.',
    );
  }
  const missing = needed.filter((r) => !home.keys.has(r));
  if (missing.length) {
    throw new Error(
      `The home region ${homeRegion} has not deployed ${algorithm} rotation ${rotation} yet: its key store ${follow.homeKeyStore} ` +
        `holds no ${missing.map((r) => keyLabel(algorithm, r)).join(', ')} (its ${algorithm} keys: ${list(home.rotations)}). ` +
        `Deploy the home region first (rotation ${rotation}), then this region; a secondary region never makes keys of its own.`,
    );
  }
  const copied: string[] = [];
  for (const r of needed) {
    const secret = home.keys.get(r) as string;
    // The home store is the key of record: a label here with other bytes (a sandbox's home stack
    // removed and deployed again) takes the home key.
    if ((await local.read(algorithm, r)) === secret) continue;
    await local.add(algorithm, r, secret);
    copied.push(keyLabel(algorithm, r));
  }
  if (copied.length) logger.info('copied keys from the home region', { homeRegion, labels: copied });
  return copied;
}

/**
 * Before home makes rotation `rotation` current: the secondary region followed the one before it,
 * so its key store holds this rotation's key (pre-published there as its next) and its JWKS
 * trusts what home is about to sign. Only the labels of its key store are read, never a value.
 * A secondary region with no key store yet has nothing to fall behind.
 */
export async function checkFollowed(check: {
  followerSsm: Ssm;
  followerRegion: string;
  keyStore: string;
  algorithm: SigningAlgorithm;
  rotation: number;
  signal: AbortSignal;
}): Promise<void> {
  const { followerSsm, followerRegion, keyStore, algorithm, rotation, signal } = check;
  const label = keyLabel(algorithm, rotation);
  const budget = AbortSignal.timeout(homeRegionBounds.budgetMs);
  const labels: string[] = [];
  try {
    let NextToken: string | undefined;
    do {
      const page = await followerSsm.send(
        new GetParameterHistoryCommand({ Name: keyStore, WithDecryption: false, MaxResults: 50, NextToken }),
        {
          abortSignal: AbortSignal.any([signal, budget]),
        },
      );
      for (const version of page.Parameters ?? []) labels.push(...(version.Labels ?? []));
      NextToken = page.NextToken;
    } while (NextToken);
  } catch (error) {
    if (signal.aborted) throw error;
    if ((error as { name?: string }).name === 'ParameterNotFound') return;
    if (homeUnavailable(error, budget)) {
      throw new Error(
        `The secondary region ${followerRegion} did not answer whether it followed rotation ${rotation - 1} ` +
          `(${budget.aborted ? `no answer within ${homeRegionBounds.budgetMs / 1000} s` : String(error)}); rotating now could sign ` +
          `with ${label}, which its verifiers do not trust yet. Keep the rotation, and rotate once ${followerRegion} is back and deployed; ` +
          "if that region is lost for good, take it out of the stage's regions and deploy home.",
      );
    }
    throw error;
  }
  if (!labels.includes(label)) {
    throw new Error(
      `The secondary region ${followerRegion} has not followed rotation ${rotation - 1} yet: its key store ${keyStore} lacks ${label}, ` +
        `so tokens and URLs signed after this rotation would fail there. Deploy ${followerRegion} first (npm run deploy:regions does the regions in order), then this rotation.`,
    );
  }
}
