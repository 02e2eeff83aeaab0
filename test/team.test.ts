// team.json: the accounts and the signers of the team, checked before anything is built from them.
import { describe, expect, it } from 'vitest';
import { settingsFor } from '../resources/stage';
import { checkedTeamSettings, readTeamSettings } from '../resources/team';

const valid = () => ({
  sandboxAccount: '444455556666',
  sandboxHomeRegion: 'ap-south-1',
  sharedStages: {
    prod: {
      account: '111122223333',
      regions: ['ap-south-1', 'ap-southeast-1'],
      signers: { jwt: ['arn:aws:iam::111122223333:role/services/movement-pass-prod-login'], photoUrl: [] },
    },
  },
});

describe('team.json', () => {
  it('gives each stage its account: a shared stage its own, a sandbox the development account', () => {
    const team = readTeamSettings(['prod']);
    expect(settingsFor('prod').accountId).toBe(team.sharedStages.prod.account);
    expect(settingsFor('alice').accountId).toBe(team.sandboxAccount);
    expect(settingsFor('prod').signers).toEqual(team.sharedStages.prod.signers);
    expect(settingsFor('alice').signers).toEqual({ jwt: [], photoUrl: [] });
  });

  it("gives each stage its regions, home first: a shared stage its own, a sandbox the sandboxes' home", () => {
    const team = readTeamSettings(['prod']);
    expect(settingsFor('prod').regions).toEqual(team.sharedStages.prod.regions);
    expect(settingsFor('alice').regions).toEqual([team.sandboxHomeRegion]);
    // Promoted: the secondary region becomes home, and the stage is built from there.
    const promoted = checkedTeamSettings(
      { ...valid(), sharedStages: { prod: { ...valid().sharedStages.prod, regions: ['ap-southeast-1'] } } },
      ['prod'],
    );
    expect(promoted.sharedStages.prod.regions).toEqual(['ap-southeast-1']);
  });

  it('accepts signer role ARNs, paths included', () => {
    expect(checkedTeamSettings(valid(), ['prod']).sharedStages.prod.signers.jwt).toHaveLength(1);
  });

  it.each([
    [
      'an account that is not 12 digits',
      (t: any) => Object.assign(t, { sandboxAccount: '4444' }),
      /sandboxAccount in team.json is "4444", not an AWS account id; write its 12 digits/,
    ],
    [
      'an account given as a number',
      (t: any) => Object.assign(t.sharedStages.prod, { account: 111122223333 }),
      /sharedStages.prod.account in team.json is 111122223333, not an AWS account id/,
    ],
    [
      'a signer that is not a role ARN',
      (t: any) => Object.assign(t.sharedStages.prod.signers, { photoUrl: ['movement-pass-prod-photos'] }),
      /The signer "movement-pass-prod-photos" of sharedStages.prod.signers.photoUrl in team.json is not an IAM role ARN; write the role's full ARN/,
    ],
    [
      'a shared stage missing',
      (t: any) => Object.assign(t, { sharedStages: {} }),
      /must name exactly the shared stages of resources\/stage.ts \(prod\); add prod/,
    ],
    [
      'a stage that is not shared',
      (t: any) => Object.assign(t.sharedStages, { alice: t.sharedStages.prod }),
      /alice is not a shared stage/,
    ],
    [
      'a region that is not one',
      (t: any) => Object.assign(t.sharedStages.prod, { regions: ['ap-south-1', 'ap-southeast-9'] }),
      /sharedStages.prod.regions\[1\] in team.json is "ap-southeast-9", not an AWS region; write its code/,
    ],
    [
      'three regions',
      (t: any) => Object.assign(t.sharedStages.prod, { regions: ['ap-south-1', 'ap-southeast-1', 'eu-west-1'] }),
      /sharedStages.prod.regions in team.json must list the stage's home region, then at most one secondary region/,
    ],
    [
      'no sandbox home region',
      (t: any) => Object.assign(t, { sandboxHomeRegion: undefined }),
      /sandboxHomeRegion in team.json is undefined, not an AWS region/,
    ],
    [
      'a signer kind that does not exist',
      (t: any) => Object.assign(t.sharedStages.prod.signers, { login: [] }),
      /sharedStages.prod.signers in team.json must be \{"jwt": \[...\], "photoUrl": \[...\]\}/,
    ],
  ])('refuses %s, saying how to fix it', (_, change, message) => {
    const team = valid();
    change(team);
    expect(() => checkedTeamSettings(team, ['prod'])).toThrow(message);
  });
});
