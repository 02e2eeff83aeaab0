// A stage in two regions, as the CLI builds it: the home stack owns the global resources, the
// regional stack of the secondary region what serves there when home is down, and no table.
import { describe, expect, it } from 'vitest';
import { optedInSandbox, readTemplate, secondaryRegionOptIn, sls } from './package-stage';
import { resourcesOfType } from './template';

const secondary = 'ap-southeast-1';

describe.each([
  ['prod', []],
  [optedInSandbox, [secondaryRegionOptIn]],
])('stage %s in two regions', (stage) => {
  const home = readTemplate(stage);
  const regional = readTemplate(`${stage}.${secondary}`);

  it('keeps every table in the home stack, with a replica in the secondary region', () => {
    for (const table of Object.values(resourcesOfType(home, 'AWS::DynamoDB::GlobalTable'))) {
      expect(table.Properties.Replicas.map((replica: { Region: unknown }) => replica.Region)).toEqual([
        { 'Fn::Sub': '${AWS::Region}' },
        secondary,
      ]);
    }
    expect(Object.values(regional.Resources).filter((resource) => resource.Type.startsWith('AWS::DynamoDB::'))).toEqual([]);
  });

  it('gives the secondary region its own passes load FIFO queue and dead-letter queue', () => {
    const queues = resourcesOfType(regional, 'AWS::SQS::Queue');
    expect(Object.values(queues).map((queue) => queue.Properties.QueueName)).toEqual([
      `movement-pass-${stage}-passes-load-dlq.fifo`,
      `movement-pass-${stage}-passes-load.fifo`,
    ]);
    expect(regional.Resources.PassesLoadQueue.Properties.RedrivePolicy.deadLetterTargetArn).toEqual({
      'Fn::GetAtt': ['PassesLoadDeadLetterQueue', 'Arn'],
    });
  });

  it('serves the JWKS from the secondary region too', () => {
    expect(Object.keys(resourcesOfType(regional, 'AWS::ApiGateway::RestApi'))).toEqual(['ApiGatewayRestApi']);
    expect(regional.Resources.JwksMethod.Properties.Integration.Type).toBe('MOCK');
  });
});

describe('a region outside the stage', () => {
  it('is refused before anything runs, naming the stage regions', () => {
    const result = sls(['package', '--stage', 'prod', '--region', 'eu-west-1']);
    expect(result.status).not.toBe(0);
    expect(result.output).toContain('Stage "prod" runs in ap-south-1 (home), ap-southeast-1, not eu-west-1');
  });

  it("is refused for a sandbox's secondary region unless the sandbox opts in", () => {
    const result = sls(['package', '--stage', 'carol', '--region', secondary]);
    expect(result.status).not.toBe(0);
    expect(result.output).toContain(`Stage "carol" runs in ap-south-1 (home), not ${secondary}`);
    expect(result.output).toContain(`--param=secondary-region=${secondary}`);
  });
});
