import type { ScheduledTimer } from '../core/Effects';

/**
 * Pending delayed messages ordered by due time (then by scheduling order), keyed by timer
 * id so that scheduling the same timer twice (an at-least-once relay) is a no-op, as a
 * Scheduler schedule named after the timer id is.
 */
export class TimerQueue {
  private readonly byId = new Map<string, { timer: ScheduledTimer; seq: number }>();
  private heap: { timer: ScheduledTimer; seq: number }[] = [];
  private seq = 0;

  schedule(timer: ScheduledTimer): void {
    if (this.byId.has(timer.timerId)) return;
    const entry = { timer, seq: this.seq++ };
    this.byId.set(timer.timerId, entry);
    this.heap.push(entry);
    this.siftUp(this.heap.length - 1);
  }

  /** Deletes a pending timer; an unknown id (already fired) is a no-op. */
  cancel(timerId: string): void {
    this.byId.delete(timerId);
  }

  /** The due time of the earliest live timer, or `undefined` when none is pending. */
  nextDueAt(): number | undefined {
    this.dropCancelledTop();
    return this.heap[0]?.timer.dueAtMs;
  }

  /** Removes and returns every live timer due at or before `timeMs`, earliest first. */
  takeDue(timeMs: number): ScheduledTimer[] {
    const due: ScheduledTimer[] = [];
    for (;;) {
      this.dropCancelledTop();
      const top = this.heap[0];
      if (top === undefined || top.timer.dueAtMs > timeMs) return due;
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
    return a.timer.dueAtMs < b.timer.dueAtMs || (a.timer.dueAtMs === b.timer.dueAtMs && a.seq < b.seq);
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
