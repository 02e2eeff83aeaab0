// Whether a stage can work on AWS: its name, and settings that would fail at deploy time, each
// refused with what is wrong and how to fix it, before any AWS call.
import { jwtAlgorithms } from '../client/src/contract';
import { isAwsRegion } from './aws-regions';
import type { StageSettings } from './stage';

export class StageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StageError';
    // osls prints `error.stack` of a failing serverless.ts; the message alone is the useful part.
    this.stack = message;
  }
}

/**
 * The longest stage name whose physical names all fit AWS limits: the photo bucket
 * `movement-pass-<stage>-photos-<account id>` (S3: 63) and the Lambda function names
 * `movement-pass-foundation-<stage>-<function>` (64).
 */
export const maxStageLength = 16;

/**
 * Words no part of a stage name (between hyphens) may be: the first word after the stage of the
 * stage's own names (`movement-pass-<stage>-photos-...`, `-passes`, `-deployments-...`), and the
 * roots beside the stages' (`/movement-pass-signing/`, `movement-pass-foundation-<stage>`). So a
 * policy naming `movement-pass-alice-photos-*` never reaches another stage's bucket: a stage
 * `alice-photos` cannot exist. test/stage-names.test.ts checks every name of the templates against it.
 */
export const reservedStageWords = [
  'access',
  'alarms',
  'applicants',
  'bootstrap',
  'boundary',
  'cloudformation',
  'deployments',
  'failover',
  'foundation',
  'jwks',
  'key',
  'keys',
  'observability',
  'passes',
  'photo',
  'photos',
  'public',
  'requests',
  'signing',
] as const;

/** Returns why a stage name cannot work, or undefined when it can. */
export function stageNameProblem(stage: string): string | undefined {
  if (stage.length === 0) return 'it is empty';
  if (stage.length > maxStageLength) {
    return `it has ${stage.length} characters; at most ${maxStageLength} fit the S3 bucket and Lambda function names that carry it`;
  }
  if (/[A-Z]/.test(stage)) return 'it has uppercase letters; S3 bucket names are lowercase only';
  if (!/^[a-z0-9-]+$/.test(stage)) {
    return 'it has characters other than a-z, 0-9 and "-" (S3 bucket names, SSM paths and API Gateway stages all accept these)';
  }
  if (!/^[a-z]/.test(stage)) return 'it does not start with a letter, as CloudFormation stack and API Gateway names require';
  if (stage.endsWith('-')) return 'it ends with "-"; S3 bucket names cannot hold "--" or end with "-"';
  if (stage.includes('--')) return 'it holds "--"; S3 rejects some names with consecutive hyphens';
  const reserved = stage.split('-').filter((word) => (reservedStageWords as readonly string[]).includes(word));
  if (reserved.length) {
    return `"${reserved[0]}" is a word of the names that follow a stage's (e.g. movement-pass-<stage>-${reserved[0]}...), so a policy for one stage would reach the other; reserved: ${reservedStageWords.join(', ')}`;
  }
  return undefined;
}

/** An AWS region code of the commercial partitions, e.g. ap-southeast-1. */
export const regionPattern = /^[a-z]{2}(-gov)?-(central|north|south|east|west|northeast|northwest|southeast|southwest)-\d$/;

/** Checks the settings of a stage, failing with what is wrong and how to fix it. */
export function validated(settings: StageSettings): StageSettings {
  const where = `stage "${settings.stage}" in resources/stage.ts`;
  const { regions } = settings;
  if (regions.length < 1 || regions.length > 2 || new Set(regions).size !== regions.length) {
    throw new StageError(
      `regions of ${where} must be the home region ${regions[0]} first, then at most one other region ` +
        `(CloudFront's origin group fails over between two photo buckets); got ${regions.join(', ')}.`,
    );
  }
  for (const region of regions) {
    if (!regionPattern.test(region) || !isAwsRegion(region))
      throw new StageError(`"${region}" in regions of ${where} is not an AWS region code, e.g. ap-southeast-1.`);
  }
  if (settings.customDomain && regions.length > 1 && regions.includes('us-east-1')) {
    throw new StageError(
      `regions of ${where} include us-east-1, where the failover control stack of a stage that fails over lives ` +
        '(resources/failover-control.ts): choose another region.',
    );
  }
  if (!/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/.test(settings.domain)) {
    throw new StageError(
      `The domain "${settings.domain}" of ${where} is not a DNS name; set it to the hosted zone's name, e.g. movement-pass.com.`,
    );
  }
  if (!(jwtAlgorithms as readonly string[]).includes(settings.jwt.algorithm)) {
    throw new StageError(`Unknown JWT algorithm "${settings.jwt.algorithm}" for ${where}; use one of ${jwtAlgorithms.join(', ')}.`);
  }
  if (!/^\d+[smhd]$/.test(settings.jwt.expire)) {
    throw new StageError(
      `The JWT expiry "${settings.jwt.expire}" of ${where} is not a duration; use a number and a unit s, m, h or d, e.g. 1h.`,
    );
  }
  for (const [name, value] of [
    ['jwt.rotation', settings.jwt.rotation],
    ['photos.keyRotation', settings.photos.keyRotation],
  ] as const) {
    if (!Number.isInteger(value) || value < 0) {
      throw new StageError(`${name} of ${where} must be a whole number 0 or above; raise it by one to rotate.`);
    }
  }
  const expiry = settings.photos.uploadExpirationSeconds;
  if (!Number.isInteger(expiry) || expiry < 1 || expiry > 604800) {
    throw new StageError(`photos.uploadExpirationSeconds of ${where} must be 1 to 604800 (a presigned URL lives 7 days at most).`);
  }
  for (const origin of settings.photos.webOrigins) {
    if (!/^https?:\/\/[a-z0-9.-]+(:\d+)?$/.test(origin)) {
      throw new StageError(
        `The web origin "${origin}" of ${where} is not an origin; write scheme and host only, e.g. https://movement-pass.com.`,
      );
    }
  }
  const { observability, api } = settings;
  if (![90, 180, 365].includes(observability.accessLogRetentionDays)) {
    throw new StageError(`observability.accessLogRetentionDays of ${where} must be 90, 180 or 365 (CloudWatch Logs retention periods).`);
  }
  for (const email of observability.alarmEmails) {
    if (!/^[^\s@]+@([a-z0-9-]+\.)+[a-z]{2,}$/i.test(email)) {
      throw new StageError(
        `The alarm email "${email}" of ${where} is not an email address; write one address per entry, e.g. oncall@movement-pass.com.`,
      );
    }
  }
  if (observability.alarms && observability.alarmEmails.length === 0) {
    throw new StageError(`observability.alarms of ${where} is on but alarmEmails is empty; add who should hear about an alarm.`);
  }
  const { rateLimit, burstLimit } = api.throttle;
  if (!Number.isInteger(rateLimit) || rateLimit < 1 || !Number.isInteger(burstLimit) || burstLimit < rateLimit) {
    throw new StageError(
      `api.throttle of ${where} must be whole numbers with 1 <= rateLimit <= burstLimit (got ${rateLimit}/${burstLimit}).`,
    );
  }
  const perIp = api.requestsPer5MinPerIp;
  if (perIp !== undefined && (!Number.isInteger(perIp) || perIp < 10 || perIp > 2_000_000_000)) {
    throw new StageError(
      `api.requestsPer5MinPerIp of ${where} must be a whole number from 10 to 2000000000 (AWS WAF's rate limit range), or left out for no web ACL.`,
    );
  }
  return settings;
}
