import { describe, expect, it } from 'vitest';
import StackOutputs from '../plugins/stack-outputs';

const fakeServerless = (outputs: { OutputKey: string; OutputValue: string }[], printed = new Map<string, string[]>()) => ({
  serviceOutputs: printed,
  pluginManager: { plugins: [{ hooks: {} }, { gatheredData: { outputs } }] },
});

describe('stack outputs plugin', () => {
  it('prints every stack output on sls info without --verbose', () => {
    const serverless = fakeServerless([
      { OutputKey: 'ApplicantsTableName', OutputValue: 'movement-pass-prod-applicants' },
      { OutputKey: 'SsmRoot', OutputValue: '/movement-pass/prod' },
    ]);

    new StackOutputs(serverless as any).hooks['aws:info:displayStackOutputs']();

    expect(serverless.serviceOutputs.get('\nStack Outputs')).toEqual([
      'ApplicantsTableName: movement-pass-prod-applicants',
      'SsmRoot: /movement-pass/prod',
    ]);
  });

  it('leaves the section alone when osls already printed it (--verbose)', () => {
    const printed = new Map([['\nStack Outputs', ['A: b']]]);
    const serverless = fakeServerless([{ OutputKey: 'C', OutputValue: 'd' }], printed);

    new StackOutputs(serverless as any).hooks['aws:info:displayStackOutputs']();

    expect(printed.get('\nStack Outputs')).toEqual(['A: b']);
  });
});
