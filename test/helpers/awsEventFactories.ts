import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { Envelope } from '../../runtime-lambda/core/Envelope';
import type { DynamoDBStreamRecord, KafkaEvent, KafkaRecord, KinesisStreamEvent, KinesisStreamRecord, StreamAttributeValue } from '../../runtime-lambda/aws/lambdaEvents';
import { encodeMessageBundle } from '../../runtime-lambda/aws/messageRecords';

/** A 56-digit Kinesis sequence number, growing with `n`. */
export function sequenceNumber(n: number): string {
  return `4965001234567890123456789012345678901234${String(n).padStart(16, '0')}`;
}

/** The ARN of Kinesis stream `name`. */
export const streamArn = (name: string) => `arn:aws:kinesis:us-east-1:123456789012:stream/${name}`;

/** One record of a Kinesis event as Lambda delivers it. */
export function kinesisRecordFactory(opts: {
  stream: string;
  shardId?: string;
  n: number;
  partitionKey: string;
  data: Uint8Array | string;
  /** When the record reached the stream. @default - now */
  arrivedAtMs?: number;
}): KinesisStreamRecord {
  const shardId = opts.shardId ?? 'shardId-000000000000';
  const seq = sequenceNumber(opts.n);
  return {
    kinesis: {
      kinesisSchemaVersion: '1.0',
      partitionKey: opts.partitionKey,
      sequenceNumber: seq,
      data: Buffer.from(opts.data).toString('base64'),
      approximateArrivalTimestamp: (opts.arrivedAtMs ?? Date.now()) / 1000,
    },
    eventSource: 'aws:kinesis',
    eventVersion: '1.0',
    eventID: `${shardId}:${seq}`,
    eventName: 'aws:kinesis:record',
    invokeIdentityArn: 'arn:aws:iam::123456789012:role/statefun-dispatcher',
    awsRegion: 'us-east-1',
    eventSourceARN: streamArn(opts.stream),
  };
}

/** A message-stream record carrying `envelopes` (one target) as a bundle. */
export function bundleRecord(stream: string, n: number, envelopes: readonly Envelope[], shardId?: string): KinesisStreamRecord {
  const record = encodeMessageBundle(envelopes);
  return kinesisRecordFactory({ stream, n, partitionKey: record.partitionKey, data: record.data, ...(shardId ? { shardId } : {}) });
}

/** A Kinesis event of `records`. */
export function kinesisEvent(...records: KinesisStreamRecord[]): KinesisStreamEvent {
  return { Records: records };
}

/** An SDK attribute value (bytes as Uint8Array) in the JSON form stream events carry (bytes as base64). */
export function toStreamAttribute(value: AttributeValue): StreamAttributeValue {
  if (value.B !== undefined) return { B: Buffer.from(value.B).toString('base64') };
  if (value.S !== undefined) return { S: value.S };
  if (value.N !== undefined) return { N: value.N };
  if (value.BOOL !== undefined) return { BOOL: value.BOOL };
  if (value.NULL !== undefined) return { NULL: true };
  if (value.M !== undefined) return { M: Object.fromEntries(Object.entries(value.M).map(([k, v]) => [k, toStreamAttribute(v)])) };
  if (value.L !== undefined) return { L: value.L.map(toStreamAttribute) };
  throw new Error(`toStreamAttribute: unsupported attribute ${JSON.stringify(Object.keys(value))}`);
}

/** A DynamoDB Streams record of an outbox item, as Lambda delivers it (NEW_IMAGE). */
export function outboxStreamRecord(item: Record<string, AttributeValue>, n: number, eventName: 'INSERT' | 'MODIFY' | 'REMOVE' = 'INSERT'): DynamoDBStreamRecord {
  const image = Object.fromEntries(Object.entries(item).map(([k, v]) => [k, toStreamAttribute(v)]));
  return {
    eventID: `e${n}`,
    eventName,
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: 'us-east-1',
    dynamodb: {
      ApproximateCreationDateTime: 1_767_225_600,
      Keys: { address: image.address!, version: image.version! },
      ...(eventName === 'REMOVE' ? {} : { NewImage: image }),
      SequenceNumber: String(100_000_000_000_000_000n + BigInt(n)),
      SizeBytes: 100,
      StreamViewType: 'NEW_IMAGE',
    },
    eventSourceARN: 'arn:aws:dynamodb:us-east-1:123456789012:table/statefun-outbox/stream/2026-01-01T00:00:00.000',
  };
}

/** One record of a Kafka event as Lambda delivers it (key and value base64; `null` leaves them out). */
export function kafkaRecordFactory(opts: {
  topic: string;
  partition?: number;
  offset: number;
  key: string | Uint8Array | null;
  value: string | Uint8Array | null;
  /** @default - now */
  timestampMs?: number;
  /** @default 'CREATE_TIME' */
  timestampType?: 'CREATE_TIME' | 'LOG_APPEND_TIME';
}): KafkaRecord {
  return {
    topic: opts.topic,
    partition: opts.partition ?? 0,
    offset: opts.offset,
    timestamp: opts.timestampMs ?? Date.now(),
    timestampType: opts.timestampType ?? 'CREATE_TIME',
    ...(opts.key === null ? {} : { key: Buffer.from(opts.key).toString('base64') }),
    ...(opts.value === null ? {} : { value: Buffer.from(opts.value).toString('base64') }),
    headers: [{ source: [...Buffer.from('test')] }],
  };
}

/** An MSK event of `records`, grouped by `<topic>-<partition>` in the order given. */
export function kafkaEvent(...records: KafkaRecord[]): KafkaEvent {
  const groups: Record<string, KafkaRecord[]> = {};
  for (const record of records) (groups[`${record.topic}-${record.partition}`] ??= []).push(record);
  return {
    eventSource: 'aws:kafka',
    eventSourceArn: 'arn:aws:kafka:us-east-1:123456789012:cluster/statefun/751d2973-a626-431c-9d4e-d7975eb44dd7-2',
    bootstrapServers: 'b-1.statefun.a1bcde.c1.kafka.us-east-1.amazonaws.com:9092',
    records: groups,
  };
}
