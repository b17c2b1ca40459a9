import { createHash } from 'node:crypto';
import { type EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { type KinesisClient, PutRecordsCommand, type PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import { type SQSClient, SendMessageBatchCommand, type SendMessageBatchRequestEntry } from '@aws-sdk/client-sqs';
import type { DeadLetter } from '../core/AddressState';
import { forEachConcurrently } from '../core/concurrency';
import { deadLetterJson, offloadDeadLetter } from '../core/deadLetterJson';
import type { PayloadStore } from '../core/ports/PayloadStore';
import { type BackoffPolicy, type Sleep, backoffDelayMs, realSleep } from '../core/dispatch/retry';
import type { Effects, EgressRecord } from '../core/Effects';
import type { Envelope } from '../core/Envelope';
import { asWakeUp } from '../core/Inbox';
import { RetryableError, TerminalError, describeError } from '../core/errors';
import type { DelayScheduler } from './DelayScheduler';
import type { EgressFence, EgressFenceKey } from './EgressFence';
import { MAX_KINESIS_RECORD_BYTES, type MessageRecord, encodeMessageBundles, recordBytes, streamRef } from './messageRecords';
import { type KafkaCluster, KafkaProducers, type KafkaRecordToProduce } from './KafkaProducers';
import { readKafkaProducerRecord, readKinesisEgressRecord } from './statefunEgressRecords';

/** Where the records of one egress go. */
export type EgressTarget =
  | {
      /** A Kinesis stream name or ARN. Data = the record's bytes, partition key = the record id (the consumer's dedup key). */
      readonly kinesisStream: string;
    }
  | {
      /**
       * Streams the records of a StateFun application's Kinesis egress may go to: each record
       * is an SDK's `KinesisEgressRecord` (`kinesis_egress_message`, `kinesisEgressMessage`)
       * naming its stream (one of these, name or ARN as written here), partition key and
       * explicit hash key, and its value is put as the data. A record naming another stream,
       * or of another type, is a dead letter.
       */
      readonly kinesisEgressRecordStreams: readonly string[];
    }
  | {
      /**
       * Topics the records of a StateFun application's Kafka egress may go to: each record is
       * an SDK's `KafkaProducerRecord` (`kafka_egress_message`, `kafkaEgressMessage`) naming
       * its topic (one of these), key and value, produced to `kafkaCluster` with the record id
       * in the `statefun-id` header. A record naming another topic, or of another type, is a
       * dead letter.
       */
      readonly kafkaProducerRecordTopics: readonly string[];
      readonly kafkaCluster: KafkaCluster;
    }
  | {
      /**
       * An EventBridge event bus, name or ARN: each record becomes one event (`PutEvents`),
       * its detail `{"id", "type", "encoding", "value"}`: the record id (EventBridge has no
       * event id of the caller's, so consumers drop duplicates by `detail.id`), the value's
       * type name, and the value: as JSON when its bytes are JSON text (`"encoding": "json"`),
       * else as a string (`"utf8"`), else base64 (`"base64"`).
       */
      readonly eventBus: string;
      /** The events' `source`. @default - the egress name */
      readonly source?: string;
      /** The events' `detail-type`. @default - the value's type name */
      readonly detailType?: string;
    }
  | {
      /**
       * An SQS queue URL. Body = the bytes as UTF-8 text, or base64 when they are not text
       * (attribute `statefun-encoding`); attributes `statefun-id` and `statefun-type`. A FIFO
       * queue gets `MessageDeduplicationId` = the record id and `MessageGroupId` =
       * `messageGroupId`.
       */
      readonly sqsQueueUrl: string;
      /** @default - the egress name */
      readonly messageGroupId?: string;
    };

/**
 * Where an egress target sends its records, in a few words (for logs and `statefun dev`).
 *
 * @example
 * egressTargetLabel({ eventBus: 'orders' }); // 'EventBridge bus orders'
 */
export function egressTargetLabel(target: EgressTarget): string {
  if ('kinesisStream' in target) return `Kinesis stream ${target.kinesisStream}`;
  if ('kinesisEgressRecordStreams' in target) return `Kinesis streams ${target.kinesisEgressRecordStreams.join(', ')}`;
  if ('sqsQueueUrl' in target) return `SQS queue ${target.sqsQueueUrl}`;
  if ('eventBus' in target) return `EventBridge bus ${target.eventBus}`;
  return `Kafka topics ${target.kafkaProducerRecordTopics.join(', ')} on ${target.kafkaCluster.bootstrapServers.join(',')}`;
}

/** Options of {@link OutboxRelay}. */
export interface OutboxRelayOptions {
  readonly kinesis: KinesisClient;
  /** The message stream, name or ARN. */
  readonly messageStream: string;
  /** Needed for SQS egress and the dead-letter queue. */
  readonly sqs?: SQSClient;
  /** Needed for EventBridge egress. */
  readonly eventBridge?: EventBridgeClient;
  /** Egress name (`namespace/type`) → sink. A record of another egress becomes a dead letter. */
  readonly egress?: Readonly<Record<string, EgressTarget>>;
  /** @default - none: an outbox item with dead letters is not relayed (and reported) until one is configured */
  readonly deadLetterQueueUrl?: string;
  /**
   * The producers of the Kafka egresses.
   * @default - one set per process, created when a Kafka egress first needs it
   */
  readonly kafkaProducers?: KafkaProducers;
  /**
   * Where a dead letter too large for an SQS message is kept whole; the queue then gets its
   * stub (`DeadLetter.payloadRef`), which `statefun dlq` reads through.
   * @default - none: such a dead letter fails to relay, and its item is retried
   */
  readonly payloads?: PayloadStore;
  /** @default - none: an outbox item with delayed messages or cancellations is not relayed (and reported) */
  readonly delays?: DelayScheduler;
  /**
   * Keeps each address's egress in commit order at any parallelization factor: the egress
   * of a commit waits (its item is reported incomplete) while an earlier commit of its
   * address has egress not yet published.
   * @default - none: egress goes out in the order the relay gets the items
   */
  readonly egressFence?: EgressFence;
  /** Attempts of one PutRecords / SendMessageBatch round that keeps failing entries. @default - 8, 50 ms to 2 s with full jitter */
  readonly retry?: BackoffPolicy;
  /** @default - 1 MiB, Kinesis' limit */
  readonly maxRecordBytes?: number;
  /** @default - real timers */
  readonly sleep?: Sleep;
}

/** What {@link OutboxRelay.relay} got done. */
export interface RelayOutcome {
  /** The index of the first outbox item not fully published, if any: it and all after it must be relayed again. */
  readonly firstIncomplete: number | undefined;
  /** Why items are incomplete. */
  readonly errors: readonly { readonly index: number; readonly error: Error }[];
}

/** PutRecords takes at most 500 records and 5 MiB. */
const PUT_RECORDS_MAX_ENTRIES = 500;
const PUT_RECORDS_MAX_BYTES = 5 * 1024 * 1024;
/** SendMessageBatch takes at most 10 messages and 256 KiB (body and attributes) in all. */
const SQS_BATCH_MAX = 10;
const SQS_BATCH_MAX_BYTES = 256 * 1024;
/** PutEvents takes at most 10 entries and 256 KiB in all. */
const PUT_EVENTS_MAX = 10;
const PUT_EVENTS_MAX_BYTES = 256 * 1024;
/** Senders whose egress, dead letters and timers are published at once. */
const PUBLISH_CONCURRENCY = 16;
/** The largest dead letter sent to the queue as it is: SQS takes 256 KiB, attributes included. */
const DEAD_LETTER_INLINE_MAX_BYTES = 240 * 1024;
const DEFAULT_RETRY: BackoffPolicy = { maxAttempts: 8, baseDelayMs: 50, maxDelayMs: 2000 };

interface QueuedRecord {
  readonly record: MessageRecord;
  /** The outbox items whose messages this record carries. */
  readonly items: ReadonlySet<number>;
}

/**
 * Publishes the effects of committed outbox items, at least once:
 *
 * - messages go onto the message stream as wake-ups (without their values, which the
 *   receivers read from their inboxes), ONE bundle record per target (split only past
 *   1 MiB), with sequential `PutRecords` calls that retry failed entries. A call never holds
 *   two records of one key, and a key's next record waits until its previous one is in, so
 *   a retried record cannot be overtaken by a later one of its key: per-sender order
 *   survives partial failures;
 * - egress records go to their Kinesis stream or SQS queue (a sink that refuses them for
 *   good makes them dead letters, and the relay moves on); dead letters to the SQS
 *   dead-letter queue; delayed messages and cancellations to the {@link DelayScheduler}.
 *
 * Publishing twice is harmless: a wake-up whose inbox entry was applied is a duplicate, and
 * egress records carry their ids for consumers that deduplicate.
 *
 * @example
 * const relay = new OutboxRelay({ kinesis, messageStream: 'statefun-messages', sqs, deadLetterQueueUrl });
 * const { firstIncomplete } = await relay.relay([effectsOfItem1, effectsOfItem2]);
 */
export class OutboxRelay {
  private readonly retry: BackoffPolicy;
  private readonly sleep: Sleep;
  private readonly maxRecordBytes: number;

  constructor(private readonly options: OutboxRelayOptions) {
    this.retry = options.retry ?? DEFAULT_RETRY;
    this.sleep = options.sleep ?? realSleep;
    this.maxRecordBytes = options.maxRecordBytes ?? MAX_KINESIS_RECORD_BYTES;
  }

  /**
   * Publishes the effects of `items` (outbox items in stream order); `fences[i]` is the
   * egress fence of `items[i]`'s commit, when it has egress (see {@link EgressFence}).
   */
  async relay(items: readonly Effects[], fences: readonly (EgressFenceKey | undefined)[] = []): Promise<RelayOutcome> {
    const errors: { index: number; error: Error }[] = [];
    const fail = (index: number, error: unknown) => errors.push({ index, error: error instanceof Error ? error : new Error(String(error)) });

    const unsent = await this.putMessages(items).catch((error: unknown) => {
      items.forEach((_, index) => fail(index, error));
      return new Map<number, Error>();
    });
    for (const [index, error] of unsent) fail(index, error);

    // Egress, dead letters and timers: one sender's items in order, up to PUBLISH_CONCURRENCY senders at once.
    const bySender = new Map<string, number[]>();
    items.forEach((_, index) => {
      const sender = fences[index]?.sender ?? `#item ${index}`;
      const list = bySender.get(sender);
      if (list) list.push(index);
      else bySender.set(sender, [index]);
    });
    await forEachConcurrently([...bySender.values()], PUBLISH_CONCURRENCY, async (indexes) => {
      for (const index of indexes) {
        try {
          await this.publishOthers(items[index]!, fences[index]);
        } catch (error) {
          fail(index, error);
        }
      }
    });
    const firstIncomplete = errors.length === 0 ? undefined : Math.min(...errors.map((e) => e.index));
    return { firstIncomplete, errors };
  }

  /** Puts every message; answers the items whose records could not all be put, with why. */
  private async putMessages(items: readonly Effects[]): Promise<Map<number, Error>> {
    const byTarget = new Map<string, { envelope: Envelope; item: number }[]>();
    items.forEach((effects, item) => {
      for (const envelope of effects.messages) {
        const list = byTarget.get(envelope.target.key);
        if (list) list.push({ envelope, item });
        else byTarget.set(envelope.target.key, [{ envelope, item }]);
      }
    });
    const queues: QueuedRecord[][] = [];
    for (const entries of byTarget.values()) {
      // Wake-ups: each receiver reads the messages themselves from its inbox (docs/exactly-once.md).
      const records = encodeMessageBundles(entries.map((e) => asWakeUp(e.envelope)), this.maxRecordBytes);
      let next = 0;
      queues.push(
        records.map((record) => {
          const covered = new Set(entries.slice(next, next + record.count).map((e) => e.item));
          next += record.count;
          return { record, items: covered };
        }),
      );
    }

    let failedRounds = 0;
    let lastError = '';
    for (;;) {
      // One record per key per call: the head of each target's queue.
      const call: { queue: QueuedRecord[]; entry: PutRecordsRequestEntry }[] = [];
      let bytes = 0;
      for (const queue of queues) {
        const head = queue[0];
        if (head === undefined) continue;
        const size = recordBytes(head.record);
        if (call.length === PUT_RECORDS_MAX_ENTRIES || bytes + size > PUT_RECORDS_MAX_BYTES) break;
        bytes += size;
        call.push({ queue, entry: { PartitionKey: head.record.partitionKey, Data: head.record.data } });
      }
      if (call.length === 0) return new Map();

      let failed = 0;
      try {
        const out = await this.options.kinesis.send(
          new PutRecordsCommand({ ...streamRef(this.options.messageStream), Records: call.map((c) => c.entry) }),
        );
        const results = out.Records ?? [];
        call.forEach((c, i) => {
          const result = results[i];
          if (result !== undefined && result.ErrorCode === undefined && result.SequenceNumber !== undefined) c.queue.shift();
          else {
            failed++;
            lastError = `${result?.ErrorCode ?? 'NoResult'}: ${result?.ErrorMessage ?? 'PutRecords returned no result for the entry'}`;
          }
        });
      } catch (error) {
        failed = call.length;
        lastError = describeError(error);
      }
      if (failed === 0) {
        failedRounds = 0;
        continue;
      }
      failedRounds++;
      if (failedRounds >= this.retry.maxAttempts) {
        const error = new RetryableError(
          `PutRecords to ${this.options.messageStream} kept failing entries ${failedRounds} times in a row (last: ${lastError}); the outbox items will be relayed again`,
          { code: 'RELAY_INCOMPLETE' },
        );
        const unsent = new Map<number, Error>();
        for (const queue of queues) for (const queued of queue) for (const item of queued.items) unsent.set(item, error);
        return unsent;
      }
      await this.sleep(backoffDelayMs(this.retry, failedRounds));
    }
  }

  private async publishOthers(effects: Effects, fence: EgressFenceKey | undefined): Promise<void> {
    const egressFence = fence === undefined ? undefined : this.options.egressFence;
    if (egressFence !== undefined && (await egressFence.earlierPending(fence!))) {
      throw new RetryableError(`the egress of ${fence!.sender} at ${fence!.key} waits for an earlier commit's egress to be published first`, { code: 'EGRESS_WAITING' });
    }
    const deadLetters: DeadLetter[] = [...effects.deadLetters];
    const byEgress = new Map<string, EgressRecord[]>();
    for (const record of effects.egress) {
      const target = this.options.egress?.[record.egress];
      if (target === undefined) {
        deadLetters.push({
          id: record.id,
          address: record.egress,
          egressRecord: record,
          reason: `no egress named "${record.egress}" is configured (known: ${Object.keys(this.options.egress ?? {}).join(', ') || 'none'}): add it to the relay's egress map, then redrive`,
          atMs: Date.now(),
        });
        continue;
      }
      const list = byEgress.get(record.egress);
      if (list) list.push(record);
      else byEgress.set(record.egress, [record]);
    }
    for (const [name, records] of byEgress) {
      const target = this.options.egress![name]!;
      for (const { records: group, send } of this.sinkCalls(name, target, records, deadLetters)) {
        try {
          await send();
        } catch (error) {
          if (!(error instanceof TerminalError)) throw error;
          // The sink refuses for good (deleted, denied, invalid): the records become dead
          // letters and the relay moves on. Records of the group already delivered may be among
          // them: they carry their ids.
          for (const record of group) {
            deadLetters.push({ id: record.id, address: name, egressRecord: record, reason: `egress "${name}" refused it for good: ${error.message}`, atMs: Date.now() });
          }
        }
      }
    }
    if (deadLetters.length > 0) {
      if (this.options.deadLetterQueueUrl === undefined) {
        throw new TerminalError(`${deadLetters.length} dead letter(s) to relay but no dead-letter queue is configured: set the relay's deadLetterQueueUrl (STATEFUN_DLQ_URL)`, { code: 'NO_DEAD_LETTER_QUEUE' });
      }
      const messages = await Promise.all(
        deadLetters.map(async (dl) => ({ id: dl.id, groupId: dl.address, body: await this.deadLetterBody(dl), attributes: { 'statefun-id': dl.id, 'statefun-address': dl.address } })),
      );
      await this.sendSqs(this.options.deadLetterQueueUrl, messages);
    }
    if (effects.timers.length > 0 || effects.cancelledTimers.length > 0) {
      if (this.options.delays === undefined) {
        throw new TerminalError(
          `${effects.timers.length} delayed message(s) and ${effects.cancelledTimers.length} cancellation(s) to relay but no DelayScheduler is configured: give the relay one`,
          { code: 'NO_DELAY_SCHEDULER' },
        );
      }
      if (effects.timers.length > 0) await this.options.delays.schedule(effects.timers);
      if (effects.cancelledTimers.length > 0) await this.options.delays.cancel(effects.cancelledTimers);
    }
    if (egressFence !== undefined) await egressFence.release(fence!);
  }

  /** The queue message of a dead letter: its JSON, or, past what SQS takes, its stub (the whole one in the payload store). */
  private async deadLetterBody(deadLetter: DeadLetter): Promise<string> {
    const json = deadLetterJson(deadLetter);
    if (Buffer.byteLength(json) <= DEAD_LETTER_INLINE_MAX_BYTES || this.options.payloads === undefined) return json;
    return deadLetterJson(await offloadDeadLetter(deadLetter, this.options.payloads));
  }

  /**
   * The sink calls that deliver one egress's `records`, each with the records it carries (a
   * StateFun Kinesis egress makes one call per stream; a record it cannot put goes to
   * `deadLetters` at once).
   */
  private sinkCalls(name: string, target: EgressTarget, records: readonly EgressRecord[], deadLetters: DeadLetter[]): { records: readonly EgressRecord[]; send: () => Promise<void> }[] {
    if ('kinesisStream' in target) {
      const entries = records.map((record) => ({ PartitionKey: record.id.length <= 256 ? record.id : hashed(record.id), Data: record.argument.value ?? new Uint8Array(0) }));
      return [{ records, send: () => this.putEgressRecords(target.kinesisStream, entries) }];
    }
    if ('sqsQueueUrl' in target) {
      const messages = records.map((record) => ({ id: record.id, groupId: target.messageGroupId ?? name, ...sqsBody(record) }));
      return [{ records, send: () => this.sendSqs(target.sqsQueueUrl, messages) }];
    }
    if ('eventBus' in target) {
      const sent: EgressRecord[] = [];
      const entries: PutEventsRequestEntry[] = [];
      for (const record of records) {
        const entry: PutEventsRequestEntry = {
          EventBusName: target.eventBus,
          Source: target.source ?? name,
          DetailType: target.detailType ?? record.argument.typename,
          Detail: eventDetail(record),
        };
        const size = eventEntryBytes(entry);
        if (size > PUT_EVENTS_MAX_BYTES) {
          deadLetters.push({ id: record.id, address: name, egressRecord: record, reason: `egress "${name}" cannot put it on EventBridge: its event is ${size} bytes, over the 262144 an event may have`, atMs: Date.now() });
          continue;
        }
        sent.push(record);
        entries.push(entry);
      }
      if (entries.length === 0) return [];
      const send = async () => {
        // EventBridge refuses entries one by one: only those become dead letters.
        for (const { index, reason } of await this.putEvents(target.eventBus, entries)) {
          const record = sent[index]!;
          deadLetters.push({ id: record.id, address: name, egressRecord: record, reason: `egress "${name}" refused it for good: EventBridge rejected its event: ${reason}`, atMs: Date.now() });
        }
      };
      return [{ records: sent, send }];
    }
    if ('kafkaProducerRecordTopics' in target) {
      const produced: EgressRecord[] = [];
      const toProduce: KafkaRecordToProduce[] = [];
      for (const record of records) {
        const produce = readKafkaProducerRecord(record, target.kafkaProducerRecordTopics);
        if (typeof produce === 'string') {
          deadLetters.push({ id: record.id, address: name, egressRecord: record, reason: `egress "${name}" cannot produce it to Kafka: ${produce}`, atMs: Date.now() });
          continue;
        }
        produced.push(record);
        toProduce.push({ ...produce, id: record.id });
      }
      if (toProduce.length === 0) return [];
      return [{ records: produced, send: () => this.kafkaProducers().produce(target.kafkaCluster, toProduce) }];
    }
    const byStream = new Map<string, { records: EgressRecord[]; entries: PutRecordsRequestEntry[] }>();
    for (const record of records) {
      const put = readKinesisEgressRecord(record, target.kinesisEgressRecordStreams);
      if (typeof put === 'string') {
        deadLetters.push({ id: record.id, address: name, egressRecord: record, reason: `egress "${name}" cannot put it on Kinesis: ${put}`, atMs: Date.now() });
        continue;
      }
      const group = byStream.get(put.stream) ?? { records: [], entries: [] };
      byStream.set(put.stream, group);
      group.records.push(record);
      group.entries.push({ PartitionKey: put.partitionKey, Data: put.data, ...(put.explicitHashKey ? { ExplicitHashKey: put.explicitHashKey } : {}) });
    }
    return [...byStream].map(([stream, group]) => ({ records: group.records, send: () => this.putEgressRecords(stream, group.entries) }));
  }

  private kafkaProducers(): KafkaProducers {
    return this.options.kafkaProducers ?? (sharedKafkaProducers ??= new KafkaProducers());
  }

  /** Puts `entries` in order, in calls of at most 500 records and 5 MiB, each retried until its records are in. */
  private async putEgressRecords(stream: string, entries: readonly PutRecordsRequestEntry[]): Promise<void> {
    for (const chunk of chunked(entries, PUT_RECORDS_MAX_ENTRIES, PUT_RECORDS_MAX_BYTES, (e) => recordBytes({ data: e.Data!, partitionKey: e.PartitionKey! }))) {
      let pending = chunk;
      for (let attempt = 1; pending.length > 0; attempt++) {
        let failed: typeof pending = pending;
        let last = '';
        try {
          const out = await this.options.kinesis.send(new PutRecordsCommand({ ...streamRef(stream), Records: pending }));
          failed = pending.filter((_, i) => {
            const result = out.Records?.[i];
            if (result?.ErrorCode === undefined && result?.SequenceNumber !== undefined) return false;
            last = `${result?.ErrorCode}: ${result?.ErrorMessage}`;
            return true;
          });
        } catch (error) {
          if (isTerminalSinkError(error)) throw new TerminalError(`PutRecords to egress stream ${stream}: ${describeError(error)}`, { cause: error, code: 'SINK_REJECTED' });
          last = describeError(error);
        }
        pending = failed;
        if (pending.length === 0) break;
        if (attempt >= this.retry.maxAttempts) {
          throw new RetryableError(`PutRecords to egress stream ${stream} kept failing ${pending.length} record(s) (last: ${last})`, { code: 'RELAY_INCOMPLETE' });
        }
        await this.sleep(backoffDelayMs(this.retry, attempt));
      }
    }
  }

  /**
   * Puts `entries` in order, in calls of at most 10 entries and 256 KiB, each retried until
   * its entries are in; answers the entries EventBridge refused for good (by index), with why.
   */
  private async putEvents(bus: string, entries: readonly PutEventsRequestEntry[]): Promise<{ index: number; reason: string }[]> {
    const eventBridge = this.options.eventBridge;
    if (eventBridge === undefined) throw new TerminalError(`putting events on EventBridge bus ${bus} needs an EventBridge client: give the relay one`, { code: 'NO_EVENTBRIDGE_CLIENT' });
    const refused: { index: number; reason: string }[] = [];
    const indexed = entries.map((entry, index) => ({ entry, index }));
    for (const chunk of chunked(indexed, PUT_EVENTS_MAX, PUT_EVENTS_MAX_BYTES, (e) => eventEntryBytes(e.entry))) {
      let pending = chunk;
      for (let attempt = 1; pending.length > 0; attempt++) {
        let last = '';
        try {
          const out = await eventBridge.send(new PutEventsCommand({ Entries: pending.map((p) => p.entry) }));
          const results = out.Entries ?? [];
          pending = pending.filter((p, i) => {
            const result = results[i];
            if (result?.EventId !== undefined && result.ErrorCode === undefined) return false;
            const code = result?.ErrorCode ?? 'NoResult';
            const reason = `${code}: ${result?.ErrorMessage ?? 'PutEvents returned no result for the entry'}`;
            if (RETRIED_EVENT_ERRORS.has(code)) {
              last = reason;
              return true;
            }
            refused.push({ index: p.index, reason });
            return false;
          });
        } catch (error) {
          if (isTerminalSinkError(error)) throw new TerminalError(`PutEvents to bus ${bus}: ${describeError(error)}`, { cause: error, code: 'SINK_REJECTED' });
          last = describeError(error);
        }
        if (pending.length === 0) break;
        if (attempt >= this.retry.maxAttempts) {
          throw new RetryableError(`PutEvents to bus ${bus} kept failing ${pending.length} event(s) (last: ${last})`, { code: 'RELAY_INCOMPLETE' });
        }
        await this.sleep(backoffDelayMs(this.retry, attempt));
      }
    }
    return refused;
  }

  private async sendSqs(
    queueUrl: string,
    messages: readonly { id: string; groupId: string; body: string; attributes: Record<string, string> }[],
  ): Promise<void> {
    const sqs = this.options.sqs;
    if (sqs === undefined) throw new TerminalError(`sending to SQS queue ${queueUrl} needs an SQS client: give the relay one`, { code: 'NO_SQS_CLIENT' });
    const fifo = queueUrl.endsWith('.fifo');
    const sizeOf = (m: (typeof messages)[number]) =>
      Buffer.byteLength(m.body) + Object.entries(m.attributes).reduce((sum, [k, v]) => sum + Buffer.byteLength(k) + Buffer.byteLength(v) + 'String'.length, 0);
    for (const batch of chunked(messages, SQS_BATCH_MAX, SQS_BATCH_MAX_BYTES, sizeOf)) {
      let pending: SendMessageBatchRequestEntry[] = batch.map((m, i) => ({
        Id: String(i),
        MessageBody: m.body,
        MessageAttributes: Object.fromEntries(Object.entries(m.attributes).map(([k, v]) => [k, { DataType: 'String', StringValue: v }])),
        ...(fifo ? { MessageDeduplicationId: deduplicationId(m.id), MessageGroupId: deduplicationId(m.groupId) } : {}),
      }));
      for (let attempt = 1; pending.length > 0; attempt++) {
        let last = '';
        try {
          const out = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: pending }));
          const failed = new Set((out.Failed ?? []).map((f) => f.Id));
          const terminal = (out.Failed ?? []).find((f) => f.SenderFault);
          if (terminal) {
            throw new TerminalError(`SQS rejected a message for ${queueUrl}: ${terminal.Code}: ${terminal.Message}`, { code: 'SQS_REJECTED' });
          }
          last = (out.Failed ?? []).map((f) => `${f.Code}: ${f.Message}`).join('; ');
          pending = pending.filter((entry) => failed.has(entry.Id));
        } catch (error) {
          if (error instanceof TerminalError) throw error;
          if (isTerminalSinkError(error)) throw new TerminalError(`SendMessageBatch to ${queueUrl}: ${describeError(error)}`, { cause: error, code: 'SINK_REJECTED' });
          last = describeError(error);
        }
        if (pending.length === 0) break;
        if (attempt >= this.retry.maxAttempts) {
          throw new RetryableError(`SendMessageBatch to ${queueUrl} kept failing ${pending.length} message(s) (last: ${last})`, { code: 'RELAY_INCOMPLETE' });
        }
        await this.sleep(backoffDelayMs(this.retry, attempt));
      }
    }
  }
}

/** The Kafka producers of the relays of this process that were given none: one per container. */
let sharedKafkaProducers: KafkaProducers | undefined;

/** Failed PutEvents entries worth sending again; any other code is the entry's fault. */
const RETRIED_EVENT_ERRORS = new Set(['InternalFailure', 'InternalException', 'ThrottlingException', 'NoResult']);

/** Throttling: the client's fault, yet worth retrying. */
const THROTTLING = new Set(['ThrottlingException', 'ProvisionedThroughputExceededException', 'LimitExceededException', 'RequestThrottled', 'KMSThrottlingException', 'RequestLimitExceeded']);

/**
 * Whether a sink's error is for good: a fault of the request (a deleted stream or queue, a
 * denied or disabled key, an invalid record), not of the service and not throttling.
 */
function isTerminalSinkError(error: unknown): boolean {
  const { name, $fault } = (error ?? {}) as { name?: string; $fault?: string };
  return $fault === 'client' && !THROTTLING.has(name ?? '');
}

/**
 * `items` in order, cut into runs of at most `maxCount` items and `maxBytes` bytes (an item
 * larger than `maxBytes` alone is a run of its own: the service then says what is wrong).
 */
function chunked<T>(items: readonly T[], maxCount: number, maxBytes: number, sizeOf: (item: T) => number): T[][] {
  const runs: T[][] = [];
  let run: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = sizeOf(item);
    if (run.length > 0 && (run.length === maxCount || bytes + size > maxBytes)) {
      runs.push(run);
      run = [];
      bytes = 0;
    }
    run.push(item);
    bytes += size;
  }
  if (run.length > 0) runs.push(run);
  return runs;
}

function hashed(text: string): string {
  return createHash('sha256').update(text).digest('base64url');
}

/** SQS deduplication and group ids: up to 128 of alphanumerics and punctuation. */
function deduplicationId(id: string): string {
  return id.length <= 128 && /^[\x21-\x7e]+$/.test(id) ? id : hashed(id);
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });
/** Characters SQS accepts in a message body. */
const SQS_TEXT = /^[\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]*$/u;

function sqsBody(record: EgressRecord): { body: string; attributes: Record<string, string> } {
  const bytes = record.argument.value ?? new Uint8Array(0);
  const attributes = { 'statefun-id': record.id, 'statefun-type': record.argument.typename };
  try {
    const text = UTF8.decode(bytes);
    if (text.length > 0 && SQS_TEXT.test(text)) return { body: text, attributes: { ...attributes, 'statefun-encoding': 'utf8' } };
  } catch {
    // not text: base64 below
  }
  if (bytes.byteLength === 0) return { body: '-', attributes: { ...attributes, 'statefun-encoding': 'empty' } };
  return { body: Buffer.from(bytes).toString('base64'), attributes: { ...attributes, 'statefun-encoding': 'base64' } };
}


/**
 * An event's detail: `{"id", "type", "encoding", "value"}`, the value's JSON text embedded as
 * it is (not parsed and printed again, which would round large numbers).
 */
function eventDetail(record: EgressRecord): string {
  const bytes = record.argument.value ?? new Uint8Array(0);
  const head = `{"id":${JSON.stringify(record.id)},"type":${JSON.stringify(record.argument.typename)},`;
  let text: string | undefined;
  try {
    text = UTF8.decode(bytes);
  } catch {
    return `${head}"encoding":"base64","value":${JSON.stringify(Buffer.from(bytes).toString('base64'))}}`;
  }
  try {
    JSON.parse(text);
    return `${head}"encoding":"json","value":${text}}`;
  } catch {
    return `${head}"encoding":"utf8","value":${JSON.stringify(text)}}`;
  }
}

/** An entry's size as EventBridge counts it: time (14 bytes), source, detail type, detail and bus name in UTF-8. */
function eventEntryBytes(entry: PutEventsRequestEntry): number {
  return 14 + [entry.Source, entry.DetailType, entry.Detail, entry.EventBusName].reduce((sum, part) => sum + Buffer.byteLength(part ?? ''), 0);
}
