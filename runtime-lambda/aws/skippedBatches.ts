import { randomUUID } from 'node:crypto';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { InvalidInputError } from '../core/errors';
import type { DynamoDBStreamEvent, KafkaEvent, KinesisStreamEvent } from './lambdaEvents';

/**
 * A batch an event source mapping gave up on (its retries or its records' maximum age
 * spent), as Lambda writes it to an Amazon S3 on-failure destination: the invocation
 * record's metadata and, unlike an SQS or SNS destination, the whole event the function was
 * invoked with. Replaying that event through the same function applies what was not
 * applied: the dispatcher deduplicates ingress records by their stream position and messages
 * by their ids, the relay's effects carry deterministic ids.
 */
export interface SkippedBatch {
  /** The object's key in the bucket. */
  readonly key: string;
  /** Why Lambda gave up: `RetryAttemptsExhausted`, `RecordAgeExceeded`, ... */
  readonly condition: string;
  /** The function the mapping invoked (and a redrive invokes). */
  readonly functionArn: string;
  readonly sourceKind: 'kinesis' | 'dynamodb';
  readonly streamArn: string;
  readonly shardId: string;
  readonly startSequenceNumber: string;
  readonly endSequenceNumber: string;
  readonly batchSize: number;
  /** When Lambda gave up (ISO 8601). */
  readonly timestamp: string;
  /** The event the function got, records and all. */
  readonly event: KinesisStreamEvent | DynamoDBStreamEvent;
}

/** What a local stand-in for an event source mapping knows of a batch it gives up on. */
export type GivenUpBatch = GivenUpStreamBatch | GivenUpKafkaBatch;

/** A Kinesis or DynamoDB Streams batch given up on: records of one shard. */
export interface GivenUpStreamBatch {
  readonly sourceKind: 'kinesis' | 'dynamodb';
  readonly streamArn: string;
  readonly shardId: string;
  readonly condition: 'RetryAttemptsExhausted' | 'RecordAgeExceeded';
  readonly attempts: number;
  readonly event: KinesisStreamEvent | DynamoDBStreamEvent;
  readonly firstArrivalMs?: number;
  readonly lastArrivalMs?: number;
}

/**
 * A Kafka batch given up on (Amazon MSK or self-managed): records of one topic partition. The
 * cluster (`eventSourceArn`, `bootstrapServers`), offsets and timestamps are read from `event`.
 */
export interface GivenUpKafkaBatch {
  readonly sourceKind: 'kafka';
  readonly topic: string;
  readonly partition: number;
  readonly condition: 'RetryAttemptsExhausted' | 'RecordAgeExceeded';
  readonly attempts: number;
  readonly event: KafkaEvent;
}

/** Where Lambda puts the objects of an S3 on-failure destination: `aws/lambda/<mapping UUID>/<shard id>/YYYY/MM/DD/<time>-<UUID>`. */
export const SKIPPED_BATCH_PREFIX = 'aws/lambda/';

/**
 * The object Lambda writes for a batch it gives up on, in Lambda's format (what
 * `LocalPoller` writes to its S3 on-failure destination, so the tools that read them are
 * tested against the same shape).
 *
 * @example
 * const { key, body } = skippedBatchObject(batch, { functionArn, mappingId: 'dispatcher-messages', atMs: Date.now() });
 */
export function skippedBatchObject(batch: GivenUpBatch, options: { readonly functionArn: string; readonly mappingId: string; readonly atMs: number }): { key: string; body: string } {
  const iso = new Date(options.atMs).toISOString();
  const [batchInfo, shard] = batch.sourceKind === 'kafka' ? kafkaBatchInfo(batch) : streamBatchInfo(batch);
  const record = {
    requestContext: { requestId: randomUUID(), functionArn: options.functionArn, condition: batch.condition, approximateInvokeCount: batch.attempts },
    responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
    version: '1.0',
    timestamp: iso,
    ...batchInfo,
    payload: JSON.stringify(batch.event),
  };
  const day = iso.slice(0, 10).replaceAll('-', '/');
  const key = `${SKIPPED_BATCH_PREFIX}${options.mappingId}/${shard}/${day}/${iso.replaceAll(':', '.')}-${randomUUID()}`;
  return { key, body: JSON.stringify(record) };
}

/** `KinesisBatchInfo` or `DDBStreamBatchInfo`, and the shard that names the object. */
function streamBatchInfo(batch: GivenUpStreamBatch): [Record<string, unknown>, string] {
  const sequenceNumbers = batch.event.Records.map((r) => ('kinesis' in r ? r.kinesis.sequenceNumber : r.dynamodb.SequenceNumber));
  const info = {
    shardId: batch.shardId,
    startSequenceNumber: sequenceNumbers[0],
    endSequenceNumber: sequenceNumbers.at(-1),
    ...(batch.firstArrivalMs !== undefined ? { approximateArrivalOfFirstRecord: new Date(batch.firstArrivalMs).toISOString() } : {}),
    ...(batch.lastArrivalMs !== undefined ? { approximateArrivalOfLastRecord: new Date(batch.lastArrivalMs).toISOString() } : {}),
    batchSize: sequenceNumbers.length,
    streamArn: batch.streamArn,
  };
  return [{ [batch.sourceKind === 'kinesis' ? 'KinesisBatchInfo' : 'DDBStreamBatchInfo']: info }, batch.shardId];
}

/**
 * `KafkaBatchInfo` as Lambda writes it for MSK and self-managed Kafka: per `<topic>-<partition>`
 * the first and last offsets (decimal strings) and timestamps (ISO 8601). The object is named
 * after the batch's `<topic>-<partition>` where a stream batch's is named after its shard.
 */
function kafkaBatchInfo(batch: GivenUpKafkaBatch): [Record<string, unknown>, string] {
  const { event } = batch;
  const isoOf = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
  const recordsInfo: Record<string, object> = {};
  let batchSize = 0;
  for (const [group, records] of Object.entries(event.records)) {
    batchSize += records.length;
    const first = records[0]!;
    const last = records.at(-1)!;
    recordsInfo[group] = {
      firstRecordOffset: String(first.offset),
      lastRecordOffset: String(last.offset),
      ...(first.timestamp !== undefined ? { firstRecordTimestamp: isoOf(first.timestamp) } : {}),
      ...(last.timestamp !== undefined ? { lastRecordTimestamp: isoOf(last.timestamp) } : {}),
    };
  }
  const info = {
    batchSize,
    ...(event.eventSourceArn !== undefined ? { eventSourceArn: event.eventSourceArn } : {}),
    ...(event.bootstrapServers !== undefined ? { bootstrapServers: event.bootstrapServers } : {}),
    payloadSize: Buffer.byteLength(JSON.stringify(event)),
    recordsInfo,
  };
  return [{ KafkaBatchInfo: info }, `${batch.topic}-${batch.partition}`];
}

/**
 * An on-failure callback for `LocalPoller` that writes each batch it gives up on to `bucket`
 * as Lambda's S3 destination does.
 *
 * @example
 * new LocalPoller({ sources, onFailure: s3OnFailureDestination({ client: s3, bucket, functionArn: 'dispatcher', mappingId: 'messages' }) });
 */
export function s3OnFailureDestination(options: {
  readonly client: S3Client;
  readonly bucket: string;
  readonly functionArn: string;
  readonly mappingId: string;
  readonly now?: () => number;
}): (batch: GivenUpBatch) => Promise<void> {
  return async (batch) => {
    const { key, body } = skippedBatchObject(batch, { functionArn: options.functionArn, mappingId: options.mappingId, atMs: (options.now ?? Date.now)() });
    await options.client.send(new PutObjectCommand({ Bucket: options.bucket, Key: key, Body: body, ContentType: 'application/json' }));
  };
}

/**
 * Reads an object of an S3 on-failure destination.
 *
 * @throws {@link InvalidInputError} naming the object and the field when it is not one.
 *
 * @example
 * const batch = readSkippedBatch(key, await object.Body.transformToString());
 */
export function readSkippedBatch(key: string, text: string): SkippedBatch {
  const fail = (what: string): never => {
    throw new InvalidInputError(`s3 object ${key} is not a skipped batch of an event source mapping: ${what}`);
  };
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(text) as Record<string, unknown>;
  } catch (error) {
    return fail(`not JSON (${(error as Error).message})`);
  }
  if (typeof record !== 'object' || record === null || Array.isArray(record)) return fail('expected a JSON object');
  const context = record.requestContext as Record<string, unknown> | undefined;
  if (typeof context?.functionArn !== 'string' || typeof context.condition !== 'string') return fail('requestContext.functionArn and requestContext.condition must be strings');
  const kinesisInfo = record.KinesisBatchInfo as Record<string, unknown> | undefined;
  const info = kinesisInfo ?? (record.DDBStreamBatchInfo as Record<string, unknown> | undefined);
  if ((typeof info !== 'object' || info === null) && typeof record.KafkaBatchInfo === 'object') {
    return fail('it is a Kafka mapping\'s batch (KafkaBatchInfo), which this reads not yet (Kinesis and DynamoDB Streams batches only): replay its payload, a Kafka event, by invoking the function with it');
  }
  if (typeof info !== 'object' || info === null) return fail('expected KinesisBatchInfo or DDBStreamBatchInfo');
  for (const field of ['shardId', 'startSequenceNumber', 'endSequenceNumber', 'streamArn']) {
    if (typeof info[field] !== 'string') fail(`${kinesisInfo ? 'KinesisBatchInfo' : 'DDBStreamBatchInfo'}.${field} must be a string`);
  }
  // Lambda writes the event as a JSON string; an object is read as well.
  let event: unknown = record.payload;
  if (typeof event === 'string') {
    try {
      event = JSON.parse(event);
    } catch (error) {
      return fail(`payload is not JSON (${(error as Error).message})`);
    }
  }
  const records = (event as { Records?: unknown } | null)?.Records;
  if (!Array.isArray(records) || records.length === 0) return fail('payload must be the invocation event, {"Records": [...]} with at least one record (a destination that is not S3 keeps no payload)');
  return {
    key,
    condition: context.condition,
    functionArn: context.functionArn,
    sourceKind: kinesisInfo ? 'kinesis' : 'dynamodb',
    streamArn: info.streamArn as string,
    shardId: info.shardId as string,
    startSequenceNumber: info.startSequenceNumber as string,
    endSequenceNumber: info.endSequenceNumber as string,
    batchSize: typeof info.batchSize === 'number' ? info.batchSize : records.length,
    timestamp: typeof record.timestamp === 'string' ? record.timestamp : '',
    event: event as KinesisStreamEvent | DynamoDBStreamEvent,
  };
}
