import type { DeadLetter } from '../core/AddressState';
import type { Effects, EgressRecord } from '../core/Effects';
import type { Clock } from '../core/ports/Clock';
import type { EffectSink } from '../core/ports/EffectSink';
import type { LocalLog } from './LocalLog';
import type { TimerQueue } from './TimerQueue';

/** Receives the records of one egress. */
export type EgressHandler = (record: EgressRecord) => void | Promise<void>;

/**
 * The local runtime's {@link EffectSink}: messages onto the in-process log keyed by target,
 * timers onto the timer queue (idempotent by timer id, like a schedule named after it),
 * egress records to their handlers, dead letters to `onDeadLetter`. A record for an egress
 * that has no handler becomes a dead letter rather than vanishing.
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
      if (handler) {
        await handler(record);
        continue;
      }
      this.onDeadLetter({
        id: record.id,
        address: record.egress,
        egressRecord: record,
        reason: `no egress named "${record.egress}" is configured: configured egresses are ${Object.keys(this.egresses).join(', ') || 'none'}`,
        atMs: this.clock.now(),
      });
    }
    for (const deadLetter of effects.deadLetters) this.onDeadLetter(deadLetter);
  }
}
