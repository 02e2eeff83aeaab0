// `npm run bootstrap -- <account|stage> ...`: writes the bootstrap's templates (bootstrap/templates.ts)
// to .bootstrap/ and prints the AWS CLI commands an administrator of the account runs, once, to create them.
//   npm run bootstrap -- account prod                 the prod account, in prod's regions
//   npm run bootstrap -- account sandboxes [--region <r>]...   the development account, home region and any other
//   npm run bootstrap -- stage <stage> [--param=secondary-region=<r>]   one stage, in each of its regions
// Nothing here calls AWS: the administrator reads the templates and the commands, then runs them.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { accountStackName, accountTemplate, type DeployerKind, stageStackName, stageTemplate, type Template } from '../bootstrap/templates';
import { isAwsRegion } from '../resources/aws-regions';
import { paramFromArgv } from '../resources/command-line';
import { app } from '../resources/names';
import { failsOver } from '../resources/region-health';
import { failoverControlRegion, isSharedStage, secondaryRegionParam, settingsFor, teamSettings } from '../resources/stage';
import { StageError } from '../resources/stage-validation';

const usage =
  'Usage: npm run bootstrap -- account <prod|sandboxes> [--region <region>]...  |  npm run bootstrap -- stage <stage> [--param=secondary-region=<region>]';

interface Step {
  stackName: string;
  region: string;
  template: Template;
  tags: string[];
  /** Termination protection on the bootstrap stack: what a shared stage or the account stands on is never deleted by mistake. */
  protect: boolean;
}

function regionsFromArgv(argv: readonly string[]): string[] {
  const regions: string[] = [];
  argv.forEach((arg, index) => {
    const value = arg === '--region' ? argv[index + 1] : arg.startsWith('--region=') ? arg.slice('--region='.length) : undefined;
    if (value === undefined) return;
    if (!isAwsRegion(value)) throw new StageError(`--region ${value} is not an AWS region code, e.g. ap-southeast-1.`);
    regions.push(value);
  });
  return regions;
}

/** The steps of one bootstrap command, and the account they must run in. */
export function bootstrapSteps(argv: readonly string[]): { account: string; steps: Step[] } {
  const [kind, name] = argv;
  if (kind === 'account') {
    const team = teamSettings();
    if (name === 'sandboxes') {
      const home = team.sandboxHomeRegion;
      const regions = [home, ...regionsFromArgv(argv).filter((region) => region !== home)];
      return { account: team.sandboxAccount, steps: accountSteps(regions, 'sandbox') };
    }
    if (name && isSharedStage(name)) {
      return { account: team.sharedStages[name].account, steps: accountSteps(settingsFor(name).regions, 'shared-stage') };
    }
    throw new StageError(`Which account? Name a shared stage (${Object.keys(team.sharedStages).join(', ')}) or "sandboxes". ${usage}`);
  }
  if (kind === 'stage' && name) {
    const secondaryRegion = paramFromArgv(argv, secondaryRegionParam);
    const settings = settingsFor(name, secondaryRegion === undefined ? {} : { secondaryRegion });
    // A stage that fails over also deploys its failover control stack in us-east-1 (resources/failover-control.ts).
    const regions = [...settings.regions, ...(failsOver(settings) ? [failoverControlRegion] : [])];
    const steps = regions.map((region, index) => ({
      stackName: stageStackName(settings.stage),
      region,
      template: stageTemplate(settings, region, { global: index === 0 }),
      tags: [`app=${app}`, `stage=${settings.stage}`],
      protect: settings.retainData,
    }));
    return { account: settings.accountId, steps };
  }
  throw new StageError(usage);
}

function accountSteps(regions: string[], deployer: DeployerKind): Step[] {
  return regions.map((region, index) => ({
    stackName: accountStackName,
    region,
    template: accountTemplate({ global: index === 0, deployer }),
    tags: [`app=${app}`],
    protect: true,
  }));
}

function main() {
  const { account, steps } = bootstrapSteps(process.argv.slice(2));
  const folder = join(__dirname, '..', '.bootstrap');
  mkdirSync(folder, { recursive: true });
  const lines = [`As an administrator of account ${account} (check: aws sts get-caller-identity), run:`, ''];
  for (const step of steps) {
    const file = join(folder, `${step.stackName}.${step.region}.json`);
    writeFileSync(file, `${JSON.stringify(step.template, null, 2)}\n`);
    lines.push(
      `aws cloudformation deploy --region ${step.region} --stack-name ${step.stackName} --template-file ${file} \\`,
      `  --capabilities CAPABILITY_NAMED_IAM --tags ${step.tags.join(' ')}`,
      ...(step.protect
        ? [
            `aws cloudformation update-termination-protection --region ${step.region} --stack-name ${step.stackName} --enable-termination-protection`,
          ]
        : []),
    );
  }
  lines.push('', 'Idle cost: 0 USD (IAM is free; the deployment buckets hold a few MB of artifacts).');
  console.log(lines.join('\n'));
}

if (require.main === module) {
  try {
    main();
  } catch (error) {
    console.error((error as Error).message);
    process.exitCode = 1;
  }
}
