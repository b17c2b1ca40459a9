import { toBinary } from '@bufbuild/protobuf';
import { InvalidInputError } from '../core/errors';
import { KafkaProducerRecordSchema, KinesisEgressRecordSchema } from '../protocol/generated/egress_pb';
import { EgressMessage } from './Message';
import { checkTypename, describeValue as describe, isType, type Type } from './Type';

/**
 * A record value written without a `type`: a string as UTF-8, bytes as they are, and a 32-bit
 * integer as 4 bytes big-endian (Kafka's `IntegerSerializer`), as the official SDKs write them.
 *
 * @example
 * const value: RawEgressValue = 'ada checked out';
 */
export type RawEgressValue = string | Uint8Array | number;

/**
 * Options of {@link kafkaEgressMessage}. Without `type`, `value` is a {@link RawEgressValue}.
 *
 * @example
 * const opts: KafkaEgressMessageOpts = { egress: 'example/kafka', topic: 'orders', key: 'ada', value: 'paid' };
 */
export interface KafkaEgressMessageOpts<T = RawEgressValue> {
  /** The Kafka egress, `namespace/name`, as declared in the module (StateFun's `typename`). */
  readonly egress: string;
  /** The topic to write to. */
  readonly topic: string;
  /** The record's key. @default - no key (as the empty string: protobuf does not tell them apart) */
  readonly key?: string;
  readonly value: NoInfer<T>;
  /** How `value` becomes the record's bytes (StateFun's `valueType`). @default - see {@link RawEgressValue} */
  readonly type?: Type<T>;
}

/**
 * Options of {@link kinesisEgressMessage}. Without `type`, `value` is a {@link RawEgressValue}.
 *
 * @example
 * const opts: KinesisEgressMessageOpts = { egress: 'example/kinesis', stream: 'events', partitionKey: 'ada', value: 'paid' };
 */
export interface KinesisEgressMessageOpts<T = RawEgressValue> {
  /** The Kinesis egress, `namespace/name`, as declared in the module (StateFun's `typename`). */
  readonly egress: string;
  /** The stream to write to. */
  readonly stream: string;
  /** The record's partition key, 1 to 256 characters. */
  readonly partitionKey: string;
  /**
   * The hash key that picks the shard (StateFun's `hashKey`): Kinesis wants a decimal from 0
   * to 2^128 - 1 and rejects the put otherwise. Passed on unchecked, as StateFun does.
   * @default - the shard of the partition key's hash (as the empty string)
   */
  readonly explicitHashKey?: string;
  readonly value: NoInfer<T>;
  /** How `value` becomes the record's bytes (StateFun's `valueType`). @default - see {@link RawEgressValue} */
  readonly type?: Type<T>;
}

/** The official JS SDK's option names, so a ported call fails instead of losing a field. */
const OFFICIAL_NAMES: Readonly<Record<string, string>> = { typename: 'egress', valueType: 'type', hashKey: 'explicitHashKey' };
/** Kafka's rule (`org.apache.kafka.common.internals.Topic.validate`). */
const KAFKA_TOPIC = /^[a-zA-Z0-9._-]{1,249}$/;
/** Kinesis's rule (the `StreamName` of its API). */
const KINESIS_STREAM = /^[a-zA-Z0-9._-]{1,128}$/;
const KAFKA_RECORD = 'io.statefun.sdk.egress.KafkaProducerRecord';
const KINESIS_RECORD = 'io.statefun.sdk.egress.KinesisEgressRecord';

/**
 * Builds a record for a Kafka egress (StateFun's `io.statefun.kafka.v1/egress`): a
 * `KafkaProducerRecord`, byte for byte what the official SDKs' `kafkaEgressMessage` builds.
 *
 * @throws {@link InvalidInputError} for an invalid egress name or topic, a key that is not a
 * string, a missing value, or a value that needs a `type`.
 *
 * @example
 * ctx.egress(kafkaEgressMessage({ egress: 'example/kafka', topic: 'orders', key: 'ada', value: order, type: OrderType }));
 */
export function kafkaEgressMessage<T = RawEgressValue>(opts: KafkaEgressMessageOpts<T>): EgressMessage {
  const api = 'kafkaEgressMessage()';
  const { egress, topic, key = '', value, type } = checkOpts(opts, api);
  const name = checkEgress(egress, api);
  const what = `${api} to ${name}`;
  checkField(topic, 'topic', what, 'a Kafka topic name (1 to 249 letters, digits, ".", "_" or "-"; not "." or "..")', (t) => KAFKA_TOPIC.test(t) && t !== '.' && t !== '..');
  if (typeof key !== 'string') throw new InvalidInputError(`${what}: "key" must be a string, got ${describe(key)}`);
  const valueBytes = recordValue(value, type, what);
  const bytes = toBinary(KafkaProducerRecordSchema, { $typeName: KAFKA_RECORD, key, valueBytes, topic });
  return egressRecord(name, KAFKA_RECORD, bytes);
}

/**
 * Builds a record for a Kinesis egress (StateFun's `io.statefun.kinesis.v1/egress`): a
 * `KinesisEgressRecord`, byte for byte what the official SDKs' `kinesisEgressMessage` builds,
 * and what the relay puts on the stream.
 *
 * @throws {@link InvalidInputError} for an invalid egress name, stream or partition key, an
 * explicit hash key that is not a string, a missing value, or a value that needs a `type`.
 *
 * @example
 * ctx.egress(kinesisEgressMessage({ egress: 'example/kinesis', stream: 'events', partitionKey: ctx.self.id, value: 'paid' }));
 */
export function kinesisEgressMessage<T = RawEgressValue>(opts: KinesisEgressMessageOpts<T>): EgressMessage {
  const api = 'kinesisEgressMessage()';
  const { egress, stream, partitionKey, explicitHashKey = '', value, type } = checkOpts(opts, api);
  const name = checkEgress(egress, api);
  const what = `${api} to ${name}`;
  checkField(stream, 'stream', what, 'a Kinesis stream name (1 to 128 letters, digits, ".", "_" or "-")', (s) => KINESIS_STREAM.test(s));
  checkField(partitionKey, 'partitionKey', what, 'a string of 1 to 256 characters', (k) => k.length <= 256);
  if (typeof explicitHashKey !== 'string') {
    throw new InvalidInputError(`${what}: "explicitHashKey" must be a string (a decimal from 0 to 2^128 - 1), got ${describe(explicitHashKey)}`);
  }
  const valueBytes = recordValue(value, type, what);
  const bytes = toBinary(KinesisEgressRecordSchema, { $typeName: KINESIS_RECORD, partitionKey, valueBytes, stream, explicitHashKey });
  return egressRecord(name, KINESIS_RECORD, bytes);
}

function checkOpts<O extends object>(opts: O, api: string): O {
  if (typeof opts !== 'object' || opts === null) throw new InvalidInputError(`${api}: expected an options object, got ${describe(opts)}`);
  for (const [official, ours] of Object.entries(OFFICIAL_NAMES)) {
    if (official in opts) throw new InvalidInputError(`${api}: unknown option "${official}" (the official StateFun SDK's name); here it is "${ours}"`);
  }
  return opts;
}

function checkEgress(egress: unknown, api: string): string {
  if (egress === undefined || egress === null || egress === '') {
    throw new InvalidInputError(`${api}: "egress" is missing: expected the egress's name, "namespace/name", as declared in the module`);
  }
  return checkTypename(egress as string, api);
}

function checkField(value: unknown, field: string, what: string, expected: string, valid: (value: string) => boolean): void {
  if (value === undefined || value === null || value === '') throw new InvalidInputError(`${what}: "${field}" is missing: expected ${expected}`);
  if (typeof value !== 'string' || !valid(value)) throw new InvalidInputError(`${what}: "${field}" must be ${expected}, got ${describe(value)}`);
}

function recordValue<T>(value: T, type: Type<T> | undefined, what: string): Uint8Array {
  if (value === undefined || value === null) {
    throw new InvalidInputError(`${what}: "value" is missing (${String(value)}): a record needs a value`);
  }
  if (type !== undefined) {
    if (!isType(type)) throw new InvalidInputError(`${what}: "type" must be a StateFun type (e.g. Types.string), got ${describe(type)}`);
    return type.serialize(value);
  }
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  if (value instanceof Uint8Array) return value;
  if (typeof value === 'number' && Number.isInteger(value) && value >= -0x80000000 && value <= 0x7fffffff) {
    const bytes = Buffer.alloc(4);
    bytes.writeInt32BE(value);
    return bytes;
  }
  throw new InvalidInputError(
    `${what}: "value" is ${describe(value)} and no "type" is given: give a type (e.g. jsonType('example/Order')), or a string, a Uint8Array or a 32-bit integer`,
  );
}

function egressRecord(egress: string, recordType: string, bytes: Uint8Array): EgressMessage {
  return new EgressMessage(egress, { typename: `type.googleapis.com/${recordType}`, value: bytes });
}
