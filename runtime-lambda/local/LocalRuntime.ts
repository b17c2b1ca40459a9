import { Address, typename as validTypename } from '../core/Address';
import type { AddressState, DeadLetter } from '../core/AddressState';
import { type BackingOff, Dispatcher, type DispatcherOptions } from '../core/dispatch/Dispatcher';
import type { Envelope } from '../core/Envelope';
import { DEFAULT_DUPLICATE_WINDOW_MS, duplicateWindowMs } from '../core/duplicateWindow';
import { InvalidInputError } from '../core/errors';
import type { Clock } from '../core/ports/Clock';
import type { FunctionResolver } from '../core/ports/FunctionEndpoint';
import type { TypedValue } from '../core/TypedValue';
import { InMemoryPayloadStore } from './InMemoryPayloadStore';
import { InMemoryStateStore } from './InMemoryStateStore';
import { type EgressHandler, LocalEffectSink } from './LocalEffectSink';
import { LocalLog } from './LocalLog';
import { readSnapshot, writeSnapshot } from './LocalSnapshot';
import { SimulatedClock } from './SimulatedClock';
import { type TimerDeliveryOptions, TimerQueue } from './TimerQueue';

/** An ingress: raw records whose key is the id of the target function instance, as in StateFun. */
export interface IngressSpec {
  /** The ingress name used with {@link LocalRuntime.ingest}. */
  readonly name: string;
  /** The function type (`namespace/type`) that receives the records. */
  readonly target: string;
}

/** Options of a {@link LocalRuntime}. */
export interface LocalRuntimeOptions {
  readonly functions: FunctionResolver;
  readonly ingresses?: readonly IngressSpec[];
  /** Egress handlers by egress name (`namespace/type`). @default - none: records to an unknown egress become dead letters */
  readonly egresses?: Readonly<Record<string, EgressHandler>>;
  /** @default - a {@link SimulatedClock} starting at 2026-01-01 */
  readonly clock?: Clock;
  /** @default 4 partitions */
  readonly partitions?: number;
  /** Records taken from one partition per dispatch. @default 1000 */
  readonly batchSize?: number;
  /** Called for every dead letter, besides keeping it in {@link LocalRuntime.deadLetters}. */
  readonly onDeadLetter?: (deadLetter: DeadLetter) => void;
  /** Called for every address a dispatch leaves backing off (its function failed transiently; its messages wait). */
  readonly onBackingOff?: (backingOff: BackingOff) => void;
  /** Passed to the {@link Dispatcher}. */
  readonly dispatcher?: Omit<DispatcherOptions, 'store' | 'functions' | 'clock' | 'duplicateWindowMs' | 'retryBudgetMs'>;
  /**
   * How long an address whose function fails transiently (an HTTP endpoint answering 503, a
   * connection refused) keeps retrying, its messages parked in order, before they become
   * dead letters; its retries are timers on the runtime's clock.
   * @default - 24 hours, as on AWS
   */
  readonly retryBudgetMs?: number;
  /**
   * The duplicate window (see {@link DEFAULT_DUPLICATE_WINDOW_MS}): ingress marks are kept
   * this long, a record ingested longer ago is dead-lettered rather than applied, and an
   * address left empty is deleted this long after its latest mark (when the runtime is idle).
   * @default - 7 days
   */
  readonly duplicateWindowMs?: number;
  /** When delayed messages are delivered. @default - as on AWS: whole seconds up to 15 minutes, whole minutes beyond */
  readonly timers?: TimerDeliveryOptions;
  /**
   * A file that keeps the application's state across restarts: read when the runtime is
   * created (if it exists), written atomically at the end of each `runUntilIdle`,
   * `advanceTo` and `fireDueTimers` (the log drained, the outbox relayed), or as
   * {@link snapshotIntervalMs} says. It holds every address state, the pending delayed
   * messages, the log positions and the records not yet dispatched, and the dead letters; a
   * simulated clock resumes from the time it was written. @default - none: state lives in memory only
   */
  readonly stateFile?: string;
  /**
   * With a {@link stateFile}: write it at most this often instead of at the end of every
   * `runUntilIdle`: at the end of one, or between two dispatch rounds of a long one, once
   * this long has passed since the last write, and at least 20 times as long as that write
   * took (a large state then costs at most 5% of the time); {@link LocalRuntime.saveState}
   * writes at once. A crash loses what happened since the last write (never part of a round).
   * @default 0 - at the end of every `runUntilIdle`
   */
  readonly snapshotIntervalMs?: number;
  /**
   * Called each time the {@link stateFile} has been written: everything appended to the log
   * before that write (e.g. with {@link LocalRuntime.deliver}) survives a crash from then on.
   */
  readonly onStateSaved?: () => void;
}

/** Counters of a {@link LocalRuntime} since it started. */
export interface LocalRuntimeStats {
  dispatches: number;
  applied: number;
  duplicates: number;
  deadLettered: number;
  /** Messages parked while their address backed off (each counted when parked). */
  parked: number;
  timersFired: number;
}

const MAX_REDELIVERIES = 10;

/**
 * A whole stateful-functions application in one Node process, on the same dispatch core as
 * the Lambda: an in-process log partitioned by address, an in-process transactional store
 * with an outbox, a relay, timers on a simulated (or real) clock, and egress handlers.
 *
 * @example
 * const runtime = new LocalRuntime({ functions: app.resolver(), ingresses: [{ name: 'in', target: 'demo/counter' }] });
 * runtime.ingest('in', 'alice', { typename: Types.string.typename, value: Types.string.serialize('hi') });
 * await runtime.runUntilIdle();
 */
export class LocalRuntime {
  readonly store = new InMemoryStateStore();
  /** Where a dead letter too large for its commit is kept whole; its stub's `payloadRef` reads it here. */
  readonly payloads = new InMemoryPayloadStore();
  readonly clock: Clock;
  readonly stats: LocalRuntimeStats = { dispatches: 0, applied: 0, duplicates: 0, deadLettered: 0, parked: 0, timersFired: 0 };
  readonly deadLetters: DeadLetter[] = [];

  private readonly log: LocalLog;
  private readonly timers: TimerQueue;
  private readonly dispatcher: Dispatcher;
  private readonly ingresses: ReadonlyMap<string, string>;
  private readonly sink: LocalEffectSink;
  private readonly batchSize: number;
  private readonly redeliveries = new Map<string, number>();
  private externalSeq = 0;
  private readonly duplicateWindowMs: number;
  private readonly snapshotIntervalMs: number;
  /** When the state file was last written, on the wall clock, and how long that took. */
  private savedAtMs = 0;
  private saveTookMs = 0;

  constructor(private readonly options: LocalRuntimeOptions) {
    const partitions = options.partitions ?? 4;
    const snapshot = options.stateFile === undefined ? undefined : readSnapshot(options.stateFile);
    if (snapshot && snapshot.logOffsets.length !== partitions) {
      throw new InvalidInputError(
        `state file ${options.stateFile} was written by a runtime with ${snapshot.logOffsets.length} partitions, this one has ${partitions}: give partitions: ${snapshot.logOffsets.length}`,
      );
    }
    this.clock = options.clock ?? new SimulatedClock(snapshot?.clockMs);
    this.timers = new TimerQueue(this.clock, options.timers);
    this.log = new LocalLog(partitions, snapshot?.logOffsets, snapshot?.log);
    if (snapshot) {
      this.store.restore(snapshot.states, snapshot.inbox);
      for (const { timer, fireAtMs } of snapshot.timers) this.timers.restore(timer, fireAtMs);
      this.deadLetters.push(...snapshot.deadLetters);
      this.externalSeq = snapshot.externalSeq;
    }
    this.batchSize = options.batchSize ?? 1000;
    this.snapshotIntervalMs = options.snapshotIntervalMs ?? 0;
    if (!Number.isSafeInteger(this.snapshotIntervalMs) || this.snapshotIntervalMs < 0) {
      throw new InvalidInputError(`LocalRuntime: snapshotIntervalMs must be a whole number of ms, 0 or more, got ${String(options.snapshotIntervalMs)}`);
    }
    this.sink = new LocalEffectSink(this.log, this.timers, options.egresses ?? {}, (d) => this.deadLetter(d), this.clock);
    this.ingresses = new Map((options.ingresses ?? []).map((spec) => [spec.name, validTypename(spec.target)]));
    this.duplicateWindowMs = duplicateWindowMs(options.duplicateWindowMs ?? DEFAULT_DUPLICATE_WINDOW_MS, 'LocalRuntime: duplicateWindowMs');
    this.dispatcher = new Dispatcher({
      ...options.dispatcher,
      duplicateWindowMs: this.duplicateWindowMs,
      ...(options.retryBudgetMs !== undefined ? { retryBudgetMs: options.retryBudgetMs } : {}),
      payloads: this.payloads,
      store: this.store,
      functions: options.functions,
      clock: this.clock,
    });
  }

  /**
   * Appends a record to ingress `ingress`: it goes to the instance `key` of the ingress's
   * target type, with its log position as source position.
   */
  ingest(ingress: string, key: string, value: TypedValue): void {
    const target = this.ingresses.get(ingress);
    if (target === undefined) {
      throw new InvalidInputError(
        `unknown ingress "${ingress}": configured ingresses are ${[...this.ingresses.keys()].map((n) => `"${n}"`).join(', ') || 'none'}`,
      );
    }
    const address = Address.of(target, key);
    this.log.append(address.key, (partition, offset) => ({
      id: `${ingress}/${partition}/${offset}`,
      target: address,
      argument: value,
      origin: { kind: 'ingress', source: `${ingress}/${partition}`, position: String(offset), arrivedAtMs: this.clock.now() },
    }));
  }

  /** Sends a message to `target` from outside the application (as the CLI does). */
  send(target: Address, value: TypedValue): void {
    const seq = this.externalSeq++;
    this.log.append(target.key, () => ({
      id: `external/${seq}`,
      target,
      argument: value,
      origin: { kind: 'ingress', source: 'external', position: String(seq), arrivedAtMs: this.clock.now() },
    }));
  }

  /**
   * Appends a message that already has its id and source position, e.g. a Kafka record's
   * (`<topic>/<partition>` and its offset): the address's idempotency marks make a second
   * delivery of the same position a duplicate, dropped.
   */
  deliver(envelope: Envelope): void {
    this.log.append(envelope.target.key, () => envelope);
  }

  /**
   * Processes messages until the log and the outbox are empty; does not move the clock.
   * Then deletes the addresses left empty longer than the duplicate window ago, and writes
   * the {@link LocalRuntimeOptions.stateFile}, if there is one.
   */
  async runUntilIdle(): Promise<void> {
    await this.drain();
    this.store.sweepTombstones(this.clock.now(), this.duplicateWindowMs);
    if (this.snapshotIntervalMs === 0) this.saveState();
    else this.saveIfDue();
  }

  /**
   * Moves a {@link SimulatedClock} to `timeMs`, firing every timer due on the way at its
   * delivery time (see {@link LocalRuntimeOptions.timers}) and processing everything each
   * one causes before the next. Then writes the {@link LocalRuntimeOptions.stateFile}, once.
   */
  async advanceTo(timeMs: number): Promise<void> {
    const clock = this.simulatedClock();
    if (timeMs < clock.now()) clock.set(timeMs); // throws: time only moves forward
    await this.drain();
    for (;;) {
      const next = this.timers.nextDueAt();
      if (next === undefined || next > timeMs) break;
      if (next > clock.now()) clock.set(next);
      this.fireDue();
      await this.drain();
    }
    clock.set(timeMs);
    await this.runUntilIdle();
  }

  /** Moves a {@link SimulatedClock} forward by `ms`; see {@link advanceTo}. */
  async advanceBy(ms: number): Promise<void> {
    await this.advanceTo(this.clock.now() + ms);
  }

  /** Fires the timers due by the clock (for a real clock) and processes what follows. */
  async fireDueTimers(): Promise<void> {
    this.fireDue();
    await this.runUntilIdle();
  }

  /** Delayed messages scheduled and not yet fired or cancelled. */
  get pendingTimers(): number {
    return this.timers.size;
  }

  /** The due time of the next pending timer, if any. */
  get nextTimerDueAt(): number | undefined {
    return this.timers.nextDueAt();
  }

  /** The stored state of an address. */
  state(address: Address): AddressState {
    return this.store.peek(address);
  }

  /** Records in the log not yet dispatched. */
  get pendingMessages(): number {
    return this.log.size;
  }

  /**
   * Writes the {@link LocalRuntimeOptions.stateFile} now (nothing without one). Call it
   * between rounds only: when no `runUntilIdle`, `advanceTo` or `fireDueTimers` is under way.
   */
  saveState(): void {
    if (this.options.stateFile === undefined) return;
    const started = Date.now();
    writeSnapshot(this.options.stateFile, {
      clockMs: this.clock.now(),
      logOffsets: this.log.nextOffsets,
      log: this.log.pendingRecords,
      externalSeq: this.externalSeq,
      states: [...this.store.all()],
      inbox: this.store.allInboxEntries(),
      timers: this.timers.entries(),
      deadLetters: this.deadLetters,
    });
    this.savedAtMs = Date.now();
    this.saveTookMs = this.savedAtMs - started;
    this.options.onStateSaved?.();
  }

  /** Processes messages until the log and the outbox are empty. */
  private async drain(): Promise<void> {
    for (;;) {
      await this.relay();
      // Between rounds, the outbox relayed: a consistent point to write the state at.
      if (this.snapshotIntervalMs > 0) this.saveIfDue();
      if (this.log.size === 0) return;
      const work: Promise<void>[] = [];
      for (let p = 0; p < this.log.partitionCount; p++) {
        const batch = this.log.take(p, this.batchSize);
        if (batch.length > 0) work.push(this.dispatchPartition(p, batch));
      }
      await Promise.all(work);
    }
  }

  private saveIfDue(): void {
    if (Date.now() - this.savedAtMs >= Math.max(this.snapshotIntervalMs, 20 * this.saveTookMs)) this.saveState();
  }

  private simulatedClock(): SimulatedClock {
    if (!(this.clock instanceof SimulatedClock)) {
      throw new InvalidInputError('advanceTo needs a SimulatedClock; with a real clock, call fireDueTimers() as time passes');
    }
    return this.clock;
  }

  private fireDue(): void {
    for (const timer of this.timers.takeDue(this.clock.now())) {
      this.stats.timersFired++;
      this.log.append(timer.envelope.target.key, () => timer.envelope);
    }
  }

  private async dispatchPartition(partition: number, batch: Envelope[]): Promise<void> {
    const outcome = await this.dispatcher.dispatch(batch);
    this.stats.dispatches++;
    this.stats.applied += outcome.applied;
    this.stats.duplicates += outcome.duplicates;
    this.stats.deadLettered += outcome.deadLettered;
    this.stats.parked += outcome.parked;
    if (this.options.onBackingOff) for (const backingOff of outcome.backingOff) this.options.onBackingOff(backingOff);
    const failedKeys = new Set(outcome.failures.map((f) => f.address.key));
    // Failures count "in a row": an address that got through starts again from zero.
    if (this.redeliveries.size > 0) for (const e of batch) if (!failedKeys.has(e.target.key)) this.redeliveries.delete(e.target.key);
    if (failedKeys.size === 0) return;
    // Redeliver failed addresses' messages, as Kinesis redelivers from the failed record.
    for (const failure of outcome.failures) {
      const count = (this.redeliveries.get(failure.address.key) ?? 0) + 1;
      this.redeliveries.set(failure.address.key, count);
      if (count > MAX_REDELIVERIES) {
        throw new Error(`${failure.address.key} failed ${count} times in a row: ${failure.error.message}`, { cause: failure.error });
      }
    }
    this.log.putBack(partition, batch.filter((e) => failedKeys.has(e.target.key)));
  }

  /** Relays committed effects: the local counterpart of the outbox relay Lambda. */
  private async relay(): Promise<void> {
    while (this.store.hasOutbox) {
      for (const entry of this.store.takeOutbox()) await this.sink.publish(entry.effects);
    }
  }

  private deadLetter(deadLetter: DeadLetter): void {
    this.deadLetters.push(deadLetter);
    this.options.onDeadLetter?.(deadLetter);
  }
}
