// @ts-check
// Whether a photo bucket can be a replication destination, read one way on both sides of the
// TypeScript/JavaScript seam: by the deploy's check (plugins/photo-replication.js) and by
// `npm run deploy:regions` (scripts/deploy-regions.ts), each asking S3 with its own client.

/** @typedef {'ready' | 'missing' | 'unversioned'} BucketState */

/** The error S3 answers for a bucket that does not exist. */
const missingBucketCode = 'NoSuchBucket';

/**
 * The state of a bucket from S3's answer to GetBucketVersioning, asked with the deploying account
 * as ExpectedBucketOwner: a bucket of that name in another account answers 403 instead.
 * @param {string | undefined} status the answer's Status
 * @returns {BucketState}
 */
const stateOfVersioning = (status) => (status === 'Enabled' ? 'ready' : 'unversioned');

/**
 * Why a bucket could not be checked, and what to do about it.
 * @param {{ bucket: string, region: string, code: string, message: string }} failure
 */
const uncheckedBucket = ({ bucket, region, code, message }) =>
  `Could not check the photo bucket ${bucket} in ${region} (${code}: ${message}). Nothing was deployed. ` +
  'The deployer needs s3:GetBucketVersioning on it (iam/sandbox-deployer.json, iam/shared-stage-deployer.json); run the command again once it has. ' +
  'If it has, the bucket belongs to another account: the name is taken, and this stage cannot use it.';

module.exports = { missingBucketCode, stateOfVersioning, uncheckedBucket };
