// Custom::ApiGatewayCloudWatchRole: API Gateway writes an API's logs with one role per account
// and region (the account's `cloudwatchRoleArn`). This resource sets it only where none is set,
// so another team's role is never replaced, and leaves it on Delete: every API of the account
// and region logs through it, not only this stack's.
// https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-logging.html
import { type APIGatewayClient, GetAccountCommand, UpdateAccountCommand } from '@aws-sdk/client-api-gateway';
import type { CustomResourceEvent, CustomResourceResult, Logger } from '../lib/custom-resource';

export interface AccountRoleDeps {
  apiGateway: Pick<APIGatewayClient, 'send'>;
  logger: Logger;
  sleep?: (ms: number) => Promise<void>;
  /** A new role takes a few seconds to be usable by API Gateway: UpdateAccount is retried this many times. */
  attempts?: number;
}

/** Stable: there is one such setting per account and region. */
export const accountSettingId = 'apigateway-account-cloudwatch-role';

const roleArnPattern = /^arn:aws[\w-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/;

export function apiGatewayAccountRole(deps: AccountRoleDeps) {
  const { apiGateway, logger } = deps;
  const sleep = deps.sleep ?? ((ms: number) => new Promise((resolve) => setTimeout(resolve, ms)));
  const attempts = deps.attempts ?? 8;

  async function setRole(roleArn: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await apiGateway.send(
          new UpdateAccountCommand({ patchOperations: [{ op: 'replace', path: '/cloudwatchRoleArn', value: roleArn }] }),
        );
        return;
      } catch (error) {
        // "The role ARN does not have required permissions set to API Gateway" until IAM has propagated.
        const retriable =
          (error as { name?: string })?.name === 'BadRequestException' || (error as { name?: string })?.name === 'TooManyRequestsException';
        if (!retriable || attempt >= attempts) throw error;
        logger.info('role not usable yet, retrying', { attempt });
        await sleep(Math.min(2000 * attempt, 10_000));
      }
    }
  }

  return async function onEvent(event: CustomResourceEvent): Promise<CustomResourceResult> {
    if (event.RequestType === 'Delete') {
      logger.info('left the account CloudWatch role in place: other APIs of the account may log through it');
      return { physicalResourceId: event.PhysicalResourceId };
    }
    const roleArn = event.ResourceProperties.RoleArn;
    if (typeof roleArn !== 'string' || !roleArnPattern.test(roleArn)) {
      throw new Error(`RoleArn must be an IAM role ARN, arn:aws:iam::<account>:role/<name> (got ${JSON.stringify(roleArn)})`);
    }
    const current = (await apiGateway.send(new GetAccountCommand({}))).cloudwatchRoleArn;
    if (current) {
      logger.info('kept the CloudWatch role already set for the account', { cloudwatchRoleArn: current });
      return { physicalResourceId: accountSettingId, data: { CloudWatchRoleArn: current, SetByThisStack: String(current === roleArn) } };
    }
    await setRole(roleArn);
    logger.info('set the account CloudWatch role', { cloudwatchRoleArn: roleArn });
    return { physicalResourceId: accountSettingId, data: { CloudWatchRoleArn: roleArn, SetByThisStack: 'true' } };
  };
}
