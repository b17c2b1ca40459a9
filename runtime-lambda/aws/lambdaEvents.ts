/**
 * The AWS Lambda event shapes the runtime's handlers receive, as AWS documents and sends
 * them (the same as `@types/aws-lambda`, which we do not depend on). Only the fields the
 * handlers read are required.
 */

/** A Kinesis event source mapping's batch: records of one shard, in sequence order. */
export interface KinesisStreamEvent {
  readonly Records: readonly KinesisStreamRecord[];
}

/** One record of a {@link KinesisStreamEvent}. */
export interface KinesisStreamRecord {
  /** `shardId-000000000000:<sequence number>`. */
  readonly eventID: string;
  /** `arn:aws:kinesis:<region>:<account>:stream/<name>`. */
  readonly eventSourceARN: string;
  readonly eventSource?: 'aws:kinesis';
  readonly eventName?: 'aws:kinesis:record';
  readonly eventVersion?: string;
  readonly awsRegion?: string;
  readonly invokeIdentityArn?: string;
  readonly kinesis: {
    readonly kinesisSchemaVersion?: string;
    readonly partitionKey: string;
    readonly sequenceNumber: string;
    /** The record's bytes, base64. */
    readonly data: string;
    /** Epoch seconds, with a fraction. */
    readonly approximateArrivalTimestamp?: number;
  };
}

/** A DynamoDB Streams event source mapping's batch: records of one stream shard, in order. */
export interface DynamoDBStreamEvent {
  readonly Records: readonly DynamoDBStreamRecord[];
}

/** An attribute value in DynamoDB's JSON form; `B` is base64 in stream events. */
export type StreamAttributeValue =
  | { readonly S: string }
  | { readonly N: string }
  | { readonly B: string }
  | { readonly BOOL: boolean }
  | { readonly NULL: true }
  | { readonly M: Readonly<Record<string, StreamAttributeValue>> }
  | { readonly L: readonly StreamAttributeValue[] }
  | { readonly SS: readonly string[] }
  | { readonly NS: readonly string[] }
  | { readonly BS: readonly string[] };

/** One record of a {@link DynamoDBStreamEvent}. */
export interface DynamoDBStreamRecord {
  readonly eventID?: string;
  readonly eventName: 'INSERT' | 'MODIFY' | 'REMOVE';
  readonly eventVersion?: string;
  readonly eventSource?: 'aws:dynamodb';
  readonly awsRegion?: string;
  /** `arn:aws:dynamodb:<region>:<account>:table/<name>/stream/<label>`. */
  readonly eventSourceARN?: string;
  readonly dynamodb: {
    readonly ApproximateCreationDateTime?: number;
    readonly Keys?: Readonly<Record<string, StreamAttributeValue>>;
    readonly NewImage?: Readonly<Record<string, StreamAttributeValue>>;
    readonly OldImage?: Readonly<Record<string, StreamAttributeValue>>;
    readonly SequenceNumber: string;
    readonly SizeBytes?: number;
    readonly StreamViewType?: 'NEW_IMAGE' | 'OLD_IMAGE' | 'NEW_AND_OLD_IMAGES' | 'KEYS_ONLY';
  };
}

/**
 * A partial batch response (the mapping needs `FunctionResponseTypes: ReportBatchItemFailures`):
 * Lambda checkpoints before the lowest `itemIdentifier` (a sequence number) and delivers
 * that record and everything after it again.
 */
export interface StreamBatchResponse {
  readonly batchItemFailures: readonly { readonly itemIdentifier: string }[];
}

/**
 * A Kafka event source mapping's batch (Amazon MSK: `eventSource` `aws:kafka`; self-managed
 * Kafka: `SelfManagedKafka`): records grouped by `<topic>-<partition>`, each group in offset order.
 */
export interface KafkaEvent {
  readonly eventSource: 'aws:kafka' | 'SelfManagedKafka' | 'aws:SelfManagedKafka';
  /** MSK only: `arn:aws:kafka:<region>:<account>:cluster/<name>/<uuid>`. */
  readonly eventSourceArn?: string;
  /** `host:port,host:port`. */
  readonly bootstrapServers?: string;
  readonly records: Readonly<Record<string, readonly KafkaRecord[]>>;
}

/** One record of a {@link KafkaEvent}. */
export interface KafkaRecord {
  readonly topic: string;
  /** A number in AWS's events; some examples show it as a string. */
  readonly partition: number | string;
  readonly offset: number | string;
  /** Epoch milliseconds. */
  readonly timestamp?: number;
  /** `CREATE_TIME` (the producer's clock) or `LOG_APPEND_TIME` (the broker's). */
  readonly timestampType?: 'CREATE_TIME' | 'LOG_APPEND_TIME' | 'NO_TIMESTAMP_TYPE';
  /** The key's bytes, base64; absent for a record without a key. */
  readonly key?: string | null;
  /** The value's bytes, base64; absent for a record without a value (a tombstone). */
  readonly value?: string | null;
  /** Each header one `{name: bytes}` object, bytes as an array of numbers (or base64 text). */
  readonly headers?: readonly Readonly<Record<string, readonly number[] | string>>[];
}
