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
