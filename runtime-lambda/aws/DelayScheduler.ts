import type { CancelledTimer, ScheduledTimer } from '../core/Effects';

/**
 * Where the relay hands delayed messages (port): EventBridge Scheduler one-time schedules,
 * or an SQS delay queue for short delays. Both calls must be idempotent: a schedule's name
 * is derived from its timer id, so scheduling one twice, or cancelling one that already
 * fired or never existed, is a no-op. Cancellation needs no more than best effort here: the
 * owner's state already dropped the timer id, so a delivery that fires anyway is discarded.
 *
 * A fired timer puts `timer.envelope` back on the message stream (a bundle to its owner).
 */
export interface DelayScheduler {
  schedule(timers: readonly ScheduledTimer[]): Promise<void>;
  cancel(timers: readonly CancelledTimer[]): Promise<void>;
}
