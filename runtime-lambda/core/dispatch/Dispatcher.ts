import type { Address } from '../Address';
import type { AddressState } from '../AddressState';
import type { Envelope } from '../Envelope';
import { CommitTooLargeError, StateConflictError, describeError, ensureError } from '../errors';
import type { Clock } from '../ports/Clock';
import type { FunctionResolver } from '../ports/FunctionEndpoint';
import type { StateStore } from '../ports/StateStore';
import { FunctionInvoker } from './FunctionInvoker';
import { planBatch } from './planBatch';
import { type BackoffPolicy, type Sleep, realSleep } from './retry';

/** Options of a {@link Dispatcher}; everything but the ports has a default. */
export interface DispatcherOptions {
  readonly store: StateStore;
  readonly functions: FunctionResolver;
  readonly clock: Clock;
  /** @default - 3 attempts, 50 ms base, 2 s cap: then the messages become dead letters */
  readonly invokeRetry?: BackoffPolicy;
  /** @default - 8 attempts: a commit that loses the version race reloads and re-runs */
  readonly maxCommitAttempts?: number;
  /** @default 64 addresses invoked at once */
  readonly concurrency?: number;
  /** @default - 7 days: marks idle longer are pruned; keep above the longest redelivery delay */
  readonly markRetentionMs?: number;
  /** @default - real timers */
  readonly sleep?: Sleep;
}

/** The outcome of one dispatched batch. */
export interface DispatchOutcome {
  /** Messages applied to their address's state. */
  readonly applied: number;
  /** Messages recognised as already applied (re-delivery) and dropped. */
  readonly duplicates: number;
  /** Messages that ended as dead letters (committed as effects). */
  readonly deadLettered: number;
  /** Addresses whose commit did not happen: their messages must be delivered again. */
  readonly failures: readonly DispatchFailure[];
}

/** An address whose messages were not committed, with why. */
export interface DispatchFailure {
  readonly address: Address;
  readonly envelopes: readonly Envelope[];
  readonly error: Error;
}

const DEFAULT_INVOKE_RETRY: BackoffPolicy = { maxAttempts: 3, baseDelayMs: 50, maxDelayMs: 2000 };
const SEVEN_DAYS_MS = 7 * 24 * 3600 * 1000;

/**
 * The dispatch algorithm, the same in the Lambda, the local runtime and tests: group a
 * batch by address keeping order, load every address's state in one round, invoke each
 * address once with all its pending messages (addresses in parallel), and commit state and
 * effects atomically per address. A commit that loses the version race is re-run from the
 * fresh state; a re-delivered batch changes nothing.
 *
 * @example
 * const dispatcher = new Dispatcher({ store, functions, clock: systemClock });
 * const outcome = await dispatcher.dispatch(envelopes);
 * if (outcome.failures.length > 0) // redeliver those envelopes
 */
export class Dispatcher {
  private readonly store: StateStore;
  private readonly clock: Clock;
  private readonly invoker: FunctionInvoker;
  private readonly maxCommitAttempts: number;
  private readonly concurrency: number;
  private readonly markRetentionMs: number;

  constructor(options: DispatcherOptions) {
    this.store = options.store;
    this.clock = options.clock;
    this.invoker = new FunctionInvoker(options.functions, options.invokeRetry ?? DEFAULT_INVOKE_RETRY, options.sleep ?? realSleep);
    this.maxCommitAttempts = options.maxCommitAttempts ?? 8;
    this.concurrency = options.concurrency ?? 64;
    this.markRetentionMs = options.markRetentionMs ?? SEVEN_DAYS_MS;
  }

  /** Dispatches `batch`; envelopes of one address are applied in batch order. */
  async dispatch(batch: readonly Envelope[]): Promise<DispatchOutcome> {
    const groups = groupByAddress(batch);
    const totals: Totals = { applied: 0, duplicates: 0, deadLettered: 0 };
    const failures: DispatchFailure[] = [];
    let states: Map<string, AddressState>;
    try {
      states = await this.store.load(groups.map((g) => g.address));
    } catch (error) {
      return { ...totals, failures: groups.map((g) => ({ ...g, error: ensureError(error) })) };
    }

    await forEachConcurrently(groups, this.concurrency, (group) =>
      this.dispatchAddress(group, states.get(group.address.key)!, totals, failures),
    );
    return { ...totals, failures };
  }

  /** Plans and commits one address's messages, adding the outcome to `totals` or `failures`. */
  private async dispatchAddress(group: AddressGroup, loaded: AddressState, totals: Totals, failures: DispatchFailure[]) {
    let state = loaded;
    let deadLetterReason: string | undefined;
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          const plan = await planBatch(state, group.envelopes, this.invoker, {
            nowMs: this.clock.now(),
            markRetentionMs: this.markRetentionMs,
            deadLetterReason,
          });
          if (plan.commit !== undefined) await this.store.commit(plan.commit);
          totals.applied += plan.applied;
          totals.duplicates += plan.duplicates;
          totals.deadLettered += plan.deadLettered;
          return;
        } catch (error) {
          if (error instanceof CommitTooLargeError && deadLetterReason === undefined) {
            // The batch's own commit can never be made or written: commit its messages as dead letters.
            deadLetterReason = describeError(error);
            continue;
          }
          if (!(error instanceof StateConflictError) || attempt >= this.maxCommitAttempts) throw error;
          state = (await this.store.load([group.address])).get(group.address.key)!;
        }
      }
    } catch (error) {
      failures.push({ ...group, error: ensureError(error) });
    }
  }
}

interface Totals {
  applied: number;
  duplicates: number;
  deadLettered: number;
}

interface AddressGroup {
  readonly address: Address;
  readonly envelopes: Envelope[];
}

function groupByAddress(batch: readonly Envelope[]): AddressGroup[] {
  const groups = new Map<string, AddressGroup>();
  for (const envelope of batch) {
    const key = envelope.target.key;
    const group = groups.get(key);
    if (group) group.envelopes.push(envelope);
    else groups.set(key, { address: envelope.target, envelopes: [envelope] });
  }
  return [...groups.values()];
}

async function forEachConcurrently<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
