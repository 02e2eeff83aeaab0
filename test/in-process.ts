// osls itself in the test process, where running the real CLI would prove nothing more: its real
// plugin manager and AWS provider, loaded with the plugin list and settings that serverless.ts gave
// a packaged stack. Cheaper than a CLI run by seconds.
import Serverless from 'osls/lib/serverless';
import { readServiceState, workerCopy } from './package-stage';

/** osls initialised for `command` on a tested stack (`<stage>` or `<stage>.<region>`), plugins constructed. */
export async function initServerless(stack: string, command: string, options: Record<string, unknown> = {}): Promise<Serverless> {
  const state = readServiceState(stack);
  const [stage, region = 'ap-south-1'] = stack.split('.');
  const serverless = new Serverless({
    commands: command.split(' '),
    options: { stage, region, ...options },
    serviceDir: workerCopy(),
    configuration: {
      service: 'movement-pass-foundation',
      frameworkVersion: '3',
      provider: { name: 'aws', region, stage },
      plugins: state.plugins,
      custom: state.custom,
    },
    configurationFilename: 'serverless.ts',
  });
  await serverless.init();
  return serverless;
}
