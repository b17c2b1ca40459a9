import { Address } from '../core/Address';
import { InvalidInputError } from '../core/errors';
import type {
  DelayedInvocation,
  InvocationRequest,
  InvocationResponse,
  StateMutation,
} from '../core/Invocation';
import type { TypedValue } from '../core/TypedValue';
import type { Expiration, ValueSpec } from '../core/ValueSpec';
import { LEN, Reader, VARINT, WireError, Writer, lenFieldSize, utf8Size, varintSize } from './wire';

/*
 * The StateFun request-reply codec: core types <-> ToFunction / FromFunction bytes, as
 * defined by proto/request-reply.proto. It is hand-written over ./wire for speed (see the
 * note there); the generated schemas in ./generated are its reference in the tests.
 *
 * Decoded `bytes` values are views on the input buffer, not copies: do not reuse an input
 * buffer while values decoded from it are still in use.
 */

const EMPTY_BYTES = new Uint8Array(0);

// Field tags of the oneof members (field << 3 | wire type 2).
const TAG_INVOCATION = (100 << 3) | LEN;
const TAG_INVOCATION_RESULT = (100 << 3) | LEN;
const TAG_INCOMPLETE_CONTEXT = (101 << 3) | LEN;

const MUTATION_DELETE = 0;
const MUTATION_MODIFY = 1;
const EXPIRE_NONE = 0;
const EXPIRE_AFTER_WRITE = 1;
const EXPIRE_AFTER_INVOKE = 2;

// ---------------------------------------------------------------------------------------
// ToFunction (dispatcher -> function)
// ---------------------------------------------------------------------------------------

/**
 * Encodes an invocation batch as StateFun `ToFunction` bytes (what the dispatcher sends).
 *
 * @example
 * const bytes = encodeToFunction({
 *   target: Address.of('example/greeter', 'ada'),
 *   state: [{ name: 'seen', value: { typename: 'io.statefun.types/int', value: null } }],
 *   invocations: [{ argument: typedValue('com.example/Greeting', new TextEncoder().encode('{}')) }],
 * });
 */
export function encodeToFunction(request: InvocationRequest): Uint8Array {
  const sizes: number[] = [];
  sizes.push(0);
  let batch = lenFieldSize(measureAddress(request.target, sizes));
  for (let i = 0; i < request.state.length; i++) {
    const s = request.state[i];
    const slot = sizes.push(0) - 1;
    const size = strSize(s.name) + lenFieldSize(measureTypedValue(s.value, sizes));
    sizes[slot] = size;
    batch += lenFieldSize(size);
  }
  for (let i = 0; i < request.invocations.length; i++) {
    const inv = request.invocations[i];
    const slot = sizes.push(0) - 1;
    let size = 0;
    if (inv.caller !== undefined) size += lenFieldSize(measureAddress(inv.caller, sizes));
    size += lenFieldSize(measureTypedValue(inv.argument, sizes));
    sizes[slot] = size;
    batch += lenFieldSize(size);
  }
  sizes[0] = batch;

  const w = new Writer(2 + varintSize(batch) + batch, sizes);
  w.message(100);
  writeAddress(w, 1, request.target);
  for (let i = 0; i < request.state.length; i++) {
    const s = request.state[i];
    w.message(2);
    w.string(1, s.name);
    writeTypedValue(w, 2, s.value);
  }
  for (let i = 0; i < request.invocations.length; i++) {
    const inv = request.invocations[i];
    w.message(3);
    if (inv.caller !== undefined) writeAddress(w, 1, inv.caller);
    writeTypedValue(w, 2, inv.argument);
  }
  return w.finish();
}

/**
 * Decodes StateFun `ToFunction` bytes (what a function receives) into an invocation batch.
 * Values are views on `bytes`, not copies.
 *
 * @throws {@link InvalidInputError} for malformed or truncated bytes, an empty `request`
 * oneof, a missing target, argument or state value, or an invalid address.
 *
 * @example
 * const request = decodeToFunction(bytes);
 * request.target.toString(); // 'example/greeter/ada'
 */
export function decodeToFunction(bytes: Uint8Array): InvocationRequest {
  return decoding('ToFunction', bytes, () => {
    const r = Reader.of(bytes);
    let batch: Reader | undefined;
    while (!r.done()) {
      const key = r.tag();
      if (key === TAG_INVOCATION) batch = r.message();
      else skipOrReject(r, key, 'ToFunction.invocation');
    }
    if (batch === undefined) {
      throw new InvalidInputError(
        `invalid ToFunction (${bytes.byteLength} bytes): the "request" oneof is not set; expected an InvocationBatchRequest in field "invocation" (100)`,
      );
    }
    return readBatch(batch);
  });
}

function readBatch(r: Reader): InvocationRequest {
  let targetReader: Reader | undefined;
  const stateReaders: Reader[] = [];
  const invocationReaders: Reader[] = [];
  while (!r.done()) {
    const key = r.tag();
    switch (key) {
      case (1 << 3) | LEN:
        targetReader = r.message();
        break;
      case (2 << 3) | LEN:
        stateReaders.push(r.message());
        break;
      case (3 << 3) | LEN:
        invocationReaders.push(r.message());
        break;
      default:
        skipOrReject(r, key, 'InvocationBatchRequest');
    }
  }
  if (targetReader === undefined) {
    throw new InvalidInputError('invalid ToFunction: the invocation batch has no target address');
  }
  const target = readAddress(targetReader, 'ToFunction target');
  const state: { name: string; value: TypedValue }[] = new Array(stateReaders.length);
  for (let i = 0; i < stateReaders.length; i++) {
    const s = stateReaders[i];
    let name = '';
    let value: TypedValue | undefined;
    while (!s.done()) {
      const key = s.tag();
      if (key === ((1 << 3) | LEN)) name = s.string();
      else if (key === ((2 << 3) | LEN)) value = readTypedValue(s.message());
      else skipOrReject(s, key, 'ToFunction.PersistedValue');
    }
    if (name === '') {
      throw new InvalidInputError(`invalid ToFunction for ${target}: state value #${i} has an empty state_name`);
    }
    if (value === undefined) {
      throw new InvalidInputError(
        `invalid ToFunction for ${target}: state "${name}" has no state_value (an absent value is sent with has_value = false)`,
      );
    }
    state[i] = { name, value };
  }
  const invocations: { caller?: Address; argument: TypedValue }[] = new Array(invocationReaders.length);
  for (let i = 0; i < invocationReaders.length; i++) {
    const v = invocationReaders[i];
    let caller: Address | undefined;
    let argument: TypedValue | undefined;
    while (!v.done()) {
      const key = v.tag();
      if (key === ((1 << 3) | LEN)) caller = readAddress(v.message(), `ToFunction invocation #${i} caller`);
      else if (key === ((2 << 3) | LEN)) argument = readTypedValue(v.message());
      else skipOrReject(v, key, 'ToFunction.Invocation');
    }
    if (argument === undefined) {
      throw new InvalidInputError(`invalid ToFunction for ${target}: invocation #${i} has no argument`);
    }
    invocations[i] = caller === undefined ? { argument } : { caller, argument };
  }
  return { target, state, invocations };
}

// ---------------------------------------------------------------------------------------
// FromFunction (function -> dispatcher)
// ---------------------------------------------------------------------------------------

/**
 * Encodes a function's reply as StateFun `FromFunction` bytes (what a function answers).
 * A mutation with `value: null` is a DELETE; an expiration becomes an `ExpirationSpec`.
 *
 * @throws {@link InvalidInputError} for a negative or non-integer delay, an empty
 * cancellation token, a non-positive expiration, or an egress name that is not
 * `namespace/type`.
 *
 * @example
 * const bytes = encodeFromFunction({
 *   kind: 'result',
 *   mutations: [{ name: 'seen', value: null }],
 *   messages: [],
 *   delayed: [{ kind: 'cancel', cancellationToken: 'reminder-ada' }],
 *   egress: [],
 * });
 */
export function encodeFromFunction(response: InvocationResponse): Uint8Array {
  const sizes: number[] = [0];
  let body = 0;
  if (response.kind === 'incomplete') {
    for (const spec of response.missing) body += lenFieldSize(measureValueSpec(spec, sizes));
  } else {
    for (const m of response.mutations) body += lenFieldSize(measureMutation(m, sizes));
    for (const m of response.messages) {
      const slot = sizes.push(0) - 1;
      const size = lenFieldSize(measureAddress(m.target, sizes)) + lenFieldSize(measureTypedValue(m.argument, sizes));
      sizes[slot] = size;
      body += lenFieldSize(size);
    }
    for (const d of response.delayed) body += lenFieldSize(measureDelayed(d, sizes));
    for (const e of response.egress) {
      const slot = sizes.push(0) - 1;
      const slash = egressSlash(e.egress);
      const size =
        strSize(e.egress.slice(0, slash)) +
        strSize(e.egress.slice(slash + 1)) +
        lenFieldSize(measureTypedValue(e.argument, sizes));
      sizes[slot] = size;
      body += lenFieldSize(size);
    }
  }
  sizes[0] = body;

  const w = new Writer(2 + varintSize(body) + body, sizes);
  if (response.kind === 'incomplete') {
    w.message(101);
    for (const spec of response.missing) {
      w.message(1);
      w.string(1, spec.name);
      if (spec.expiration !== undefined) {
        w.message(2);
        w.tag(1, VARINT);
        w.varint(spec.expiration.mode === 'after-write' ? EXPIRE_AFTER_WRITE : EXPIRE_AFTER_INVOKE);
        w.tag(2, VARINT);
        w.varint(spec.expiration.afterMs);
      }
      w.string(3, spec.typename);
    }
    return w.finish();
  }
  w.message(100);
  for (const m of response.mutations) {
    w.message(1);
    if (m.value !== null) {
      w.tag(1, VARINT);
      w.varint(MUTATION_MODIFY);
    }
    w.string(2, m.name);
    if (m.value !== null) writeTypedValue(w, 3, m.value);
  }
  for (const m of response.messages) {
    w.message(2);
    writeAddress(w, 1, m.target);
    writeTypedValue(w, 2, m.argument);
  }
  for (const d of response.delayed) {
    w.message(3);
    if (d.kind === 'cancel') {
      w.tag(10, VARINT);
      w.varint(1);
      w.string(11, d.cancellationToken);
    } else {
      if (d.delayMs !== 0) {
        w.tag(1, VARINT);
        w.varint(d.delayMs);
      }
      writeAddress(w, 2, d.target);
      writeTypedValue(w, 3, d.argument);
      if (d.cancellationToken !== undefined) w.string(11, d.cancellationToken);
    }
  }
  for (const e of response.egress) {
    const slash = egressSlash(e.egress);
    w.message(4);
    w.string(1, e.egress.slice(0, slash));
    w.string(2, e.egress.slice(slash + 1));
    writeTypedValue(w, 3, e.argument);
  }
  return w.finish();
}

/**
 * Decodes StateFun `FromFunction` bytes (a function's reply). A MODIFY mutation whose value
 * has `has_value = false` is read as a deletion (`value: null`): storing an absent value is
 * deleting it.
 *
 * @throws {@link InvalidInputError} for malformed or truncated bytes, an empty `response`
 * oneof, an unknown mutation type or expiration mode, a negative delay, a missing target or
 * argument, a cancellation without a token, or an empty state or egress name.
 *
 * @example
 * const response = decodeFromFunction(bytes);
 * if (response.kind === 'incomplete') console.log(response.missing.map((s) => s.name));
 */
export function decodeFromFunction(bytes: Uint8Array): InvocationResponse {
  return decoding('FromFunction', bytes, () => {
    const r = Reader.of(bytes);
    let result: Reader | undefined;
    let incomplete: Reader | undefined;
    while (!r.done()) {
      const key = r.tag();
      if (key === TAG_INVOCATION_RESULT) {
        result = r.message();
        incomplete = undefined;
      } else if (key === TAG_INCOMPLETE_CONTEXT) {
        incomplete = r.message();
        result = undefined;
      } else skipOrReject(r, key, 'FromFunction.response');
    }
    if (incomplete !== undefined) return readIncomplete(incomplete);
    if (result === undefined) {
      throw new InvalidInputError(
        `invalid FromFunction (${bytes.byteLength} bytes): the "response" oneof is not set; expected "invocation_result" (100) or "incomplete_invocation_context" (101)`,
      );
    }
    return readResult(result);
  });
}

function readResult(r: Reader): InvocationResponse {
  const mutations: StateMutation[] = [];
  const messages: { target: Address; argument: TypedValue }[] = [];
  const delayed: DelayedInvocation[] = [];
  const egress: { egress: string; argument: TypedValue }[] = [];
  while (!r.done()) {
    const key = r.tag();
    switch (key) {
      case (1 << 3) | LEN:
        mutations.push(readMutation(r.message(), mutations.length));
        break;
      case (2 << 3) | LEN:
        messages.push(readOutgoing(r.message(), messages.length));
        break;
      case (3 << 3) | LEN:
        delayed.push(readDelayed(r.message(), delayed.length));
        break;
      case (4 << 3) | LEN:
        egress.push(readEgress(r.message(), egress.length));
        break;
      default:
        skipOrReject(r, key, 'FromFunction.InvocationResponse');
    }
  }
  return { kind: 'result', mutations, messages, delayed, egress };
}

function readMutation(r: Reader, index: number): StateMutation {
  let type = MUTATION_DELETE;
  let name = '';
  let value: TypedValue | undefined;
  while (!r.done()) {
    const key = r.tag();
    if (key === ((1 << 3) | VARINT)) type = r.varint();
    else if (key === ((2 << 3) | LEN)) name = r.string();
    else if (key === ((3 << 3) | LEN)) value = readTypedValue(r.message());
    else skipOrReject(r, key, 'FromFunction.PersistedValueMutation');
  }
  const what = `FromFunction state mutation #${index}`;
  if (name === '') throw new InvalidInputError(`invalid ${what}: empty state_name`);
  if (type === MUTATION_DELETE) return { name, value: null };
  if (type !== MUTATION_MODIFY) {
    throw new InvalidInputError(
      `invalid ${what} ("${name}"): unknown mutation_type ${type}; expected DELETE (0) or MODIFY (1)`,
    );
  }
  if (value === undefined) throw new InvalidInputError(`invalid ${what} ("${name}"): MODIFY without a state_value`);
  return { name, value: value.value === null ? null : value };
}

function readOutgoing(r: Reader, index: number): { target: Address; argument: TypedValue } {
  const what = `FromFunction outgoing message #${index}`;
  let target: Address | undefined;
  let argument: TypedValue | undefined;
  while (!r.done()) {
    const key = r.tag();
    if (key === ((1 << 3) | LEN)) target = readAddress(r.message(), what);
    else if (key === ((2 << 3) | LEN)) argument = readTypedValue(r.message());
    else skipOrReject(r, key, 'FromFunction.Invocation');
  }
  if (target === undefined) throw new InvalidInputError(`invalid ${what}: no target address`);
  if (argument === undefined) throw new InvalidInputError(`invalid ${what}: no argument`);
  return { target, argument };
}

function readDelayed(r: Reader, index: number): DelayedInvocation {
  const what = `FromFunction delayed invocation #${index}`;
  let cancellation = false;
  let token = '';
  let delayMs = 0;
  let target: Address | undefined;
  let argument: TypedValue | undefined;
  while (!r.done()) {
    const key = r.tag();
    switch (key) {
      case (10 << 3) | VARINT:
        cancellation = r.bool();
        break;
      case (11 << 3) | LEN:
        token = r.string();
        break;
      case (1 << 3) | VARINT:
        delayMs = r.varint();
        break;
      case (2 << 3) | LEN:
        target = readAddress(r.message(), what);
        break;
      case (3 << 3) | LEN:
        argument = readTypedValue(r.message());
        break;
      default:
        skipOrReject(r, key, 'FromFunction.DelayedInvocation');
    }
  }
  if (cancellation) {
    if (token === '') {
      throw new InvalidInputError(`invalid ${what}: a cancellation request without a cancellation_token`);
    }
    return { kind: 'cancel', cancellationToken: token };
  }
  if (delayMs < 0 || delayMs > Number.MAX_SAFE_INTEGER) {
    throw new InvalidInputError(
      `invalid ${what}: delay_in_ms ${delayMs} is out of range; expected 0 to ${Number.MAX_SAFE_INTEGER}`,
    );
  }
  if (target === undefined) throw new InvalidInputError(`invalid ${what}: no target address`);
  if (argument === undefined) throw new InvalidInputError(`invalid ${what}: no argument`);
  return token === ''
    ? { kind: 'send', delayMs, target, argument }
    : { kind: 'send', delayMs, target, argument, cancellationToken: token };
}

function readEgress(r: Reader, index: number): { egress: string; argument: TypedValue } {
  const what = `FromFunction egress message #${index}`;
  let namespace = '';
  let type = '';
  let argument: TypedValue | undefined;
  while (!r.done()) {
    const key = r.tag();
    if (key === ((1 << 3) | LEN)) namespace = r.string();
    else if (key === ((2 << 3) | LEN)) type = r.string();
    else if (key === ((3 << 3) | LEN)) argument = readTypedValue(r.message());
    else skipOrReject(r, key, 'FromFunction.EgressMessage');
  }
  if (namespace === '' || type === '') {
    throw new InvalidInputError(
      `invalid ${what}: egress namespace ${JSON.stringify(namespace)} and type ${JSON.stringify(type)} must both be non-empty`,
    );
  }
  if (argument === undefined) throw new InvalidInputError(`invalid ${what}: no argument`);
  return { egress: `${namespace}/${type}`, argument };
}

function readIncomplete(r: Reader): InvocationResponse {
  const missing: ValueSpec[] = [];
  while (!r.done()) {
    const key = r.tag();
    if (key === ((1 << 3) | LEN)) missing.push(readValueSpec(r.message(), missing.length));
    else skipOrReject(r, key, 'FromFunction.IncompleteInvocationContext');
  }
  return { kind: 'incomplete', missing };
}

function readValueSpec(r: Reader, index: number): ValueSpec {
  let name = '';
  let typename = '';
  let mode = EXPIRE_NONE;
  let afterMs = 0;
  while (!r.done()) {
    const key = r.tag();
    if (key === ((1 << 3) | LEN)) name = r.string();
    else if (key === ((3 << 3) | LEN)) typename = r.string();
    else if (key === ((2 << 3) | LEN)) {
      const e = r.message();
      mode = EXPIRE_NONE;
      afterMs = 0;
      while (!e.done()) {
        const k = e.tag();
        if (k === ((1 << 3) | VARINT)) mode = e.varint();
        else if (k === ((2 << 3) | VARINT)) afterMs = e.varint();
        else skipOrReject(e, k, 'FromFunction.ExpirationSpec');
      }
    } else skipOrReject(r, key, 'FromFunction.PersistedValueSpec');
  }
  const what = `FromFunction missing value spec #${index}`;
  if (name === '') throw new InvalidInputError(`invalid ${what}: empty state_name`);
  if (typename === '') throw new InvalidInputError(`invalid ${what} ("${name}"): empty type_typename`);
  if (mode === EXPIRE_NONE) return { name, typename };
  let expiration: Expiration['mode'];
  if (mode === EXPIRE_AFTER_WRITE) expiration = 'after-write';
  else if (mode === EXPIRE_AFTER_INVOKE) expiration = 'after-invoke';
  else {
    throw new InvalidInputError(
      `invalid ${what} ("${name}"): unknown expiration mode ${mode}; expected NONE (0), AFTER_WRITE (1) or AFTER_INVOKE (2)`,
    );
  }
  if (afterMs <= 0 || afterMs > Number.MAX_SAFE_INTEGER) {
    throw new InvalidInputError(
      `invalid ${what} ("${name}"): expire_after_millis ${afterMs} must be a positive number of milliseconds`,
    );
  }
  return { name, typename, expiration: { mode: expiration, afterMs } };
}

// ---------------------------------------------------------------------------------------
// shared messages
// ---------------------------------------------------------------------------------------

function strSize(text: string): number {
  return text.length === 0 ? 0 : lenFieldSize(utf8Size(text));
}

function measureAddress(a: Address, sizes: number[]): number {
  const size = strSize(a.namespace) + strSize(a.type) + strSize(a.id);
  sizes.push(size);
  return size;
}

function writeAddress(w: Writer, field: number, a: Address): void {
  w.message(field);
  w.string(1, a.namespace);
  w.string(2, a.type);
  w.string(3, a.id);
}

function measureTypedValue(v: TypedValue, sizes: number[]): number {
  let size = strSize(v.typename);
  if (v.value !== null) {
    size += 2;
    if (v.value.byteLength > 0) size += lenFieldSize(v.value.byteLength);
  }
  sizes.push(size);
  return size;
}

function writeTypedValue(w: Writer, field: number, v: TypedValue): void {
  w.message(field);
  w.string(1, v.typename);
  if (v.value !== null) {
    w.tag(2, VARINT);
    w.varint(1);
    w.bytes(3, v.value);
  }
}

function readAddress(r: Reader, what: string): Address {
  let namespace = '';
  let type = '';
  let id = '';
  while (!r.done()) {
    const key = r.tag();
    if (key === ((1 << 3) | LEN)) namespace = r.string();
    else if (key === ((2 << 3) | LEN)) type = r.string();
    else if (key === ((3 << 3) | LEN)) id = r.string();
    else skipOrReject(r, key, 'Address');
  }
  try {
    return Address.fromParts(namespace, type, id);
  } catch (cause) {
    throw new InvalidInputError(`invalid ${what}: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
    });
  }
}

function readTypedValue(r: Reader): TypedValue {
  let typename = '';
  let hasValue = false;
  let value: Uint8Array = EMPTY_BYTES;
  while (!r.done()) {
    const key = r.tag();
    if (key === ((1 << 3) | LEN)) typename = r.string();
    else if (key === ((2 << 3) | VARINT)) hasValue = r.bool();
    else if (key === ((3 << 3) | LEN)) value = r.bytes();
    else skipOrReject(r, key, 'TypedValue');
  }
  return { typename, value: hasValue ? value : null };
}

function measureMutation(m: StateMutation, sizes: number[]): number {
  const slot = sizes.push(0) - 1;
  let size = strSize(m.name);
  if (m.value !== null) size += 2 + lenFieldSize(measureTypedValue(m.value, sizes));
  sizes[slot] = size;
  return size;
}

function measureDelayed(d: DelayedInvocation, sizes: number[]): number {
  const slot = sizes.push(0) - 1;
  let size: number;
  if (d.kind === 'cancel') {
    if (typeof d.cancellationToken !== 'string' || d.cancellationToken === '') {
      throw new InvalidInputError('invalid delayed message cancellation: the cancellation token must be a non-empty string');
    }
    size = 2 + strSize(d.cancellationToken);
  } else {
    if (!Number.isSafeInteger(d.delayMs) || d.delayMs < 0) {
      throw new InvalidInputError(
        `invalid delay ${d.delayMs} ms for a message to ${d.target}: expected a non-negative integer number of milliseconds`,
      );
    }
    size = d.delayMs === 0 ? 0 : 1 + varintSize(d.delayMs);
    size += lenFieldSize(measureAddress(d.target, sizes));
    size += lenFieldSize(measureTypedValue(d.argument, sizes));
    if (d.cancellationToken !== undefined) size += strSize(d.cancellationToken);
  }
  sizes[slot] = size;
  return size;
}

function measureValueSpec(spec: ValueSpec, sizes: number[]): number {
  const slot = sizes.push(0) - 1;
  let size = strSize(spec.name) + strSize(spec.typename);
  if (spec.expiration !== undefined) {
    const ms = spec.expiration.afterMs;
    if (!Number.isSafeInteger(ms) || ms <= 0) {
      throw new InvalidInputError(
        `invalid expiration of state "${spec.name}": ${ms} ms; expected a positive integer number of milliseconds`,
      );
    }
    const expiration = 2 + 1 + varintSize(ms);
    sizes.push(expiration);
    size += lenFieldSize(expiration);
  }
  sizes[slot] = size;
  return size;
}

function egressSlash(egress: string): number {
  const slash = egress.indexOf('/');
  if (slash <= 0 || slash === egress.length - 1) {
    throw new InvalidInputError(
      `invalid egress name ${JSON.stringify(egress)}: expected "namespace/type", e.g. "example/alerts"`,
    );
  }
  return slash;
}

/** Skips an unknown field; a known field number with an unexpected wire type is rejected. */
function skipOrReject(r: Reader, key: number, message: string): void {
  const field = key >>> 3;
  const wireType = key & 7;
  if (KNOWN_FIELDS[message]?.includes(field)) {
    throw new WireError(`field ${field} of ${message} has wire type ${wireType}, which does not match its declared type`);
  }
  r.skip(wireType, field);
}

const KNOWN_FIELDS: Record<string, readonly number[]> = {
  'ToFunction.invocation': [100],
  InvocationBatchRequest: [1, 2, 3],
  'ToFunction.PersistedValue': [1, 2],
  'ToFunction.Invocation': [1, 2],
  'FromFunction.response': [100, 101],
  'FromFunction.InvocationResponse': [1, 2, 3, 4],
  'FromFunction.PersistedValueMutation': [1, 2, 3],
  'FromFunction.Invocation': [1, 2],
  'FromFunction.DelayedInvocation': [1, 2, 3, 10, 11],
  'FromFunction.EgressMessage': [1, 2, 3],
  'FromFunction.IncompleteInvocationContext': [1],
  'FromFunction.PersistedValueSpec': [1, 2, 3],
  'FromFunction.ExpirationSpec': [1, 2],
  Address: [1, 2, 3],
  TypedValue: [1, 2, 3],
};

function decoding<T>(what: string, bytes: Uint8Array, decode: () => T): T {
  if (!(bytes instanceof Uint8Array)) {
    throw new InvalidInputError(`invalid ${what}: expected bytes (a Uint8Array), got ${describe(bytes)}`);
  }
  try {
    return decode();
  } catch (cause) {
    if (cause instanceof InvalidInputError) throw cause;
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new InvalidInputError(`malformed ${what} (${bytes.byteLength} bytes): ${reason}`, { cause });
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'object';
  return typeof value;
}

