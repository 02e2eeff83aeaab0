// The rehearsal of a promotion (scripts/promotion-plan.ts): prod packaged with ap-southeast-1 as
// its home (team.json changed in a copy), against the secondary stack that runs there today and
// the lost home's template. What the promotion deploy keeps, imports, creates and deletes, and the
// global names the lost home still holds; docs/runbooks.md gives the manual step of each.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { statefulResourceIds } from '../resources/production-safety';
import { settingsFor } from '../resources/stage';
import { promotedTeam, promotionPlan, renderPlan } from '../scripts/promotion-plan';
import { projectRoot, readTemplate } from './package-stage';
import { resource } from './template';

const account = settingsFor('prod').accountId;
const promoted = readTemplate('prod.promoted');
const plan = promotionPlan(readTemplate('prod.ap-southeast-1'), promoted, readTemplate('prod'), account, {
  lost: 'ap-south-1',
  newHome: 'ap-southeast-1',
});
const ids = (action: string) =>
  plan.steps
    .filter((step) => step.action === action)
    .map((step) => step.logicalId)
    .sort();

describe('promoting ap-southeast-1 to home of prod', () => {
  it('builds a home stack there: the global tables, the distribution and the keys of record, no lookups', () => {
    expect(resource(promoted, 'ApplicantsTable', 'AWS::DynamoDB::GlobalTable').Properties.Replicas).toEqual([
      expect.objectContaining({ Region: { 'Fn::Sub': '${AWS::Region}' } }),
    ]);
    expect(resource(promoted, 'PhotoBucket').Properties.BucketName).toEqual({
      'Fn::Sub': 'movement-pass-prod-photos-apse1-${AWS::AccountId}',
    });
    expect(promoted.Resources.PhotoDistributionLookup).toBeUndefined();
    expect(resource(promoted, 'JwtKeyRing', 'Custom::KeyRing').Properties.HomeKeyStore).toBeUndefined();
  });

  it('imports the tables: their replicas exist in ap-southeast-1 and cannot be created', () => {
    expect(ids('import')).toEqual(['ApplicantsTable', 'PassesTable']);
  });

  it('keeps what the secondary stack holds already, the photo bucket and the key rings among them', () => {
    expect(ids('keep')).toEqual(
      expect.arrayContaining(['PhotoBucket', 'JwtKeyRing', 'PhotoUrlKeyRing', 'PhotoUrlSigningKey', 'SigningKeysKey', 'ApiGatewayRestApi']),
    );
  });

  it('deletes what a secondary region needs (the lookups and their function, replication), nothing that holds data', () => {
    expect(ids('delete')).toEqual(
      expect.arrayContaining([
        'ApplicantsTableReplica',
        'PassesTableReplica',
        'PhotoDistributionLookup',
        'PhotoUrlPublicKeyLookup',
        'RegionalLookupLambdaFunction',
        'PhotoReplicationRole',
      ]),
    );
    const secondary = readTemplate('prod.ap-southeast-1');
    expect(statefulResourceIds(Object.fromEntries(ids('delete').map((id) => [id, secondary.Resources[id]])))).toEqual([]);
  });

  it('finds every global name the lost home still holds, and the runbook says how to free each', () => {
    const conflicts = [...new Set(plan.conflicts.map((step) => step.logicalId))].sort();
    // The access log bucket is named by its region: the new home makes its own.
    expect(conflicts).toEqual([
      'PhotoAccessLogDelivery',
      'PhotoDistribution',
      'PhotoOriginAccessControl',
      'PhotoUrlKeyGroup',
      'PhotoUrlPublicKey0',
      'PhotoUrlPublicKey1',
    ]);
    const runbook = readFileSync(join(projectRoot, 'docs', 'runbooks.md'), 'utf8');
    const section = runbook.slice(runbook.indexOf('## Promoting the secondary region'));
    for (const id of conflicts) expect(section, id).toContain(`\`${id}\``);
    expect(renderPlan(plan)).toContain('NAMES STILL HELD BY THE LOST HOME');
  });

  it('refuses to promote what is not the secondary region', () => {
    const team = {
      sandboxAccount: account,
      sandboxHomeRegion: 'ap-south-1',
      sharedStages: { prod: { account, regions: ['ap-south-1', 'ap-southeast-1'], signers: { jwt: [], photoUrl: [] } } },
    };
    expect(() => promotedTeam(team, 'prod', 'ap-south-1')).toThrow(/ap-south-1 is not the secondary region of prod/);
    expect(() => promotedTeam(team, 'prod', 'eu-west-1')).toThrow(/not the secondary region/);
  });
});
