// The stage model: the per-stage settings every resource module reads, and the settings of the
// stack being built (stage, region, opt-ins). Modules never test the stage name. Checking them is
// stage-validation.ts's job, reading them from the command line command-line.ts's, names names.ts's.

import { app, type JwtAlgorithm } from '../client/src/contract';
import { isAwsRegion } from './aws-regions';
import { StageError, stageNameProblem, validated } from './stage-validation';
import { readTeamSettings, type SignerKind, type TeamSettings, teamSettingsFile } from './team';

export interface StageSettings {
  stage: string;
  /**
   * Shared stages keep their data: Retain policies, deletion protection, and the production
   * safety of plugins/production-safety.js (removal guard, termination protection, stack policy).
   */
  retainData: boolean;
  /**
   * The AWS account the stage lives in (team.json: a shared stage's own, the development account
   * for sandboxes): a command acting on AWS with credentials of any other account stops before any change.
   */
  accountId: string;
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
   * IAM role ARNs of the services that sign, by key (the login service the JWTs, the photo service
   * the photo URLs), from team.json: on a shared stage the only principals besides the key ring that
   * may decrypt a signing key, each only its own. Sandboxes keep `aws/ssm` and take none.
   */
  signers: Record<SignerKind, string[]>;
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

/** What a stage's settings take from team.json rather than from this file. */
type FromTeam = 'accountId' | 'signers' | 'regions';

/** Settings of the shared stages; any other name is a sandbox built by `sandboxSettings`. */
const sharedStages: Record<string, Omit<StageSettings, 'stage' | 'region' | FromTeam>> = {
  prod: {
    retainData: true,
    customDomain: true,
    domain: productDomain,
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
 * `--param=secondary-region=<region>` on every command of that sandbox (see "Regions" in docs/stages-and-regions.md).
 */
function sandboxSettings(stage: string): Omit<StageSettings, 'region' | FromTeam> {
  return {
    stage,
    retainData: false,
    customDomain: false,
    domain: productDomain,
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

/** The sandbox opt-in to a second region: `--param=secondary-region=<region>`. */
export const secondaryRegionParam = 'secondary-region';

export interface StackChoice {
  /** `--region`: the stage's region to build; its home region when absent. */
  region?: string;
  /** A sandbox's opt-in to a second region (`--param=secondary-region=<region>`). */
  secondaryRegion?: string;
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
      `--param=${secondaryRegionParam} is a sandbox's opt-in; stage "${stage}" runs in ${teamSettings().sharedStages[stage].regions.join(', ')} ` +
        `(its regions in ${teamSettingsFile}). Drop the parameter.`,
    );
  }
  if (choice.secondaryRegion !== undefined && !isAwsRegion(choice.secondaryRegion)) {
    throw new StageError(
      `--param=${secondaryRegionParam}=${choice.secondaryRegion} is not an AWS region; write its code, e.g. --param=${secondaryRegionParam}=ap-southeast-1.`,
    );
  }
  const team = teamSettings();
  const stageSettings = shared
    ? {
        stage,
        ...shared,
        accountId: team.sharedStages[stage].account,
        regions: team.sharedStages[stage].regions,
        signers: team.sharedStages[stage].signers,
      }
    : {
        ...sandboxSettings(stage),
        accountId: team.sandboxAccount,
        regions: [team.sandboxHomeRegion, ...(choice.secondaryRegion === undefined ? [] : [choice.secondaryRegion])],
        signers: { jwt: [], photoUrl: [] },
      };
  const region = choice.region ?? stageSettings.regions[0];
  if (!isAwsRegion(region)) {
    throw new StageError(
      `--region ${region} is not an AWS region: write its code, e.g. --region ${stageSettings.regions[1] ?? 'ap-southeast-1'}.`,
    );
  }
  const control = region === failoverControlRegion && failsOverSettings(stageSettings);
  if (!stageSettings.regions.includes(region) && !control) {
    const optIn = shared
      ? ''
      : ` A sandbox tries a second region by opting in on every command: --param=${secondaryRegionParam}=${region}.`;
    throw new StageError(
      `Stage "${stage}" runs in ${stageSettings.regions.join(' (home), ')}${stageSettings.regions.length > 1 ? '' : ' (home)'}, ` +
        `not ${region}: pass --region ${stageSettings.regions.join(' or --region ')}, or none for the home region` +
        `${failsOverSettings(stageSettings) ? ` (--region ${failoverControlRegion}: its failover control stack)` : ''}.${optIn}`,
    );
  }
  // A copy of its own: the shared stages' nested settings (jwt, photos, ...) are never changed through it.
  return validated(structuredClone({ ...stageSettings, region }));
}

/**
 * Where the failover control stack of a stage that fails over lives (resources/failover-control.ts):
 * Route 53 publishes its health checks' metrics in us-east-1 only. No stage may run in it.
 */
export const failoverControlRegion = 'us-east-1';
/** The stage fails over: `public-api.<domain>` moves between its two regions. */
const failsOverSettings = (settings: Pick<StageSettings, 'customDomain' | 'regions'>): boolean =>
  settings.customDomain && settings.regions.length > 1;
/** The stack is the stage's failover control stack, not one of its regions' foundation stacks. */
export const isFailoverControl = (settings: Pick<StageSettings, 'region' | 'regions'>): boolean =>
  settings.region === failoverControlRegion && !settings.regions.includes(failoverControlRegion);

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

export const isSharedStage = (stage: string): boolean => stage in sharedStages;

let team: TeamSettings | undefined;
/** team.json, read once and checked against the shared stages above. */
export function teamSettings(): TeamSettings {
  team ??= readTeamSettings(Object.keys(sharedStages));
  return team;
}
