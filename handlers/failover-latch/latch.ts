// The failover latch: when the home region's health check alarm goes from OK to ALARM (Route 53
// has moved `public-api` to the secondary region), it closes the failover gate, a calculated
// health check with no child that is always healthy until inverted. The routing check of the
// PRIMARY record is AND(home endpoint, gate): with the gate closed, traffic stays in the
// secondary region when home recovers, until an operator runs `sls failover --to home`.
// Any other transition (the first data of a new alarm, ALARM -> OK) changes nothing.
import type { SNSEvent } from 'aws-lambda';
import type { Logger } from '../lib/custom-resource';

export interface AlarmNotification {
  AlarmName: string;
  NewStateValue: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
  OldStateValue: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
  NewStateReason?: string;
}

export interface LatchDependencies {
  /** Reads whether the gate is closed (inverted) now. */
  isGateClosed(gateId: string): Promise<boolean>;
  closeGate(gateId: string): Promise<void>;
  logger: Logger;
}

export interface LatchSettings {
  gateId: string;
  /** The only alarm whose notifications close the gate. */
  alarmName: string;
}

/** The latch settings from the function's environment (resources/failover-control.ts sets them). */
export function latchSettings(environment: NodeJS.ProcessEnv): LatchSettings {
  const gateId = environment.FAILOVER_GATE_ID;
  const alarmName = environment.HOME_DOWN_ALARM_NAME;
  if (!gateId || !alarmName) throw new Error('FAILOVER_GATE_ID and HOME_DOWN_ALARM_NAME must be set (resources/failover-control.ts)');
  return { gateId, alarmName };
}

export type LatchOutcome = 'closed' | 'already-closed' | 'ignored';

/** The handler; `settings` are read on the first event, so importing the entry reads nothing. */
export function failoverLatch(readSettings: () => LatchSettings, dependencies: LatchDependencies) {
  return async (event: SNSEvent): Promise<LatchOutcome[]> => {
    const settings = readSettings();
    const outcomes: LatchOutcome[] = [];
    for (const record of event.Records) {
      const notification = parseNotification(record.Sns.Message);
      if (notification?.AlarmName !== settings.alarmName) {
        dependencies.logger.info('not the home region alarm: ignored', { alarm: notification?.AlarmName });
        outcomes.push('ignored');
        continue;
      }
      if (notification.NewStateValue !== 'ALARM' || notification.OldStateValue !== 'OK') {
        // INSUFFICIENT_DATA -> ALARM is a new alarm over a region not serving yet: no failover happened.
        dependencies.logger.info('not a failover: gate unchanged', { from: notification.OldStateValue, to: notification.NewStateValue });
        outcomes.push('ignored');
        continue;
      }
      if (await dependencies.isGateClosed(settings.gateId)) {
        dependencies.logger.info('gate already closed', { gate: settings.gateId });
        outcomes.push('already-closed');
        continue;
      }
      // A failure throws: Lambda retries the SNS delivery twice, and the stack's alarm on the
      // function's errors tells the stage that failback would be automatic.
      await dependencies.closeGate(settings.gateId);
      dependencies.logger.info('home region failed over: gate closed, traffic stays away until `sls failover --to home`', {
        gate: settings.gateId,
        reason: notification.NewStateReason,
      });
      outcomes.push('closed');
    }
    return outcomes;
  };
}

function parseNotification(message: string): AlarmNotification | undefined {
  try {
    const parsed = JSON.parse(message);
    return typeof parsed?.AlarmName === 'string' ? parsed : undefined;
  } catch {
    return undefined;
  }
}
