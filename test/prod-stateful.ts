// What the tests expect prod's stack policies to protect, stated apart from the code under test.

/** The resources of prod's home and secondary stacks that hold data or keys, or are retained. */
export const prodStatefulResources = {
  prod: [
    'AccessLogBucket',
    'ApiAccessLogGroup',
    'ApiExecutionLogGroup',
    'ApplicantsTable',
    'JwtKeyRing',
    'ObservabilityKey',
    'PassesLoadDeadLetterQueue',
    'PassesLoadQueue',
    'PassesTable',
    'PhotoBucket',
    'PhotoUrlKeyRing',
    'PhotoUrlSigningKey',
    'SigningKeysKey',
  ],
  'prod.ap-southeast-1': [
    'ApiAccessLogGroup',
    'ApiExecutionLogGroup',
    'JwtKeyRing',
    'ObservabilityKey',
    'PassesLoadDeadLetterQueue',
    'PassesLoadQueue',
    'PhotoBucket',
    'PhotoUrlKeyRing',
    'PhotoUrlSigningKey',
    'SigningKeysKey',
  ],
};
