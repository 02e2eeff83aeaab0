// The order osls runs the deploy's steps in, with the real plugin manager and the plugin list of
// the packaged serverless.ts: what the certificates plugin relies on.
import { describe, expect, it } from 'vitest';
import { initServerless } from './in-process';

async function hooksOf(command: string, param: string[] = []) {
  const serverless = await initServerless('prod', command, { param });
  return (lifecycle: string) => (serverless.pluginManager.hooks[lifecycle] ?? []).map((hook: { pluginName: string }) => hook.pluginName);
}

describe('sls deploy', () => {
  it("runs the certificates after osls restored the packaged template, and before serverless-domain-manager's domain step", async () => {
    const hooks = await hooksOf('deploy');

    // AwsDeploy's before:deploy:deploy reads the package into compiledCloudFormationTemplate;
    // the certificates plugin then pins the ARN in it and hands it to the domain plugin.
    // The safety checks of a shared stage come first: nothing is written before the deploy gate.
    // The photo replication check too: a rule without its destination bucket stops the deploy here.
    // The failover plugin's check of a secondary region comes last, still before the stack.
    expect(hooks('before:deploy:deploy')).toEqual([
      'Deploy',
      'AwsDeploy',
      // A secondary region's lookups pinned to what they find, before the safety checks diff the template.
      'RegionalLookups',
      'ProductionSafety',
      'PhotoReplication',
      'Certificates',
      'ServerlessCustomDomain',
      'FailoverDns',
      // Reads the failover gate, on the failover control stack only (it keeps a closed gate closed).
      'Failover',
    ]);
    // osls hashes and uploads that template in later steps of the same command.
    expect(hooks('aws:deploy:deploy:checkForChanges')).toEqual(['AwsDeploy']);
    expect(hooks('aws:deploy:deploy:uploadArtifacts')).toEqual(['AwsDeploy']);
  });

  it("writes the failover records after serverless-domain-manager's mapping and before sls verify calls the name", async () => {
    const hooks = await hooksOf('deploy');

    const afterDeploy = hooks('after:deploy:deploy');
    expect(afterDeploy.indexOf('FailoverDns')).toBeGreaterThan(afterDeploy.indexOf('ServerlessCustomDomain'));
    expect(afterDeploy.indexOf('FailoverDns')).toBeLessThan(afterDeploy.indexOf('Verify'));
    expect(afterDeploy.indexOf('ServerlessCustomDomain')).toBeGreaterThanOrEqual(0);
  });

  it('runs the preflight in initialize, which osls runs before the first step of a command', async () => {
    // A confirmed removal: without it, the guard of a shared stage stops the command right here.
    const hooks = await hooksOf('remove', ['confirm-remove=prod']);

    expect(hooks('initialize')).toContain('Preflight');
    expect(hooks('remove:remove')).toEqual(['AwsRemove']);
    const beforeRemove = hooks('before:remove:remove');
    expect(beforeRemove.indexOf('ProductionSafety')).toBeLessThan(beforeRemove.indexOf('ServerlessCustomDomain'));
    expect(beforeRemove).toContain('ProductionSafety');
    // The PRIMARY record names the stack's health check: it goes before the stack (remove:remove).
    expect(beforeRemove).toContain('FailoverDns');
  });
});
