// team.json: the accounts and the signers of the team, checked before anything is built from them.
import { describe, expect, it } from 'vitest';
import { settingsFor } from '../resources/stage';
import { checkedTeamSettings, readTeamSettings } from '../resources/team';

const valid = () => ({
  sandboxAccount: '444455556666',
  sharedStages: {
    prod: { account: '111122223333', signers: { jwt: ['arn:aws:iam::111122223333:role/services/movement-pass-prod-login'], photoUrl: [] } },
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
