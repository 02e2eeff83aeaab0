// Two-way replication of the photo buckets of a stage with a secondary region: each stack owns
// the rule of its own bucket towards the other region's bucket, with its own role. Also the
// names every piece agrees on (bucket names per region, the switch of the home rule), and what the
// deploy-time check (plugins/photo-replication.js) and the one-command deploy
// (scripts/deploy-regions.ts) need to know.
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-two-way.html

import { type CfnResource, getAtt, type Intrinsic, sub } from './cloudformation';
import { paramFromArgv } from './command-line';
import { stageRoleProperties } from './deployment';
import { physicalName } from './names';
import { deployAllScript, stackOptions, stageOptions } from './regions';
import { homeRegionOf, isHomeRegion, regionCode, type StageSettings, secondaryRegionOf, secondaryRegionParam } from './stage';
import { StageError } from './stage-validation';

/**
 * `--param=photo-replication=off`: the home stack without its replication rule, for the first
 * deploy of a new secondary region only (S3 refuses a rule whose destination bucket does not
 * exist yet or is not versioned). `npm run deploy:regions` sets it by itself when it must.
 */
export const photoReplicationParam = 'photo-replication';

export const replicationRoleId = 'PhotoReplicationRole';

/**
 * The photo bucket of a region, `${AWS::AccountId}` left for CloudFormation: S3 names are shared by
 * every account and region, so the account id and the region's code are part of it. Named by its
 * region, not its role: when the secondary region is promoted home, its bucket stays the stage's.
 */
export function photoBucketName(settings: StageSettings, region: string = settings.region): string {
  return `${physicalName(settings, `photos-${regionCode(region)}`)}-\${AWS::AccountId}`;
}
export const photoBucketArn = (settings: StageSettings, region: string = settings.region): Intrinsic =>
  sub(`arn:\${AWS::Partition}:s3:::${photoBucketName(settings, region)}`);
/**
 * The bucket's regional S3 endpoint, as `GetAtt <bucket>.RegionalDomainName` gives it and as
 * CloudFront's S3 origins name a bucket: computed, because the other region's bucket belongs to
 * the other stack.
 */
export const photoBucketDomainName = (settings: StageSettings, region: string): Intrinsic =>
  sub(`${photoBucketName(settings, region)}.s3.${region}.amazonaws.com`);

/** The other region of the pair: home replicates to the secondary, the secondary to home. */
export function replicationPeer(settings: StageSettings): string | undefined {
  const secondary = secondaryRegionOf(settings);
  if (secondary === undefined) return undefined;
  return isHomeRegion(settings) ? secondary : homeRegionOf(settings);
}

/**
 * Whether the home bucket carries its replication rule: on unless `--param=photo-replication=off`.
 * The switch only means something on the home stack of a stage with a secondary region; anywhere
 * else it is refused rather than silently ignored.
 */
export function photoReplicationFromArgv(argv: readonly string[], settings: StageSettings): boolean {
  const value = paramFromArgv(argv, photoReplicationParam);
  if (value === undefined) return true;
  if (value !== 'on' && value !== 'off') {
    throw new StageError(`--param=${photoReplicationParam}=${value} is not a choice: write on (the default) or off.`);
  }
  if (secondaryRegionOf(settings) === undefined) {
    throw new StageError(
      `--param=${photoReplicationParam} switches the home photo bucket's replication to the secondary region, and stage "${settings.stage}" ` +
        'runs in one region only. Drop the parameter (a sandbox opts in to a second region with ' +
        `--param=${secondaryRegionParam}=<region>).`,
    );
  }
  if (!isHomeRegion(settings)) {
    throw new StageError(
      `--param=${photoReplicationParam} applies to the home region's stack (${homeRegionOf(settings)}) only: ` +
        `the stack of ${settings.region} always replicates to home, which exists before it. Drop the parameter.`,
    );
  }
  return value === 'on';
}

/**
 * The role S3 assumes to replicate this region's bucket to the peer's: read the versions of the
 * source bucket, write replicas into the destination bucket, nothing else. The name is generated
 * (IAM names are global, and both regions' stacks have the same name).
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/setting-repl-config-perm-overview.html
 */
export function replicationRole(settings: StageSettings): CfnResource {
  const peer = replicationPeer(settings);
  if (peer === undefined) throw new Error(`stage ${settings.stage} has no second region to replicate photos to`);
  const source = photoBucketArn(settings);
  const destination = photoBucketArn(settings, peer);
  const objects = (bucket: Intrinsic) => ({ 'Fn::Join': ['', [bucket, '/*']] });
  return {
    Type: 'AWS::IAM::Role',
    Properties: {
      ...stageRoleProperties(settings),
      Description: `S3 replicates the ${settings.stage} photos of ${settings.region} to ${peer} with this role`,
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: 's3.amazonaws.com' }, Action: 'sts:AssumeRole' }],
      },
      Policies: [
        {
          PolicyName: 'replicate-photos',
          PolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              { Effect: 'Allow', Action: ['s3:GetReplicationConfiguration', 's3:ListBucket'], Resource: source },
              {
                Effect: 'Allow',
                Action: ['s3:GetObjectVersionForReplication', 's3:GetObjectVersionAcl', 's3:GetObjectVersionTagging'],
                Resource: objects(source),
              },
              {
                Effect: 'Allow',
                Action: ['s3:ReplicateObject', 's3:ReplicateDelete', 's3:ReplicateTags'],
                Resource: objects(destination),
              },
            ],
          },
        },
      ],
    },
  };
}

/**
 * The replication rule of this region's bucket, towards the peer's bucket (no key prefix: every
 * photo). Replica modification sync keeps metadata changes made on either side in step, which
 * two-way replication needs. Delete markers are replicated: a photo deleted in one region must
 * be deleted in both, or the origin group (which fails over on 403, S3's answer for a missing
 * object) would serve the other region's copy of a photo the applicant had erased. Deletes of a
 * given version are never replicated (S3's rule), and each bucket's lifecycle expires the old
 * versions itself.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/delete-marker-replication.html
 */
/** The id of this region's replication rule, which its metrics carry as a dimension. */
export const replicationRuleId = (peer: string): string => `photos-to-${peer}`;

export function replicationConfiguration(settings: StageSettings): Record<string, unknown> {
  const peer = replicationPeer(settings);
  if (peer === undefined) throw new Error(`stage ${settings.stage} has no second region to replicate photos to`);
  return {
    Role: getAtt(replicationRoleId, 'Arn'),
    Rules: [
      {
        Id: replicationRuleId(peer),
        Status: 'Enabled',
        Priority: 0,
        // The current rule schema (Filter), which delete marker replication and replica modifications need.
        Filter: { Prefix: '' },
        DeleteMarkerReplication: { Status: 'Enabled' },
        SourceSelectionCriteria: { ReplicaModifications: { Status: 'Enabled' } },
        Destination: {
          Bucket: photoBucketArn(settings, peer),
          // Replication metrics (failed operations, pending bytes), which the stage's alarm watches:
          // billed as custom metrics, so on stages with alarms only (resources/observability.ts).
          ...(settings.observability.alarms && { Metrics: { Status: 'Enabled' } }),
        },
      },
    ],
  };
}

/** `custom.movementPassPhotoReplication`: what plugins/photo-replication.js checks before a deploy. */
export interface PhotoReplicationPluginConfig {
  stage: string;
  region: string;
  homeRegion: string;
  /** The stage's photo bucket names by region, `${AWS::AccountId}` still in them. */
  buckets: Record<string, string>;
  /** The param of the home rule's switch. */
  param: string;
  /** The one command that deploys every region of the stage in order. */
  deployAllCommand: string;
  /** The deploy command of each region alone, by region. */
  deployCommands: Record<string, string>;
}

export function photoReplicationPluginConfig(settings: StageSettings): PhotoReplicationPluginConfig {
  return {
    stage: settings.stage,
    region: settings.region,
    homeRegion: homeRegionOf(settings),
    buckets: Object.fromEntries(settings.regions.map((region) => [region, photoBucketName(settings, region)])),
    param: photoReplicationParam,
    deployAllCommand: [deployAllScript, ...stageOptions(settings)].join(' '),
    deployCommands: Object.fromEntries(
      settings.regions.map((region) => [region, ['npx sls deploy', ...stackOptions(settings, region)].join(' ')]),
    ),
  };
}
