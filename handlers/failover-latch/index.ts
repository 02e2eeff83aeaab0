// Lambda entry of the failover latch: the Route 53 client is built once, at cold start, with no
// network call; the logic lives in latch.ts.
import { GetHealthCheckCommand, Route53Client, UpdateHealthCheckCommand } from '@aws-sdk/client-route-53';
import { jsonLogger } from '../lib/custom-resource';
import { failoverLatch, latchSettings } from './latch';

const route53 = new Route53Client({});

export const handler = failoverLatch(() => latchSettings(process.env), {
  async isGateClosed(gateId) {
    const { HealthCheck } = await route53.send(new GetHealthCheckCommand({ HealthCheckId: gateId }));
    return HealthCheck?.HealthCheckConfig?.Inverted === true;
  },
  async closeGate(gateId) {
    await route53.send(new UpdateHealthCheckCommand({ HealthCheckId: gateId, Inverted: true }));
  },
  logger: jsonLogger,
});
