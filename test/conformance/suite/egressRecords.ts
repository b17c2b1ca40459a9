import { BinaryReader, BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { InvalidInputError } from '../../../runtime-lambda/core/errors';

/** The typename the official SDKs give a Kafka egress record (`io.statefun.sdk.egress.KafkaProducerRecord`). */
export const KAFKA_RECORD_TYPENAME = 'type.googleapis.com/io.statefun.sdk.egress.KafkaProducerRecord';
/** The typename the official SDKs give a Kinesis egress record (`io.statefun.sdk.egress.KinesisEgressRecord`). */
export const KINESIS_RECORD_TYPENAME = 'type.googleapis.com/io.statefun.sdk.egress.KinesisEgressRecord';

/** StateFun's `KafkaProducerRecord` (statefun-sdk-protos io/kafka-egress.proto): key = 1, value_bytes = 2, topic = 3. */
export interface KafkaRecord {
  readonly topic: string;
  readonly key: string;
  readonly value: Uint8Array;
}

/** StateFun's `KinesisEgressRecord` (io/kinesis-egress.proto): partition_key = 1, value_bytes = 2, stream = 3, explicit_hash_key = 4. */
export interface KinesisRecord {
  readonly stream: string;
  readonly partitionKey: string;
  readonly explicitHashKey: string;
  readonly value: Uint8Array;
}

/** The bytes of a `KafkaProducerRecord`, as protobuf writes them (empty fields left out). */
export function encodeKafkaRecord(record: KafkaRecord): Uint8Array {
  const w = new BinaryWriter();
  if (record.key) w.tag(1, WireType.LengthDelimited).string(record.key);
  if (record.value.byteLength > 0) w.tag(2, WireType.LengthDelimited).bytes(record.value);
  if (record.topic) w.tag(3, WireType.LengthDelimited).string(record.topic);
  return w.finish();
}

/** The bytes of a `KinesisEgressRecord`, as protobuf writes them (empty fields left out). */
export function encodeKinesisRecord(record: KinesisRecord): Uint8Array {
  const w = new BinaryWriter();
  if (record.partitionKey) w.tag(1, WireType.LengthDelimited).string(record.partitionKey);
  if (record.value.byteLength > 0) w.tag(2, WireType.LengthDelimited).bytes(record.value);
  if (record.stream) w.tag(3, WireType.LengthDelimited).string(record.stream);
  if (record.explicitHashKey) w.tag(4, WireType.LengthDelimited).string(record.explicitHashKey);
  return w.finish();
}

/** Reads a `KafkaProducerRecord`; throws an {@link InvalidInputError} naming the field for bytes that are not one. */
export function decodeKafkaRecord(bytes: Uint8Array): KafkaRecord {
  const fields = readStringAndBytesFields(bytes, 'KafkaProducerRecord', { 1: 'string', 2: 'bytes', 3: 'string' });
  return { key: fields.strings.get(1) ?? '', value: fields.bytes.get(2) ?? new Uint8Array(0), topic: fields.strings.get(3) ?? '' };
}

/** Reads a `KinesisEgressRecord`; throws an {@link InvalidInputError} naming the field for bytes that are not one. */
export function decodeKinesisRecord(bytes: Uint8Array): KinesisRecord {
  const fields = readStringAndBytesFields(bytes, 'KinesisEgressRecord', { 1: 'string', 2: 'bytes', 3: 'string', 4: 'string' });
  return {
    partitionKey: fields.strings.get(1) ?? '',
    value: fields.bytes.get(2) ?? new Uint8Array(0),
    stream: fields.strings.get(3) ?? '',
    explicitHashKey: fields.strings.get(4) ?? '',
  };
}

function readStringAndBytesFields(bytes: Uint8Array, message: string, schema: Readonly<Record<number, 'string' | 'bytes'>>) {
  const strings = new Map<number, string>();
  const bytesFields = new Map<number, Uint8Array>();
  const reader = new BinaryReader(bytes);
  try {
    while (reader.pos < reader.len) {
      const [field, wireType] = reader.tag();
      const kind = schema[field];
      if (kind === undefined || wireType !== WireType.LengthDelimited) {
        throw new InvalidInputError(`invalid ${message}: field ${field} (wire type ${wireType}) is not a field of it: expected fields ${Object.keys(schema).join(', ')}, each length-delimited`);
      }
      if (kind === 'string') strings.set(field, reader.string());
      else bytesFields.set(field, reader.bytes());
    }
  } catch (cause) {
    if (cause instanceof InvalidInputError) throw cause;
    throw new InvalidInputError(`invalid ${message} (${bytes.byteLength} bytes): ${(cause as Error).message}`, { cause });
  }
  return { strings, bytes: bytesFields };
}
