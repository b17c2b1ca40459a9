/*
 * What the official-SDK adapter tests share: our Lambda payloads for the playground greeter
 * (functions/official-sdk-js and functions/official-sdk-python, the same two functions in
 * two SDKs), a readable form of the replies, the malformed payloads, and a run of the
 * greeter through the runtime's real Lambda path (LocalRuntime, the dispatcher,
 * lambdaTransport and @aws-sdk/client-lambda against the Invoke API emulator).
 */
import { LambdaClient } from '@aws-sdk/client-lambda';
import { lambdaTransport } from '../../../runtime-lambda/aws/LambdaTransport';
import { Address } from '../../../runtime-lambda/core/Address';
import type { InvocationRequest, InvocationResponse } from '../../../runtime-lambda/core/Invocation';
import type { TypedValue } from '../../../runtime-lambda/core/TypedValue';
import { LocalRuntime } from '../../../runtime-lambda/local/LocalRuntime';
import { RequestReplyEndpoint } from '../../../runtime-lambda/protocol/RequestReplyEndpoint';
import type { RequestReplyTransport } from '../../../runtime-lambda/protocol/RequestReplyTransport';
import { decodeFromFunction, encodeToFunction } from '../../../runtime-lambda/protocol/codec';
import { Types } from '../../../runtime-lambda/sdk';
import { jsonValue } from '../../helpers/protocolFactories';
import { startLambdaInvokeEmulator } from '../../support/lambdaInvokeEmulator';

export const GREET_REQUEST = 'example/GreetRequest';
export const EGRESS_RECORD = 'io.statefun.playground/EgressRecord';
export const PLAYGROUND_EGRESS = 'io.statefun.playground/egress';

/** The Lambda event of a batch: `{"request": "<base64 ToFunction>"}`, built by our encoder. */
export function lambdaEvent(request: InvocationRequest): { request: string } {
  return { request: Buffer.from(encodeToFunction(request)).toString('base64') };
}

/** A batch for `example/person/<name>`: `visits` absent (`null`), stored, or not sent at all (`'unregistered'`). */
export function personBatch(name: string, visits: number | null | 'unregistered', messages = 1): InvocationRequest {
  return {
    target: Address.of('example/person', name),
    state:
      visits === 'unregistered'
        ? []
        : [{ name: 'visits', value: { typename: Types.int.typename, value: visits === null ? null : Types.int.serialize(visits) } }],
    invocations: Array.from({ length: messages }, () => ({ caller: Address.of('example/front', 'web'), argument: jsonValue(GREET_REQUEST, { name }) })),
  };
}

/** A batch for `example/greeter/<name>` carrying a request with `visits`. */
export function greeterBatch(name: string, visits: number): InvocationRequest {
  return {
    target: Address.of('example/greeter', name),
    state: [],
    invocations: [{ caller: Address.of('example/person', name), argument: jsonValue(GREET_REQUEST, { name, visits }) }],
  };
}

/** A batch of one message for a function of the tests, e.g. `test/quiet`. */
export function testBatch(fnType: string, argument: TypedValue, state: InvocationRequest['state'] = []): InvocationRequest {
  return { target: Address.of(fnType, 'x'), state, invocations: [{ argument }] };
}

/** A value as a test reads it: ints and strings decoded, JSON parsed. */
type Readable = { type: string; value: unknown };

function readable(value: TypedValue): Readable {
  const bytes = value.value;
  if (bytes === null) return { type: value.typename, value: null };
  if (value.typename === Types.int.typename) return { type: value.typename, value: Types.int.deserialize(bytes) };
  if (value.typename === Types.string.typename) return { type: value.typename, value: Types.string.deserialize(bytes) };
  return { type: value.typename, value: JSON.parse(Buffer.from(bytes).toString('utf8')) };
}

/**
 * The reply of a Lambda result, checked to be `{"response": "<base64>"}` and decoded by our
 * decoder, its values readable (SDKs differ in JSON spacing, not in meaning).
 */
export function readReply(result: unknown) {
  expect(result).toEqual({ response: expect.any(String) });
  const response: InvocationResponse = decodeFromFunction(Buffer.from((result as { response: string }).response, 'base64'));
  if (response.kind === 'incomplete') return response;
  return {
    kind: response.kind,
    mutations: response.mutations.map((m) => ({ name: m.name, value: m.value === null ? null : readable(m.value) })),
    messages: response.messages.map((m) => ({ to: m.target.toString(), ...readable(m.argument) })),
    delayed: response.delayed.map((d) =>
      d.kind === 'cancel' ? d : { kind: d.kind, delayMs: d.delayMs, to: d.target.toString(), token: d.cancellationToken, ...readable(d.argument) },
    ),
    egress: response.egress.map((e) => ({ egress: e.egress, ...readable(e.argument) })),
  };
}

/** The reply of `example/person/<name>` to one message when it had `visits - 1` visits. */
export function personReply(name: string, visits: number) {
  return {
    kind: 'result',
    mutations: [{ name: 'visits', value: { type: Types.int.typename, value: visits } }],
    messages: [{ to: `example/greeter/${name}`, type: GREET_REQUEST, value: { name, visits } }],
    delayed: [],
    egress: [],
  };
}

/** The reply of `example/greeter` greeting with `payload`. */
export function greeterReply(payload: string) {
  return {
    kind: 'result',
    mutations: [],
    messages: [],
    delayed: [],
    egress: [{ egress: PLAYGROUND_EGRESS, type: EGRESS_RECORD, value: { topic: 'greetings', payload } }],
  };
}

const EXPECTED = 'expected {"request": "<base64 of the StateFun ToFunction bytes>"}';

/** Events that are not our Lambda payload, and how both adapters name what is wrong. */
export const MALFORMED_PAYLOADS: readonly [string, unknown, string][] = [
  ['null', null, `invalid Lambda payload: ${EXPECTED}, got null`],
  ['a string', 'ogYA', `invalid Lambda payload: ${EXPECTED}, got string`],
  ['an array', [], `invalid Lambda payload: ${EXPECTED}, got an array`],
  ['an API Gateway event', { body: 'x', isBase64Encoded: true }, `invalid Lambda payload: ${EXPECTED}, got an object with keys [body, isBase64Encoded]`],
  ['a numeric request', { request: 42 }, `invalid Lambda payload: ${EXPECTED}, got "request" of type number`],
  ['a request that is not base64', { request: 'not base64!' }, `invalid Lambda payload: "request" is not non-empty standard base64 (11 characters); ${EXPECTED}`],
  ['URL-safe base64', { request: 'ab-_' }, `invalid Lambda payload: "request" is not non-empty standard base64 (4 characters); ${EXPECTED}`],
  ['an empty request', { request: '' }, `invalid Lambda payload: "request" is not non-empty standard base64 (0 characters); ${EXPECTED}`],
];

/** Bytes that are not protobuf, and a ToFunction whose `invocation` is not set (an unknown field 1 only). */
export const GARBAGE_BYTES = Buffer.from('garbage!').toString('base64');
export const NO_INVOCATION = Buffer.from([0x08, 0x01]).toString('base64');

/** Runs `body` with a transport invoking `handler` as the Lambda `greeter`, through the Invoke API emulator. */
async function withLambda<T>(handler: (event: unknown) => unknown, body: (transport: RequestReplyTransport) => Promise<T>): Promise<T> {
  const lambda = await startLambdaInvokeEmulator();
  const client = new LambdaClient(lambda.clientConfig());
  try {
    lambda.register('greeter', handler);
    return await body(lambdaTransport({ functionName: 'arn:aws:lambda:us-east-1:123456789012:function:greeter', client }));
  } finally {
    client.destroy();
    await lambda.close();
  }
}

/** Invokes `handler` with `request` as the dispatcher does: RequestReplyEndpoint, lambdaTransport, the Invoke API. */
export function invokeThroughLambda(handler: (event: unknown) => unknown, request: InvocationRequest): Promise<InvocationResponse> {
  return withLambda(handler, (transport) => new RequestReplyEndpoint(request.target.typename, transport).invoke(request));
}

/**
 * Runs the greeter on the local runtime with both functions behind one Lambda served by
 * `handler` (through the Invoke API emulator), sends one request per name in order, and
 * returns the greetings written to the playground egress, each person's stored visits and
 * the dead letters' reasons.
 */
export function runGreeterThroughLambda(
  handler: (event: unknown) => unknown,
  names: readonly string[],
): Promise<{ greetings: string[]; visits: Record<string, number>; deadLetters: string[] }> {
  return withLambda(handler, async (transport) => {
    const greetings: string[] = [];
    const runtime = new LocalRuntime({
      functions: { resolve: (fnType) => (fnType.startsWith('example/') ? new RequestReplyEndpoint(fnType, transport) : undefined) },
      egresses: {
        [PLAYGROUND_EGRESS]: (record) => {
          const value = readable(record.argument);
          expect(value.type).toBe(EGRESS_RECORD);
          greetings.push((value.value as { payload: string }).payload);
        },
      },
    });
    for (const name of names) {
      runtime.send(Address.of('example/person', name), jsonValue(GREET_REQUEST, { name }));
      await runtime.runUntilIdle();
    }
    const visits: Record<string, number> = {};
    for (const name of new Set(names)) {
      const stored = runtime.state(Address.of('example/person', name)).values.get('visits');
      visits[name] = Types.int.deserialize(stored!.value);
    }
    return { greetings, visits, deadLetters: runtime.deadLetters.map((d) => `${d.address}: ${d.reason}`) };
  });
}
