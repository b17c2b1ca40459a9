import { InvalidInputError } from '../core/errors';
import type { Clock } from '../core/ports/Clock';

/** How many moves a {@link SimulatedClock} remembers for {@link SimulatedClock.timeAt}. */
const REMEMBERED_MOVES = 4096;

/**
 * A clock that moves only when told to: delayed messages of days fire in microseconds,
 * and runs are reproducible. Time never goes backwards.
 */
export class SimulatedClock implements Clock {
  private current: number;
  /** `[wall-clock ms, simulated ms]` at each move, oldest first (the last {@link REMEMBERED_MOVES}). */
  private readonly moves: [number, number][];

  constructor(startMs = Date.UTC(2026, 0, 1)) {
    this.current = startMs;
    this.moves = [[Date.now(), startMs]];
  }

  now(): number {
    return this.current;
  }

  /** Moves to `timeMs`; moving backwards is an error. */
  set(timeMs: number): void {
    if (!Number.isFinite(timeMs) || timeMs < this.current) {
      throw new InvalidInputError(
        `cannot move the simulated clock from ${new Date(this.current).toISOString()} back to ${timeMs}: time only moves forward`,
      );
    }
    if (timeMs === this.current) return;
    this.current = timeMs;
    this.moves.push([Date.now(), timeMs]);
    if (this.moves.length > REMEMBERED_MOVES) this.moves.shift();
  }

  /**
   * The simulated time this clock showed at the wall-clock moment `wallClockMs`: what an
   * emulator stamped on a record (it knows only the wall clock) means on this clock. A moment
   * before the oldest remembered move reads as that move's time.
   */
  timeAt(wallClockMs: number): number {
    for (let i = this.moves.length - 1; i > 0; i--) {
      if (this.moves[i]![0] <= wallClockMs) return this.moves[i]![1];
    }
    return this.moves[0]![1];
  }
}
