/*
 * Conformance with the official StateFun JavaScript SDK (apache-flink-statefun 3.3.0,
 * google-protobuf): our codec and our SDK must interoperate with it in both directions,
 * and our built-in types must be byte-identical to its.
 */
import 'apache-flink-statefun/dist/generated/request-reply_pb';
import 'apache-flink-statefun/dist/generated/types_pb';
import { egressMessageBuilder, messageBuilder, StateFun } from 'apache-flink-statefun';
import type { Context as OfficialContext, Message as OfficialMessage } from 'apache-flink-statefun';
import { FunctionSpec } from 'apache-flink-statefun/dist/core';
import { handle as officialHandle } from 'apache-flink-statefun/dist/handler';
import { Address } from '../../runtime-lambda/core/Address';
import type { InvocationRequest } from '../../runtime-lambda/core/Invocation';
import { decodeFromFunction, decodeToFunction, encodeToFunction } from '../../runtime-lambda/protocol/codec';
import {
  defineFunction,
  egressMessage,
  jsonType,
  message,
  StatefulFunctions,
  Types,
} from '../../runtime-lambda/sdk';

/* eslint-disable @typescript-eslint/no-explicit-any -- google-protobuf's classes are untyped globals */
const official = (globalThis as any).proto.io.statefun.sdk as { reqreply: any; types: any };
const pb = official.reqreply;

const officialInt = StateFun.intType();
const officialString = StateFun.stringType();
const officialJson = StateFun.jsonType<{ level: string }>('example/Alert');

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const stringValue = (s: string) => ({ typename: 'io.statefun.types/string', value: Types.string.serialize(s) });

function officialGreeter(): Record<string, FunctionSpec> {
  const spec = FunctionSpec.fromOpts({
    typename: 'example/greeter',
    specs: [
      { name: 'seen', type: officialInt, expireAfterWrite: 5_000 },
      { name: 'name', type: officialString },
      { name: 'visits', type: officialInt, expireAfterCall: 60_000 },
    ],
    fn(context: OfficialContext, msg: OfficialMessage) {
      const name = msg.asString() as string;
      context.storage.seen = (context.storage.seen ?? 0) + 1;
      context.storage.name = null;
      context.send(messageBuilder({ typename: 'example/audit', id: name, value: `seen ${context.storage.seen}`, valueType: officialString }));
      context.sendAfter(60_000, messageBuilder({ typename: 'example/greeter', id: name, value: 7, valueType: officialInt }), `remind-${name}`);
      context.sendAfter(1_000, messageBuilder({ typename: 'example/greeter', id: name, value: 8, valueType: officialInt }));
      context.cancelDelayedMessage('old-token');
      context.send(egressMessageBuilder({ typename: 'example/alerts', value: { level: 'high' }, valueType: officialJson }));
    },
  });
  return { [spec.typename]: spec };
}

function ourRequest(state: InvocationRequest['state']): InvocationRequest {
  return {
    target: Address.of('example/greeter', 'ada'),
    state,
    invocations: [{ caller: Address.of('example/front', 'web'), argument: stringValue('ada') }],
  };
}

describe('Conformance: the official SDK runs our ToFunction bytes', () => {
  it('decodes our bytes with the official classes, field by field', () => {
    // Prepare
    const bytes = encodeToFunction(
      ourRequest([
        { name: 'seen', value: { typename: 'io.statefun.types/int', value: null } },
        { name: 'name', value: stringValue('old') },
      ]),
    );

    // Act
    const toFn = pb.ToFunction.deserializeBinary(bytes);

    // Assess: an absent value goes without state_value, as StateFun's runtime sends it
    const batch = toFn.getInvocation();
    expect([batch.getTarget().getNamespace(), batch.getTarget().getType(), batch.getTarget().getId()]).toEqual(['example', 'greeter', 'ada']);
    expect(
      batch.getStateList().map((s: any) => [s.getStateName(), s.hasStateValue(), s.getStateValue()?.getTypename(), s.getStateValue()?.getHasValue()]),
    ).toEqual([
      ['seen', false, undefined, undefined],
      ['name', true, 'io.statefun.types/string', true],
    ]);
    const invocation = batch.getInvocationsList()[0];
    expect(invocation.getCaller().getId()).toBe('web');
    expect(officialString.deserialize(Buffer.from(invocation.getArgument().getValue_asU8()))).toBe('ada');
  });

  it('gets IncompleteInvocationContext with every missing spec and its expiration', async () => {
    // Prepare
    const bytes = encodeToFunction(ourRequest([]));

    // Act
    const response = decodeFromFunction(await officialHandle(bytes, officialGreeter()));

    // Assess
    expect(response).toEqual({
      kind: 'incomplete',
      missing: [
        { name: 'seen', typename: 'io.statefun.types/int', expiration: { mode: 'after-write', afterMs: 5_000 } },
        { name: 'name', typename: 'io.statefun.types/string' },
        { name: 'visits', typename: 'io.statefun.types/int', expiration: { mode: 'after-invoke', afterMs: 60_000 } },
      ],
    });
  });

  it('gets state mutations, messages, delayed messages, a cancellation and egress', async () => {
    // Prepare
    const bytes = encodeToFunction(
      ourRequest([
        { name: 'seen', value: { typename: 'io.statefun.types/int', value: Types.int.serialize(41) } },
        { name: 'name', value: stringValue('old') },
        { name: 'visits', value: { typename: 'io.statefun.types/int', value: null } },
      ]),
    );

    // Act
    const response = decodeFromFunction(await officialHandle(bytes, officialGreeter()));

    // Assess
    expect(response).toEqual({
      kind: 'result',
      mutations: [
        { name: 'seen', value: { typename: 'io.statefun.types/int', value: Types.int.serialize(42) } },
        { name: 'name', value: null },
      ],
      messages: [{ target: Address.of('example/audit', 'ada'), argument: stringValue('seen 42') }],
      delayed: [
        {
          kind: 'send',
          delayMs: 60_000,
          target: Address.of('example/greeter', 'ada'),
          argument: { typename: 'io.statefun.types/int', value: Types.int.serialize(7) },
          cancellationToken: 'remind-ada',
        },
        { kind: 'send', delayMs: 1_000, target: Address.of('example/greeter', 'ada'), argument: { typename: 'io.statefun.types/int', value: Types.int.serialize(8) } },
        { kind: 'cancel', cancellationToken: 'old-token' },
      ],
      egress: [{ egress: 'example/alerts', argument: { typename: 'example/Alert', value: new Uint8Array(Buffer.from('{"level":"high"}')) } }],
    });
  });
});

describe('Conformance: our SDK answers bytes built with the official classes', () => {
  const Alert = jsonType<{ level: string }>('example/Alert');
  const registry = new StatefulFunctions().withFunction(
    defineFunction({
      typename: 'example/greeter',
      state: { seen: { type: Types.int, expireAfterWrite: 5_000 }, name: Types.string, visits: { type: Types.int, expireAfterCall: 60_000 } },
      handle(ctx, msg) {
        const name = msg.as(Types.string);
        ctx.storage.seen = (ctx.storage.seen ?? 0) + 1;
        ctx.storage.name = null;
        ctx.send(message({ to: Address.of('example/audit', name), value: `seen ${ctx.storage.seen} from ${ctx.caller?.id}`, type: Types.string }));
        ctx.sendAfter(60_000, message({ to: ctx.self, value: 7, type: Types.int }), `remind-${name}`);
        ctx.cancelDelayedMessage('old-token');
        ctx.egress(egressMessage({ egress: 'example/alerts', value: { level: 'high' }, type: Alert }));
      },
    }),
  );

  /**
   * A batch built with the official classes the way StateFun 3.3's runtime builds it
   * (PersistedRemoteFunctionValues.attachStateValues): a registered state with no value
   * ("visits") gets its state_name and no state_value.
   */
  function officialRequest(withState: boolean): Uint8Array {
    const address = (ns: string, type: string, id: string) => {
      const a = new pb.Address();
      a.setNamespace(ns);
      a.setType(type);
      a.setId(id);
      return a;
    };
    const typedValue = (typename: string, bytes: Uint8Array) => {
      const tv = new pb.TypedValue();
      tv.setTypename(typename);
      tv.setHasValue(true);
      tv.setValue(bytes);
      return tv;
    };
    const batch = new pb.ToFunction.InvocationBatchRequest();
    batch.setTarget(address('example', 'greeter', 'ada'));
    if (withState) {
      for (const [name, value] of [
        ['seen', typedValue('io.statefun.types/int', officialInt.serialize(41))],
        ['name', typedValue('io.statefun.types/string', officialString.serialize('old'))],
        ['visits', null],
      ] as const) {
        const pv = new pb.ToFunction.PersistedValue();
        pv.setStateName(name);
        if (value !== null) pv.setStateValue(value);
        batch.addState(pv);
      }
    }
    const invocation = new pb.ToFunction.Invocation();
    invocation.setCaller(address('example', 'front', 'web'));
    invocation.setArgument(typedValue('io.statefun.types/string', officialString.serialize('ada')));
    batch.addInvocations(invocation);
    const toFn = new pb.ToFunction();
    toFn.setInvocation(batch);
    return toFn.serializeBinary();
  }

  it('decodes official ToFunction bytes with an absent state_value, and encodes the same bytes', () => {
    // Prepare
    const request = ourRequest([
      { name: 'seen', value: { typename: 'io.statefun.types/int', value: Types.int.serialize(41) } },
      { name: 'name', value: stringValue('old') },
      { name: 'visits', value: { typename: 'io.statefun.types/int', value: null } },
    ]);

    // Act
    const decoded = decodeToFunction(officialRequest(true));

    // Assess: the wire carries no typename for "visits"
    expect(decoded).toEqual(ourRequest([request.state[0], request.state[1], { name: 'visits', value: { typename: '', value: null } }]));
    expect(hex(encodeToFunction(request))).toBe(hex(officialRequest(true)));
  });

  it('replies an IncompleteInvocationContext the official classes read', async () => {
    // Act
    const fromFn = pb.FromFunction.deserializeBinary(await registry.handle(officialRequest(false)));

    // Assess
    const specs = fromFn.getIncompleteInvocationContext().getMissingValuesList();
    expect(
      specs.map((s: any) => [s.getStateName(), s.getTypeTypename(), s.getExpirationSpec()?.getMode() ?? null, s.getExpirationSpec()?.getExpireAfterMillis() ?? null]),
    ).toEqual([
      ['seen', 'io.statefun.types/int', 1, 5_000],
      ['name', 'io.statefun.types/string', null, null],
      ['visits', 'io.statefun.types/int', 2, 60_000],
    ]);
  });

  it('replies an InvocationResponse the official classes read', async () => {
    // Act
    const fromFn = pb.FromFunction.deserializeBinary(await registry.handle(officialRequest(true)));

    // Assess
    const result = fromFn.getInvocationResult();
    expect(
      result.getStateMutationsList().map((m: any) => [
        m.getMutationType(),
        m.getStateName(),
        m.hasStateValue() ? officialInt.deserialize(Buffer.from(m.getStateValue().getValue_asU8())) : null,
      ]),
    ).toEqual([
      [1, 'seen', 42],
      [0, 'name', null],
    ]);
    const outgoing = result.getOutgoingMessagesList()[0];
    expect([outgoing.getTarget().getType(), outgoing.getTarget().getId(), officialString.deserialize(Buffer.from(outgoing.getArgument().getValue_asU8()))]).toEqual([
      'audit',
      'ada',
      'seen 42 from web',
    ]);
    expect(
      result.getDelayedInvocationsList().map((d: any) => [d.getIsCancellationRequest(), d.getCancellationToken(), d.getDelayInMs(), d.getTarget()?.getId() ?? null]),
    ).toEqual([
      [false, 'remind-ada', 60_000, 'ada'],
      [true, 'old-token', 0, null],
    ]);
    const egress = result.getOutgoingEgressesList()[0];
    expect([egress.getEgressNamespace(), egress.getEgressType(), officialJson.deserialize(Buffer.from(egress.getArgument().getValue_asU8()))]).toEqual([
      'example',
      'alerts',
      { level: 'high' },
    ]);
  });
});

describe('Conformance: built-in types are byte-identical', () => {
  const wrapper = (cls: any, value: unknown) => {
    const w = new cls();
    w.setValue(value);
    return w.serializeBinary() as Uint8Array;
  };

  it.each([0, 1, -1, 42, 2_147_483_647, -2_147_483_648])('int %p', (value) => {
    // Act
    const ours = Types.int.serialize(value);

    // Assess
    expect(hex(ours)).toBe(hex(officialInt.serialize(value)));
    expect(officialInt.deserialize(Buffer.from(ours))).toBe(value);
    expect(Types.int.deserialize(officialInt.serialize(value))).toBe(value);
  });

  it.each([0, 1.5, -3.25, 1e10, Number.POSITIVE_INFINITY])('float %p', (value) => {
    // Act
    const ours = Types.float.serialize(value);

    // Assess
    expect(hex(ours)).toBe(hex(StateFun.floatType().serialize(value)));
    expect(Types.float.deserialize(StateFun.floatType().serialize(value))).toBe(Math.fround(value));
  });

  it.each(['', 'hello', 'zoë 🚀', 'x'.repeat(300)])('string %p', (value) => {
    // Act
    const ours = Types.string.serialize(value);

    // Assess
    expect(hex(ours)).toBe(hex(officialString.serialize(value)));
    expect(Types.string.deserialize(officialString.serialize(value))).toBe(value);
  });

  it.each([true, false])('bool %p', (value) => {
    // Act
    const ours = Types.bool.serialize(value);

    // Assess
    expect(hex(ours)).toBe(hex(StateFun.booleanType().serialize(value)));
    expect(Types.bool.deserialize(StateFun.booleanType().serialize(value))).toBe(value);
  });

  it.each([0, 1, -1, 9_007_199_254_740_991, -9_007_199_254_740_991])('long %p (official LongWrapper)', (value) => {
    // Act
    const ours = Types.long.serialize(BigInt(value));

    // Assess
    expect(hex(ours)).toBe(hex(wrapper(official.types.LongWrapper, value)));
    expect(official.types.LongWrapper.deserializeBinary(ours).getValue()).toBe(value);
    expect(Types.long.deserialize(wrapper(official.types.LongWrapper, value))).toBe(BigInt(value));
  });

  it.each([0, 0.1, -2.5e300, Number.NEGATIVE_INFINITY])('double %p (official DoubleWrapper)', (value) => {
    // Act
    const ours = Types.double.serialize(value);

    // Assess
    expect(hex(ours)).toBe(hex(wrapper(official.types.DoubleWrapper, value)));
    expect(Types.double.deserialize(wrapper(official.types.DoubleWrapper, value))).toBe(value);
  });

  it('keeps the official typenames', () => {
    // Assess
    expect([Types.int, Types.long, Types.float, Types.double, Types.bool, Types.string].map((t) => t.typename)).toEqual([
      'io.statefun.types/int',
      'io.statefun.types/long',
      'io.statefun.types/float',
      'io.statefun.types/double',
      'io.statefun.types/bool',
      'io.statefun.types/string',
    ]);
    expect([officialInt.typename, officialString.typename, StateFun.floatType().typename, StateFun.booleanType().typename]).toEqual([
      'io.statefun.types/int',
      'io.statefun.types/string',
      'io.statefun.types/float',
      'io.statefun.types/bool',
    ]);
  });
});
