import { createHash } from 'node:crypto';
import {
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
} from '@aws-sdk/client-kinesis';
import { comparePositions } from '../core/positions';
import { type Clock, systemClock } from '../core/ports/Clock';
import { TerminalError, describeError } from '../core/errors';
import type { DynamoStreamsApi } from './DynamoStreamsApi';
import { type KafkaSource, kafkaDriver } from './kafkaPollerSource';
import type { GivenUpBatch, GivenUpStreamBatch } from './skippedBatches';
import type { DynamoDBStreamEvent, DynamoDBStreamRecord, KafkaRecord, KinesisStreamEvent, KinesisStreamRecord, StreamBatchResponse } from './lambdaEvents';

/**
 * The rules of one event source mapping, as Lambda applies them
 * (`CreateEventSourceMapping`'s parameters of the same names).
 */
export interface MappingOptions {
  /** Records per invocation, at most. @default 100 */
  readonly batchSize?: number;
  /**
   * Batches of one shard in flight at once, 1 to 10. Records are assigned to a lane by a
   * hash of their ordering key, so the records of one key stay in order: the partition key
   * on Kinesis; on DynamoDB Streams the whole item key (partition and sort key), the only
   * order AWS keeps there at a factor above 1. @default 1
   */
  readonly parallelizationFactor?: number;
  /**
   * Retries of a failing batch before its records go to `onFailure` and the shard moves on;
   * -1 retries until the records expire (Lambda's default). @default -1
   */
  readonly maxRetryAttempts?: number;
  /** Split a batch whose invocation threw in two and retry the halves separately. @default false */
  readonly bisectBatchOnFunctionError?: boolean;
  /**
   * `FunctionResponseTypes: ["ReportBatchItemFailures"]`: the handler's `batchItemFailures`
   * decide what is retried (the lowest reported record and everything after it). Without
   * it, only a thrown error fails a batch. @default true
   */
  readonly reportBatchItemFailures?: boolean;
}

/**
 * Records that exhausted their retries: what Lambda hands its on-failure destination (an S3
 * destination gets the event itself: see `s3OnFailureDestination` in ./skippedBatches).
 * `sourceKind` tells a stream's shard (`streamArn`, `shardId`) from a Kafka topic partition
 * (`topic`, `partition`); sequence numbers are Kafka offsets for the latter.
 */
export type PollerFailure = GivenUpBatch & {
  readonly source: string;
  readonly firstSequenceNumber: string;
  readonly lastSequenceNumber: string;
  readonly records: number;
  readonly reason: string;
};

export type { KafkaSource } from './kafkaPollerSource';

/** A Kinesis stream to poll, and the handler its mapping invokes. */
export interface KinesisSource {
  readonly kind: 'kinesis';
  readonly client: KinesisClient;
  /** Stream name. */
  readonly stream: string;
  readonly handler: (event: KinesisStreamEvent) => Promise<StreamBatchResponse | void>;
  readonly mapping?: MappingOptions;
  /** How long the stream keeps a record (`retentionPeriod`): older ones are trimmed, read or not. @default 24 hours */
  readonly retentionMs?: number;
}

/** A DynamoDB stream to poll, and the handler its mapping invokes. */
export interface DynamoStreamSource {
  readonly kind: 'dynamodb';
  readonly api: DynamoStreamsApi;
  /** The table's `LatestStreamArn`. */
  readonly streamArn: string;
  readonly handler: (event: DynamoDBStreamEvent) => Promise<StreamBatchResponse | void>;
  readonly mapping?: MappingOptions;
  /** How long the stream keeps a record: 24 hours on DynamoDB Streams, which is not configurable. @default 24 hours */
  readonly retentionMs?: number;
}

/** What one poll-and-invoke round of a shard did; a fault hook sees it before the checkpoint. */
export interface BatchDone {
  readonly source: string;
  readonly shardId: string;
  /** Sequence numbers of the records the invocation completed (to be checkpointed). */
  readonly completed: readonly string[];
}

/** Options of {@link LocalPoller}. */
export interface LocalPollerOptions {
  readonly sources: readonly (KinesisSource | DynamoStreamSource | KafkaSource)[];
  /**
   * The time that decides which records the streams have trimmed (a record older than its
   * source's `retentionMs` is never delivered, as on AWS): a simulated clock lets a test
   * stop a poller for "25 hours" and find the records gone. The emulators stamp records with
   * the wall clock; a clock with `timeAt` (a `SimulatedClock`) says what those stamps mean on
   * its own timeline, and the events carry the translated stamps, so a handler that compares
   * arrival times with the same clock sees them agree.
   * @default - the system clock
   */
  readonly clock?: StampingClock;
  /** Pause after a poll of a shard that returned nothing. @default 100 ms */
  readonly idlePollMs?: number;
  /** How often shards are listed again (new shards, DynamoDB Streams' shard rollover). @default 5000 ms */
  readonly shardRefreshMs?: number;
  /** Where records that exhausted their retries go. @default - logged as a warning */
  readonly onFailure?: (failure: PollerFailure) => void | Promise<void>;
  /**
   * Fault injection for tests: return true to act as if the poller died after the
   * invocation and before its checkpoint (the completed records are delivered again).
   */
  readonly crashBeforeCheckpoint?: (done: BatchDone) => boolean;
  /** @default - `console` */
  readonly logger?: Pick<Console, 'warn'>;
}

/** A {@link Clock} that may know the time it showed at a wall-clock moment (a `SimulatedClock` does). */
export interface StampingClock extends Clock {
  timeAt?(wallClockMs: number): number;
}

/** Counters of a {@link LocalPoller}, growing from its start. */
export interface PollerProgress {
  /** GetRecords calls. */
  polls: number;
  /** Records read from the shards (each once). */
  recordsRead: number;
  /** Handler invocations. */
  invocations: number;
  /** Records delivered to handlers, re-deliveries included. */
  recordsDelivered: number;
  /** Records past the checkpoint: done with, for good. */
  recordsCheckpointed: number;
  /** Invocations that threw. */
  handlerErrors: number;
  /** Invocations that answered batchItemFailures. */
  partialFailures: number;
  /** Records delivered again after a failure. */
  retriedRecords: number;
  /** Batches split in two after a handler error. */
  bisections: number;
  /** Records given up on after maxRetryAttempts (sent to onFailure). */
  recordsFailed: number;
  /** Records the streams trimmed (older than their retention) before they were done with. */
  recordsTrimmed: number;
  /** Rounds whose checkpoint a fault hook prevented. */
  checkpointsSkipped: number;
  /** Per `source/shardId`: the sequence number of the last checkpointed record. */
  checkpoints: Record<string, string>;
}

/** @internal A record read from a shard (or Kafka partition), as the shard workers keep it. */
export interface PolledRecord {
  /** The record's position: a sequence number, or a Kafka offset in decimal. */
  readonly sequenceNumber: string;
  /** When the stream took the record (epoch ms), when it says. */
  readonly createdAtMs?: number;
  /** What Lambda keeps in order at a parallelization factor above 1. */
  readonly orderingKey: string;
  readonly event: KinesisStreamRecord | DynamoDBStreamRecord | KafkaRecord;
}

/** What Kinesis keeps by default, and DynamoDB Streams always: 24 hours. */
const DEFAULT_RETENTION_MS = 24 * 60 * 60 * 1000;

/** @internal One source as the shard workers see it: how to list shards, read them and invoke. */
export interface SourceDriver {
  readonly kind: 'kinesis' | 'dynamodb' | 'kafka';
  readonly retentionMs: number;
  readonly name: string;
  readonly mapping: Required<MappingOptions>;
  listShards(): Promise<{ shardId: string; parentShardId?: string }[]>;
  /** A TRIM_HORIZON iterator (a Kafka source: where the mapping starts), or one AFTER_SEQUENCE_NUMBER `after`. */
  iterator(shardId: string, after?: string): Promise<string | undefined>;
  /** Up to `limit` records, their wall-clock arrival stamps translated by `onClock`. */
  read(shardId: string, iterator: string, limit: number, onClock: (wallClockMs: number) => number): Promise<{ records: PolledRecord[]; next: string | undefined }>;
  invoke(records: readonly PolledRecord[]): Promise<StreamBatchResponse | void>;
  /** What on-failure is told of `records` of `shardId`, given up on, besides the condition and attempts. */
  givenUp(shardId: string, records: readonly PolledRecord[]): DistributiveOmit<GivenUpBatch, 'condition' | 'attempts'>;
  /**
   * Makes the shard's checkpoint durable at `last` (the last record done with), where the
   * source keeps one: a Kafka mapping commits its consumer group's offset. Called after each
   * round that advanced the checkpoint, and again while it fails.
   */
  checkpoint?(shardId: string, last: string): Promise<void>;
  /** Releases the source's connections; the driver reconnects if polled again. */
  close?(): Promise<void>;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

const DEFAULT_MAPPING: Required<MappingOptions> = {
  batchSize: 100,
  parallelizationFactor: 1,
  maxRetryAttempts: -1,
  bisectBatchOnFunctionError: false,
  reportBatchItemFailures: true,
};

/** Validates mapping options, with Lambda's own bounds. */
export function mappingOptions(options: MappingOptions = {}, where = 'mapping'): Required<MappingOptions> {
  const mapping = { ...DEFAULT_MAPPING, ...options };
  const int = (name: keyof MappingOptions, min: number, max: number) => {
    const value = mapping[name] as number;
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new RangeError(`${where}: ${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
    }
  };
  int('batchSize', 1, 10_000);
  int('parallelizationFactor', 1, 10);
  int('maxRetryAttempts', -1, 10_000);
  return mapping;
}

/**
 * A local stand-in for Lambda's event source mappings: it polls Kinesis streams (every
 * shard from TRIM_HORIZON, one iterator per shard), DynamoDB streams and Kafka topics (each
 * partition a shard, from the consumer group's committed offset: see {@link KafkaSource}),
 * and invokes the handlers with AWS-shaped events under the mapping's rules:
 *
 * - batches of at most `batchSize` records of one shard, in order;
 * - `parallelizationFactor` batches of a shard in flight at once, records assigned to a lane
 *   by their ordering key: the partition key on Kinesis, the item key (partition and sort
 *   key) on DynamoDB Streams, as strict as AWS: two items of one partition may be relayed
 *   in either order;
 * - with `ReportBatchItemFailures`, the checkpoint advances only past the records before the
 *   lowest reported `itemIdentifier`; that record and the rest of its batch are retried (an
 *   identifier that is not in the batch fails the whole batch, as Lambda does);
 * - a handler that throws fails its whole batch; with `bisectBatchOnFunctionError` the batch
 *   is halved for the retry;
 * - after `maxRetryAttempts` retries the batch goes to `onFailure` and the shard moves on.
 *
 * `stop()` ends every loop and timer once the invocations in flight are done.
 *
 * @example
 * const poller = new LocalPoller({ sources: [
 *   { kind: 'kinesis', client: kinesis, stream: 'statefun-messages', handler: dispatcher },
 *   { kind: 'dynamodb', api: streams, streamArn, handler: relay },
 *   { kind: 'kafka', bootstrapBrokers: ['127.0.0.1:9092'], topics: ['names'], consumerGroupId: 'dispatcher-names', handler: dispatcher },
 * ] });
 * poller.start();
 * await poller.waitForIdle();
 * await poller.stop();
 */
export class LocalPoller {
  private readonly drivers: SourceDriver[];
  private readonly idlePollMs: number;
  private readonly shardRefreshMs: number;
  private readonly logger: Pick<Console, 'warn'>;
  private readonly workers = new Map<string, ShardWorker>();
  private readonly finishedShards = new Set<string>();
  private readonly loops: Promise<void>[] = [];
  private readonly sleepers = new Set<() => void>();
  private running = false;
  /** Per source: when a shard listing last found nothing new to start. */
  private readonly listedCleanAtMs = new Map<string, number>();
  private lastActivityMs = Date.now();
  private fatal: Error | undefined;
  readonly progress: PollerProgress = {
    polls: 0,
    recordsRead: 0,
    invocations: 0,
    recordsDelivered: 0,
    recordsCheckpointed: 0,
    handlerErrors: 0,
    partialFailures: 0,
    retriedRecords: 0,
    bisections: 0,
    recordsFailed: 0,
    recordsTrimmed: 0,
    checkpointsSkipped: 0,
    checkpoints: {},
  };

  constructor(private readonly options: LocalPollerOptions) {
    if (options.sources.length === 0) throw new RangeError('LocalPoller: give it at least one source');
    this.idlePollMs = options.idlePollMs ?? 100;
    this.shardRefreshMs = options.shardRefreshMs ?? 5000;
    this.logger = options.logger ?? console;
    this.drivers = options.sources.map((source) => (source.kind === 'kinesis' ? kinesisDriver(source) : source.kind === 'dynamodb' ? dynamoDriver(source) : kafkaDriver(source)));
  }

  /** Starts polling every source. */
  start(): void {
    if (this.running) return;
    this.running = true;
    for (const driver of this.drivers) this.loops.push(this.sourceLoop(driver));
  }

  /** Stops polling; resolves when every loop has ended and the sources' connections are closed (no timer is left behind). */
  async stop(): Promise<void> {
    this.running = false;
    for (const wake of [...this.sleepers]) wake();
    while (this.loops.length > 0) await Promise.all(this.loops.splice(0));
    await Promise.all(this.drivers.map((driver) => driver.close?.()));
  }

  /**
   * Whether every shard is drained, nothing is in flight, and nothing happened for `quietMs`;
   * with `sinceMs`, also every open shard was polled and found empty after that moment (so a
   * record written just before it is not missed).
   */
  isIdle(quietMs: number, sinceMs = 0): boolean {
    if (Date.now() - this.lastActivityMs < quietMs) return false;
    for (const worker of this.workers.values()) if (!worker.idleSince(sinceMs)) return false;
    // A shard that appeared since (DynamoDB Streams' rollover, a child shard) is not drained yet.
    for (const driver of this.drivers) if ((this.listedCleanAtMs.get(driver.name) ?? 0) <= this.lastActivityMs) return false;
    return true;
  }

  /**
   * Resolves once the poller {@link isIdle} (nothing read, nothing in flight for `quietMs`,
   * every shard found empty by a poll made after this call began: what was written before
   * the call is processed); rejects after `timeoutMs`, or when a source failed for good.
   */
  async waitForIdle(options: { quietMs?: number; timeoutMs?: number } = {}): Promise<void> {
    const quietMs = options.quietMs ?? Math.max(3 * this.idlePollMs, 500);
    const calledAtMs = Date.now();
    const deadline = calledAtMs + (options.timeoutMs ?? 120_000);
    for (;;) {
      if (this.fatal) throw this.fatal;
      if (this.isIdle(quietMs, calledAtMs)) return;
      // Quiet, but the shard listings are older than the last activity: list again now.
      if (Date.now() - this.lastActivityMs >= quietMs) for (const wake of [...this.sleepers]) wake();
      if (Date.now() > deadline) {
        throw new Error(`LocalPoller: still busy after ${options.timeoutMs ?? 120_000} ms: ${JSON.stringify(this.summary())}`);
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(50, quietMs)));
    }
  }

  /** The counters without the per-shard checkpoints. */
  summary(): Omit<PollerProgress, 'checkpoints'> {
    const { checkpoints: _ignored, ...rest } = this.progress;
    return rest;
  }

  private sleep(ms: number): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }

  private async sourceLoop(driver: SourceDriver): Promise<void> {
    let failures = 0;
    while (this.running) {
      try {
        const shards = await driver.listShards();
        const known = new Set(shards.map((s) => s.shardId));
        const listedAtMs = Date.now();
        let startedOrWaiting = false;
        for (const shard of shards) {
          const key = `${driver.name}/${shard.shardId}`;
          if (this.workers.has(key) || this.finishedShards.has(key)) continue;
          // A child shard starts once its parent is read to its end (Lambda's order across resharding).
          const parent = shard.parentShardId ? `${driver.name}/${shard.parentShardId}` : undefined;
          startedOrWaiting = true;
          if (parent && known.has(shard.parentShardId!) && !this.finishedShards.has(parent)) continue;
          const worker = new ShardWorker(this, driver, shard.shardId);
          this.workers.set(key, worker);
          this.loops.push(
            worker.run().then(() => {
              this.workers.delete(key);
              if (worker.finished) this.finishedShards.add(key);
            }),
          );
        }
        if (!startedOrWaiting) this.listedCleanAtMs.set(driver.name, listedAtMs);
        failures = 0;
      } catch (error) {
        failures++;
        this.logger.warn(JSON.stringify({ message: 'LocalPoller: listing shards failed', source: driver.name, error: describeError(error) }));
        // A source's TerminalError (a Kafka cluster refusing the credentials) repeats: give up at once.
        if (failures >= 20 || error instanceof TerminalError) {
          const reason = error instanceof TerminalError ? error.message : describeError(error);
          this.fatal = new Error(`LocalPoller: cannot list the shards of ${driver.name}: ${reason}`, { cause: error });
          return;
        }
      }
      await this.sleep(this.shardRefreshMs);
    }
  }

  /** @internal */
  shouldRun(): boolean {
    return this.running;
  }
  /** @internal */
  touch(): void {
    this.lastActivityMs = Date.now();
  }
  /** @internal */
  pause(ms: number): Promise<void> {
    return this.sleep(ms ?? this.idlePollMs);
  }
  /** @internal */
  get idlePoll(): number {
    return this.idlePollMs;
  }
  /** @internal */
  warn(entry: object): void {
    this.logger.warn(JSON.stringify(entry));
  }
  /** @internal */
  now(): number {
    return (this.options.clock ?? systemClock).now();
  }
  /** @internal The poller's clock's time at a wall-clock moment (the moment itself for the system clock). */
  readonly onClock = (wallClockMs: number): number => this.options.clock?.timeAt?.(wallClockMs) ?? wallClockMs;
  /** @internal */
  trimmed(source: string, shardId: string, records: number): void {
    this.progress.recordsTrimmed += records;
    this.warn({ message: 'LocalPoller: records older than the stream\'s retention were trimmed: never delivered', source, shardId, records });
  }
  /** @internal */
  async failed(failure: PollerFailure): Promise<void> {
    this.progress.recordsFailed += failure.records;
    const { event: _records, ...coordinates } = failure;
    this.warn({ message: 'LocalPoller: records exhausted their retries: sent to on-failure, the shard moves on', ...coordinates });
    await this.options.onFailure?.(failure);
  }
  /** @internal */
  crashBeforeCheckpoint(done: BatchDone): boolean {
    return this.options.crashBeforeCheckpoint?.(done) ?? false;
  }
}

/** The loop over one shard: its buffer of records not yet checkpointed, its lanes. */
class ShardWorker {
  /** Records read and not yet checkpointed, in shard order. */
  private buffer: PolledRecord[] = [];
  private iterator: string | undefined;
  /** The last record read: where a fresh iterator resumes. */
  private lastRead: string | undefined;
  private ended = false;
  private inFlight = false;
  private lastPollEmpty = false;
  /** When the last poll that found the shard empty began (wall clock). */
  private lastEmptyPollMs = 0;
  /** A checkpoint the source has not made durable yet (its `checkpoint` failed): retried. */
  private uncommitted: string | undefined;
  /** Per lane: how many times its head batch has failed, and the size to retry with. */
  private readonly lanes: { attempts: number; limit: number }[];

  constructor(
    private readonly poller: LocalPoller,
    private readonly driver: SourceDriver,
    private readonly shardId: string,
  ) {
    this.lanes = Array.from({ length: driver.mapping.parallelizationFactor }, () => ({ attempts: 0, limit: driver.mapping.batchSize }));
  }

  get idle(): boolean {
    return !this.inFlight && this.buffer.length === 0 && this.uncommitted === undefined && (this.lastPollEmpty || this.ended);
  }

  /** {@link idle}, and (unless the shard ended) found empty by a poll made after `sinceMs`. */
  idleSince(sinceMs: number): boolean {
    return this.idle && (this.ended || this.lastEmptyPollMs > sinceMs);
  }

  /** The shard was closed and fully processed. */
  get finished(): boolean {
    return this.ended && this.buffer.length === 0;
  }

  async run(): Promise<void> {
    const { mapping } = this.driver;
    let readErrors = 0;
    while (this.poller.shouldRun()) {
      const want = mapping.batchSize * mapping.parallelizationFactor;
      if (!this.ended && this.buffer.length < want) {
        try {
          if (this.iterator === undefined) {
            this.iterator = await this.driver.iterator(this.shardId, this.lastRead);
            if (this.iterator === undefined) this.ended = true;
          }
          if (this.iterator !== undefined) {
            const pollStartedMs = Date.now();
            const got = await this.driver.read(this.shardId, this.iterator, Math.max(want, 100), this.poller.onClock);
            this.poller.progress.polls++;
            this.poller.progress.recordsRead += got.records.length;
            this.buffer.push(...got.records);
            if (got.records.length > 0) this.lastRead = got.records.at(-1)!.sequenceNumber;
            this.lastPollEmpty = got.records.length === 0;
            if (this.lastPollEmpty) this.lastEmptyPollMs = pollStartedMs;
            if (got.records.length > 0) this.poller.touch();
            this.iterator = got.next;
            if (got.next === undefined) this.ended = true;
          }
          readErrors = 0;
        } catch (error) {
          readErrors++;
          this.poller.warn({ message: 'LocalPoller: reading a shard failed; retrying', source: this.driver.name, shardId: this.shardId, error: describeError(error) });
          // An expired iterator, or DynamoDB Local's TrimmedDataAccessException for an iterator
          // taken on an empty shard: resume with a fresh one after the last record read.
          if (/ExpiredIterator|TrimmedDataAccess/i.test(describeError(error))) this.iterator = undefined;
          await this.poller.pause(Math.min(this.poller.idlePoll * 2 ** readErrors, 5000));
          continue;
        }
      }
      this.trimExpired();
      if (this.buffer.length === 0) {
        if (this.uncommitted !== undefined) await this.commitCheckpoint();
        if (this.ended) return;
        await this.poller.pause(this.poller.idlePoll);
        continue;
      }
      this.inFlight = true;
      this.poller.touch();
      try {
        await this.round();
      } finally {
        this.inFlight = false;
        this.poller.touch();
      }
    }
  }

  /**
   * Drops the records older than the stream's retention, read or not, retried or not: the
   * stream trimmed them, and on AWS they are never delivered again.
   */
  private trimExpired(): void {
    const horizon = this.poller.now() - this.driver.retentionMs;
    const expired = (r: PolledRecord) => r.createdAtMs !== undefined && r.createdAtMs < horizon;
    if (!this.buffer.some(expired)) return;
    const before = this.buffer.length;
    this.buffer = this.buffer.filter((r) => !expired(r));
    for (const lane of this.lanes) Object.assign(lane, { attempts: 0, limit: this.driver.mapping.batchSize });
    this.poller.trimmed(this.driver.name, this.shardId, before - this.buffer.length);
  }

  /** One batch per non-empty lane, in parallel; then the checkpoint. */
  private async round(): Promise<void> {
    const { mapping } = this.driver;
    const byLane: PolledRecord[][] = this.lanes.map(() => []);
    for (const record of this.buffer) {
      const lane = mapping.parallelizationFactor === 1 ? 0 : laneOf(record.orderingKey, mapping.parallelizationFactor);
      if (byLane[lane]!.length < this.lanes[lane]!.limit) byLane[lane]!.push(record);
    }
    const completed = new Set<string>();
    await Promise.all(
      byLane.map(async (batch, lane) => {
        if (batch.length === 0) return;
        for (const seq of await this.deliver(batch, this.lanes[lane]!)) completed.add(seq);
      }),
    );
    if (completed.size === 0) return;
    const done: BatchDone = { source: this.driver.name, shardId: this.shardId, completed: [...completed] };
    if (this.poller.crashBeforeCheckpoint(done)) {
      this.poller.progress.checkpointsSkipped++;
      return;
    }
    this.buffer = this.buffer.filter((r) => !completed.has(r.sequenceNumber));
    this.poller.progress.recordsCheckpointed += completed.size;
    // The shard's checkpoint: everything before the oldest record still pending.
    const last = [...completed].sort(comparePositions).at(-1)!;
    const pending = this.buffer[0]?.sequenceNumber;
    if (pending === undefined || comparePositions(last, pending) < 0) {
      this.poller.progress.checkpoints[`${this.driver.name}/${this.shardId}`] = last;
      this.uncommitted = last;
      await this.commitCheckpoint();
    }
  }

  /**
   * Makes the checkpoint durable where the source keeps one (a Kafka consumer group's offset).
   * A failure is logged and retried later: until then a restarted poller delivers the records
   * since the last durable checkpoint again, as Lambda does after a failed offset commit.
   */
  private async commitCheckpoint(): Promise<void> {
    const last = this.uncommitted;
    if (last === undefined) return;
    try {
      await this.driver.checkpoint?.(this.shardId, last);
      if (this.uncommitted === last) this.uncommitted = undefined;
    } catch (error) {
      this.poller.warn({ message: 'LocalPoller: committing the checkpoint failed; retrying', source: this.driver.name, shardId: this.shardId, checkpoint: last, error: describeError(error) });
    }
  }

  /** Invokes the handler with `batch`; answers the sequence numbers done with (handled or failed over). */
  private async deliver(batch: readonly PolledRecord[], lane: { attempts: number; limit: number }): Promise<string[]> {
    const { mapping } = this.driver;
    const progress = this.poller.progress;
    progress.invocations++;
    progress.recordsDelivered += batch.length;
    if (lane.attempts > 0) progress.retriedRecords += batch.length;
    const all = batch.map((r) => r.sequenceNumber);
    let failedFrom: number;
    let reason: string;
    try {
      const response = await this.driver.invoke(batch);
      const failures = mapping.reportBatchItemFailures ? (response?.batchItemFailures ?? []) : [];
      if (failures.length === 0) {
        lane.attempts = 0;
        lane.limit = mapping.batchSize;
        return all;
      }
      progress.partialFailures++;
      const indexes = failures.map((f) => all.indexOf(String(f?.itemIdentifier)));
      // An identifier that is not in the batch (or empty) fails the whole batch, as on AWS.
      failedFrom = indexes.some((i) => i < 0) ? 0 : Math.min(...indexes);
      reason = `batchItemFailures from ${all[failedFrom]}`;
    } catch (error) {
      progress.handlerErrors++;
      failedFrom = 0;
      reason = `handler threw: ${describeError(error)}`;
      if (mapping.bisectBatchOnFunctionError && batch.length > 1) {
        lane.limit = Math.ceil(batch.length / 2);
        progress.bisections++;
      }
    }
    lane.attempts++;
    if (mapping.maxRetryAttempts >= 0 && lane.attempts > mapping.maxRetryAttempts) {
      const failed = batch.slice(failedFrom);
      await this.poller.failed({
        source: this.driver.name,
        ...this.driver.givenUp(this.shardId, failed),
        condition: 'RetryAttemptsExhausted',
        firstSequenceNumber: failed[0]!.sequenceNumber,
        lastSequenceNumber: failed.at(-1)!.sequenceNumber,
        records: failed.length,
        attempts: lane.attempts,
        reason,
      });
      lane.attempts = 0;
      lane.limit = mapping.batchSize;
      return all;
    }
    return all.slice(0, failedFrom);
  }
}

/** The item key of a DynamoDB stream record, its attributes in name order: one string per item. */
function itemKeyOf(keys: Record<string, unknown> | undefined): string {
  return JSON.stringify(Object.entries(keys ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function laneOf(orderingKey: string, lanes: number): number {
  return createHash('md5').update(orderingKey).digest().readUInt32BE(0) % lanes;
}

/** A stream batch given up on: its shard, its stream's ARN (from the event) and the records' arrival stamps. */
function streamGivenUp(kind: 'kinesis' | 'dynamodb', name: string, shardId: string, records: readonly PolledRecord[], event: KinesisStreamEvent | DynamoDBStreamEvent): Omit<GivenUpStreamBatch, 'condition' | 'attempts'> {
  return {
    sourceKind: kind,
    streamArn: event.Records[0]!.eventSourceARN ?? name,
    shardId,
    event,
    ...(records[0]!.createdAtMs !== undefined ? { firstArrivalMs: records[0]!.createdAtMs } : {}),
    ...(records.at(-1)!.createdAtMs !== undefined ? { lastArrivalMs: records.at(-1)!.createdAtMs } : {}),
  };
}

function kinesisDriver(source: KinesisSource): SourceDriver {
  const { client, stream } = source;
  let arn: string | undefined;
  const streamArn = async () => {
    arn ??= (await client.send(new DescribeStreamSummaryCommand({ StreamName: stream }))).StreamDescriptionSummary?.StreamARN;
    if (arn === undefined) throw new Error(`Kinesis stream ${stream} has no ARN in DescribeStreamSummary`);
    return arn;
  };
  return {
    kind: 'kinesis',
    name: stream,
    retentionMs: source.retentionMs ?? DEFAULT_RETENTION_MS,
    mapping: mappingOptions(source.mapping, `Kinesis source ${stream}`),
    async listShards() {
      const out: { shardId: string; parentShardId?: string }[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(new ListShardsCommand(token ? { NextToken: token } : { StreamName: stream }));
        for (const shard of page.Shards ?? []) {
          out.push({ shardId: shard.ShardId!, ...(shard.ParentShardId ? { parentShardId: shard.ParentShardId } : {}) });
        }
        token = page.NextToken;
      } while (token);
      return out;
    },
    async iterator(shardId, after) {
      const position = after === undefined ? { ShardIteratorType: 'TRIM_HORIZON' as const } : { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER' as const, StartingSequenceNumber: after };
      return (await client.send(new GetShardIteratorCommand({ StreamName: stream, ShardId: shardId, ...position }))).ShardIterator;
    },
    async read(shardId, iterator, limit, onClock) {
      const eventSourceARN = await streamArn();
      const got = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: Math.min(limit, 10_000) }));
      const records = (got.Records ?? []).map((r): PolledRecord => {
        const createdAtMs = r.ApproximateArrivalTimestamp ? onClock(r.ApproximateArrivalTimestamp.getTime()) : undefined;
        const event: KinesisStreamRecord = {
          kinesis: {
            kinesisSchemaVersion: '1.0',
            partitionKey: r.PartitionKey!,
            sequenceNumber: r.SequenceNumber!,
            data: Buffer.from(r.Data ?? new Uint8Array(0)).toString('base64'),
            ...(createdAtMs !== undefined ? { approximateArrivalTimestamp: createdAtMs / 1000 } : {}),
          },
          eventSource: 'aws:kinesis',
          eventVersion: '1.0',
          eventID: `${shardId}:${r.SequenceNumber}`,
          eventName: 'aws:kinesis:record',
          eventSourceARN,
        };
        return { sequenceNumber: r.SequenceNumber!, orderingKey: r.PartitionKey!, event, ...(createdAtMs !== undefined ? { createdAtMs } : {}) };
      });
      // A closed shard answers no next iterator; an open one always does.
      return { records, next: got.NextShardIterator };
    },
    invoke(records) {
      return source.handler({ Records: records.map((r) => r.event as KinesisStreamRecord) });
    },
    givenUp(shardId, records) {
      return streamGivenUp('kinesis', stream, shardId, records, { Records: records.map((r) => r.event as KinesisStreamRecord) });
    },
  };
}

function dynamoDriver(source: DynamoStreamSource): SourceDriver {
  const { api, streamArn } = source;
  const name = streamArn.includes(':table/') ? streamArn.slice(streamArn.indexOf(':table/') + 7) : streamArn;
  return {
    kind: 'dynamodb',
    name,
    retentionMs: source.retentionMs ?? DEFAULT_RETENTION_MS,
    mapping: mappingOptions(source.mapping, `DynamoDB stream ${name}`),
    async listShards() {
      const out: { shardId: string; parentShardId?: string }[] = [];
      let start: string | undefined;
      do {
        const page = await api.describeStream(streamArn, start);
        for (const shard of page.shards) out.push({ shardId: shard.ShardId, ...(shard.ParentShardId ? { parentShardId: shard.ParentShardId } : {}) });
        start = page.lastEvaluatedShardId;
      } while (start);
      return out;
    },
    iterator(shardId, after) {
      return after === undefined ? api.getShardIterator(streamArn, shardId, 'TRIM_HORIZON') : api.getShardIterator(streamArn, shardId, 'AFTER_SEQUENCE_NUMBER', after);
    },
    async read(_shardId, iterator, limit, onClock) {
      const got = await api.getRecords(iterator, Math.min(limit, 1000));
      const records = got.records.map((r): PolledRecord => {
        const created = r.dynamodb.ApproximateCreationDateTime;
        // Whole seconds: read as the end of its second, so a record made just after a move
        // of a simulated clock is not taken for one made before it.
        const createdAtMs = created === undefined ? undefined : onClock(created * 1000 + 999);
        const event = { ...r, eventSourceARN: streamArn } as DynamoDBStreamRecord;
        return {
          sequenceNumber: r.dynamodb.SequenceNumber,
          orderingKey: itemKeyOf(r.dynamodb.Keys),
          event: createdAtMs === undefined ? event : { ...event, dynamodb: { ...event.dynamodb, ApproximateCreationDateTime: Math.floor(createdAtMs / 1000) } },
          ...(createdAtMs !== undefined ? { createdAtMs } : {}),
        };
      });
      return { records, next: got.nextShardIterator };
    },
    invoke(records) {
      return source.handler({ Records: records.map((r) => r.event as DynamoDBStreamRecord) });
    },
    givenUp(shardId, records) {
      return streamGivenUp('dynamodb', name, shardId, records, { Records: records.map((r) => r.event as DynamoDBStreamRecord) });
    },
  };
}
