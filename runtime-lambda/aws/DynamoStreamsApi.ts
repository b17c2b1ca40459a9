import { createHash, createHmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import type { DynamoDBStreamRecord } from './lambdaEvents';

/** A shard of a DynamoDB stream, as DescribeStream lists it. */
export interface DynamoStreamShard {
  readonly ShardId: string;
  readonly ParentShardId?: string;
  readonly SequenceNumberRange?: { readonly StartingSequenceNumber?: string; readonly EndingSequenceNumber?: string };
}

/** One record of GetRecords: a Lambda DynamoDB Streams event record (bytes as base64) without the stream ARN, which the poller adds. */
export type DynamoStreamApiRecord = Omit<DynamoDBStreamRecord, 'eventSourceARN'>;

/**
 * The three DynamoDB Streams calls a stream poller needs (the port). {@link DynamoStreamsJsonClient}
 * implements it over the service's JSON protocol; an adapter over
 * `@aws-sdk/client-dynamodb-streams` is a few lines when that package is installed.
 */
export interface DynamoStreamsApi {
  describeStream(streamArn: string, exclusiveStartShardId?: string): Promise<{ shards: DynamoStreamShard[]; lastEvaluatedShardId?: string }>;
  getShardIterator(streamArn: string, shardId: string, type: 'TRIM_HORIZON' | 'LATEST' | 'AFTER_SEQUENCE_NUMBER' | 'AT_SEQUENCE_NUMBER', sequenceNumber?: string): Promise<string | undefined>;
  getRecords(iterator: string, limit: number): Promise<{ records: DynamoStreamApiRecord[]; nextShardIterator?: string }>;
}

/** Where and as whom {@link DynamoStreamsJsonClient} calls. */
export interface DynamoStreamsClientConfig {
  /** E.g. `http://127.0.0.1:8000` (DynamoDB Local serves Streams on its own endpoint). */
  readonly endpoint: string;
  readonly region: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string; readonly sessionToken?: string };
  /** @default 30000 */
  readonly timeoutMs?: number;
}

/** An error answered by the Streams API (`__type` and `message` of its JSON body). */
export class DynamoStreamsApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
  ) {
    super(`${code}: ${message}`);
    this.name = 'DynamoStreamsApiError';
  }
}

class NodeSha256 {
  private readonly hash;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', toBuffer(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(toBuffer(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
}

function toBuffer(data: string | ArrayBuffer | ArrayBufferView): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

/**
 * A minimal DynamoDB Streams client over the service's JSON protocol (SigV4-signed with
 * `@smithy/signature-v4`, which every AWS SDK v3 client brings): DescribeStream,
 * GetShardIterator and GetRecords. It exists because `@aws-sdk/client-dynamodb-streams` is
 * not a dependency; records come back exactly as the API sends them, which is the shape of
 * a Lambda DynamoDB Streams event record.
 *
 * @example
 * const streams = new DynamoStreamsJsonClient({ endpoint: 'http://127.0.0.1:8000', region: 'us-east-1', credentials });
 * const { shards } = await streams.describeStream(streamArn);
 */
export class DynamoStreamsJsonClient implements DynamoStreamsApi {
  private readonly signer: SignatureV4;
  private readonly url: URL;

  constructor(private readonly config: DynamoStreamsClientConfig) {
    this.url = new URL(config.endpoint);
    this.signer = new SignatureV4({ service: 'dynamodb', region: config.region, credentials: config.credentials, sha256: NodeSha256 });
  }

  async describeStream(streamArn: string, exclusiveStartShardId?: string) {
    const out = (await this.call('DescribeStream', {
      StreamArn: streamArn,
      ...(exclusiveStartShardId ? { ExclusiveStartShardId: exclusiveStartShardId } : {}),
    })) as { StreamDescription?: { Shards?: DynamoStreamShard[]; LastEvaluatedShardId?: string } };
    const description = out.StreamDescription ?? {};
    return {
      shards: description.Shards ?? [],
      ...(description.LastEvaluatedShardId ? { lastEvaluatedShardId: description.LastEvaluatedShardId } : {}),
    };
  }

  async getShardIterator(streamArn: string, shardId: string, type: Parameters<DynamoStreamsApi['getShardIterator']>[2], sequenceNumber?: string) {
    const out = (await this.call('GetShardIterator', {
      StreamArn: streamArn,
      ShardId: shardId,
      ShardIteratorType: type,
      ...(sequenceNumber ? { SequenceNumber: sequenceNumber } : {}),
    })) as { ShardIterator?: string };
    return out.ShardIterator;
  }

  async getRecords(iterator: string, limit: number) {
    const out = (await this.call('GetRecords', { ShardIterator: iterator, Limit: limit })) as { Records?: DynamoStreamApiRecord[]; NextShardIterator?: string };
    return { records: out.Records ?? [], ...(out.NextShardIterator ? { nextShardIterator: out.NextShardIterator } : {}) };
  }

  private async call(operation: string, input: object): Promise<unknown> {
    const body = JSON.stringify(input);
    const path = this.url.pathname || '/';
    const signed = await this.signer.sign({
      method: 'POST',
      protocol: this.url.protocol,
      hostname: this.url.hostname,
      ...(this.url.port ? { port: Number(this.url.port) } : {}),
      path,
      query: {},
      headers: {
        host: this.url.host,
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': `DynamoDBStreams_20120810.${operation}`,
      },
      body,
    });
    const response = await fetch(new URL(path, this.url), {
      method: 'POST',
      headers: Object.fromEntries(Object.entries(signed.headers).filter(([name]) => name !== 'host')),
      body,
      signal: AbortSignal.timeout(this.config.timeoutMs ?? 30_000),
    });
    const text = await response.text();
    let parsed: Record<string, unknown> = {};
    try {
      parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      throw new DynamoStreamsApiError('InvalidResponse', `${operation} answered HTTP ${response.status} with a body that is not JSON: ${text.slice(0, 200)}`, response.status);
    }
    if (!response.ok) {
      const type = String(parsed.__type ?? `HTTP${response.status}`);
      throw new DynamoStreamsApiError(type.slice(type.lastIndexOf('#') + 1), String(parsed.message ?? parsed.Message ?? text.slice(0, 200)), response.status);
    }
    return parsed;
  }
}
