import type { Address } from '../Address';
import type { AddressState } from '../AddressState';
import type { Envelope } from '../Envelope';
import { DEFAULT_DUPLICATE_WINDOW_MS, duplicateWindowMs } from '../duplicateWindow';
import { EMPTY_INBOX_PAGE, type InboxPage } from '../Inbox';
import { CommitTooLargeError, StateConflictError, describeError, ensureError } from '../errors';
import type { Clock } from '../ports/Clock';
import type { FunctionResolver } from '../ports/FunctionEndpoint';
import type { StateStore } from '../ports/StateStore';
import { FunctionInvoker } from './FunctionInvoker';
import { type BatchPlan, planBatch } from './planBatch';
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
  /**
   * How long proof of an applied ingress record is kept: marks idle longer are pruned, and
   * a record that arrived on its stream longer ago is dead-lettered, not applied (see
   * {@link DEFAULT_DUPLICATE_WINDOW_MS}).
   * @default - 7 days
   */
  readonly duplicateWindowMs?: number;
  /**
   * Inbox entries applied per commit: a backlog larger than this is applied in several
   * commits, in order. Bounds the applied-entry list the state item carries.
   * @default 100
   */
  readonly inboxPageSize?: number;
  /**
   * Told when the inbox entries an address applied could not be removed after its commit
   * (harmless: they stay listed as applied, and a later batch removes them).
   * @default - nothing is told
   */
  readonly onInboxNotCleared?: (address: Address, error: Error) => void;
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
  private readonly duplicateWindowMs: number;
  private readonly inboxPageSize: number;
  private readonly onInboxNotCleared: ((address: Address, error: Error) => void) | undefined;

  constructor(options: DispatcherOptions) {
    this.store = options.store;
    this.clock = options.clock;
    this.invoker = new FunctionInvoker(options.functions, options.invokeRetry ?? DEFAULT_INVOKE_RETRY, options.sleep ?? realSleep);
    this.maxCommitAttempts = options.maxCommitAttempts ?? 8;
    this.concurrency = options.concurrency ?? 64;
    this.duplicateWindowMs = duplicateWindowMs(options.duplicateWindowMs ?? DEFAULT_DUPLICATE_WINDOW_MS);
    this.inboxPageSize = options.inboxPageSize ?? 100;
    this.onInboxNotCleared = options.onInboxNotCleared;
    if (!(Number.isSafeInteger(this.inboxPageSize) && this.inboxPageSize >= 1)) {
      throw new TypeError(`Dispatcher: inboxPageSize must be a whole number of at least 1, got ${String(options.inboxPageSize)}`);
    }
  }

  /**
   * Dispatches `batch`; envelopes of one address are applied in batch order. A message from
   * a function is a wake-up for its receiver, whose inbox is read with its state: the
   * pending inbox messages are applied in its place (see {@link planBatch}).
   */
  async dispatch(batch: readonly Envelope[]): Promise<DispatchOutcome> {
    const groups = groupByAddress(batch);
    const totals: Totals = { applied: 0, duplicates: 0, deadLettered: 0 };
    const failures: DispatchFailure[] = [];
    let states: Map<string, AddressState>;
    let inboxes: Map<string, InboxPage>;
    try {
      [states, inboxes] = await Promise.all([
        this.store.load(groups.map((g) => g.address)),
        this.readInboxes(groups.filter((g) => g.wakeUp).map((g) => g.address)),
      ]);
    } catch (error) {
      return { ...totals, failures: groups.map((g) => ({ address: g.address, envelopes: g.envelopes, error: ensureError(error) })) };
    }

    await forEachConcurrently(groups, this.concurrency, (group) =>
      this.dispatchAddress(group, states.get(group.address.key)!, inboxes.get(group.address.key), totals, failures),
    );
    return { ...totals, failures };
  }

  /**
   * Plans and commits one address's messages, adding the outcome to `totals` or `failures`.
   * An inbox backlog beyond one page is applied in further commits, in order.
   */
  private async dispatchAddress(
    group: AddressGroup,
    loaded: AddressState,
    loadedInbox: InboxPage | undefined,
    totals: Totals,
    failures: DispatchFailure[],
  ) {
    let state = loaded;
    let inbox = loadedInbox;
    let envelopes: readonly Envelope[] = group.envelopes;
    const cleared = new Set<string>();
    try {
      for (;;) {
        const plan = await this.planAndCommit(group.address, state, envelopes, inbox, cleared);
        totals.applied += plan.applied;
        totals.duplicates += plan.duplicates;
        totals.deadLettered += plan.deadLettered;
        if (plan.inboxToClear.length > 0) {
          // Best effort: an entry left behind is listed as applied and cleared by a later batch.
          await this.store.clearInbox(group.address, plan.inboxToClear).then(
            () => plan.inboxToClear.forEach((key) => cleared.add(key)),
            (error: unknown) => this.onInboxNotCleared?.(group.address, ensureError(error)),
          );
        }
        if (inbox === undefined || !inbox.truncated) return;
        state = plan.commit?.state ?? state;
        envelopes = [];
        inbox = await this.readInbox(group.address);
      }
    } catch (error) {
      failures.push({ address: group.address, envelopes: group.envelopes, error: ensureError(error) });
    }
  }

  /** Plans one commit and writes it; a lost version race reloads the state (and inbox) and plans again. */
  private async planAndCommit(
    address: Address,
    loaded: AddressState,
    envelopes: readonly Envelope[],
    loadedInbox: InboxPage | undefined,
    cleared: ReadonlySet<string>,
  ): Promise<BatchPlan> {
    let state = loaded;
    let inbox = loadedInbox;
    let deadLetterReason: string | undefined;
    for (let attempt = 1; ; attempt++) {
      try {
        const plan = await planBatch(state, envelopes, inbox, this.invoker, {
          nowMs: this.clock.now(),
          duplicateWindowMs: this.duplicateWindowMs,
          deadLetterReason,
          clearedInbox: cleared,
        });
        if (plan.commit !== undefined) await this.store.commit(plan.commit);
        return plan;
      } catch (error) {
        if (error instanceof CommitTooLargeError && deadLetterReason === undefined) {
          // The batch's own commit can never be made or written: commit its messages as dead letters.
          deadLetterReason = describeError(error);
          continue;
        }
        if (!(error instanceof StateConflictError) || attempt >= this.maxCommitAttempts) throw error;
        [state, inbox] = await Promise.all([
          this.store.load([address]).then((states) => states.get(address.key)!),
          inbox === undefined ? undefined : this.readInbox(address),
        ]);
      }
    }
  }

  private async readInbox(address: Address): Promise<InboxPage> {
    return (await this.readInboxes([address])).get(address.key) ?? EMPTY_INBOX_PAGE;
  }

  private async readInboxes(addresses: readonly Address[]): Promise<Map<string, InboxPage>> {
    if (addresses.length === 0) return new Map();
    return this.store.readInbox(addresses, this.inboxPageSize);
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
  /** Whether a message from a function is among them: the address's inbox must be read. */
  wakeUp: boolean;
}

function groupByAddress(batch: readonly Envelope[]): AddressGroup[] {
  const groups = new Map<string, AddressGroup>();
  for (const envelope of batch) {
    const key = envelope.target.key;
    const wakeUp = envelope.origin.kind === 'function';
    const group = groups.get(key);
    if (group) {
      group.envelopes.push(envelope);
      group.wakeUp ||= wakeUp;
    } else groups.set(key, { address: envelope.target, envelopes: [envelope], wakeUp });
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
