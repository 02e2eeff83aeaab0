// The stage model: which stage is being built, whether its name can work on AWS,
// and the per-stage settings every resource module reads. Modules never test the stage name.

import { app, contractRoot, homeRegion, type JwtAlgorithm, jwtAlgorithms, signingRoot as signingRootOf } from '../client/src/contract';

// Declared once, with the parameter contract; the resource modules import them from here.
export { app, homeRegion, type JwtAlgorithm, jwtAlgorithms };
export const service = `${app}-foundation`;
/** Bumped only when the parameter contract breaks; consumers use it for namespacing. */
export const contractVersion = 'v1';

export interface StageSettings {
  stage: string;
  /**
   * Shared stages keep their data: Retain policies, deletion protection, and the production
   * safety of plugins/production-safety.js (removal guard, termination protection, stack policy).
   */
  retainData: boolean;
  /** The AWS account a shared stage lives in: a deploy from any other account stops before any change. */
  accountId?: string;
  /** Certificates, `public-api.<domain>` and `photos.<domain>`; sandboxes use AWS hostnames. */
  customDomain: boolean;
  /** The product's domain (its Route 53 hosted zone must exist where `customDomain` is on). */
  domain: string;
  /**
   * The regions the stage runs in, home first: the home stack owns what is global (tables,
   * photo distribution, CloudFront certificate, the key stores of record); the secondary region
   * runs a regional stack of the same name that serves logins, registrations and photos when
   * home is down. At most one secondary: CloudFront's origin group fails over between two origins.
   */
  regions: string[];
  /** The region this stack is built for: one of `regions` (`--region`, home by default). */
  region: string;
  /**
   * `--param=refresh-lookups=<token>` of one deploy of a secondary region: a new token makes the
   * regional stack look up the home stack's resources again (resources/regional-lookup.ts), as it
   * must after the home stack was created anew (see "Region failure" in the README).
   */
  refreshLookups?: string;
  /**
   * IAM role ARNs of the services that sign (the login service signs JWTs, the photo service
   * signs URLs): on a shared stage the only principals besides the key ring that may decrypt
   * the signing keys. Sandboxes keep `aws/ssm` and take none.
   */
  signerRoleArns: string[];
  /** One of CloudWatch Logs' allowed retention periods. */
  logRetentionDays: 7 | 30 | 90 | 365;
  jwt: {
    algorithm: JwtAlgorithm;
    issuer: string;
    audience: string;
    /** Token lifetime, in the `ms`/`jose` notation consumers already read (`1h`). */
    expire: string;
    /** Raise by one to rotate the signing key on the next deploy (at most once per token lifetime). */
    rotation: number;
  };
  photos: {
    /** Lifetime of a presigned upload URL, in seconds; also the CORS preflight cache age. */
    uploadExpirationSeconds: number;
    /** Browser origins allowed to upload with a presigned PUT. */
    webOrigins: string[];
    /** Raise by one to rotate the CloudFront URL-signing key on the next deploy. */
    keyRotation: number;
  };
  /** What a stage records and who hears about it; shared stages only, sandboxes keep a 0 USD idle cost. */
  observability: {
    /** CloudFront and API Gateway access logs, kept in the home region. */
    accessLogs: boolean;
    /**
     * Days access logs are kept. They hold IP addresses (personal data): 180 days is the
     * rolling period CERT-In's directions of 28 April 2022 require, and no longer.
     */
    accessLogRetentionDays: 90 | 180 | 365;
    /** CloudWatch alarms on the dead-letter queue, the JWKS and the key ring, sent to an SNS topic. */
    alarms: boolean;
    /** Subscribed to the alarm topic by email (each address confirms once). */
    alarmEmails: string[];
  };
  /** Limits of the foundation API (the JWKS). */
  api: {
    /** Stage-wide ceiling, requests per second and burst, shared by every caller. */
    throttle: { rateLimit: number; burstLimit: number };
    /** A WAF web ACL blocking a source IP above this many requests per 5 minutes; undefined: none (sandboxes). */
    requestsPer5MinPerIp?: number;
  };
}

const productDomain = 'movement-pass.com';

/** Settings of the shared stages; any other name is a sandbox built by `sandboxSettings`. */
const sharedStages: Record<string, Omit<StageSettings, 'stage' | 'region'>> = {
  prod: {
    retainData: true,
    customDomain: true,
    domain: productDomain,
    regions: [homeRegion, 'ap-southeast-1'],
    // Add the login and photo services' role ARNs here once those roles exist, e.g.
    // 'arn:aws:iam::123456789012:role/movement-pass-prod-login'; until then only the key ring
    // can read the signing keys (see "Signing keys" in the README).
    signerRoleArns: [],
    logRetentionDays: 365,
    jwt: {
      algorithm: 'RS256',
      issuer: `https://public-api.${productDomain}`,
      audience: `https://${productDomain}`,
      expire: '1h',
      rotation: 0,
    },
    photos: {
      uploadExpirationSeconds: 300,
      webOrigins: [`https://${productDomain}`, `https://www.${productDomain}`],
      keyRotation: 0,
    },
    observability: {
      accessLogs: true,
      accessLogRetentionDays: 180,
      alarms: true,
      alarmEmails: [`foundation-alarms@${productDomain}`],
    },
    api: { throttle: { rateLimit: 100, burstLimit: 200 }, requestsPer5MinPerIp: 1000 },
  },
};

/**
 * A sandbox runs in the home region only, unless its developer opts in to a second region with
 * `--param=secondary-region=<region>` on every command of that sandbox (see "Regions" in the README).
 */
function sandboxSettings(stage: string, secondaryRegion: string | undefined): Omit<StageSettings, 'region'> {
  return {
    stage,
    retainData: false,
    customDomain: false,
    domain: productDomain,
    regions: secondaryRegion === undefined ? [homeRegion] : [homeRegion, secondaryRegion],
    signerRoleArns: [],
    logRetentionDays: 7,
    jwt: {
      algorithm: 'RS256',
      issuer: `${app}-${stage}`,
      audience: `${app}-${stage}`,
      expire: '1h',
      rotation: 0,
    },
    photos: {
      uploadExpirationSeconds: 300,
      webOrigins: ['http://localhost:3000', 'http://localhost:5173'],
      keyRotation: 0,
    },
    observability: { accessLogs: false, accessLogRetentionDays: 180, alarms: false, alarmEmails: [] },
    // One developer's traffic: a low ceiling keeps a leaked sandbox URL cheap.
    api: { throttle: { rateLimit: 10, burstLimit: 20 } },
  };
}

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
  return undefined;
}

/** The sandbox opt-in to a second region: `--param=secondary-region=<region>`. */
export const secondaryRegionParam = 'secondary-region';
/** A secondary region's order to look the home stack's resources up again. */
export const refreshLookupsParam = 'refresh-lookups';

export interface StackChoice {
  /** `--region`: the stage's region to build; its home region when absent. */
  region?: string;
  /** A sandbox's opt-in to a second region (`--param=secondary-region=<region>`). */
  secondaryRegion?: string;
  /** `--param=refresh-lookups=<token>`: a secondary region looks the home stack's resources up again. */
  refreshLookups?: string;
}

export function settingsFor(stage: string, choice: StackChoice = {}): StageSettings {
  const problem = stageNameProblem(stage);
  if (problem) {
    throw new StageError(
      `Invalid stage name "${stage}": ${problem}. ` +
        'Use 1 to 16 lowercase letters, digits or single hyphens, starting with a letter, e.g. --stage alice.',
    );
  }
  const shared = sharedStages[stage];
  if (shared && choice.secondaryRegion !== undefined) {
    throw new StageError(
      `--param=${secondaryRegionParam} is a sandbox's opt-in; stage "${stage}" runs in ${shared.regions.join(', ')} ` +
        '(regions in resources/stage.ts). Drop the parameter.',
    );
  }
  if (choice.secondaryRegion !== undefined && !regionPattern.test(choice.secondaryRegion)) {
    throw new StageError(
      `--param=${secondaryRegionParam}=${choice.secondaryRegion} is not an AWS region; write its code, e.g. --param=${secondaryRegionParam}=ap-southeast-1.`,
    );
  }
  const stageSettings = shared ? { stage, ...shared } : sandboxSettings(stage, choice.secondaryRegion);
  const region = choice.region ?? stageSettings.regions[0];
  if (!stageSettings.regions.includes(region)) {
    const optIn = shared
      ? ''
      : ` A sandbox tries a second region by opting in on every command: --param=${secondaryRegionParam}=${region}.`;
    throw new StageError(
      `Stage "${stage}" runs in ${stageSettings.regions.join(' (home), ')}${stageSettings.regions.length > 1 ? '' : ' (home)'}, ` +
        `not ${region}: pass --region ${stageSettings.regions.join(' or --region ')}, or none for the home region.${optIn}`,
    );
  }
  if (choice.refreshLookups !== undefined) {
    if (region === stageSettings.regions[0]) {
      throw new StageError(
        `--param=${refreshLookupsParam} is for a secondary region, whose stack looks up the home stack's resources; add --region ${stageSettings.regions[1] ?? '<secondary region>'} or drop it.`,
      );
    }
    if (!/^[A-Za-z0-9.:_-]{1,64}$/.test(choice.refreshLookups)) {
      throw new StageError(
        `--param=${refreshLookupsParam}=${choice.refreshLookups} must be 1 to 64 letters, digits or . : _ -, e.g. --param=${refreshLookupsParam}=$(date +%s).`,
      );
    }
  }
  return validated({ ...stageSettings, region, ...(choice.refreshLookups !== undefined && { refreshLookups: choice.refreshLookups }) });
}

/** An AWS region code of the commercial partitions, e.g. ap-southeast-1. */
const regionPattern = /^[a-z]{2}(-gov)?-(central|north|south|east|west|northeast|northwest|southeast|southwest)-\d$/;

/** The home stack owns the global resources; every other region of the stage runs a regional stack. */
/** The stage's home region: the first of its regions, whose stack owns what is global. */
export const homeRegionOf = (settings: Pick<StageSettings, 'regions'>): string => settings.regions[0];
export const isHomeRegion = (settings: StageSettings): boolean => settings.region === homeRegionOf(settings);
/** The stage's secondary region, if it has one. */
export const secondaryRegionOf = (settings: StageSettings): string | undefined => settings.regions[1];
/** The settings of the same stage in another of its regions. */
export const inRegion = (settings: StageSettings, region: string): StageSettings => ({ ...settings, region });

const directionCodes: Record<string, string> = {
  central: 'c',
  north: 'n',
  south: 's',
  east: 'e',
  west: 'w',
  northeast: 'ne',
  northwest: 'nw',
  southeast: 'se',
  southwest: 'sw',
};
/**
 * A region's short code (`ap-southeast-1` is `apse1`), for global names that must fit a limit:
 * S3 bucket names (63 characters) are shared by every region.
 */
export function regionCode(region: string): string {
  const [area, direction, number] = region.replace('-gov-', 'gov-').split('-');
  return `${area}${directionCodes[direction] ?? direction}${number}`;
}

/** An IAM role ARN, path included (what the key policy compares `aws:PrincipalArn` with). */
const roleArn = /^arn:aws(-[a-z]+)*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;

/** Checks the settings of a stage, failing with what is wrong and how to fix it. */
export function validated(settings: StageSettings): StageSettings {
  const where = `stage "${settings.stage}" in resources/stage.ts`;
  const { regions } = settings;
  if (regions[0] !== homeRegion || regions.length > 2 || new Set(regions).size !== regions.length) {
    throw new StageError(
      `regions of ${where} must be the home region ${homeRegion} first, then at most one other region ` +
        `(CloudFront's origin group fails over between two photo buckets); got ${regions.join(', ')}.`,
    );
  }
  for (const region of regions) {
    if (!regionPattern.test(region))
      throw new StageError(`"${region}" in regions of ${where} is not an AWS region code, e.g. ap-southeast-1.`);
  }
  if (!/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/.test(settings.domain)) {
    throw new StageError(
      `The domain "${settings.domain}" of ${where} is not a DNS name; set it to the hosted zone's name, e.g. movement-pass.com.`,
    );
  }
  if (settings.accountId !== undefined && !/^\d{12}$/.test(settings.accountId)) {
    throw new StageError(
      `The accountId "${settings.accountId}" of ${where} is not an AWS account id; write its 12 digits, e.g. 123456789012.`,
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
  for (const arn of settings.signerRoleArns) {
    if (!roleArn.test(arn)) {
      throw new StageError(
        `The signer "${arn}" of ${where} is not an IAM role ARN; write the role's full ARN, e.g. arn:aws:iam::123456789012:role/movement-pass-prod-login.`,
      );
    }
  }
  if (settings.signerRoleArns.length > 0 && !settings.retainData) {
    throw new StageError(
      `signerRoleArns of ${where} only apply to shared stages (retainData): a sandbox's keys are under aws/ssm, readable by the account; leave it empty.`,
    );
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

/** Stage names a person's sandbox must never take: shared stages, and names everybody would share. */
const commonStageNames = ['dev', 'test', 'staging', 'stage', 'main', 'default', 'sandbox'];
/** Operating-system users that CI runners, containers and cloud images share. */
const sharedUserNames = ['root', 'runner', 'node', 'ubuntu', 'ec2-user', 'admin', 'user', 'ci', 'jenkins', 'circleci', 'vscode'];

export const isSharedStage = (stage: string): boolean => stage in sharedStages;

/**
 * The sandbox of whoever runs `sls` without `--stage`: their operating-system user name made a
 * valid stage (`Alice.Smith` is `alice-smith`). Never a shared stage, never a name two people
 * would both get by default.
 */
export function personalStage(username: string): string {
  const stage = username
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^[^a-z]+/, '')
    .slice(0, maxStageLength)
    .replace(/-+$/, '');
  if (!stage || isSharedStage(stage) || commonStageNames.includes(stage) || sharedUserNames.includes(stage)) {
    throw new StageError(
      `Without --stage the stage is your own sandbox, named after your user name "${username}", which gives ` +
        `${stage ? `"${stage}", a name others use too` : 'no usable name'}. Name your sandbox: --stage <your-name>, e.g. --stage alice.`,
    );
  }
  return stage;
}

/**
 * The stage osls was started with. serverless.ts is evaluated before osls resolves its
 * options, so the stage is read from the command line the same way osls reads it; without
 * one, it is the personal sandbox of `username`.
 */
export function stageFromArgv(argv: readonly string[], username: () => string): string {
  const stage = optionFromArgv(argv, 'stage', 's');
  if (stage !== undefined) return stage;
  let name: string;
  try {
    name = username();
  } catch (error) {
    // os.userInfo() throws for a user id without a passwd entry (some containers).
    throw new StageError(
      `Without --stage the stage is named after your user name, which cannot be read (${String(error)}); pass --stage <your-name>.`,
    );
  }
  return personalStage(name);
}

/**
 * osls's own pattern of a command-line option (`--name`, `--name=value`, `-n`, `-n=value`), so
 * the stage and region serverless.ts builds for are the ones osls acts on, whatever the spelling.
 */
const optionPattern: RegExp = require('osls/lib/cli/param-reg-exp');

/** The value of an option as osls reads it: the last one given, `--` ending the options. */
export function optionFromArgv(argv: readonly string[], name: string, alias: string): string | undefined {
  let found: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--') break;
    const groups = argv[i].match(optionPattern)?.groups;
    if (!groups || (groups.fullName !== name && groups.aliasNames !== alias)) continue;
    found = groups.value ?? argv[i + 1] ?? '';
  }
  return found;
}

/**
 * The values of osls's `--param="<name>=<value>"` options named `name`, the last one winning,
 * as osls itself resolves `${param:<name>}`.
 */
export function paramFromArgv(argv: readonly string[], name: string): string | undefined {
  let found: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--') break;
    const groups = argv[i].match(optionPattern)?.groups;
    if (groups?.fullName !== 'param') continue;
    const value = groups.value ?? argv[i + 1] ?? '';
    const separator = value.indexOf('=');
    if (separator > 0 && value.slice(0, separator) === name) found = value.slice(separator + 1);
  }
  return found;
}

/** The stage, region and opt-ins of the command line, as the settings of the stack to build. */
export function settingsFromArgv(argv: readonly string[], username: () => string): StageSettings {
  return settingsFor(stageFromArgv(argv, username), {
    region: optionFromArgv(argv, 'region', 'r'),
    secondaryRegion: paramFromArgv(argv, secondaryRegionParam),
    refreshLookups: paramFromArgv(argv, refreshLookupsParam),
  });
}

/** Physical names: app and stage in every one, so two stages in one account never collide. */
export const physicalName = (settings: StageSettings, name: string): string => `${app}-${settings.stage}-${name}`;
/** The parameter contract: everything a service needs, nothing secret. */
export const ssmRoot = (settings: StageSettings): string => contractRoot(settings.stage).slice(0, -1);
/**
 * The signing root: private keys and the HS256 secret, read by signers only. Outside the
 * contract root, because GetParametersByPath returns everything below the path it is given.
 */
export const signingRoot = (settings: StageSettings): string => signingRootOf(settings.stage).slice(0, -1);
