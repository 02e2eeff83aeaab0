// Changes in place that lose data or what keeps it, each made to the packaged prod template, with
// what the diff and the deploy gate must say of it. Shared by the diff's and the gate's tests.
import type { Template } from './package-stage';

export const dataLossChanges: [name: string, logicalId: string, change: (template: Template) => void, says: RegExp][] = [
  [
    'point-in-time recovery turned off',
    'ApplicantsTable',
    (t) => {
      for (const replica of t.Resources.ApplicantsTable.Properties.Replicas)
        replica.PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled = false;
    },
    /ApplicantsTable .*point-in-time recovery of its replica in .* would be turned off/,
  ],
  [
    'a time-to-live attribute set',
    'PassesTable',
    (t) => {
      t.Resources.PassesTable.Properties.TimeToLiveSpecification = { AttributeName: 'endAt', Enabled: true };
    },
    /PassesTable .*items would start expiring by the attribute endAt/,
  ],
  [
    'the stream turned off',
    'ApplicantsTable',
    (t) => {
      delete t.Resources.ApplicantsTable.Properties.StreamSpecification;
    },
    /ApplicantsTable .*its stream would be turned off: consumers lose every change not yet read/,
  ],
  [
    "the stream's view type changed",
    'PassesTable',
    (t) => {
      t.Resources.PassesTable.Properties.StreamSpecification = { StreamViewType: 'KEYS_ONLY' };
    },
    /PassesTable .*its stream would change from NEW_AND_OLD_IMAGES to KEYS_ONLY/,
  ],
  [
    'versioning suspended',
    'PhotoBucket',
    (t) => {
      t.Resources.PhotoBucket.Properties.VersioningConfiguration = { Status: 'Suspended' };
    },
    /PhotoBucket .*versioning would be suspended/,
  ],
  [
    'a lifecycle rule expiring current photos added',
    'PhotoBucket',
    (t) => {
      const rules = t.Resources.PhotoBucket.Properties.LifecycleConfiguration?.Rules ?? [];
      t.Resources.PhotoBucket.Properties.LifecycleConfiguration = {
        Rules: [...rules, { Id: 'expire', Status: 'Enabled', ExpirationInDays: 1 }],
      };
    },
    /PhotoBucket .*a lifecycle rule would expire its objects after 1 days \(none expired before\)/,
  ],
  [
    "the access logs' expiry shortened",
    'AccessLogBucket',
    (t) => {
      for (const rule of t.Resources.AccessLogBucket.Properties.LifecycleConfiguration.Rules)
        if (rule.ExpirationInDays) rule.ExpirationInDays = 30;
    },
    /AccessLogBucket .*expire its objects after 30 days instead of 180/,
  ],
  [
    'the signing key disabled',
    'SigningKeysKey',
    (t) => {
      t.Resources.SigningKeysKey.Properties.Enabled = false;
    },
    /SigningKeysKey .*the key would be disabled/,
  ],
  [
    "the log key's rotation turned off",
    'ObservabilityKey',
    (t) => {
      t.Resources.ObservabilityKey.Properties.EnableKeyRotation = false;
    },
    /ObservabilityKey .*its automatic rotation would be turned off/,
  ],
  [
    "the signing key's deletion window shortened",
    'SigningKeysKey',
    (t) => {
      t.Resources.SigningKeysKey.Properties.PendingWindowInDays = 7;
    },
    /SigningKeysKey .*deletion waiting period would shrink from 30 to 7 days/,
  ],
  [
    "the signing key's policy changed",
    'SigningKeysKey',
    (t) => {
      t.Resources.SigningKeysKey.Properties.KeyPolicy.Statement.push({
        Effect: 'Allow',
        Principal: { AWS: '*' },
        Action: 'kms:Decrypt',
        Resource: '*',
      });
    },
    /SigningKeysKey .*its key policy would change/,
  ],
  [
    "the queue's retention lowered",
    'PassesLoadQueue',
    (t) => {
      t.Resources.PassesLoadQueue.Properties.MessageRetentionPeriod = 3600;
    },
    /PassesLoadQueue .*kept 3600 s instead of 1209600 s/,
  ],
  [
    "a log group's retention lowered",
    'ApiAccessLogGroup',
    (t) => {
      t.Resources.ApiAccessLogGroup.Properties.RetentionInDays = 30;
    },
    /ApiAccessLogGroup .*kept 30 days instead of 180/,
  ],
];
