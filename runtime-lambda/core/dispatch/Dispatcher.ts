import type { Address } from '../Address';
import type { AddressState, DeadLetter } from '../AddressState';
import type { Envelope } from '../Envelope';
import { DEFAULT_DUPLICATE_WINDOW_MS, duplicateWindowMs } from '../duplicateWindow';
import { EMPTY_INBOX_PAGE, type InboxPage } from '../Inbox';
import { CommitTooLargeError, RetryableError, StateConflictError, UnreadableStateError, describeError, ensureError } from '../errors';
import { batchId } from '../ids';
import { forEachConcurrently } from '../concurrency';
import type { Clock } from '../ports/Clock';
import type { FunctionResolver } from '../ports/FunctionEndpoint';
import type { PayloadStore } from '../ports/PayloadStore';
import type { Commit, StateStore } from '../ports/StateStore';
import { offloadDeadLetter } from '../deadLetterJson';
import { FunctionInvoker } from './FunctionInvoker';
import { type BatchPlan, planBatch } from './planBatch';
import { type AddressBackoffPolicy, DEFAULT_ADDRESS_BACKOFF, DEFAULT_RETRY_BUDGET_MS, retryBudgetMs } from '../retryBudget';
import { type BackoffPolicy, type Sleep, realSleep } from './retry';

/** Options of a {@link Dispatcher}; everything but the ports has a default. */
export interface DispatcherOptions {
  readonly store: StateStore;
  readonly functions: FunctionResolver;
  readonly clock: Clock;
  /**
   * Attempts of one invocation within one dispatch, for a function that fails transiently;
   * after them the address's messages are parked and it backs off (`retryBackoff`).
   * @default - 3 attempts, 50 ms base, 2 s cap
   */
  readonly invokeRetry?: BackoffPolicy;
  /**
   * How long, from its first failed attempt, an address whose function fails transiently
   * (unavailable, throttled, timing out) keeps retrying, its messages parked in order,
   * before they become dead letters. 0 dead-letters at the first transient failure.
   * @default - 24 hours ({@link DEFAULT_RETRY_BUDGET_MS})
   */
  readonly retryBudgetMs?: number;
  /** @default - 1 s, doubling up to 10 minutes, with jitter ({@link DEFAULT_ADDRESS_BACKOFF}) */
  readonly retryBackoff?: AddressBackoffPolicy;
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
  /**
   * Where a dead letter too large for its commit is kept whole (S3 on AWS); the commit then
   * carries its stub (`DeadLetter.payloadRef`).
   * @default - none: such a message stays uncommitted, reported as a failure
   */
  readonly payloads?: PayloadStore;
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
  /** Messages parked in their address's inbox while it backs off: applied later, in order. */
  readonly parked: number;
  /** Addresses this batch left backing off, with since when and why. */
  readonly backingOff: readonly BackingOff[];
  /** Addresses whose commit did not happen: their messages must be delivered again. */
  readonly failures: readonly DispatchFailure[];
}

/** An address left backing off after transient failures. */
export interface BackingOff {
  readonly address: Address;
  readonly sinceMs: number;
  readonly attempts: number;
  readonly retryAtMs: number;
  readonly lastError: string;
}

/** When one dispatch must be done. */
export interface DispatchOptions {
  /**
   * When function calls must have ended (epoch ms on the dispatcher's clock), with time left
   * after it to commit: a call still running then, or a retry that would end later, counts
   * as a transient failure and the address backs off; no address starts another inbox page.
   * @default - none
   */
  readonly deadlineMs?: number;
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
  private readonly retryBudgetMs: number;
  private readonly payloads: PayloadStore | undefined;
  private readonly retryBackoff: AddressBackoffPolicy;

  constructor(options: DispatcherOptions) {
    this.store = options.store;
    this.clock = options.clock;
    this.invoker = new FunctionInvoker(options.functions, options.invokeRetry ?? DEFAULT_INVOKE_RETRY, options.sleep ?? realSleep, options.clock);
    this.retryBudgetMs = retryBudgetMs(options.retryBudgetMs ?? DEFAULT_RETRY_BUDGET_MS, 'Dispatcher: retryBudgetMs');
    this.retryBackoff = options.retryBackoff ?? DEFAULT_ADDRESS_BACKOFF;
    const { baseDelayMs, maxDelayMs } = this.retryBackoff;
    if (!(Number.isSafeInteger(baseDelayMs) && baseDelayMs >= 1 && Number.isSafeInteger(maxDelayMs) && maxDelayMs >= baseDelayMs)) {
      throw new TypeError(`Dispatcher: retryBackoff needs whole milliseconds with 1 <= baseDelayMs <= maxDelayMs, got ${JSON.stringify(this.retryBackoff)}`);
    }
    this.maxCommitAttempts = options.maxCommitAttempts ?? 8;
    this.concurrency = options.concurrency ?? 64;
    this.duplicateWindowMs = duplicateWindowMs(options.duplicateWindowMs ?? DEFAULT_DUPLICATE_WINDOW_MS);
    this.inboxPageSize = options.inboxPageSize ?? 100;
    this.onInboxNotCleared = options.onInboxNotCleared;
    this.payloads = options.payloads;
    if (!(Number.isSafeInteger(this.inboxPageSize) && this.inboxPageSize >= 1)) {
      throw new TypeError(`Dispatcher: inboxPageSize must be a whole number of at least 1, got ${String(options.inboxPageSize)}`);
    }
  }

  /**
   * Dispatches `batch`; envelopes of one address are applied in batch order. A message from
   * a function is a wake-up for its receiver, whose inbox is read with its state: the
   * pending inbox messages are applied in its place (see {@link planBatch}). An address
   * that backs off parks its new messages; one whose retry is due applies what it parked
   * first.
   */
  async dispatch(batch: readonly Envelope[], options: DispatchOptions = {}): Promise<DispatchOutcome> {
    const groups = groupByAddress(batch);
    const totals: Totals = { applied: 0, duplicates: 0, deadLettered: 0, parked: 0, backingOff: [] };
    const failures: DispatchFailure[] = [];
    let states: ReadonlyMap<string, AddressState>;
    let inboxes: Map<string, InboxPage>;
    let unreadable: ReadonlyMap<string, Error> | undefined;
    try {
      [states, inboxes] = await Promise.all([
        this.store.load(groups.map((g) => g.address)).catch((error: unknown) => {
          if (!(error instanceof UnreadableStateError)) throw error;
          unreadable = error.unreadable;
          return error.readable;
        }),
        this.readInboxes(groups.filter((g) => g.wakeUp).map((g) => g.address)),
      ]);
      // An address whose retry is due reads what it parked, even without a wake-up.
      const nowMs = this.clock.now();
      const due = groups.filter((g) => !g.wakeUp && states.has(g.address.key) && isRetryDue(states.get(g.address.key)!, nowMs)).map((g) => g.address);
      if (due.length > 0) (await this.readInboxes(due)).forEach((page, key) => inboxes.set(key, page));
    } catch (error) {
      return { ...totals, failures: groups.map((g) => ({ address: g.address, envelopes: g.envelopes, error: ensureError(error) })) };
    }

    await forEachConcurrently(groups, this.concurrency, (group) => {
      const why = unreadable?.get(group.address.key);
      if (why !== undefined) return this.quarantine(group, why, totals, failures);
      return this.dispatchAddress(group, states.get(group.address.key)!, inboxes.get(group.address.key), totals, failures, options.deadlineMs);
    });
    return { ...totals, failures };
  }

  /**
   * Dead-letters the messages of an address whose state cannot be read, so that it holds
   * back no other address; redriven once the state item is repaired (or deleted), they are
   * applied then. Wake-ups stay wake-ups: their messages wait in the inbox meanwhile.
   */
  private async quarantine(group: AddressGroup, why: Error, totals: Totals, failures: DispatchFailure[]): Promise<void> {
    const nowMs = this.clock.now();
    const reason = `UNREADABLE_STATE: the state of ${group.address.key} cannot be read, so this message was not applied: ${why.message}. Repair or delete the state item, then redrive`;
    const deadLetters: DeadLetter[] = group.envelopes.map((envelope) => ({ id: envelope.id, address: group.address.key, envelope, reason, atMs: nowMs }));
    try {
      await this.store.quarantine(group.address, deadLetters, batchId(group.address.key, -1, group.envelopes.map((e) => e.id)));
      totals.deadLettered += deadLetters.length;
    } catch (error) {
      failures.push({ address: group.address, envelopes: group.envelopes, error: ensureError(error) });
    }
  }

  /**
   * Plans and commits one address's messages, adding the outcome to `totals` or `failures`.
   * An inbox backlog beyond one page is applied in further commits, in order, while the
   * address is not backing off and the deadline allows; an address that has to stop with
   * the backlog unread (the deadline) is a failure, so its wake-ups come again.
   */
  private async dispatchAddress(
    group: AddressGroup,
    loaded: AddressState,
    loadedInbox: InboxPage | undefined,
    totals: Totals,
    failures: DispatchFailure[],
    deadlineMs: number | undefined,
  ) {
    let state = loaded;
    let inbox = loadedInbox;
    let envelopes: readonly Envelope[] = group.envelopes;
    const cleared = new Set<string>();
    try {
      for (;;) {
        let fitted: FittedCommits;
        try {
          // commitFitting inline (one async frame less per address): a commit too large is split.
          fitted = fittedOne(await this.planAndCommit(group.address, state, envelopes, inbox, cleared, deadlineMs, undefined), state, inbox);
        } catch (error) {
          if (!(error instanceof CommitTooLargeError)) throw error;
          fitted = await this.splitRefused(group.address, state, envelopes, inbox, cleared, deadlineMs, error);
        }
        for (const plan of fitted.plans) {
          totals.applied += plan.applied;
          totals.duplicates += plan.duplicates;
          totals.deadLettered += plan.deadLettered;
          totals.parked += plan.parked;
          if (plan.inboxToClear.length > 0) {
            // Best effort: an entry left behind is listed as applied and cleared by a later batch.
            await this.store.clearInbox(group.address, plan.inboxToClear).then(
              () => plan.inboxToClear.forEach((key) => cleared.add(key)),
              (error: unknown) => this.onInboxNotCleared?.(group.address, ensureError(error)),
            );
          }
        }
        state = fitted.state;
        const backoff = state.backoff;
        const nowMs = this.clock.now();
        if (backoff !== undefined && backoff.retryAtMs > nowMs) {
          totals.backingOff.push({ address: group.address, sinceMs: backoff.sinceMs, attempts: backoff.attempts, retryAtMs: backoff.retryAtMs, lastError: backoff.lastError });
          return;
        }
        if (!fitted.inboxLeft) return;
        if (deadlineMs !== undefined && nowMs >= deadlineMs) {
          // A backing-off address has a retry timer to come back; any other needs its wake-ups again.
          if (backoff === undefined) {
            const error = new RetryableError(`the deadline came before the inbox backlog of ${group.address.key} was applied: the rest is applied on redelivery`, { code: 'DEADLINE_REACHED' });
            failures.push({ address: group.address, envelopes: group.envelopes, error });
          }
          return;
        }
        envelopes = [];
        inbox = await this.readInbox(group.address);
      }
    } catch (error) {
      failures.push({ address: group.address, envelopes: group.envelopes, error: ensureError(error) });
    }
  }

  /**
   * Commits `envelopes` (with the `inbox` page) in as few commits as the store's limits
   * allow: a commit refused as too large is split ({@link splitRefused}).
   */
  private async commitFitting(
    address: Address,
    state: AddressState,
    envelopes: readonly Envelope[],
    inbox: InboxPage | undefined,
    cleared: ReadonlySet<string>,
    deadlineMs: number | undefined,
  ): Promise<FittedCommits> {
    try {
      return fittedOne(await this.planAndCommit(address, state, envelopes, inbox, cleared, deadlineMs, undefined), state, inbox);
    } catch (error) {
      if (!(error instanceof CommitTooLargeError)) throw error;
      return this.splitRefused(address, state, envelopes, inbox, cleared, deadlineMs, error);
    }
  }

  /**
   * Commits what the store `refused` as one commit in several, in order: the inbox page
   * first (the rest of it is read again after), then the messages; a single message (or
   * inbox entry) whose own commit cannot be written is committed as a dead letter, kept
   * whole in the payload store if even that is too large, and the address moves on.
   */
  private async splitRefused(
    address: Address,
    state: AddressState,
    envelopes: readonly Envelope[],
    inbox: InboxPage | undefined,
    cleared: ReadonlySet<string>,
    deadlineMs: number | undefined,
    refused: CommitTooLargeError,
  ): Promise<FittedCommits> {
    const entries = inbox?.entries ?? [];
    if (entries.length > 1) {
      return this.commitFitting(address, state, envelopes, { entries: entries.slice(0, entries.length >> 1), truncated: true }, cleared, deadlineMs);
    }
    if (envelopes.length > 1) {
      const mid = envelopes.length >> 1;
      const first = await this.commitFitting(address, state, envelopes.slice(0, mid), inbox, cleared, deadlineMs);
      const page = inbox === undefined ? undefined : await this.readInbox(address);
      const rest = await this.commitFitting(address, first.state, envelopes.slice(mid), page, cleared, deadlineMs);
      return { plans: [...first.plans, ...rest.plans], state: rest.state, inboxLeft: first.inboxLeft || rest.inboxLeft };
    }
    const reason = describeError(refused);
    try {
      return fittedOne(await this.planAndCommit(address, state, envelopes, inbox, cleared, deadlineMs, reason), state, inbox);
    } catch (again) {
      if (!(again instanceof CommitTooLargeError) || this.payloads === undefined) throw again;
      return fittedOne(await this.planAndCommit(address, state, envelopes, inbox, cleared, deadlineMs, reason, this.payloads), state, inbox);
    }
  }

  /** Plans one commit and writes it; a lost version race reloads the state (and inbox) and plans again. */
  private async planAndCommit(
    address: Address,
    loaded: AddressState,
    envelopes: readonly Envelope[],
    loadedInbox: InboxPage | undefined,
    cleared: ReadonlySet<string>,
    deadlineMs: number | undefined,
    deadLetterReason: string | undefined,
    offloadTo?: PayloadStore,
  ): Promise<BatchPlan> {
    let state = loaded;
    let inbox = loadedInbox;
    for (let attempt = 1; ; attempt++) {
      try {
        const plan = await planBatch(state, envelopes, inbox, this.invoker, {
          nowMs: this.clock.now(),
          duplicateWindowMs: this.duplicateWindowMs,
          deadLetterReason,
          clearedInbox: cleared,
          retryBudgetMs: this.retryBudgetMs,
          retryBackoff: this.retryBackoff,
          ...(deadlineMs !== undefined ? { deadlineMs } : {}),
        });
        if (plan.commit !== undefined) await this.store.commit(offloadTo === undefined ? plan.commit : await offloaded(plan.commit, offloadTo));
        return plan;
      } catch (error) {
        if (!(error instanceof StateConflictError) || attempt >= this.maxCommitAttempts) throw error;
        const reload = this.store.load([address]).then((states) => states.get(address.key)!);
        if (inbox !== undefined) [state, inbox] = await Promise.all([reload, this.readInbox(address)]);
        else {
          state = await reload;
          if (isRetryDue(state, this.clock.now())) inbox = await this.readInbox(address);
        }
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

/** What {@link Dispatcher.commitFitting} committed: its plans in order, the state after them, and whether inbox entries are left to read. */
interface FittedCommits {
  readonly plans: readonly BatchPlan[];
  readonly state: AddressState;
  readonly inboxLeft: boolean;
}

/** One plan committed on `state` with the `page` it read. */
function fittedOne(plan: BatchPlan, state: AddressState, page: InboxPage | undefined): FittedCommits {
  return { plans: [plan], state: plan.commit?.state ?? state, inboxLeft: page?.truncated === true };
}

interface Totals {
  applied: number;
  duplicates: number;
  deadLettered: number;
  parked: number;
  backingOff: BackingOff[];
}

/** `commit` with each dead letter kept whole in `payloads` and carried as its stub. */
async function offloaded(commit: Commit, payloads: PayloadStore): Promise<Commit> {
  const deadLetters = await Promise.all(commit.effects.deadLetters.map((deadLetter) => offloadDeadLetter(deadLetter, payloads)));
  return { ...commit, effects: { ...commit.effects, deadLetters } };
}

/** Whether `state` backs off and its retry is due: its parked messages must be read. */
function isRetryDue(state: AddressState, nowMs: number): boolean {
  return state.backoff !== undefined && state.backoff.retryAtMs <= nowMs;
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
