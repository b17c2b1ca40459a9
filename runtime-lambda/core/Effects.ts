import type { Address } from './Address';
import type { DeadLetter } from './AddressState';
import type { Envelope } from './Envelope';
import type { TypedValue } from './TypedValue';

/** A record for an egress, carrying its deterministic id for consumers that deduplicate. */
export interface EgressRecord {
  readonly id: string;
  /** The egress, `namespace/type`. */
  readonly egress: string;
  readonly argument: TypedValue;
}

/** A delayed message to schedule: `envelope` (origin `timer`) is delivered at `dueAtMs`. */
export interface ScheduledTimer {
  readonly timerId: string;
  readonly dueAtMs: number;
  readonly envelope: Envelope;
}

/** A schedule to delete: the timer was cancelled in the committing batch. */
export interface CancelledTimer {
  readonly timerId: string;
  readonly owner: Address;
}

/**
 * Everything a committed batch makes happen outside its own state. Committed atomically
 * with the state, then relayed at least once: messages reach their receivers through inbox
 * entries (applied once each), egress records carry deterministic ids.
 */
export interface Effects {
  readonly messages: readonly Envelope[];
  readonly timers: readonly ScheduledTimer[];
  readonly cancelledTimers: readonly CancelledTimer[];
  readonly egress: readonly EgressRecord[];
  readonly deadLetters: readonly DeadLetter[];
}

/** No effects. */
export const NO_EFFECTS: Effects = Object.freeze({
  messages: [],
  timers: [],
  cancelledTimers: [],
  egress: [],
  deadLetters: [],
});

/** Whether a batch produced anything to relay. */
export function hasEffects(effects: Effects): boolean {
  return (
    effects.messages.length > 0 ||
    effects.timers.length > 0 ||
    effects.cancelledTimers.length > 0 ||
    effects.egress.length > 0 ||
    effects.deadLetters.length > 0
  );
}
