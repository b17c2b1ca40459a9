import { type DescMessage, type MessageShape, fromBinary } from '@bufbuild/protobuf';
import type { EgressRecord } from '../core/Effects';
import { describeError } from '../core/errors';
import { KafkaProducerRecordSchema, KinesisEgressRecordSchema } from '../protocol/generated/egress_pb';

/** The typename of the SDKs' `KinesisEgressRecord` (what `kinesis_egress_message` / `kinesisEgressMessage` build). */
export const KINESIS_EGRESS_RECORD_TYPE = 'type.googleapis.com/io.statefun.sdk.egress.KinesisEgressRecord';

/** A record to put on a Kinesis stream, as a StateFun function described it. */
export interface KinesisPut {
  readonly stream: string;
  readonly partitionKey: string;
  readonly explicitHashKey?: string;
  readonly data: Uint8Array;
}

/**
 * Reads an egress record written with an SDK's Kinesis egress builder; answers why it cannot
 * be put (a string) when it is not one, names no stream or partition key, or names a stream
 * outside `streams`.
 *
 * @example
 * const put = readKinesisEgressRecord(record, ['greetings']);
 */
export function readKinesisEgressRecord(record: EgressRecord, streams: readonly string[]): KinesisPut | string {
  const parsed = decodeSdkRecord(record, KinesisEgressRecordSchema, KINESIS_EGRESS_RECORD_TYPE, 'Kinesis');
  if (typeof parsed === 'string') return parsed;
  if (parsed.stream === '') return 'its KinesisEgressRecord names no stream';
  if (parsed.partitionKey === '' || parsed.partitionKey.length > 256) return `its KinesisEgressRecord's partition key must be 1 to 256 characters, got ${parsed.partitionKey.length}`;
  if (!streams.includes(parsed.stream)) return notListed('stream', parsed.stream, streams);
  return { stream: parsed.stream, partitionKey: parsed.partitionKey, data: parsed.valueBytes, ...(parsed.explicitHashKey ? { explicitHashKey: parsed.explicitHashKey } : {}) };
}

/** The typename of the SDKs' `KafkaProducerRecord` (what `kafka_egress_message` / `kafkaEgressMessage` build). */
export const KAFKA_PRODUCER_RECORD_TYPE = 'type.googleapis.com/io.statefun.sdk.egress.KafkaProducerRecord';

/** A record to produce to a Kafka topic, as a StateFun function described it. */
export interface KafkaProduce {
  readonly topic: string;
  /** The key, UTF-8; absent when the function gave none (StateFun then produces a record without a key). */
  readonly key?: string;
  readonly value: Uint8Array;
}

/**
 * Reads an egress record written with an SDK's Kafka egress builder; answers why it cannot be
 * produced (a string) when it is not one, names no topic, or names a topic outside `topics`
 * (absent: any topic, as a module.yaml's Kafka egress allows). An empty key means no key, as in StateFun.
 *
 * @example
 * const produce = readKafkaProducerRecord(record, ['greetings']);
 */
export function readKafkaProducerRecord(record: EgressRecord, topics?: readonly string[]): KafkaProduce | string {
  const parsed = decodeSdkRecord(record, KafkaProducerRecordSchema, KAFKA_PRODUCER_RECORD_TYPE, 'Kafka');
  if (typeof parsed === 'string') return parsed;
  if (parsed.topic === '') return 'its KafkaProducerRecord names no topic';
  if (topics !== undefined && !topics.includes(parsed.topic)) return notListed('topic', parsed.topic, topics);
  return { topic: parsed.topic, value: parsed.valueBytes, ...(parsed.key !== '' ? { key: parsed.key } : {}) };
}

/** The SDK record `record` carries, or why it carries none (another type, bytes that do not decode). */
function decodeSdkRecord<Desc extends DescMessage>(record: EgressRecord, schema: Desc, typename: string, sink: string): MessageShape<Desc> | string {
  if (record.argument.typename !== typename) {
    return `expected a ${typename} (an SDK's ${sink} egress message), got a value of type ${JSON.stringify(record.argument.typename)}`;
  }
  try {
    return fromBinary(schema, record.argument.value ?? new Uint8Array(0));
  } catch (error) {
    return `its ${schema.name} does not decode: ${describeError(error)}`;
  }
}

function notListed(what: string, name: string, allowed: readonly string[]): string {
  return `${what} ${JSON.stringify(name)} is not one this egress may write to (${allowed.map((a) => JSON.stringify(a)).join(', ')})`;
}
