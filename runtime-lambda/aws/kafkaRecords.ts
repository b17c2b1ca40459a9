import { type Message, fromBinary } from '@bufbuild/protobuf';
import type { GenMessage } from '@bufbuild/protobuf/codegenv2';
import { Address } from '../core/Address';
import type { Envelope } from '../core/Envelope';
import { InvalidInputError, describeError } from '../core/errors';
import { isPosition } from '../core/positions';
import * as wrappers from '../protocol/generated/types_pb';
import { isStandardBase64 } from '../protocol/base64';
import { type IngressMap, UNDECODABLE_TYPE, UNDECODABLE_VALUE_TYPE } from './kinesisRecords';
import type { KafkaEvent, KafkaRecord } from './lambdaEvents';

/** The value type of a Kafka ingress record without a configured `valueType`: its value bytes as is. */
export const RAW_KAFKA_VALUE_TYPE = 'statefun.aws/kafka-record-value';

/**
 * What the dead letter of a Kafka record that cannot become a message keeps: the record and
 * why. Sent, as JSON, to the partition's {@link UNDECODABLE_TYPE} sink, which reads `reason`.
 */
export interface UndecodableKafkaRecord {
  readonly reason: string;
  readonly topic: string;
  readonly partition: string;
  readonly offset: string;
  /** The key as Lambda delivered it (base64), `null` when the record had none. */
  readonly key: string | null;
  /** The value as Lambda delivered it (base64), `null` when the record had none. */
  readonly value: string | null;
}

/** One Kafka record of a batch and the envelopes it became. */
export interface DecodedKafkaRecord {
  readonly topic: string;
  readonly partition: string;
  readonly offset: string;
  /** One envelope per target; one to the partition's undecodable sink if it did not decode. */
  readonly envelopes: readonly Envelope[];
  /** Why the record could not become a message, when it could not. */
  readonly undecodable?: string;
}

/**
 * Decodes a Kafka event (Amazon MSK or self-managed Kafka) into its records, partition by
 * partition in offset order; see {@link decodeKafkaRecord}.
 *
 * @throws {@link InvalidInputError} when the event is not shaped as Lambda's Kafka event
 * source mapping sends it (no `records` object of arrays).
 *
 * @example
 * const records = decodeKafkaEvent(event, { names: { functionType: 'example/person', valueType: 'io.statefun.types/string' } });
 */
export function decodeKafkaEvent(event: KafkaEvent, ingresses: IngressMap): DecodedKafkaRecord[] {
  const groups = (event as { records?: unknown }).records;
  if (groups === null || typeof groups !== 'object' || Array.isArray(groups)) {
    throw new InvalidInputError(`Kafka event has records ${describeJson(groups)}, expected an object of "<topic>-<partition>" → [records]: the handler must be driven by a Kafka event source mapping`);
  }
  const out: DecodedKafkaRecord[] = [];
  for (const [group, records] of Object.entries(groups as Record<string, unknown>)) {
    if (!Array.isArray(records)) {
      throw new InvalidInputError(`Kafka event's records[${JSON.stringify(group)}] is ${describeJson(records)}, expected an array of records`);
    }
    for (const record of records as KafkaRecord[]) out.push(decodeKafkaRecord(record, ingresses));
  }
  return out;
}

/**
 * Decodes one record of a Kafka event, as StateFun's Kafka ingress routes it: the record of a
 * configured topic becomes one envelope per target function type, its key (UTF-8) being the
 * function id and its value the argument, of the topic's `valueType`; origin `ingress` at
 * `<topic>/<partition>` and the offset, id `<topic>/<partition>/<offset>`.
 *
 * A record that cannot become a message becomes one envelope to the partition's
 * {@link UNDECODABLE_TYPE} sink carrying the record and the reason, never an error, so it is
 * committed exactly once as a dead letter and does not block its partition: a record of a
 * topic that is not configured, one without a key (StateFun's Kafka ingress requires one) or
 * without a value, a key or value that is not base64, a key that is not UTF-8 or not a valid
 * id, and a value that does not decode as its built-in type (`io.statefun.types/*`, whose
 * wire form the runtime knows; other types are passed as they are).
 *
 * The record's timestamp is its arrival (for the duplicate window) only when the topic
 * stamps records itself (`LOG_APPEND_TIME`): a producer's `CREATE_TIME` may be anything, e.g.
 * the original time of a mirrored record.
 *
 * @throws {@link InvalidInputError} only when the record is not shaped as Lambda sends it
 * (no topic, or a partition or offset that is not a non-negative integer): a wiring mistake,
 * not a bad record.
 */
export function decodeKafkaRecord(record: KafkaRecord, ingresses: IngressMap): DecodedKafkaRecord {
  const { topic, partition, offset } = positionOf(record);
  const source = `${topic}/${partition}`;
  const id = `${source}/${offset}`;
  const base = { topic, partition, offset };
  const key = record.key ?? null;
  const value = record.value ?? null;
  const undecodable = (reason: string): DecodedKafkaRecord => {
    const kept: UndecodableKafkaRecord = { reason, topic, partition, offset, key, value };
    return {
      ...base,
      undecodable: reason,
      envelopes: [
        {
          id,
          target: Address.of(UNDECODABLE_TYPE, source),
          argument: { typename: UNDECODABLE_VALUE_TYPE, value: new TextEncoder().encode(JSON.stringify(kept)) },
          origin: { kind: 'ingress', source, position: offset },
        },
      ],
    };
  };
  const where = `Kafka record ${id}`;

  const ingress = Object.prototype.hasOwnProperty.call(ingresses, topic) ? ingresses[topic] : undefined;
  if (ingress === undefined) {
    const known = Object.keys(ingresses);
    return undecodable(`${where}: topic ${JSON.stringify(topic)} is not a configured Kafka ingress (configured: ${known.length > 0 ? known.map((t) => JSON.stringify(t)).join(', ') : 'none'}): add it to the dispatcher's Kafka ingresses (STATEFUN_KAFKA_INGRESSES)`);
  }
  if (key === null) return undecodable(`${where} has no key: a Kafka ingress routes each record to the function whose id is the record's key, as StateFun does; produce the record with a key`);
  if (typeof key !== 'string' || !isStandardBase64(key)) return undecodable(`${where}: its key ${describeJson(key)} is not base64, as Lambda delivers keys`);
  if (value === null) return undecodable(`${where} has no value (a tombstone): a Kafka ingress sends the record's value to its targets; produce the record with a value`);
  if (typeof value !== 'string' || !isStandardBase64(value)) return undecodable(`${where}: its value (${describeJson(value)}) is not base64, as Lambda delivers values`);
  let functionId: string;
  try {
    functionId = UTF8.decode(Buffer.from(key, 'base64'));
  } catch {
    return undecodable(`${where}: its key (base64 ${key.slice(0, 60)}) is not UTF-8 text: the key is the target function's id`);
  }
  const bytes = new Uint8Array(Buffer.from(value, 'base64'));
  const valueType = ingress.valueType ?? RAW_KAFKA_VALUE_TYPE;
  const wrongValue = builtInValueProblem(valueType, bytes);
  if (wrongValue !== undefined) return undecodable(`${where} of topic ${JSON.stringify(topic)}: ${wrongValue}`);

  const arrived = record.timestampType === 'LOG_APPEND_TIME' && typeof record.timestamp === 'number' && Number.isFinite(record.timestamp) ? { arrivedAtMs: record.timestamp } : {};
  const targets = typeof ingress.functionType === 'string' ? [ingress.functionType] : ingress.functionType;
  const envelopes: Envelope[] = [];
  for (const functionType of targets) {
    let target: Address;
    try {
      target = Address.of(functionType, functionId);
    } catch (error) {
      return undecodable(`${where}: its key ${JSON.stringify(functionId)} is not a valid function id for ${functionType}: ${describeError(error)}`);
    }
    envelopes.push({
      // One record for several targets: each copy has its own id (its dead letter would too).
      id: targets.length === 1 ? id : `${id}@${functionType}`,
      target,
      argument: { typename: valueType, value: bytes },
      origin: { kind: 'ingress', source, position: offset, ...arrived },
    });
  }
  return { ...base, envelopes };
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** The wire form of StateFun's built-in types: one-field wrapper messages. */
const BUILT_IN_TYPES: ReadonlyMap<string, GenMessage<Message>> = new Map<string, GenMessage<Message>>([
  ['io.statefun.types/int', wrappers.IntWrapperSchema],
  ['io.statefun.types/long', wrappers.LongWrapperSchema],
  ['io.statefun.types/float', wrappers.FloatWrapperSchema],
  ['io.statefun.types/double', wrappers.DoubleWrapperSchema],
  ['io.statefun.types/bool', wrappers.BooleanWrapperSchema],
  ['io.statefun.types/string', wrappers.StringWrapperSchema],
]);

/** Why `bytes` is not a value of built-in type `typename`; undefined when it is one, or the type is not built in. */
function builtInValueProblem(typename: string, bytes: Uint8Array): string | undefined {
  const schema = BUILT_IN_TYPES.get(typename);
  if (schema === undefined) return undefined;
  const expected = `expected the SDKs' encoding of ${typename} (protobuf message ${schema.typeName}; raw text is not one): produce the value with an SDK's type, or give the topic a valueType of your own`;
  let message: Message;
  try {
    message = fromBinary(schema, bytes, { readUnknownFields: true });
  } catch (error) {
    // A string field that is not UTF-8 fails in TextDecoder, which throws a bare {code}.
    const detail = (error as { code?: unknown } | null)?.code === 'ERR_ENCODING_INVALID_ENCODED_DATA' ? 'its text is not UTF-8' : describeError(error);
    return `its value (${bytes.byteLength} bytes) does not decode as ${typename}: ${detail}; ${expected}`;
  }
  if (message.$unknown !== undefined && message.$unknown.length > 0) {
    return `its value (${bytes.byteLength} bytes) holds fields that ${typename} does not have; ${expected}`;
  }
  return undefined;
}

function positionOf(record: KafkaRecord): { topic: string; partition: string; offset: string } {
  const r = (record ?? {}) as Partial<KafkaRecord>;
  const topic = r.topic;
  const partition = integerText(r.partition);
  const offset = integerText(r.offset);
  if (typeof topic !== 'string' || topic === '' || topic.includes('/') || partition === undefined || offset === undefined) {
    throw new InvalidInputError(
      `Kafka event record ${describeJson({ topic: r.topic, partition: r.partition, offset: r.offset })} needs a topic name, a partition and an offset (non-negative integers): the handler must be driven by a Kafka event source mapping`,
    );
  }
  return { topic, partition, offset };
}

/** A non-negative integer (a JSON number or its decimal text) as canonical decimal text. */
function integerText(value: unknown): string | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? String(value) : undefined;
  if (typeof value === 'string') return isPosition(value) ? value : undefined;
  return undefined;
}

function describeJson(value: unknown): string {
  const text = value === undefined ? 'undefined' : JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}
