import { createHash } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { Address } from '../core/Address';
import type { Envelope, Origin } from '../core/Envelope';
import { InvalidInputError, TerminalError } from '../core/errors';
import { isPosition } from '../core/positions';
import type { TypedValue } from '../core/TypedValue';

/**
 * The first bytes of every message-stream record: a NUL (which starts no text, JSON or
 * protobuf a producer would put on a stream by mistake), `SFB` ("StateFun bundle"), then
 * the format version.
 */
const MAGIC = Uint8Array.of(0x00, 0x53, 0x46, 0x42);
/** Version of the bundle format after the magic. */
const FORMAT_VERSION = 1;
/** Body encoding byte: UTF-8 JSON as is. */
const PLAIN_JSON = 1;
/** Body encoding byte: raw-deflated UTF-8 JSON. */
const DEFLATED_JSON = 2;
const HEADER_BYTES = MAGIC.byteLength + 2;
/** Below this, deflating rarely pays for its header. */
const DEFLATE_FROM_BYTES = 512;
/** The first byte of a bundle in its JSON text form. */
const OPEN_BRACE = 0x7b;
/** Kinesis partition keys are 1 to 256 Unicode characters. */
const MAX_PARTITION_KEY_CHARS = 256;
/** Kinesis takes records of at most 1 MiB, partition key included. */
export const MAX_KINESIS_RECORD_BYTES = 1024 * 1024;
/** A bundle never inflates beyond this: guards against a deflate bomb on the stream. */
const MAX_INFLATED_BYTES = 16 * 1024 * 1024;

/** One Kinesis record of the message stream: what `PutRecords` takes, minus the stream. */
export interface MessageRecord {
  /** {@link partitionKeyOf} the target: every record of one address lands on one shard, in order. */
  readonly partitionKey: string;
  readonly data: Uint8Array;
  /** The target address of every envelope in the record. */
  readonly target: Address;
  /** How many envelopes the record carries. */
  readonly count: number;
}

/**
 * A message-stream record that is not a bundle this runtime wrote: wrong magic or version,
 * truncated, bad JSON, a field of the wrong type, an invalid address or position. Never
 * retried: the dispatcher turns the record into a dead letter.
 */
export class MalformedRecordError extends TerminalError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, { ...options, code: 'MALFORMED_RECORD' });
  }
}

/**
 * The Kinesis partition key of the messages to `target`: its address key
 * (`namespace/type/id`), or, for a key longer than the 256 characters Kinesis allows,
 * `#` followed by a SHA-256 of it (still one key, hence one shard, per address).
 */
export function partitionKeyOf(target: Address): string {
  if (target.key.length <= MAX_PARTITION_KEY_CHARS) return target.key;
  return `#${createHash('sha256').update(target.key).digest('base64url')}`;
}

/** Whether `data` starts with the bundle magic (any version): a message-stream record, not a raw one. */
export function isMessageBundle(data: Uint8Array): boolean {
  if (data.byteLength < MAGIC.byteLength) return false;
  return MAGIC.every((byte, i) => data[i] === byte);
}

/**
 * Encodes envelopes that all go to ONE target into one Kinesis record of the message
 * stream, in order. Bundling a relay batch's messages per target is what keeps per-sender
 * order when `PutRecords` partly fails: with one record per key in a call, a retried record
 * cannot be overtaken by another record of its own key.
 *
 * Format: the magic `00 53 46 42` (`\0SFB`), a version byte (1), an encoding byte (1: JSON,
 * 2: raw-deflated JSON, used from 512 bytes when smaller), then
 * `{"t":"ns/type/id","e":[{"i":id,"c"?:caller,"a":{"t":typename,"v":base64|null},"o":origin,"f"?:forwardTo}]}`
 * where an origin is `{"k":"f"|"i","s":source,"p":position}` or `{"k":"t","t":timerId}`.
 *
 * @throws {@link InvalidInputError} for no envelopes or envelopes to different targets.
 *
 * @example
 * const record = encodeMessageBundle([envelope1, envelope2]);
 * await kinesis.send(new PutRecordCommand({ StreamName, PartitionKey: record.partitionKey, Data: record.data }));
 * decodeMessageBundle(record.data, record.partitionKey); // [envelope1, envelope2]
 */
export function encodeMessageBundle(envelopes: readonly Envelope[]): MessageRecord {
  const target = commonTarget(envelopes, 'encodeMessageBundle');
  const json = Buffer.from(JSON.stringify(bundleJsonOf(target, envelopes)), 'utf8');
  let encoding = PLAIN_JSON;
  let body: Uint8Array = json;
  if (json.byteLength >= DEFLATE_FROM_BYTES) {
    const deflated = deflateRawSync(json);
    if (deflated.byteLength < json.byteLength) {
      encoding = DEFLATED_JSON;
      body = deflated;
    }
  }
  const data = new Uint8Array(HEADER_BYTES + body.byteLength);
  data.set(MAGIC, 0);
  data[MAGIC.byteLength] = FORMAT_VERSION;
  data[MAGIC.byteLength + 1] = encoding;
  data.set(body, HEADER_BYTES);
  return { partitionKey: partitionKeyOf(target), data, target, count: envelopes.length };
}

/** A message bundle in its JSON text form: see {@link encodeMessageBundleText}. */
export interface MessageBundleText {
  readonly partitionKey: string;
  /** Well-formed JSON; its UTF-8 bytes are a record {@link decodeMessageBundle} reads. */
  readonly text: string;
  readonly target: Address;
  readonly count: number;
}

/**
 * Encodes envelopes that all go to ONE target as a bundle in its JSON text form:
 * `{"sfb":1,"t":...,"e":[...]}` (the body of {@link encodeMessageBundle} with the format
 * version as `sfb`, no binary header, never deflated). For producers that can only carry
 * text, such as an EventBridge Scheduler Kinesis target, whose `Input` is "text, or
 * well-formed JSON": the record data is the UTF-8 of the text, and a producer that
 * re-serializes the JSON (whitespace, key order) still yields the same bundle.
 *
 * @throws {@link InvalidInputError} as {@link encodeMessageBundle}.
 *
 * @example
 * const { text, partitionKey } = encodeMessageBundleText([timer.envelope]);
 * decodeMessageBundle(Buffer.from(text, 'utf8'), partitionKey); // [timer.envelope]
 */
export function encodeMessageBundleText(envelopes: readonly Envelope[]): MessageBundleText {
  const target = commonTarget(envelopes, 'encodeMessageBundleText');
  const text = JSON.stringify({ sfb: FORMAT_VERSION, ...bundleJsonOf(target, envelopes) });
  return { partitionKey: partitionKeyOf(target), text, target, count: envelopes.length };
}

function commonTarget(envelopes: readonly Envelope[], caller: string): Address {
  const target = envelopes[0]?.target;
  if (target === undefined) throw new InvalidInputError(`${caller}: no envelopes to encode; a bundle holds at least one`);
  for (const envelope of envelopes) {
    if (!envelope.target.equals(target)) {
      throw new InvalidInputError(
        `${caller}: envelope ${envelope.id} goes to ${envelope.target.key}, not ${target.key}: a bundle holds the messages of one target; group by target first`,
      );
    }
  }
  return target;
}

function bundleJsonOf(target: Address, envelopes: readonly Envelope[]): { t: string; e: WireEnvelope[] } {
  return { t: target.key, e: envelopes.map(toWire) };
}

/**
 * Encodes envelopes to one target into as few records as fit Kinesis' 1 MiB limit, in
 * order. More than one record of a key must be put one after the other (never in one call).
 *
 * @throws {@link InvalidInputError} as {@link encodeMessageBundle}, or when a single
 * envelope does not fit a record.
 */
export function encodeMessageBundles(envelopes: readonly Envelope[], maxRecordBytes = MAX_KINESIS_RECORD_BYTES): MessageRecord[] {
  const whole = encodeMessageBundle(envelopes);
  if (recordBytes(whole) <= maxRecordBytes) return [whole];
  if (envelopes.length === 1) {
    throw new InvalidInputError(
      `message ${envelopes[0]!.id} to ${whole.target.key} takes ${recordBytes(whole)} bytes on the stream, more than ${maxRecordBytes}: send smaller messages`,
    );
  }
  const half = Math.ceil(envelopes.length / 2);
  return [
    ...encodeMessageBundles(envelopes.slice(0, half), maxRecordBytes),
    ...encodeMessageBundles(envelopes.slice(half), maxRecordBytes),
  ];
}

/**
 * Decodes a message-stream record written by {@link encodeMessageBundle} (binary header) or
 * {@link encodeMessageBundleText} (JSON text, first byte `{`), validating every field. With
 * `partitionKey`, also checks that it is the target's key.
 *
 * @throws {@link MalformedRecordError} naming what is wrong; the caller dead-letters the record.
 */
export function decodeMessageBundle(data: Uint8Array, partitionKey?: string): Envelope[] {
  const bundle = data[0] === OPEN_BRACE ? textBundleOf(data) : object(parseJson(binaryBundleBody(data)), 'bundle');
  const target = address(bundle.t, 't');
  if (partitionKey !== undefined && partitionKey !== partitionKeyOf(target)) {
    throw new MalformedRecordError(
      `message bundle for ${target.key} arrived with partition key ${JSON.stringify(partitionKey)}, expected ${JSON.stringify(partitionKeyOf(target))}: ` +
        'its producer does not key records by target, so their order is not guaranteed',
    );
  }
  if (!Array.isArray(bundle.e) || bundle.e.length === 0) {
    throw new MalformedRecordError(`message bundle for ${target.key}: "e" must be a non-empty array of envelopes, got ${describe(bundle.e)}`);
  }
  return bundle.e.map((raw, i) => fromWire(raw, target, `e[${i}]`));
}

/** The JSON text of a binary bundle's body, its header checked. */
function binaryBundleBody(data: Uint8Array): string {
  if (!isMessageBundle(data)) {
    const start = Buffer.from(data.subarray(0, 8)).toString('hex');
    throw new MalformedRecordError(
      `record of ${data.byteLength} bytes is not a message bundle: it starts neither with the magic 00534642 ("\\0SFB") nor with "{" (the JSON text form) but with ${start || 'nothing'}; ` +
        'raw records belong on an ingress stream configured as such, messages must be written with encodeMessageBundle',
    );
  }
  if (data.byteLength < HEADER_BYTES) {
    throw new MalformedRecordError(`message bundle of ${data.byteLength} bytes is truncated: its ${HEADER_BYTES}-byte header is incomplete`);
  }
  const version = data[MAGIC.byteLength]!;
  if (version !== FORMAT_VERSION) {
    throw new MalformedRecordError(
      `message bundle has format version ${version}; this runtime reads version ${FORMAT_VERSION}: upgrade the dispatcher or re-send with this runtime's writer`,
    );
  }
  const encoding = data[MAGIC.byteLength + 1]!;
  const body = Buffer.from(data.buffer, data.byteOffset + HEADER_BYTES, data.byteLength - HEADER_BYTES);
  try {
    if (encoding === PLAIN_JSON) return body.toString('utf8');
    if (encoding === DEFLATED_JSON) return inflateRawSync(body, { maxOutputLength: MAX_INFLATED_BYTES }).toString('utf8');
    throw new Error(`unknown body encoding ${encoding} (expected 1: JSON or 2: deflated JSON)`);
  } catch (cause) {
    throw new MalformedRecordError(`message bundle body cannot be read: ${(cause as Error).message}`, { cause });
  }
}

/** A bundle in its JSON text form, its `sfb` version checked. */
function textBundleOf(data: Uint8Array): Record<string, unknown> {
  const bundle = object(parseJson(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8')), 'bundle');
  if (bundle.sfb === undefined) {
    throw new MalformedRecordError(
      'JSON record without "sfb" is not a message bundle; raw records belong on an ingress stream configured as such, messages must be written with encodeMessageBundle or encodeMessageBundleText',
    );
  }
  if (bundle.sfb !== FORMAT_VERSION) {
    throw new MalformedRecordError(
      `JSON message bundle has "sfb" ${describe(bundle.sfb)}; this runtime reads version ${FORMAT_VERSION}: a JSON record on the message stream must be written with encodeMessageBundleText`,
    );
  }
  return bundle;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new MalformedRecordError(`message bundle body is not valid JSON (${(cause as Error).message}); the record is truncated or corrupt`, { cause });
  }
}

/** How a Kinesis call names `stream`: an ARN as `StreamARN`, anything else as `StreamName`. */
export function streamRef(stream: string): { StreamName: string } | { StreamARN: string } {
  return stream.startsWith('arn:') ? { StreamARN: stream } : { StreamName: stream };
}

/** Bytes a record counts against Kinesis' per-record limit: data plus partition key. */
export function recordBytes(record: Pick<MessageRecord, 'data' | 'partitionKey'>): number {
  return record.data.byteLength + Buffer.byteLength(record.partitionKey, 'utf8');
}

interface WireEnvelope {
  readonly i: string;
  readonly c?: string;
  readonly a: { readonly t: string; readonly v: string | null };
  readonly o: { readonly k: 'f' | 'i'; readonly s: string; readonly p: string } | { readonly k: 't'; readonly t: string };
  readonly f?: string;
}

function toWire(envelope: Envelope): WireEnvelope {
  const origin = envelope.origin;
  return {
    i: envelope.id,
    ...(envelope.caller ? { c: envelope.caller.key } : {}),
    a: {
      t: envelope.argument.typename,
      v: envelope.argument.value === null ? null : Buffer.from(envelope.argument.value).toString('base64'),
    },
    o:
      origin.kind === 'timer'
        ? { k: 't', t: origin.timerId }
        : { k: origin.kind === 'function' ? 'f' : 'i', s: origin.source, p: origin.position },
    ...(envelope.forwardTo ? { f: envelope.forwardTo.key } : {}),
  };
}

function fromWire(raw: unknown, target: Address, path: string): Envelope {
  const wire = object(raw, path);
  const id = nonEmptyString(wire.i, `${path}.i`);
  const argument = typedValueOf(wire.a, `${path}.a`);
  const origin = originOf(wire.o, `${path}.o`);
  const envelope: { -readonly [K in keyof Envelope]: Envelope[K] } = { id, target, argument, origin };
  if (wire.c !== undefined) envelope.caller = address(wire.c, `${path}.c`);
  if (wire.f !== undefined) envelope.forwardTo = address(wire.f, `${path}.f`);
  return envelope;
}

function typedValueOf(raw: unknown, path: string): TypedValue {
  const value = object(raw, path);
  const typename = nonEmptyString(value.t, `${path}.t`);
  if (value.v === null) return { typename, value: null };
  if (typeof value.v !== 'string') throw field(`${path}.v`, 'base64 bytes or null', value.v);
  const bytes = Buffer.from(value.v, 'base64');
  if (bytes.toString('base64') !== value.v) throw field(`${path}.v`, 'canonical base64', value.v);
  return { typename, value: new Uint8Array(bytes) };
}

function originOf(raw: unknown, path: string): Origin {
  const origin = object(raw, path);
  if (origin.k === 't') return { kind: 'timer', timerId: nonEmptyString(origin.t, `${path}.t`) };
  if (origin.k !== 'f' && origin.k !== 'i') throw field(`${path}.k`, '"f" (function), "i" (ingress) or "t" (timer)', origin.k);
  const source = nonEmptyString(origin.s, `${path}.s`);
  const position = nonEmptyString(origin.p, `${path}.p`);
  if (!isPosition(position)) throw field(`${path}.p`, 'a decimal position without leading zeros', position);
  return { kind: origin.k === 'f' ? 'function' : 'ingress', source, position };
}

function object(raw: unknown, path: string): Record<string, unknown> {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw field(path, 'an object', raw);
  return raw as Record<string, unknown>;
}

function nonEmptyString(raw: unknown, path: string): string {
  if (typeof raw !== 'string' || raw.length === 0) throw field(path, 'a non-empty string', raw);
  return raw;
}

function address(raw: unknown, path: string): Address {
  const text = nonEmptyString(raw, path);
  try {
    return Address.parse(text);
  } catch (cause) {
    throw new MalformedRecordError(`message bundle field "${path}": ${(cause as Error).message}`, { cause });
  }
}

function field(path: string, expected: string, got: unknown): MalformedRecordError {
  return new MalformedRecordError(`message bundle field "${path}" must be ${expected}, got ${describe(got)}`);
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}
