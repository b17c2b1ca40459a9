import type { CancelledTimer, ScheduledTimer } from '../core/Effects';
import { InvalidInputError } from '../core/errors';
import { type Clock, systemClock } from '../core/ports/Clock';
import { DEFAULT_SHORT_DELAY_MAX_MS, takesShortDelayPath } from '../core/timerDelivery';
import type { DelayScheduler } from './DelayScheduler';

/** Options of {@link RoutingDelayScheduler}: at least one of `long` and `short`. */
export interface RoutingDelaySchedulerOptions {
  /** For delays longer than `shortMaxMs` (EventBridge Scheduler). */
  readonly long?: DelayScheduler;
  /** For delays up to `shortMaxMs` (the SQS delay queue). */
  readonly short?: DelayScheduler;
  /** @default - 15 minutes */
  readonly shortMaxMs?: number;
  /** @default - the system clock */
  readonly clock?: Clock;
}

/**
 * Routes each timer by the time left when it is relayed: up to `shortMaxMs` to `short`
 * (second precision), longer to `long` (minute precision, no size limit on the wait). With
 * only one of them, everything goes there. Cancellations go to `long` only: `short` (SQS)
 * needs none, the owner's pending set drops a cancelled timer on arrival.
 *
 * @example
 * const delays = new RoutingDelayScheduler({
 *   long: new SchedulerDelayScheduler({ client, groupName, roleArn, messageStreamArn }),
 *   short: new SqsDelayScheduler({ sqs, queueUrl }),
 * });
 */
export class RoutingDelayScheduler implements DelayScheduler {
  private readonly shortMaxMs: number;
  private readonly clock: Clock;

  constructor(private readonly options: RoutingDelaySchedulerOptions) {
    if (!options.long && !options.short) throw new InvalidInputError('RoutingDelayScheduler: give a long (Scheduler) or short (SQS) delay scheduler, or both');
    this.shortMaxMs = options.shortMaxMs ?? DEFAULT_SHORT_DELAY_MAX_MS;
    this.clock = options.clock ?? systemClock;
  }

  async schedule(timers: readonly ScheduledTimer[]): Promise<void> {
    const now = this.clock.now();
    const short: ScheduledTimer[] = [];
    const long: ScheduledTimer[] = [];
    for (const timer of timers) {
      const useShort = this.options.short && (!this.options.long || takesShortDelayPath(timer.dueAtMs, now, this.shortMaxMs));
      (useShort ? short : long).push(timer);
    }
    if (short.length > 0) await this.options.short!.schedule(short);
    if (long.length > 0) await this.options.long!.schedule(long);
  }

  async cancel(timers: readonly CancelledTimer[]): Promise<void> {
    if (this.options.long) await this.options.long.cancel(timers);
    else await this.options.short!.cancel(timers);
  }
}
