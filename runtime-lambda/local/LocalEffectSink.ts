import type { DeadLetter } from '../core/AddressState';
import type { Effects, EgressRecord } from '../core/Effects';
import { describeError } from '../core/errors';
import type { Clock } from '../core/ports/Clock';
import type { EffectSink } from '../core/ports/EffectSink';
import type { LocalLog } from './LocalLog';
import type { TimerQueue } from './TimerQueue';

/**
 * Receives the records of one egress. A handler that throws (or rejects) refuses the
 * record: it becomes a dead letter whose reason is the error's message.
 */
export type EgressHandler = (record: EgressRecord) => void | Promise<void>;

/**
 * The local runtime's {@link EffectSink}: messages onto the in-process log keyed by target,
 * timers onto the timer queue (idempotent by timer id, like a schedule named after it),
 * egress records to their handlers, dead letters to `onDeadLetter`. A record for an egress
 * that has no handler, or that its handler refuses (throws), becomes a dead letter rather
 * than vanishing.
 */
export class LocalEffectSink implements EffectSink {
  constructor(
    private readonly log: LocalLog,
    private readonly timers: TimerQueue,
    private readonly egresses: Readonly<Record<string, EgressHandler>>,
    private readonly onDeadLetter: (deadLetter: DeadLetter) => void,
    private readonly clock: Clock,
  ) {}

  async publish(effects: Effects): Promise<void> {
    for (const message of effects.messages) this.log.append(message.target.key, () => message);
    for (const cancelled of effects.cancelledTimers) this.timers.cancel(cancelled.timerId);
    for (const timer of effects.timers) this.timers.schedule(timer);
    for (const record of effects.egress) {
      const handler = this.egresses[record.egress];
      if (handler === undefined) {
        this.deadEgress(record, `no egress named "${record.egress}" is configured: configured egresses are ${Object.keys(this.egresses).join(', ') || 'none'}`);
        continue;
      }
      try {
        await handler(record);
      } catch (error) {
        this.deadEgress(record, `egress "${record.egress}" refused the record: ${describeError(error)}`);
      }
    }
    for (const deadLetter of effects.deadLetters) this.onDeadLetter(deadLetter);
  }

  private deadEgress(record: EgressRecord, reason: string): void {
    this.onDeadLetter({ id: record.id, address: record.egress, egressRecord: record, reason, atMs: this.clock.now() });
  }
}
