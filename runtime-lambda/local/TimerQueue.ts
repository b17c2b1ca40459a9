import type { ScheduledTimer } from '../core/Effects';
import type { Clock } from '../core/ports/Clock';
import { DEFAULT_SHORT_DELAY_MAX_MS, deliveryTimeMs } from '../core/timerDelivery';

/**
 * When the local runtime delivers a timer:
 * - `aws` (the default): as the AWS paths would at the earliest, see
 *   `core/timerDelivery.ts`: whole seconds for a delay of up to `shortDelayMaxMs` (the SQS
 *   delay queue), the due time rounded up to a whole minute beyond it (EventBridge
 *   Scheduler);
 * - `exact`: at its due time, to the millisecond.
 */
export interface TimerDeliveryOptions {
  /** @default 'aws' */
  readonly precision?: 'aws' | 'exact';
  /** Time left up to which a timer takes the SQS path under `aws`. @default - 15 minutes */
  readonly shortDelayMaxMs?: number;
}

interface Entry {
  readonly timer: ScheduledTimer;
  /** When it is delivered: its due time under `exact`, the AWS delivery time under `aws`. */
  readonly fireAtMs: number;
  readonly seq: number;
}

/**
 * Pending delayed messages ordered by delivery time (then by scheduling order), keyed by
 * timer id so that scheduling the same timer twice (an at-least-once relay) is a no-op, as a
 * Scheduler schedule named after the timer id is.
 */
export class TimerQueue {
  private readonly byId = new Map<string, Entry>();
  private heap: Entry[] = [];
  private seq = 0;
  private readonly exact: boolean;
  private readonly shortDelayMaxMs: number;

  /** `clock` tells when a timer is relayed, which decides its path and delivery time under `aws`. */
  constructor(
    private readonly clock: Clock,
    delivery: TimerDeliveryOptions = {},
  ) {
    this.exact = delivery.precision === 'exact';
    this.shortDelayMaxMs = delivery.shortDelayMaxMs ?? DEFAULT_SHORT_DELAY_MAX_MS;
  }

  schedule(timer: ScheduledTimer): void {
    if (this.byId.has(timer.timerId)) return;
    this.restore(timer, this.exact ? timer.dueAtMs : deliveryTimeMs(timer.dueAtMs, this.clock.now(), this.shortDelayMaxMs));
  }

  /** The live timers with their delivery times, in no particular order. */
  entries(): { readonly timer: ScheduledTimer; readonly fireAtMs: number }[] {
    return [...this.byId.values()].map(({ timer, fireAtMs }) => ({ timer, fireAtMs }));
  }

  /** Puts back a timer taken with {@link entries}, keeping its delivery time. */
  restore(timer: ScheduledTimer, fireAtMs: number): void {
    if (this.byId.has(timer.timerId)) return;
    const entry = { timer, fireAtMs, seq: this.seq++ };
    this.byId.set(timer.timerId, entry);
    this.heap.push(entry);
    this.siftUp(this.heap.length - 1);
  }

  /** Deletes a pending timer; an unknown id (already fired) is a no-op. */
  cancel(timerId: string): void {
    this.byId.delete(timerId);
  }

  /** The delivery time of the earliest live timer, or `undefined` when none is pending. */
  nextDueAt(): number | undefined {
    this.dropCancelledTop();
    return this.heap[0]?.fireAtMs;
  }

  /** Removes and returns every live timer delivered at or before `timeMs`, earliest first. */
  takeDue(timeMs: number): ScheduledTimer[] {
    const due: ScheduledTimer[] = [];
    for (;;) {
      this.dropCancelledTop();
      const top = this.heap[0];
      if (top === undefined || top.fireAtMs > timeMs) return due;
      this.pop();
      this.byId.delete(top.timer.timerId);
      due.push(top.timer);
    }
  }

  get size(): number {
    return this.byId.size;
  }

  private dropCancelledTop(): void {
    while (this.heap.length > 0 && this.byId.get(this.heap[0]!.timer.timerId) !== this.heap[0]) this.pop();
  }

  private less(i: number, j: number): boolean {
    const a = this.heap[i]!;
    const b = this.heap[j]!;
    return a.fireAtMs < b.fireAtMs || (a.fireAtMs === b.fireAtMs && a.seq < b.seq);
  }

  private pop(): void {
    const last = this.heap.pop()!;
    if (this.heap.length === 0) return;
    this.heap[0] = last;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < this.heap.length && this.less(left, smallest)) smallest = left;
      if (right < this.heap.length && this.less(right, smallest)) smallest = right;
      if (smallest === i) return;
      [this.heap[i], this.heap[smallest]] = [this.heap[smallest]!, this.heap[i]!];
      i = smallest;
    }
  }

  private siftUp(index: number): void {
    let i = index;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) return;
      [this.heap[i], this.heap[parent]] = [this.heap[parent]!, this.heap[i]!];
      i = parent;
    }
  }
}
