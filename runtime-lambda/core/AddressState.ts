import type { Address } from './Address';
import type { EgressRecord } from './Effects';
import type { Envelope } from './Envelope';
import type { Expiration } from './ValueSpec';

/** One stored state value with what its expiry needs. */
export interface StoredValue {
  readonly typename: string;
  readonly value: Uint8Array;
  readonly expiration?: Expiration;
  /** Last write (after-write) or last invocation (after-invoke), epoch ms. */
  readonly touchedAtMs: number;
}

/** The last position applied from one ordered source, and when it was applied. */
export interface Mark {
  readonly position: string;
  readonly atMs: number;
}

/**
 * A delayed message the address scheduled and that has not fired or been cancelled. The
 * timer fires as `envelope` (origin `timer`) at this address, which applies it only while
 * it is still pending here: that is what makes cancellation exact.
 */
export interface PendingTimer {
  readonly dueAtMs: number;
  readonly cancellationToken?: string;
  /**
   * The state version of the commit that scheduled it: where its message is kept (the
   * outbox item of that commit), so a timer whose delivery was lost can still be fired from
   * here by the reconciler. Absent on timers scheduled before it was recorded.
   */
  readonly version?: number;
}

/**
 * An address whose function failed transiently (unavailable, throttled, timed out): its
 * messages wait, parked in its inbox, and are tried again, in order, at `retryAtMs`, until
 * the retry budget counted from `sinceMs` is spent (see `docs/operations.md`).
 */
export interface Backoff {
  /** When the first failed attempt of this episode ran, epoch ms. */
  readonly sinceMs: number;
  /** Failed attempts so far in this episode. */
  readonly attempts: number;
  /** When the next attempt is due, epoch ms. */
  readonly retryAtMs: number;
  /** Why the last attempt failed, for operators (shortened to {@link MAX_BACKOFF_ERROR_CHARS}). */
  readonly lastError: string;
  /** The pending timer (in `timers`) that triggers the next attempt. */
  readonly timerId: string;
}

/** The longest `Backoff.lastError` kept in the state item. */
export const MAX_BACKOFF_ERROR_CHARS = 1000;

/**
 * Everything durable about one address: its state values, its idempotency marks and its
 * pending timers, under an optimistic-concurrency `version` (0 = never written).
 */
export interface AddressState {
  readonly address: Address;
  readonly version: number;
  /** When the state was first created (epoch ms): the high part of sender positions. */
  readonly epochMs: number;
  readonly values: ReadonlyMap<string, StoredValue>;
  readonly marks: ReadonlyMap<string, Mark>;
  readonly timers: ReadonlyMap<string, PendingTimer>;
  /**
   * Keys of inbox entries (`InboxEntry`) this address has applied and whose removal
   * from its inbox is not yet confirmed: an entry still in the inbox and listed here is a
   * duplicate. At most one commit's worth of entries, whatever the number of senders.
   */
  readonly inboxApplied: ReadonlySet<string>;
  /** Set while the address backs off after transient failures; its messages are parked meanwhile. */
  readonly backoff?: Backoff;
}

/** The state of an address that was never written. */
export function emptyState(address: Address): AddressState {
  return { address, version: 0, epochMs: 0, values: new Map(), marks: new Map(), timers: new Map(), inboxApplied: NO_KEYS };
}

const NO_KEYS: ReadonlySet<string> = new Set();

/**
 * Whether `state` holds nothing a function can see or wait for, nor inbox entries still to
 * clear: no values, no pending timers, no applied inbox entries, no backoff. Such an address is kept
 * only as a tombstone of its marks until the duplicate window has passed (see
 * `docs/exactly-once.md`).
 */
export function isEmptyState(state: AddressState): boolean {
  return state.values.size === 0 && state.timers.size === 0 && state.inboxApplied.size === 0 && state.backoff === undefined;
}

/**
 * The latest moment the state records (epoch ms): its creation, a mark applied, a value
 * written or touched. The dispatcher stamps these with its clock when it runs the batch, so
 * for a committed state this is the commit's time (or, for a batch that only fired a timer
 * and changed no value, the last time before it). A pure function of the state: a retried
 * commit gets the same answer.
 */
export function latestTimeMs(state: AddressState): number {
  let latest = state.epochMs;
  for (const mark of state.marks.values()) latest = Math.max(latest, mark.atMs);
  for (const value of state.values.values()) latest = Math.max(latest, value.touchedAtMs);
  return latest;
}

/**
 * A message that could not be applied, or an egress record that could not be delivered,
 * kept whole with its reason so it can be inspected and redriven.
 */
export type DeadLetter = {
  readonly id: string;
  /** The address (or, for an egress record, the egress) it was meant for. */
  readonly address: string;
  readonly reason: string;
  readonly atMs: number;
  /**
   * Set on the stub of a dead letter too large for what carries it: the whole dead letter,
   * as JSON, is at this reference of the payload store (`offloadDeadLetter`), and the stub's
   * message has no value.
   */
  readonly payloadRef?: string;
} & ({ readonly envelope: Envelope } | { readonly egressRecord: EgressRecord });
