import { InvalidInputError } from '../core/errors';
import type { Clock } from '../core/ports/Clock';

/**
 * A clock that moves only when told to: delayed messages of days fire in microseconds,
 * and runs are reproducible. Time never goes backwards.
 */
export class SimulatedClock implements Clock {
  private current: number;

  constructor(startMs = Date.UTC(2026, 0, 1)) {
    this.current = startMs;
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
    this.current = timeMs;
  }
}
