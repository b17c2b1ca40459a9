import { Admin, type ConnectionOptions, Consumer, FetchIsolationLevels, ListOffsetTimestamps } from '@platformatic/kafka';
import { TerminalError, describeError } from '../core/errors';
import { describeKafkaError, isKafkaAccessError } from './KafkaProducers';
import { type MappingOptions, type PolledRecord, type SourceDriver, mappingOptions } from './LocalPoller';
import type { KafkaEvent, KafkaRecord, StreamBatchResponse } from './lambdaEvents';

/**
 * A Kafka topic to poll (on Amazon MSK or a self-managed cluster), and the handler its
 * mapping invokes: the local stand-in for Lambda's Kafka event source mapping. Each topic
 * partition is read in offset order, in batches of one partition; the consumer group's offset
 * is committed only after a batch is done with (handled, or given up on after
 * `maxRetryAttempts`), so a restarted poller of the same group resumes there.
 */
export interface KafkaSource {
  readonly kind: 'kafka';
  /** `host:port` of one or more brokers. */
  readonly bootstrapBrokers: readonly string[];
  /** The topic the mapping reads: Lambda's `Topics`, which takes exactly one (a source per topic). */
  readonly topics: readonly [string];
  /**
   * The consumer group whose committed offsets say where each partition resumes (Lambda's
   * `ConsumerGroupId`; Lambda defaults it to the mapping's UUID). The poller never joins the
   * group: it reads every partition of the topic itself and commits as the group.
   */
  readonly consumerGroupId: string;
  readonly handler: (event: KafkaEvent) => Promise<StreamBatchResponse | void>;
  /** `parallelizationFactor` must stay 1: Kafka mappings have none (one batch per partition at a time). */
  readonly mapping?: MappingOptions;
  /** Where a partition without a committed offset starts: its earliest record, or the end. @default 'TRIM_HORIZON' */
  readonly startingPosition?: 'TRIM_HORIZON' | 'LATEST';
  /**
   * The event's `eventSource`: `aws:kafka` (Amazon MSK, with `eventSourceArn`) or
   * `SelfManagedKafka`. @default 'SelfManagedKafka'
   */
  readonly eventSource?: 'aws:kafka' | 'SelfManagedKafka';
  /** The MSK cluster's ARN, in the events of an `aws:kafka` source (required there, refused otherwise). */
  readonly eventSourceArn?: string;
  /**
   * TLS and SASL for the connections, as `@platformatic/kafka` takes them, e.g.
   * `{ tls: { ca: caPem }, sasl: { mechanism: 'SCRAM-SHA-512', username, password } }`. A failed
   * authentication or an untrusted certificate stops the poller (`waitForIdle` rejects with
   * the reason). @default - plaintext, no authentication
   */
  readonly clientOptions?: Pick<ConnectionOptions, 'tls' | 'tlsServerName' | 'sasl'>;
}

/** Kafka's legal topic names. */
const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;
/** `host:port`, the host a name, IPv4 or bracketed IPv6. */
const BROKER_ADDRESS = /^(\[[0-9a-fA-F:]+\]|[a-zA-Z0-9.-]+):\d{1,5}$/;
/** A record batch's attributes: the timestamp is the broker's (`LOG_APPEND_TIME`). */
const LOG_APPEND_TIME_FLAG = 0x08;
/** A record batch's attributes: a transaction marker, not data. */
const CONTROL_BATCH_FLAG = 0x20;
/** Bytes one fetch asks of a partition; a larger record is still returned whole by the broker. */
const PARTITION_FETCH_BYTES = 1024 * 1024;
/**
 * How long the broker holds a fetch that finds nothing: not at all, the poller's idle pause
 * does the waiting (the partitions share one connection, and a held fetch would hold up the
 * others' behind it: 4 partitions read 2.3 times faster so).
 */
const FETCH_WAIT_MS = 0;

/** Where one shard of a Kafka source is, as the cluster's metadata says. */
interface PartitionInfo {
  readonly partition: number;
  readonly topicId: string;
  readonly leader: number;
  readonly leaderEpoch: number;
}

/**
 * Validates a {@link KafkaSource}: every field's type and Lambda's Kafka rules.
 *
 * @throws TypeError or RangeError naming the field, the bad value and the fix.
 */
export function validateKafkaSource(source: KafkaSource): void {
  const group = typeof source.consumerGroupId === 'string' && source.consumerGroupId !== '' ? source.consumerGroupId : undefined;
  const where = `Kafka source${group ? ` ${group}` : ''}`;
  const got = (value: unknown) => JSON.stringify(value) ?? String(value);
  if (group === undefined) throw new TypeError(`${where}: consumerGroupId must be a non-empty string (Lambda's ConsumerGroupId, where the committed offsets are kept), got ${got(source.consumerGroupId)}`);
  if (!Array.isArray(source.bootstrapBrokers) || source.bootstrapBrokers.length === 0 || !source.bootstrapBrokers.every((b) => typeof b === 'string' && BROKER_ADDRESS.test(b))) {
    throw new TypeError(`${where}: bootstrapBrokers must be a non-empty array of "host:port" strings, e.g. ["127.0.0.1:9092"], got ${got(source.bootstrapBrokers)}`);
  }
  if (!Array.isArray(source.topics) || source.topics.length !== 1) {
    throw new TypeError(`${where}: topics must be an array of exactly one topic name, as a Lambda Kafka mapping's Topics is (a source per topic), got ${got(source.topics)}`);
  }
  const [topic] = source.topics;
  if (typeof topic !== 'string' || !TOPIC_NAME.test(topic)) throw new TypeError(`${where}: topics has ${got(topic)}, not a Kafka topic name (1 to 249 of a-z, A-Z, 0-9, '.', '_', '-')`);
  if (typeof source.handler !== 'function') throw new TypeError(`${where}: handler must be a function taking a Kafka event, got ${got(source.handler)}`);
  if (source.startingPosition !== undefined && source.startingPosition !== 'TRIM_HORIZON' && source.startingPosition !== 'LATEST') {
    throw new RangeError(`${where}: startingPosition must be "TRIM_HORIZON" or "LATEST", got ${got(source.startingPosition)}`);
  }
  const eventSource = source.eventSource ?? 'SelfManagedKafka';
  if (eventSource === 'aws:kafka') {
    if (typeof source.eventSourceArn !== 'string' || !/^arn:aws[a-z-]*:kafka:[^:]*:\d*:cluster\/.+/.test(source.eventSourceArn)) {
      throw new TypeError(`${where}: an "aws:kafka" (Amazon MSK) source needs eventSourceArn, the cluster's ARN (arn:aws:kafka:<region>:<account>:cluster/<name>/<uuid>), got ${got(source.eventSourceArn)}`);
    }
  } else if (eventSource === 'SelfManagedKafka') {
    if (source.eventSourceArn !== undefined) throw new RangeError(`${where}: eventSourceArn is for an "aws:kafka" (Amazon MSK) source; a "SelfManagedKafka" source's events carry bootstrapServers only: remove it or set eventSource "aws:kafka"`);
  } else {
    throw new RangeError(`${where}: eventSource must be "aws:kafka" (Amazon MSK) or "SelfManagedKafka", got ${got(source.eventSource)}`);
  }
  const factor = source.mapping?.parallelizationFactor;
  if (factor !== undefined && factor !== 1) {
    throw new RangeError(`${where}: parallelizationFactor must be 1, got ${got(factor)}: Kafka event source mappings have no parallelization factor (a partition's records go one batch at a time); add partitions to read in parallel`);
  }
}

/**
 * The shard driver of a {@link KafkaSource}: its shards are the topic's partitions
 * (`<topic>-<partition>`, from the cluster's metadata at each listing, so new partitions are
 * picked up), read by offset with `Fetch` outside any group assignment; sequence numbers are
 * offsets in decimal.
 *
 * Records older than the topic's retention are the broker's business here, not the poller's:
 * the broker deletes them and a fetch never returns them (the driver's `retentionMs` is
 * infinite).
 */
export function kafkaDriver(source: KafkaSource): SourceDriver {
  validateKafkaSource(source);
  const { consumerGroupId: group } = source;
  const [topic] = source.topics;
  const mapping = mappingOptions(source.mapping, `Kafka source ${group}`);
  const bootstrapServers = source.bootstrapBrokers.join(',');
  const eventSource = source.eventSource ?? 'SelfManagedKafka';
  const partitions = new Map<string, PartitionInfo>();
  let clients: { admin: Admin; consumer: Consumer } | undefined;
  const connect = () => {
    const common = { clientId: `statefun-local-poller-${group}`, bootstrapBrokers: [...source.bootstrapBrokers], ...source.clientOptions };
    clients ??= { admin: new Admin(common), consumer: new Consumer({ ...common, groupId: group }) };
    return clients;
  };
  const partitionOf = (shardId: string): PartitionInfo => {
    const info = partitions.get(shardId);
    if (info === undefined) throw new Error(`Kafka source ${group}: partition ${shardId} is not in the cluster's metadata`);
    return info;
  };
  const eventOf = (records: readonly PolledRecord[]): KafkaEvent => {
    const grouped: Record<string, KafkaRecord[]> = {};
    for (const { event } of records) {
      const record = event as KafkaRecord;
      (grouped[`${record.topic}-${record.partition}`] ??= []).push(record);
    }
    return { eventSource, ...(source.eventSourceArn !== undefined ? { eventSourceArn: source.eventSourceArn } : {}), bootstrapServers, records: grouped };
  };

  return {
    kind: 'kafka',
    name: group,
    retentionMs: Number.POSITIVE_INFINITY,
    mapping,
    async listShards() {
      let metadata: Awaited<ReturnType<Admin['metadata']>>;
      try {
        metadata = await connect().admin.metadata({ topics: [topic], forceUpdate: true });
      } catch (error) {
        if (!isKafkaAccessError(error)) throw error;
        // As a Lambda mapping stops with "PROBLEM: SASL authentication failed": no retry helps.
        throw new TerminalError(`Kafka source ${group}: ${bootstrapServers} refused the connection: ${describeKafkaError(error)}; check clientOptions (tls: the CA that signed the brokers' certificates; sasl: mechanism, username, password)`, { cause: error, code: 'INVALID_CONFIGURATION' });
      }
      const described = metadata.topics.get(topic);
      if (described === undefined) throw new Error(`Kafka source ${group}: topic ${topic} is not in the cluster's metadata: create it, or fix topics`);
      return described.partitions.map((p, partition) => {
        const shardId = `${topic}-${partition}`;
        partitions.set(shardId, { partition, topicId: described.id, leader: p.leader, leaderEpoch: p.leaderEpoch });
        return { shardId };
      });
    },
    async iterator(shardId, after) {
      if (after !== undefined) return String(BigInt(after) + 1n);
      const { partition } = partitionOf(shardId);
      const { admin } = connect();
      const [committed] = await admin.listConsumerGroupOffsets({ groups: [{ groupId: group, topics: [{ name: topic, partitionIndexes: [partition] }] }] });
      const offset = committed?.topics.find((t) => t.name === topic)?.partitions.find((p) => p.partitionIndex === partition)?.committedOffset;
      // -1: the group has no offset for the partition.
      if (offset !== undefined && offset >= 0n) return String(offset);
      const timestamp = source.startingPosition === 'LATEST' ? ListOffsetTimestamps.LATEST : ListOffsetTimestamps.EARLIEST;
      const [listed] = await admin.listOffsets({ topics: [{ name: topic, partitions: [{ partitionIndex: partition, timestamp }] }], isolationLevel: FetchIsolationLevels.READ_COMMITTED });
      const start = listed?.partitions.find((p) => p.partitionIndex === partition)?.offset;
      if (start === undefined) throw new Error(`Kafka source ${group}: the broker listed no offset for ${shardId}`);
      return String(start);
    },
    async read(shardId, iterator, limit) {
      const { partition, topicId, leader, leaderEpoch } = partitionOf(shardId);
      const from = BigInt(iterator);
      const response = await connect().consumer.fetch({
        node: leader,
        topics: [{ topicId, partitions: [{ partition, currentLeaderEpoch: leaderEpoch, fetchOffset: from, lastFetchedEpoch: -1, partitionMaxBytes: PARTITION_FETCH_BYTES }] }],
        maxWaitTime: FETCH_WAIT_MS,
        minBytes: 1,
        isolationLevel: FetchIsolationLevels.READ_COMMITTED,
      });
      const fetched = response.responses[0]?.partitions.find((p) => p.partitionIndex === partition);
      if (fetched !== undefined && fetched.errorCode !== 0) throw new Error(`Kafka source ${group}: fetching ${shardId} from offset ${iterator} failed with Kafka error code ${fetched.errorCode}`);
      const records: PolledRecord[] = [];
      let next = from;
      for (const batch of fetched?.records ?? []) {
        const batchEnd = batch.firstOffset + BigInt(batch.lastOffsetDelta) + 1n;
        // A transaction's marker (or an aborted transaction, filtered by the client) is skipped over.
        if ((batch.attributes & CONTROL_BATCH_FLAG) !== 0 || batch.records.length === 0) {
          if (records.length < limit && batchEnd > next) next = batchEnd;
          continue;
        }
        const logAppendTime = (batch.attributes & LOG_APPEND_TIME_FLAG) !== 0;
        for (const r of batch.records) {
          const offset = batch.firstOffset + BigInt(r.offsetDelta);
          // A fetch returns whole batches: records before the offset asked for were delivered already.
          if (offset < from || records.length >= limit) continue;
          const event: KafkaRecord = {
            topic,
            partition,
            offset: Number(offset),
            timestamp: Number(logAppendTime ? batch.maxTimestamp : batch.firstTimestamp + r.timestampDelta),
            timestampType: logAppendTime ? 'LOG_APPEND_TIME' : 'CREATE_TIME',
            ...(r.key === null ? {} : { key: r.key.toString('base64') }),
            ...(r.value === null ? {} : { value: r.value.toString('base64') }),
            headers: r.headers.map(([name, value]) => ({ [name?.toString('utf8') ?? '']: [...(value ?? [])] })),
          };
          records.push({ sequenceNumber: String(offset), orderingKey: event.key ?? '', event });
          next = offset + 1n;
        }
      }
      return { records, next: String(next) };
    },
    invoke(records) {
      return source.handler(eventOf(records));
    },
    givenUp(shardId, records) {
      const { partition } = partitionOf(shardId);
      return { sourceKind: 'kafka', topic, partition, event: eventOf(records) };
    },
    async checkpoint(shardId, last) {
      const { partition } = partitionOf(shardId);
      // Kafka's committed offset is the next record to read.
      const offset = BigInt(last) + 1n;
      try {
        await connect().admin.alterConsumerGroupOffsets({ groupId: group, topics: [{ name: topic, partitionOffsets: [{ partition, offset }] }] });
      } catch (error) {
        throw new Error(`Kafka source ${group}: committing offset ${offset} of ${shardId} failed (the broker refuses it while another consumer is an active member of group ${group}: a mapping's group must be its own): ${describeError(error)}`, { cause: error });
      }
    },
    async close() {
      const open = clients;
      clients = undefined;
      if (open) await Promise.all([open.consumer.close(true), open.admin.close()]);
    },
  };
}
