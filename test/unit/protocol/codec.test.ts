import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { Address } from '../../../runtime-lambda/core/Address';
import { InvalidInputError } from '../../../runtime-lambda/core/errors';
import type { InvocationResponse } from '../../../runtime-lambda/core/Invocation';
import {
  decodeFromFunction,
  decodeToFunction,
  encodeFromFunction,
  encodeToFunction,
  readFromFunction,
} from '../../../runtime-lambda/protocol/codec';
import * as pb from '../../../runtime-lambda/protocol/generated/request-reply_pb';
import { invocationRequestFactory, invocationResultFactory, utf8 } from '../../helpers/protocolFactories';

// Official-SDK bytes (apache-flink-statefun 3.3.0, google-protobuf serializeBinary) of the
// batch and the reply encoded in the pinning tests below.
const PINNED_TO_FUNCTION =
  'a206750a170a076578616d706c651207677265657465721a0361646112280a047365656e12200a15696f2e737461746566756e2e74797065732f696e7410011a050d2a0000001a300a150a076578616d706c65120566726f6e741a0377656212170a15696f2e737461746566756e2e74797065732f696e74';
const PINNED_FROM_FUNCTION = 'a2066e0a2a080112047365656e1a200a15696f2e737461746566756e2e74797065732f696e7410011a050d2b0000000a0512036f6c641a2a08e0d40312170a076578616d706c651207677265657465721a036164611a0b0a096578616d706c652f581a0d50015a096f6c642d746f6b656e';

// A batch for example/greeter/ada whose registered state "seen" has no value, as StateFun
// 3.3's runtime sends it (PersistedRemoteFunctionValues.attachStateValues: a PersistedValue
// with its state_name and no state_value), with one message, written out by hand.
const JAVA_RUNTIME_ABSENT_STATE = [
  'a206' + '35', // ToFunction.invocation (100, length-delimited), 53 bytes
  '0a17' + '0a076578616d706c65' + '120767726565746572' + '1a03616461', // target: example / greeter / ada
  '1206' + '0a047365656e', // state: PersistedValue { state_name: "seen" }, no state_value (field 2)
  '1a12' + '1210' + '0a096578616d706c652f58' + '1001' + '1a0131', // invocations: { argument: example/X, has_value, "1" }
].join('');

/** The decoded form of a state without state_value: absent, with no typename. */
const NO_STATE_VALUE = { typename: '', value: null };

/** {@link JAVA_RUNTIME_ABSENT_STATE} decoded. */
const JAVA_RUNTIME_ABSENT_STATE_REQUEST = {
  target: Address.of('example/greeter', 'ada'),
  state: [{ name: 'seen', value: NO_STATE_VALUE }],
  invocations: [{ argument: { typename: 'example/X', value: utf8('1') } }],
};

const pbAddress = (ns: string, type: string, id: string) => create(pb.AddressSchema, { namespace: ns, type, id });
const pbValue = (typename: string, value?: Uint8Array) =>
  create(pb.TypedValueSchema, value === undefined ? { typename } : { typename, hasValue: true, value });

function fromFunctionBytes(response: Parameters<typeof create<typeof pb.FromFunctionSchema>>[1]): Uint8Array {
  return toBinary(pb.FromFunctionSchema, create(pb.FromFunctionSchema, response));
}

function resultBytes(result: Parameters<typeof create<typeof pb.FromFunction_InvocationResponseSchema>>[1]): Uint8Array {
  return fromFunctionBytes({
    response: { case: 'invocationResult', value: create(pb.FromFunction_InvocationResponseSchema, result) },
  });
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

describe('Function: encodeToFunction / decodeToFunction', () => {
  it('round-trips an invocation batch, keeping absent and empty values apart', () => {
    // Prepare
    const request = invocationRequestFactory();

    // Act
    const decoded = decodeToFunction(encodeToFunction(request));

    // Assess: the absent state value travels without state_value, so without its typename
    expect(decoded).toEqual({ ...request, state: [{ name: 'seen', value: NO_STATE_VALUE }, request.state[1]] });
    expect(decoded.invocations[1].argument.value).toEqual(new Uint8Array(0));
    expect(decoded.invocations[0].caller).toBeUndefined();
  });

  it("encodes an absent state value as StateFun 3.3's runtime does: a PersistedValue without state_value", () => {
    // Prepare
    const request = invocationRequestFactory({
      state: [{ name: 'seen', value: { typename: 'io.statefun.types/int', value: null } }],
      invocations: [{ argument: { typename: 'example/X', value: utf8('1') } }],
    });
    // the same batch built with the generated types as attachStateValues builds it: only a
    // state with bytes gets a state_value
    const javaShaped = create(pb.ToFunctionSchema, {
      request: {
        case: 'invocation',
        value: create(pb.ToFunction_InvocationBatchRequestSchema, {
          target: pbAddress('example', 'greeter', 'ada'),
          state: [create(pb.ToFunction_PersistedValueSchema, { stateName: 'seen' })],
          invocations: [{ argument: pbValue('example/X', utf8('1')) }],
        }),
      },
    });

    // Act
    const bytes = encodeToFunction(request);

    // Assess
    expect(Buffer.from(bytes).toString('hex')).toBe(JAVA_RUNTIME_ABSENT_STATE);
    expect(Buffer.from(bytes).toString('hex')).toBe(Buffer.from(toBinary(pb.ToFunctionSchema, javaShaped)).toString('hex'));
  });

  it("decodes a state without state_value (StateFun 3.3's runtime, a registered state with no value) as an absent value", () => {
    // Prepare
    const bytes = Buffer.from(JAVA_RUNTIME_ABSENT_STATE, 'hex');

    // Act
    const decoded = decodeToFunction(bytes);

    // Assess
    expect(decoded).toEqual(JAVA_RUNTIME_ABSENT_STATE_REQUEST);
  });

  it('decodes a state_value with has_value = false as an absent value that keeps its typename', () => {
    // Prepare: the shape this project's runtime sent before it matched StateFun's
    const bytes = toBinary(
      pb.ToFunctionSchema,
      create(pb.ToFunctionSchema, {
        request: {
          case: 'invocation',
          value: create(pb.ToFunction_InvocationBatchRequestSchema, {
            target: pbAddress('example', 'greeter', 'ada'),
            state: [{ stateName: 'seen', stateValue: pbValue('io.statefun.types/int') }],
          }),
        },
      }),
    );

    // Act
    const decoded = decodeToFunction(bytes);

    // Assess
    expect(decoded.state).toEqual([{ name: 'seen', value: { typename: 'io.statefun.types/int', value: null } }]);
  });

  it('encodes the bytes the official StateFun SDK (google-protobuf) produces for the same batch', () => {
    // Prepare: pinned from apache-flink-statefun 3.3.0 (ToFunction.serializeBinary of the same fields)
    const request = invocationRequestFactory({
      state: [{ name: 'seen', value: { typename: 'io.statefun.types/int', value: new Uint8Array([0x0d, 42, 0, 0, 0]) } }],
      invocations: [{ caller: Address.of('example/front', 'web'), argument: { typename: 'io.statefun.types/int', value: null } }],
    });

    // Act
    const bytes = encodeToFunction(request);

    // Assess
    expect(Buffer.from(bytes).toString('hex')).toBe(PINNED_TO_FUNCTION);
  });

  it('decodes non-ASCII names and ids, and values longer than 127 bytes', () => {
    // Prepare
    const big = new Uint8Array(70_000).fill(7);
    const request = invocationRequestFactory({
      target: Address.of('example/greeter', 'zoë-🚀'),
      invocations: [{ argument: { typename: 'example/Blob', value: big } }],
    });

    // Act
    const decoded = decodeToFunction(encodeToFunction(request));

    // Assess
    expect(decoded.target.id).toBe('zoë-🚀');
    expect(decoded.invocations[0].argument.value).toEqual(big);
  });

  it('rejects garbage bytes with an InvalidInputError naming the message', () => {
    // Prepare
    const garbage = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

    // Act
    const error = thrown(() => decodeToFunction(garbage));

    // Assess
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as Error).message).toBe('malformed ToFunction (11 bytes): invalid varint');
  });

  it('rejects truncated bytes', () => {
    // Prepare
    const bytes = encodeToFunction(invocationRequestFactory());
    const truncated = bytes.subarray(0, bytes.length - 3);

    // Act
    const error = thrown(() => decodeToFunction(truncated));

    // Assess
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as Error).message).toBe(`malformed ToFunction (${truncated.length} bytes): premature EOF`);
  });

  it('rejects an empty request (no oneof)', () => {
    // Act
    const error = thrown(() => decodeToFunction(new Uint8Array(0)));

    // Assess
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as Error).message).toBe(
      'invalid ToFunction (0 bytes): the "request" oneof is not set; expected an InvocationBatchRequest in field "invocation" (100)',
    );
  });

  it('rejects a batch without target, an invocation without argument, a state without name', () => {
    // Prepare
    const batch = (value: Parameters<typeof create<typeof pb.ToFunction_InvocationBatchRequestSchema>>[1]) =>
      toBinary(pb.ToFunctionSchema, create(pb.ToFunctionSchema, { request: { case: 'invocation', value: create(pb.ToFunction_InvocationBatchRequestSchema, value) } }));
    const target = pbAddress('example', 'greeter', 'ada');

    // Act
    const noTarget = thrown(() => decodeToFunction(batch({})));
    const noArgument = thrown(() => decodeToFunction(batch({ target, invocations: [{}] })));
    const noStateName = thrown(() => decodeToFunction(batch({ target, state: [{ stateValue: pbValue('io.statefun.types/int') }] })));
    const badTarget = thrown(() => decodeToFunction(batch({ target: pbAddress('example', 'greeter', '') })));

    // Assess
    expect(noTarget).toBeInstanceOf(InvalidInputError);
    expect((noTarget as Error).message).toBe('invalid ToFunction: the invocation batch has no target address');
    expect((noArgument as Error).message).toBe('invalid ToFunction for example/greeter/ada: invocation #0 has no argument');
    expect(noStateName).toBeInstanceOf(InvalidInputError);
    expect((noStateName as Error).message).toBe('invalid ToFunction for example/greeter/ada: state value #0 has an empty state_name');
    expect(badTarget).toBeInstanceOf(InvalidInputError);
    expect((badTarget as Error).message).toBe(
      'invalid ToFunction target: invalid address "example/greeter/": the id must be a non-empty string',
    );
  });

  it('rejects a known field with the wrong wire type when it does not parse as its declared type', () => {
    // Prepare: field 100 as a varint instead of a message (protobuf-es reads the 1 as a length)
    const bytes = new Uint8Array([0xa0, 0x06, 0x01]);

    // Act
    const error = thrown(() => decodeToFunction(bytes));

    // Assess
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as Error).message).toBe(
      'malformed ToFunction (3 bytes): premature EOF',
    );
  });

  it('skips unknown fields', () => {
    // Prepare: an unknown varint field 7 before the request
    const bytes = Buffer.concat([Buffer.from([0x38, 0x01]), Buffer.from(JAVA_RUNTIME_ABSENT_STATE, 'hex')]);

    // Act
    const decoded = decodeToFunction(bytes);

    // Assess
    expect(decoded).toEqual(JAVA_RUNTIME_ABSENT_STATE_REQUEST);
  });

  it('rejects a non-bytes input', () => {
    // Act
    const error = thrown(() => decodeToFunction('hello' as unknown as Uint8Array));

    // Assess
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as Error).message).toBe('invalid ToFunction: expected bytes (a Uint8Array), got string');
  });
});

describe('Function: encodeFromFunction / decodeFromFunction', () => {
  it('round-trips a result with every kind of effect', () => {
    // Prepare
    const result = invocationResultFactory();

    // Act
    const decoded = decodeFromFunction(encodeFromFunction(result));

    // Assess
    expect(decoded).toEqual(result);
  });

  it('round-trips an incomplete invocation context with expirations', () => {
    // Prepare
    const response: InvocationResponse = {
      kind: 'incomplete',
      missing: [
        { name: 'seen', typename: 'io.statefun.types/int' },
        { name: 'cart', typename: 'example/Cart', expiration: { mode: 'after-write', afterMs: 86_400_000 } },
        { name: 'session', typename: 'example/Session', expiration: { mode: 'after-invoke', afterMs: 2 ** 40 } },
      ],
    };

    // Act
    const decoded = decodeFromFunction(encodeFromFunction(response));

    // Assess
    expect(decoded).toEqual(response);
  });

  it('encodes field values the generated schema reads back', () => {
    // Prepare
    const bytes = encodeFromFunction(invocationResultFactory());

    // Act
    const reference = fromBinary(pb.FromFunctionSchema, bytes);

    // Assess
    expect(reference.response.case).toBe('invocationResult');
    const value = reference.response.value as pb.FromFunction_InvocationResponse;
    expect(value.stateMutations.map((m) => [m.mutationType, m.stateName, m.stateValue?.hasValue])).toEqual([
      [pb.FromFunction_PersistedValueMutation_MutationType.MODIFY, 'seen', true],
      [pb.FromFunction_PersistedValueMutation_MutationType.DELETE, 'profile', undefined],
    ]);
    expect(value.delayedInvocations.map((d) => [d.isCancellationRequest, d.delayInMs, d.cancellationToken, d.target?.id])).toEqual([
      [false, 60_000n, 'remind-ada', 'ada'],
      [false, 0n, '', 'bob'],
      [true, 0n, 'old-token', undefined],
    ]);
    expect(value.outgoingEgresses.map((e) => [e.egressNamespace, e.egressType])).toEqual([['example', 'alerts']]);
  });

  it('encodes the bytes the official StateFun SDK (google-protobuf) produces for the same reply', () => {
    // Prepare: pinned from apache-flink-statefun 3.3.0 (FromFunction.serializeBinary of the same
    // fields). A delayed message with a cancellation token is left out: google-protobuf writes
    // DelayedInvocation in declaration order (token, field 11, first), protobuf-es in field
    // number order; both are valid and decode the same (the conformance tests cover that case).
    const response: InvocationResponse = {
      kind: 'result',
      mutations: [
        { name: 'seen', value: { typename: 'io.statefun.types/int', value: new Uint8Array([0x0d, 43, 0, 0, 0]) } },
        { name: 'old', value: null },
      ],
      messages: [],
      delayed: [
        { kind: 'send', delayMs: 60_000, target: Address.of('example/greeter', 'ada'), argument: { typename: 'example/X', value: null } },
        { kind: 'cancel', cancellationToken: 'old-token' },
      ],
      egress: [],
    };

    // Act
    const bytes = encodeFromFunction(response);

    // Assess
    expect(Buffer.from(bytes).toString('hex')).toBe(PINNED_FROM_FUNCTION);
  });

  it('decodes byte values as views on the input, not copies', () => {
    // Prepare
    const bytes = encodeToFunction(invocationRequestFactory());

    // Act
    const decoded = decodeToFunction(bytes);

    // Assess
    expect(decoded.invocations[0].argument.value!.buffer).toBe(bytes.buffer);
  });

  it('reads a MODIFY of an absent value as a deletion', () => {
    // Prepare
    const bytes = resultBytes({
      stateMutations: [{ mutationType: pb.FromFunction_PersistedValueMutation_MutationType.MODIFY, stateName: 'seen', stateValue: pbValue('io.statefun.types/int') }],
    });

    // Act
    const decoded = decodeFromFunction(bytes);

    // Assess
    expect(decoded).toEqual({ kind: 'result', mutations: [{ name: 'seen', value: null }], messages: [], delayed: [], egress: [] });
  });

  it.each([
    // request_reply_v3.py's collect_success for a batch without effects: FromFunction()
    // with invocation_result only read, never set, so SerializeToString() gives 0 bytes
    ["zero bytes (the Python SDK's reply to a batch without effects)", ''],
    // the Java, Go and JS SDKs always set invocation_result, here with no field in it
    ['an empty invocation_result', 'a20600'],
    // StateFun's runtime keeps unknown fields and finds the oneof unset, as for zero bytes
    ['only a field this schema does not know', '3801'],
  ])("reads %s as a result without effects, as StateFun's RequestReplyFunction does", (_case, hex) => {
    // Act
    const decoded = decodeFromFunction(Buffer.from(hex, 'hex'));

    // Assess
    expect(decoded).toEqual({ kind: 'result', mutations: [], messages: [], delayed: [], egress: [] });
  });

  it('reads a FromFunction message with its response oneof unset as a result without effects', () => {
    // Prepare: the message the Python SDK serializes, built with the generated types
    const message = create(pb.FromFunctionSchema);

    // Act
    const decoded = readFromFunction(message);

    // Assess
    expect(toBinary(pb.FromFunctionSchema, message)).toEqual(new Uint8Array(0));
    expect(decoded).toEqual({ kind: 'result', mutations: [], messages: [], delayed: [], egress: [] });
  });

  it.each([
    [
      'a truncated response',
      () => new Uint8Array([0xa2, 0x06, 0x05, 0x0a]),
      'malformed FromFunction (4 bytes): premature EOF',
    ],
    [
      'an unknown mutation type',
      () => resultBytes({ stateMutations: [{ mutationType: 7 as pb.FromFunction_PersistedValueMutation_MutationType, stateName: 'seen' }] }),
      'invalid FromFunction state mutation #0 ("seen"): unknown mutation_type 7; expected DELETE (0) or MODIFY (1)',
    ],
    [
      'a MODIFY without value',
      () => resultBytes({ stateMutations: [{ mutationType: 1, stateName: 'seen' }] }),
      'invalid FromFunction state mutation #0 ("seen"): MODIFY without a state_value',
    ],
    [
      'a negative delay',
      () =>
        resultBytes({
          delayedInvocations: [{ delayInMs: -5n, target: pbAddress('example', 'greeter', 'ada'), argument: pbValue('example/X', utf8('1')) }],
        }),
      'invalid FromFunction delayed invocation #0: delay_in_ms -5 is out of range; expected 0 to 9007199254740991',
    ],
    [
      'a cancellation without token',
      () => resultBytes({ delayedInvocations: [{ isCancellationRequest: true }] }),
      'invalid FromFunction delayed invocation #0: a cancellation request without a cancellation_token',
    ],
    [
      'a delayed message without target',
      () => resultBytes({ delayedInvocations: [{ delayInMs: 5n, argument: pbValue('example/X', utf8('1')) }] }),
      'invalid FromFunction delayed invocation #0: no target address',
    ],
    [
      'an outgoing message without argument',
      () => resultBytes({ outgoingMessages: [{ target: pbAddress('example', 'greeter', 'ada') }] }),
      'invalid FromFunction outgoing message #0: no argument',
    ],
    [
      'an egress without type',
      () => resultBytes({ outgoingEgresses: [{ egressNamespace: 'example', argument: pbValue('example/X', utf8('1')) }] }),
      'invalid FromFunction egress message #0: egress namespace "example" and type "" must both be non-empty',
    ],
    [
      'an unknown expiration mode',
      () =>
        fromFunctionBytes({
          response: {
            case: 'incompleteInvocationContext',
            value: create(pb.FromFunction_IncompleteInvocationContextSchema, {
              missingValues: [{ stateName: 'seen', typeTypename: 'io.statefun.types/int', expirationSpec: { mode: 9 as pb.FromFunction_ExpirationSpec_ExpireMode, expireAfterMillis: 10n } }],
            }),
          },
        }),
      'invalid FromFunction missing value spec #0 ("seen"): unknown expiration mode 9; expected NONE (0), AFTER_WRITE (1) or AFTER_INVOKE (2)',
    ],
    [
      'a missing spec without type',
      () =>
        fromFunctionBytes({
          response: {
            case: 'incompleteInvocationContext',
            value: create(pb.FromFunction_IncompleteInvocationContextSchema, { missingValues: [{ stateName: 'seen' }] }),
          },
        }),
      'invalid FromFunction missing value spec #0 ("seen"): empty type_typename',
    ],
    [
      'garbage',
      () => utf8('<html>502 Bad Gateway</html>'),
      'malformed FromFunction (28 bytes): cant skip wire type 4',
    ],
  ])('rejects %s with an InvalidInputError', (_case, bytes, message) => {
    // Act
    const error = thrown(() => decodeFromFunction(bytes()));

    // Assess
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as Error).message).toBe(message);
  });

  it.each([
    [
      'a negative delay',
      { kind: 'send' as const, delayMs: -1, target: Address.of('example/greeter', 'ada'), argument: { typename: 'example/X', value: null } },
      'invalid delay -1 ms for a message to example/greeter/ada: expected a non-negative integer number of milliseconds',
    ],
    [
      'a fractional delay',
      { kind: 'send' as const, delayMs: 1.5, target: Address.of('example/greeter', 'ada'), argument: { typename: 'example/X', value: null } },
      'invalid delay 1.5 ms for a message to example/greeter/ada: expected a non-negative integer number of milliseconds',
    ],
    [
      'an empty cancellation token',
      { kind: 'cancel' as const, cancellationToken: '' },
      'invalid delayed message cancellation: the cancellation token must be a non-empty string',
    ],
  ])('refuses to encode %s', (_case, delayed, message) => {
    // Act
    const error = thrown(() => encodeFromFunction(invocationResultFactory({ delayed: [delayed] })));

    // Assess
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as Error).message).toBe(message);
  });

  it('refuses to encode an egress name without namespace', () => {
    // Act
    const error = thrown(() =>
      encodeFromFunction(invocationResultFactory({ egress: [{ egress: 'alerts', argument: { typename: 'example/X', value: null } }] })),
    );

    // Assess
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as Error).message).toBe('invalid egress name "alerts": expected "namespace/type", e.g. "example/alerts"');
  });
});
