import { fromBinary, toBinary } from '@bufbuild/protobuf';
import type { GenMessage } from '@bufbuild/protobuf/codegenv2';
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
import * as pb from './generated/request-reply_pb';

/*
 * The StateFun request-reply codec: core types <-> ToFunction / FromFunction bytes. The
 * wire format is protobuf-es's: messages of the schemas generated from
 * proto/request-reply.proto (`npm run generate`) are encoded with `toBinary` and parsed with
 * `fromBinary`. This file only maps between the generated messages and the core types
 * (`toFunctionMessage` / `readToFunction`, `fromFunctionMessage` / `readFromFunction`), and
 * validates what the protocol leaves to the application (e.g. a non-empty target). Unknown
 * fields are skipped on decode and never written. Where the schema allows more than one
 * shape, the codec follows StateFun 3.3: a registered state with no value goes without a
 * `state_value` (as the runtime sends it), and a `FromFunction` with no `response` is a
 * result without effects (as the Python SDK answers such a batch; docs/sdk.md, "Wire
 * compatibility with StateFun 3.3"). The messages are built as complete object literals
 * with their `$typeName` (proto3 messages are plain objects in protobuf-es v2), which costs
 * a fraction of `create`'s reflective walk.
 *
 * Decoded `bytes` values are views on the input buffer (protobuf-es's reader returns
 * `subarray`s), not copies: do not reuse an input buffer while values decoded from it are
 * still in use. Encoding does not copy values either: they go into the messages as given
 * and are copied once, into the output, by `toBinary`.
 */

const READ = { readUnknownFields: false } as const;
const WRITE = { writeUnknownFields: false } as const;

/**
 * Options of {@link toFunctionMessage} and {@link fromFunctionMessage}.
 *
 * @example
 * const opts: MessageOpts = { copyValues: true };
 */
export interface MessageOpts {
  /** Copy every value's bytes into the message. @default false */
  readonly copyValues?: boolean;
}

const { DELETE, MODIFY } = pb.FromFunction_PersistedValueMutation_MutationType;
const { NONE, AFTER_WRITE, AFTER_INVOKE } = pb.FromFunction_ExpirationSpec_ExpireMode;

// ---------------------------------------------------------------------------------------
// ToFunction (dispatcher -> function)
// ---------------------------------------------------------------------------------------

/**
 * Encodes an invocation batch as StateFun `ToFunction` bytes (what the dispatcher sends).
 * A state value that is absent (`value: null`) is sent as StateFun's runtime sends a
 * registered state with no value: a `PersistedValue` with its `state_name` and no
 * `state_value`, so its typename is not sent.
 *
 * @example
 * const bytes = encodeToFunction({
 *   target: Address.of('example/greeter', 'ada'),
 *   state: [{ name: 'seen', value: { typename: 'io.statefun.types/int', value: null } }],
 *   invocations: [{ argument: typedValue('com.example/Greeting', new TextEncoder().encode('{}')) }],
 * });
 */
export function encodeToFunction(request: InvocationRequest): Uint8Array {
  return toBinary(pb.ToFunctionSchema, toFunctionMessage(request), WRITE);
}

/**
 * The `ToFunction` message of an invocation batch: {@link encodeToFunction} without the
 * bytes. Values go in as given, or copied with `copyValues` (as encoding copies them into
 * its output), so that the receiver of the message shares no buffer with the sender.
 *
 * @example
 * const message = toFunctionMessage(request, { copyValues: true });
 * message.request.case; // 'invocation'
 */
export function toFunctionMessage(request: InvocationRequest, opts: MessageOpts = {}): pb.ToFunction {
  let copy: ValueCopies | undefined;
  if (opts.copyValues === true) {
    let size = 0;
    for (const s of request.state) size += valueSize(s.value);
    for (const inv of request.invocations) size += valueSize(inv.argument);
    copy = new ValueCopies(size);
  }
  const state: pb.ToFunction_PersistedValue[] = new Array(request.state.length);
  for (let i = 0; i < state.length; i++) {
    const s = request.state[i];
    state[i] = {
      $typeName: 'io.statefun.sdk.reqreply.ToFunction.PersistedValue',
      stateName: s.name,
      stateValue: s.value.value === null ? undefined : pbTypedValue(s.value, copy),
    };
  }
  const invocations: pb.ToFunction_Invocation[] = new Array(request.invocations.length);
  for (let i = 0; i < invocations.length; i++) {
    const inv = request.invocations[i];
    invocations[i] = {
      $typeName: 'io.statefun.sdk.reqreply.ToFunction.Invocation',
      caller: inv.caller === undefined ? undefined : pbAddress(inv.caller),
      argument: pbTypedValue(inv.argument, copy),
    };
  }
  return {
    $typeName: 'io.statefun.sdk.reqreply.ToFunction',
    request: {
      case: 'invocation',
      value: {
        $typeName: 'io.statefun.sdk.reqreply.ToFunction.InvocationBatchRequest',
        target: pbAddress(request.target),
        state,
        invocations,
      },
    },
  };
}

/**
 * Decodes StateFun `ToFunction` bytes (what a function receives) into an invocation batch.
 * Values are views on `bytes`, not copies. A state without a `state_value` (how StateFun's
 * runtime sends a registered state that has no value) is an absent value with no typename,
 * `{ typename: '', value: null }`, as is one whose `state_value` has `has_value = false`
 * (that one keeps its typename).
 *
 * @throws {@link InvalidInputError} for malformed or truncated bytes, an empty `request`
 * oneof, a missing target or argument, an empty state name, or an invalid address.
 *
 * @example
 * const request = decodeToFunction(bytes);
 * request.target.toString(); // 'example/greeter/ada'
 */
export function decodeToFunction(bytes: Uint8Array): InvocationRequest {
  return readToFunction(parse('ToFunction', pb.ToFunctionSchema, bytes), `${bytes.byteLength} bytes`);
}

/**
 * Reads a `ToFunction` message into an invocation batch: {@link decodeToFunction} after
 * the bytes, with the same checks. `source` describes the message in errors.
 *
 * @throws {@link InvalidInputError} as {@link decodeToFunction} does, but for the bytes.
 *
 * @example
 * const request = readToFunction(toFunctionMessage(batch), 'in process');
 */
export function readToFunction(message: pb.ToFunction, source: string): InvocationRequest {
  if (message.request.case !== 'invocation') {
    throw new InvalidInputError(
      `invalid ToFunction (${source}): the "request" oneof is not set; expected an InvocationBatchRequest in field "invocation" (100)`,
    );
  }
  const batch = message.request.value;
  if (batch.target === undefined) {
    throw new InvalidInputError('invalid ToFunction: the invocation batch has no target address');
  }
  const target = address(batch.target, 'ToFunction target');
  const state: { name: string; value: TypedValue }[] = new Array(batch.state.length);
  for (let i = 0; i < state.length; i++) {
    const s = batch.state[i];
    const name = s.stateName;
    if (name === '') {
      throw new InvalidInputError(`invalid ToFunction for ${target}: state value #${i} has an empty state_name`);
    }
    state[i] = { name, value: s.stateValue === undefined ? NO_STATE_VALUE : typedValue(s.stateValue) };
  }
  const invocations: { caller?: Address; argument: TypedValue }[] = new Array(batch.invocations.length);
  for (let i = 0; i < invocations.length; i++) {
    const v = batch.invocations[i];
    const caller = v.caller === undefined ? undefined : address(v.caller, `ToFunction invocation #${i} caller`);
    if (v.argument === undefined) {
      throw new InvalidInputError(`invalid ToFunction for ${target}: invocation #${i} has no argument`);
    }
    const argument = typedValue(v.argument);
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
  return toBinary(pb.FromFunctionSchema, fromFunctionMessage(response), WRITE);
}

/**
 * The `FromFunction` message of a function's reply: {@link encodeFromFunction} without the
 * bytes, with the same checks. Values go in as given, or copied with `copyValues` (see
 * {@link toFunctionMessage}).
 *
 * @throws {@link InvalidInputError} as {@link encodeFromFunction} does.
 *
 * @example
 * const message = fromFunctionMessage({ kind: 'result', mutations: [], messages: [], delayed: [], egress: [] });
 * message.response.case; // 'invocationResult'
 */
export function fromFunctionMessage(response: InvocationResponse, opts: MessageOpts = {}): pb.FromFunction {
  if (response.kind === 'incomplete') {
    const missingValues: pb.FromFunction_PersistedValueSpec[] = new Array(response.missing.length);
    for (let i = 0; i < missingValues.length; i++) missingValues[i] = pbValueSpec(response.missing[i]);
    return {
      $typeName: 'io.statefun.sdk.reqreply.FromFunction',
      response: {
        case: 'incompleteInvocationContext',
        value: { $typeName: 'io.statefun.sdk.reqreply.FromFunction.IncompleteInvocationContext', missingValues },
      },
    };
  }
  const copy = opts.copyValues === true ? COPY_EACH_VALUE : undefined;
  const stateMutations: pb.FromFunction_PersistedValueMutation[] = new Array(response.mutations.length);
  for (let i = 0; i < stateMutations.length; i++) {
    const m = response.mutations[i];
    stateMutations[i] = {
      $typeName: 'io.statefun.sdk.reqreply.FromFunction.PersistedValueMutation',
      mutationType: m.value === null ? DELETE : MODIFY,
      stateName: m.name,
      stateValue: m.value === null ? undefined : pbTypedValue(m.value, copy),
    };
  }
  const outgoingMessages: pb.FromFunction_Invocation[] = new Array(response.messages.length);
  for (let i = 0; i < outgoingMessages.length; i++) {
    const m = response.messages[i];
    outgoingMessages[i] = {
      $typeName: 'io.statefun.sdk.reqreply.FromFunction.Invocation',
      target: pbAddress(m.target),
      argument: pbTypedValue(m.argument, copy),
    };
  }
  const delayedInvocations: pb.FromFunction_DelayedInvocation[] = new Array(response.delayed.length);
  for (let i = 0; i < delayedInvocations.length; i++) delayedInvocations[i] = pbDelayed(response.delayed[i], copy);
  const outgoingEgresses: pb.FromFunction_EgressMessage[] = new Array(response.egress.length);
  for (let i = 0; i < outgoingEgresses.length; i++) {
    const e = response.egress[i];
    const slash = egressSlash(e.egress);
    outgoingEgresses[i] = {
      $typeName: 'io.statefun.sdk.reqreply.FromFunction.EgressMessage',
      egressNamespace: e.egress.slice(0, slash),
      egressType: e.egress.slice(slash + 1),
      argument: pbTypedValue(e.argument, copy),
    };
  }
  return {
    $typeName: 'io.statefun.sdk.reqreply.FromFunction',
    response: {
      case: 'invocationResult',
      value: {
        $typeName: 'io.statefun.sdk.reqreply.FromFunction.InvocationResponse',
        stateMutations,
        outgoingMessages,
        delayedInvocations,
        outgoingEgresses,
      },
    },
  };
}

/**
 * Decodes StateFun `FromFunction` bytes (a function's reply). A MODIFY mutation whose value
 * has `has_value = false` is read as a deletion (`value: null`): storing an absent value is
 * deleting it. A reply whose `response` oneof is not set (zero bytes, or only fields this
 * schema does not know) is a result without effects, as StateFun's runtime reads it: the
 * official Python SDK answers a batch without effects with zero bytes.
 *
 * @throws {@link InvalidInputError} for malformed or truncated bytes, an unknown mutation
 * type or expiration mode, a negative delay, a missing target or argument, a cancellation
 * without a token, or an empty state or egress name.
 *
 * @example
 * const response = decodeFromFunction(bytes);
 * if (response.kind === 'incomplete') console.log(response.missing.map((s) => s.name));
 */
export function decodeFromFunction(bytes: Uint8Array): InvocationResponse {
  return readFromFunction(parse('FromFunction', pb.FromFunctionSchema, bytes));
}

/**
 * Reads a `FromFunction` message: {@link decodeFromFunction} after the bytes, with the same
 * checks.
 *
 * @throws {@link InvalidInputError} as {@link decodeFromFunction} does, but for the bytes.
 *
 * @example
 * const response = readFromFunction(fromFunctionMessage(reply));
 */
export function readFromFunction(message: pb.FromFunction): InvocationResponse {
  const response = message.response;
  if (response.case === 'incompleteInvocationContext') {
    const specs = response.value.missingValues;
    const missing: ValueSpec[] = new Array(specs.length);
    for (let i = 0; i < specs.length; i++) missing[i] = valueSpec(specs[i], i);
    return { kind: 'incomplete', missing };
  }
  if (response.case === undefined) return { kind: 'result', mutations: [], messages: [], delayed: [], egress: [] };
  const result = response.value;
  const mutations: StateMutation[] = new Array(result.stateMutations.length);
  for (let i = 0; i < mutations.length; i++) mutations[i] = mutation(result.stateMutations[i], i);
  const messages: { target: Address; argument: TypedValue }[] = new Array(result.outgoingMessages.length);
  for (let i = 0; i < messages.length; i++) messages[i] = outgoing(result.outgoingMessages[i], i);
  const delayed: DelayedInvocation[] = new Array(result.delayedInvocations.length);
  for (let i = 0; i < delayed.length; i++) delayed[i] = delayedInvocation(result.delayedInvocations[i], i);
  const egress: { egress: string; argument: TypedValue }[] = new Array(result.outgoingEgresses.length);
  for (let i = 0; i < egress.length; i++) egress[i] = egressMessage(result.outgoingEgresses[i], i);
  return { kind: 'result', mutations, messages, delayed, egress };
}

function mutation(m: pb.FromFunction_PersistedValueMutation, index: number): StateMutation {
  const what = `FromFunction state mutation #${index}`;
  const name = m.stateName;
  if (name === '') throw new InvalidInputError(`invalid ${what}: empty state_name`);
  if (m.mutationType === DELETE) return { name, value: null };
  if (m.mutationType !== MODIFY) {
    throw new InvalidInputError(
      `invalid ${what} ("${name}"): unknown mutation_type ${m.mutationType}; expected DELETE (0) or MODIFY (1)`,
    );
  }
  if (m.stateValue === undefined) throw new InvalidInputError(`invalid ${what} ("${name}"): MODIFY without a state_value`);
  const value = typedValue(m.stateValue);
  return { name, value: value.value === null ? null : value };
}

function outgoing(m: pb.FromFunction_Invocation, index: number): { target: Address; argument: TypedValue } {
  const what = `FromFunction outgoing message #${index}`;
  if (m.target === undefined) throw new InvalidInputError(`invalid ${what}: no target address`);
  const target = address(m.target, what);
  if (m.argument === undefined) throw new InvalidInputError(`invalid ${what}: no argument`);
  return { target, argument: typedValue(m.argument) };
}

function delayedInvocation(d: pb.FromFunction_DelayedInvocation, index: number): DelayedInvocation {
  const what = `FromFunction delayed invocation #${index}`;
  const token = d.cancellationToken;
  if (d.isCancellationRequest) {
    if (token === '') {
      throw new InvalidInputError(`invalid ${what}: a cancellation request without a cancellation_token`);
    }
    return { kind: 'cancel', cancellationToken: token };
  }
  if (d.delayInMs < 0n || d.delayInMs > MAX_SAFE) {
    throw new InvalidInputError(
      `invalid ${what}: delay_in_ms ${d.delayInMs} is out of range; expected 0 to ${Number.MAX_SAFE_INTEGER}`,
    );
  }
  const delayMs = Number(d.delayInMs);
  if (d.target === undefined) throw new InvalidInputError(`invalid ${what}: no target address`);
  const target = address(d.target, what);
  if (d.argument === undefined) throw new InvalidInputError(`invalid ${what}: no argument`);
  const argument = typedValue(d.argument);
  return token === ''
    ? { kind: 'send', delayMs, target, argument }
    : { kind: 'send', delayMs, target, argument, cancellationToken: token };
}

function egressMessage(e: pb.FromFunction_EgressMessage, index: number): { egress: string; argument: TypedValue } {
  const what = `FromFunction egress message #${index}`;
  if (e.egressNamespace === '' || e.egressType === '') {
    throw new InvalidInputError(
      `invalid ${what}: egress namespace ${JSON.stringify(e.egressNamespace)} and type ${JSON.stringify(e.egressType)} must both be non-empty`,
    );
  }
  if (e.argument === undefined) throw new InvalidInputError(`invalid ${what}: no argument`);
  return { egress: `${e.egressNamespace}/${e.egressType}`, argument: typedValue(e.argument) };
}

function valueSpec(spec: pb.FromFunction_PersistedValueSpec, index: number): ValueSpec {
  const what = `FromFunction missing value spec #${index}`;
  const name = spec.stateName;
  const typename = spec.typeTypename;
  if (name === '') throw new InvalidInputError(`invalid ${what}: empty state_name`);
  if (typename === '') throw new InvalidInputError(`invalid ${what} ("${name}"): empty type_typename`);
  const e = spec.expirationSpec;
  if (e === undefined || e.mode === NONE) return { name, typename };
  let mode: Expiration['mode'];
  if (e.mode === AFTER_WRITE) mode = 'after-write';
  else if (e.mode === AFTER_INVOKE) mode = 'after-invoke';
  else {
    throw new InvalidInputError(
      `invalid ${what} ("${name}"): unknown expiration mode ${e.mode}; expected NONE (0), AFTER_WRITE (1) or AFTER_INVOKE (2)`,
    );
  }
  if (e.expireAfterMillis <= 0n || e.expireAfterMillis > MAX_SAFE) {
    throw new InvalidInputError(
      `invalid ${what} ("${name}"): expire_after_millis ${e.expireAfterMillis} must be a positive number of milliseconds`,
    );
  }
  return { name, typename, expiration: { mode, afterMs: Number(e.expireAfterMillis) } };
}

// ---------------------------------------------------------------------------------------
// shared messages
// ---------------------------------------------------------------------------------------

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

const EMPTY = new Uint8Array(0);

/** A `PersistedValue` without `state_value`: absent, and the wire says nothing of its type. */
const NO_STATE_VALUE: TypedValue = Object.freeze({ typename: '', value: null });

function pbAddress(a: Address): pb.Address {
  return { $typeName: 'io.statefun.sdk.reqreply.Address', namespace: a.namespace, type: a.type, id: a.id };
}

function pbTypedValue(v: TypedValue, copy: ValueCopier | undefined): pb.TypedValue {
  return v.value === null
    ? { $typeName: 'io.statefun.sdk.reqreply.TypedValue', typename: v.typename, hasValue: false, value: EMPTY }
    : { $typeName: 'io.statefun.sdk.reqreply.TypedValue', typename: v.typename, hasValue: true, value: copy ? copy.take(v.value) : v.value };
}

/** Copies the values of one message (see {@link MessageOpts.copyValues}). */
interface ValueCopier {
  take(value: Uint8Array): Uint8Array;
}

/**
 * The values of a `ToFunction` message copied into one new buffer, as encoding copies them
 * into its output: one allocation per message, and each value a view on it, as decoded
 * values are. The SDK reads them through protobuf-es's reader, which takes each value's
 * `buffer`: a view on one shared buffer costs less there than a small array of its own.
 */
class ValueCopies implements ValueCopier {
  // An ArrayBuffer and views made with the constructor: a small Uint8Array would start on
  // V8's heap and be moved off it by the first `subarray` (measured about 1.25x slower).
  private readonly buffer: ArrayBuffer;
  private offset = 0;

  constructor(size: number) {
    this.buffer = new ArrayBuffer(size);
  }

  take(value: Uint8Array): Uint8Array {
    const copy = new Uint8Array(this.buffer, this.offset, value.byteLength);
    copy.set(value);
    this.offset += value.byteLength;
    return copy;
  }
}

/**
 * The values of a `FromFunction` message copied one by one: the dispatcher stores them and
 * copies them again, never taking their `buffer`, so small ones stay plain arrays on V8's
 * heap, cheaper to make and to keep than views on a shared buffer.
 */
const COPY_EACH_VALUE: ValueCopier = {
  take(value) {
    const copy = new Uint8Array(value.byteLength);
    copy.set(value);
    return copy;
  },
};

function valueSize(v: TypedValue | null): number {
  return v?.value?.byteLength ?? 0;
}

function pbDelayed(d: DelayedInvocation, copy: ValueCopier | undefined): pb.FromFunction_DelayedInvocation {
  if (d.kind === 'cancel') {
    if (typeof d.cancellationToken !== 'string' || d.cancellationToken === '') {
      throw new InvalidInputError('invalid delayed message cancellation: the cancellation token must be a non-empty string');
    }
    return {
      $typeName: 'io.statefun.sdk.reqreply.FromFunction.DelayedInvocation',
      isCancellationRequest: true,
      cancellationToken: d.cancellationToken,
      delayInMs: 0n,
      target: undefined,
      argument: undefined,
    };
  }
  if (!Number.isSafeInteger(d.delayMs) || d.delayMs < 0) {
    throw new InvalidInputError(
      `invalid delay ${d.delayMs} ms for a message to ${d.target}: expected a non-negative integer number of milliseconds`,
    );
  }
  return {
    $typeName: 'io.statefun.sdk.reqreply.FromFunction.DelayedInvocation',
    isCancellationRequest: false,
    cancellationToken: d.cancellationToken ?? '',
    delayInMs: BigInt(d.delayMs),
    target: pbAddress(d.target),
    argument: pbTypedValue(d.argument, copy),
  };
}

function pbValueSpec(spec: ValueSpec): pb.FromFunction_PersistedValueSpec {
  const message = {
    $typeName: 'io.statefun.sdk.reqreply.FromFunction.PersistedValueSpec',
    stateName: spec.name,
    typeTypename: spec.typename,
    expirationSpec: undefined,
  } as const;
  if (spec.expiration === undefined) return message;
  const ms = spec.expiration.afterMs;
  if (!Number.isSafeInteger(ms) || ms <= 0) {
    throw new InvalidInputError(
      `invalid expiration of state "${spec.name}": ${ms} ms; expected a positive integer number of milliseconds`,
    );
  }
  return {
    ...message,
    expirationSpec: {
      $typeName: 'io.statefun.sdk.reqreply.FromFunction.ExpirationSpec',
      mode: spec.expiration.mode === 'after-write' ? AFTER_WRITE : AFTER_INVOKE,
      expireAfterMillis: BigInt(ms),
    },
  };
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

function address(a: pb.Address, what: string): Address {
  try {
    return Address.fromParts(a.namespace, a.type, a.id);
  } catch (cause) {
    throw new InvalidInputError(`invalid ${what}: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
    });
  }
}

function typedValue(v: pb.TypedValue): TypedValue {
  return { typename: v.typename, value: v.hasValue ? v.value : null };
}

/** `fromBinary`, with non-bytes input and malformed bytes as {@link InvalidInputError}s. */
function parse<T extends pb.ToFunction | pb.FromFunction>(what: string, schema: GenMessage<T>, bytes: Uint8Array): T {
  if (!(bytes instanceof Uint8Array)) {
    throw new InvalidInputError(`invalid ${what}: expected bytes (a Uint8Array), got ${describe(bytes)}`);
  }
  try {
    return fromBinary(schema, bytes, READ);
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new InvalidInputError(`malformed ${what} (${bytes.byteLength} bytes): ${reason}`, { cause });
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'object';
  return typeof value;
}
