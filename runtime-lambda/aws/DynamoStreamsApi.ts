import {
  type AttributeValue,
  DescribeStreamCommand,
  type DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as StreamRecordOut,
} from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBStreamRecord, StreamAttributeValue } from './lambdaEvents';

/** A shard of a DynamoDB stream, as DescribeStream lists it. */
export interface DynamoStreamShard {
  readonly ShardId: string;
  readonly ParentShardId?: string;
  readonly SequenceNumberRange?: { readonly StartingSequenceNumber?: string; readonly EndingSequenceNumber?: string };
}

/** One record of GetRecords: a Lambda DynamoDB Streams event record (bytes as base64) without the stream ARN, which the poller adds. */
export type DynamoStreamApiRecord = Omit<DynamoDBStreamRecord, 'eventSourceARN'>;

/**
 * The three DynamoDB Streams calls a stream poller needs (the port), implemented by
 * {@link DynamoStreamsSdkApi} over `@aws-sdk/client-dynamodb-streams`.
 */
export interface DynamoStreamsApi {
  describeStream(streamArn: string, exclusiveStartShardId?: string): Promise<{ shards: DynamoStreamShard[]; lastEvaluatedShardId?: string }>;
  getShardIterator(streamArn: string, shardId: string, type: 'TRIM_HORIZON' | 'LATEST' | 'AFTER_SEQUENCE_NUMBER' | 'AT_SEQUENCE_NUMBER', sequenceNumber?: string): Promise<string | undefined>;
  getRecords(iterator: string, limit: number): Promise<{ records: DynamoStreamApiRecord[]; nextShardIterator?: string }>;
}

/**
 * The {@link DynamoStreamsApi} over `@aws-sdk/client-dynamodb-streams`. Records are turned into
 * the shape a Lambda DynamoDB Streams event carries: binary attributes as base64 text and
 * `ApproximateCreationDateTime` in epoch seconds, so the relay handler reads both alike.
 *
 * @example
 * const streams = new DynamoStreamsSdkApi(new DynamoDBStreamsClient({ endpoint: 'http://127.0.0.1:8000' }));
 * const { shards } = await streams.describeStream(streamArn);
 */
export class DynamoStreamsSdkApi implements DynamoStreamsApi {
  constructor(private readonly client: DynamoDBStreamsClient) {}

  async describeStream(streamArn: string, exclusiveStartShardId?: string) {
    const out = await this.client.send(
      new DescribeStreamCommand({ StreamArn: streamArn, ...(exclusiveStartShardId ? { ExclusiveStartShardId: exclusiveStartShardId } : {}) }),
    );
    const description = out.StreamDescription ?? {};
    return {
      shards: (description.Shards ?? []).map((shard) => ({
        ShardId: shard.ShardId!,
        ...(shard.ParentShardId ? { ParentShardId: shard.ParentShardId } : {}),
        ...(shard.SequenceNumberRange ? { SequenceNumberRange: shard.SequenceNumberRange } : {}),
      })),
      ...(description.LastEvaluatedShardId ? { lastEvaluatedShardId: description.LastEvaluatedShardId } : {}),
    };
  }

  async getShardIterator(streamArn: string, shardId: string, type: Parameters<DynamoStreamsApi['getShardIterator']>[2], sequenceNumber?: string) {
    const out = await this.client.send(
      new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shardId, ShardIteratorType: type, ...(sequenceNumber ? { SequenceNumber: sequenceNumber } : {}) }),
    );
    return out.ShardIterator;
  }

  async getRecords(iterator: string, limit: number) {
    const out = await this.client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: limit }));
    return {
      records: (out.Records ?? []).map(toEventRecord),
      ...(out.NextShardIterator ? { nextShardIterator: out.NextShardIterator } : {}),
    };
  }
}

function toEventRecord(record: StreamRecordOut): DynamoStreamApiRecord {
  const d = record.dynamodb ?? {};
  return {
    ...(record.eventID ? { eventID: record.eventID } : {}),
    eventName: record.eventName as DynamoStreamApiRecord['eventName'],
    ...(record.eventVersion ? { eventVersion: record.eventVersion } : {}),
    ...(record.eventSource ? { eventSource: 'aws:dynamodb' as const } : {}),
    ...(record.awsRegion ? { awsRegion: record.awsRegion } : {}),
    dynamodb: {
      ...(d.ApproximateCreationDateTime ? { ApproximateCreationDateTime: Math.floor(d.ApproximateCreationDateTime.getTime() / 1000) } : {}),
      ...(d.Keys ? { Keys: mapValues(d.Keys) } : {}),
      ...(d.NewImage ? { NewImage: mapValues(d.NewImage) } : {}),
      ...(d.OldImage ? { OldImage: mapValues(d.OldImage) } : {}),
      SequenceNumber: d.SequenceNumber!,
      ...(d.SizeBytes !== undefined ? { SizeBytes: d.SizeBytes } : {}),
      ...(d.StreamViewType ? { StreamViewType: d.StreamViewType } : {}),
    },
  };
}

function mapValues(attributes: Record<string, AttributeValue>): Record<string, StreamAttributeValue> {
  return Object.fromEntries(Object.entries(attributes).map(([name, value]) => [name, toEventValue(value)]));
}

/** An SDK attribute value as a Lambda event carries it: bytes as base64. */
function toEventValue(value: AttributeValue): StreamAttributeValue {
  if (value.S !== undefined) return { S: value.S };
  if (value.N !== undefined) return { N: value.N };
  if (value.B !== undefined) return { B: Buffer.from(value.B).toString('base64') };
  if (value.BOOL !== undefined) return { BOOL: value.BOOL };
  if (value.NULL !== undefined) return { NULL: true };
  if (value.M !== undefined) return { M: mapValues(value.M) };
  if (value.L !== undefined) return { L: value.L.map(toEventValue) };
  if (value.SS !== undefined) return { SS: value.SS };
  if (value.NS !== undefined) return { NS: value.NS };
  if (value.BS !== undefined) return { BS: value.BS.map((b) => Buffer.from(b).toString('base64')) };
  throw new Error(`unsupported DynamoDB attribute value with keys ${Object.keys(value).join(', ')}`);
}
