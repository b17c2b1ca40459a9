import { Address } from '../../../runtime-lambda/core/Address';
import { InvalidInputError, TerminalError } from '../../../runtime-lambda/core/errors';
import type { InvocationRequest } from '../../../runtime-lambda/core/Invocation';
import { decodeFromFunction, encodeToFunction } from '../../../runtime-lambda/protocol/codec';
import {
  customType,
  defineFunction,
  egressMessage,
  FunctionFailedError,
  jsonType,
  message,
  StatefulFunctions,
  TypeMismatchError,
  Types,
  UnknownFunctionError,
  UnknownStateError,
} from '../../../runtime-lambda/sdk';
import { RequestReplyEndpoint } from '../../../runtime-lambda/protocol/RequestReplyEndpoint';
import { rejection } from '../../helpers/rejection';

interface Cart {
  readonly items: readonly string[];
}
const CartType = jsonType<Cart>('example/Cart');

const greeter = defineFunction({
  typename: 'example/greeter',
  state: { seen: Types.int, cart: { type: CartType, expireAfterCall: 3_600_000 }, note: { type: Types.string, expireAfterWrite: 1_000 } },
  handle(ctx, msg) {
    const name = msg.as(Types.string);
    const seen = (ctx.storage.seen ?? 0) + 1;
    ctx.storage.seen = seen;
    ctx.storage.cart = { items: [...(ctx.storage.cart?.items ?? []), name] };
    if (name === 'forget') ctx.storage.note = null;
    ctx.send(message({ to: Address.of('example/audit', ctx.self.id), value: `${name}#${seen}`, type: Types.string }));
    ctx.sendAfter(60_000, message({ to: ctx.self, value: 'reminder', type: Types.string }), `remind-${ctx.self.id}`);
    if (ctx.caller !== null) ctx.cancelDelayedMessage(`from-${ctx.caller.id}`);
    ctx.egress(egressMessage({ egress: 'example/greetings', value: `Hello ${name}`, type: Types.string }));
  },
});

const intValue = (n: number) => ({ typename: Types.int.typename, value: Types.int.serialize(n) });
const stringArg = (s: string) => ({ typename: Types.string.typename, value: Types.string.serialize(s) });
const absent = (typename: string) => ({ typename, value: null });

function fullRequest(overrides: Partial<InvocationRequest> = {}): InvocationRequest {
  return {
    target: Address.of('example/greeter', 'ada'),
    state: [
      { name: 'seen', value: intValue(2) },
      { name: 'cart', value: absent('example/Cart') },
      { name: 'note', value: { typename: 'io.statefun.types/string', value: Types.string.serialize('x') } },
    ],
    invocations: [{ argument: stringArg('apple') }, { caller: Address.of('example/front', 'web'), argument: stringArg('pear') }],
    ...overrides,
  };
}


describe('Class: StatefulFunctions', () => {
  const registry = new StatefulFunctions().withFunction(greeter);

  it('replies IncompleteInvocationContext listing every missing spec with its expiration', async () => {
    // Prepare
    const request = fullRequest({ state: [{ name: 'seen', value: intValue(1) }] });

    // Act
    const response = decodeFromFunction(await registry.handle(encodeToFunction(request)));

    // Assess
    expect(response).toEqual({
      kind: 'incomplete',
      missing: [
        { name: 'cart', typename: 'example/Cart', expiration: { mode: 'after-invoke', afterMs: 3_600_000 } },
        { name: 'note', typename: 'io.statefun.types/string', expiration: { mode: 'after-write', afterMs: 1_000 } },
      ],
    });
  });

  it('runs the batch in order and replies the effects and only the mutated state', async () => {
    // Act
    const response = decodeFromFunction(await registry.handle(encodeToFunction(fullRequest())));

    // Assess
    expect(response.kind).toBe('result');
    if (response.kind !== 'result') return;
    expect(response.mutations.map((m) => [m.name, m.value && m.value.typename])).toEqual([
      ['seen', 'io.statefun.types/int'],
      ['cart', 'example/Cart'],
    ]);
    expect(Types.int.deserialize(response.mutations[0].value!.value!)).toBe(4);
    expect(CartType.deserialize(response.mutations[1].value!.value!)).toEqual({ items: ['apple', 'pear'] });
    expect(response.messages.map((m) => [m.target.key, Types.string.deserialize(m.argument.value!)])).toEqual([
      ['example/audit/ada', 'apple#3'],
      ['example/audit/ada', 'pear#4'],
    ]);
    expect(response.delayed).toEqual([
      { kind: 'send', delayMs: 60_000, target: Address.of('example/greeter', 'ada'), argument: stringArg('reminder'), cancellationToken: 'remind-ada' },
      { kind: 'send', delayMs: 60_000, target: Address.of('example/greeter', 'ada'), argument: stringArg('reminder'), cancellationToken: 'remind-ada' },
      { kind: 'cancel', cancellationToken: 'from-web' },
    ]);
    expect(response.egress).toEqual([
      { egress: 'example/greetings', argument: stringArg('Hello apple') },
      { egress: 'example/greetings', argument: stringArg('Hello pear') },
    ]);
  });

  it('replies a deletion when state is assigned null', async () => {
    // Prepare
    const request = fullRequest({ invocations: [{ argument: stringArg('forget') }] });

    // Act
    const response = await registry.invoke(request);

    // Assess
    expect(response.kind === 'result' && response.mutations.find((m) => m.name === 'note')).toEqual({ name: 'note', value: null });
  });

  it('reads a built-in value back as the wire gives it and replies the bytes of the last assignment', async () => {
    // Prepare
    const reads: unknown[] = [];
    const writer = new StatefulFunctions().withFunction(
      defineFunction({
        typename: 'example/writer',
        state: { ratio: Types.float, label: Types.string },
        handle(ctx) {
          ctx.storage.ratio = -0;
          reads.push(ctx.storage.ratio);
          ctx.storage.ratio = 0.1;
          ctx.storage.label = 'lone \uD800';
          reads.push(ctx.storage.ratio, ctx.storage.label);
        },
      }),
    );
    const request = fullRequest({
      target: Address.of('example/writer', 'w'),
      state: [
        { name: 'ratio', value: absent('io.statefun.types/float') },
        { name: 'label', value: absent('io.statefun.types/string') },
      ],
      invocations: [{ argument: stringArg('go') }],
    });

    // Act
    const response = await writer.invoke(request);

    // Assess
    expect(reads).toEqual([0, Math.fround(0.1), 'lone \uFFFD']);
    expect(Object.is(reads[0], 0)).toBe(true);
    expect(response.kind === 'result' && response.mutations).toEqual([
      { name: 'ratio', value: { typename: 'io.statefun.types/float', value: Types.float.serialize(0.1) } },
      { name: 'label', value: { typename: 'io.statefun.types/string', value: Types.string.serialize('lone \uD800') } },
    ]);
  });

  it('rejects an invalid built-in value at the assignment, not when replying', async () => {
    // Prepare
    let reached = false;
    const writer = new StatefulFunctions().withFunction(
      defineFunction({
        typename: 'example/writer',
        state: { seen: Types.int },
        handle(ctx) {
          ctx.storage.seen = 1.5;
          reached = true;
        },
      }),
    );
    const request = fullRequest({ target: Address.of('example/writer', 'w'), state: [{ name: 'seen', value: absent('io.statefun.types/int') }] });

    // Act
    const error = await rejection(writer.invoke(request));

    // Assess
    expect(reached).toBe(false);
    expect(error.cause).toBeInstanceOf(InvalidInputError);
    expect((error.cause as Error).message).toBe('cannot serialize the number 1.5 as io.statefun.types/int: expected an integer from -2147483648 to 2147483647');
  });

  it('decodes a value of another type on every read, so changing it in place changes nothing stored', async () => {
    // Prepare
    let second: Cart | null = null;
    const editor = new StatefulFunctions().withFunction(
      defineFunction({
        typename: 'example/editor',
        state: { cart: CartType },
        handle(ctx) {
          (ctx.storage.cart!.items as string[]).push('pear');
          second = ctx.storage.cart;
        },
      }),
    );
    const request = fullRequest({
      target: Address.of('example/editor', 'e'),
      state: [{ name: 'cart', value: { typename: 'example/Cart', value: CartType.serialize({ items: ['apple'] }) } }],
    });

    // Act
    const response = await editor.invoke(request);

    // Assess
    expect(second).toEqual({ items: ['apple'] });
    expect(response.kind === 'result' && response.mutations).toEqual([]);
  });

  it('rejects an unknown function type with an UnknownFunctionError naming the registered ones', async () => {
    // Prepare
    const request = fullRequest({ target: Address.of('example/nope', 'x') });

    // Act
    const error = await rejection(registry.handle(encodeToFunction(request)));

    // Assess
    expect(error).toBeInstanceOf(UnknownFunctionError);
    expect(error.message).toBe(
      'no function example/nope is registered here; registered: example/greeter. Register it with new StatefulFunctions().withFunction(...)',
    );
  });

  it('wraps a throwing handler into a FunctionFailedError with the cause', async () => {
    // Prepare
    const boom = new Error('boom');
    const failing = new StatefulFunctions().withFunction(
      defineFunction({
        typename: 'example/failing',
        handle() {
          throw boom;
        },
      }),
    );
    const request = fullRequest({ target: Address.of('example/failing', 'f1'), state: [] });

    // Act
    const error = await rejection(failing.handle(encodeToFunction(request)));

    // Assess
    expect(error).toBeInstanceOf(FunctionFailedError);
    expect(error).toBeInstanceOf(TerminalError);
    expect(error.message).toBe('function example/failing failed at example/failing/f1 on message 1 of 2 (type io.statefun.types/string): Error: boom');
    expect(error.cause).toBe(boom);
  });

  it('runs a batch mixing synchronous and asynchronous handlers in order, embedded and over bytes', async () => {
    // Prepare
    const seen: string[] = [];
    const mixed = new StatefulFunctions().withFunction(
      defineFunction({
        typename: 'example/mixed',
        state: { log: Types.string },
        handle(ctx, msg) {
          const text = msg.as(Types.string);
          const record = () => {
            seen.push(text);
            ctx.storage.log = `${ctx.storage.log ?? ''}${text}`;
          };
          if (!text.startsWith('async')) return record();
          return new Promise<void>((resolve) => setImmediate(resolve)).then(record);
        },
      }),
    );
    const request = fullRequest({
      target: Address.of('example/mixed', 'm1'),
      state: [{ name: 'log', value: absent(Types.string.typename) }],
      invocations: [{ argument: stringArg('a,') }, { argument: stringArg('async-b,') }, { argument: stringArg('c') }],
    });

    // Act
    const embedded = await mixed.endpoint('example/mixed').invoke(request);
    const overBytes = decodeFromFunction(await mixed.handle(encodeToFunction(request)));

    // Assess
    expect(seen).toEqual(['a,', 'async-b,', 'c', 'a,', 'async-b,', 'c']);
    expect(embedded).toEqual(overBytes);
    expect(embedded.kind === 'result' && embedded.mutations).toEqual([{ name: 'log', value: stringArg('a,async-b,c') }]);
  });

  it('wraps a rejecting asynchronous handler into a FunctionFailedError naming the message', async () => {
    // Prepare
    const boom = new Error('async boom');
    const failing = new StatefulFunctions().withFunction(
      defineFunction({
        typename: 'example/failing',
        async handle(_ctx, msg) {
          if (msg.as(Types.string) === 'pear') throw boom;
        },
      }),
    );
    const request = fullRequest({ target: Address.of('example/failing', 'f1'), state: [] });

    // Act
    const embedded = await rejection(failing.endpoint('example/failing').invoke(request));
    const overBytes = await rejection(failing.handle(encodeToFunction(request)));

    // Assess
    for (const error of [embedded, overBytes]) {
      expect(error).toBeInstanceOf(FunctionFailedError);
      expect(error.message).toBe(
        'function example/failing failed at example/failing/f1 on message 2 of 2 (type io.statefun.types/string, from example/front/web): Error: async boom',
      );
      expect(error.cause).toBe(boom);
    }
  });

  it('fails with a TypeMismatchError when message.as() is given the wrong type', async () => {
    // Prepare
    const request = fullRequest({ invocations: [{ argument: intValue(5) }] });

    // Act
    const error = await rejection(registry.invoke(request));

    // Assess
    expect(error).toBeInstanceOf(FunctionFailedError);
    expect(error.cause).toBeInstanceOf(TypeMismatchError);
    expect((error.cause as Error).message).toBe('the message to example/greeter/ada has type io.statefun.types/int, not io.statefun.types/string');
  });

  it('names the function and the declared states for an unknown state name at runtime', async () => {
    // Prepare
    const sloppy = new StatefulFunctions().withFunction(
      defineFunction({
        typename: 'example/sloppy',
        state: { seen: Types.int },
        handle(ctx) {
          (ctx.storage as Record<string, unknown>).sen = 1;
        },
      }),
    );
    const request = fullRequest({ target: Address.of('example/sloppy', 's'), state: [{ name: 'seen', value: absent('io.statefun.types/int') }] });

    // Act
    const error = await rejection(sloppy.invoke(request));

    // Assess
    expect(error.cause).toBeInstanceOf(UnknownStateError);
    expect((error.cause as Error).message).toBe(
      'function example/sloppy has no state named "sen"; declared: seen. Declare it in defineFunction({ state: { ... } })',
    );
  });

  it('lets the storage be inspected: keys, "in", spread and JSON', async () => {
    // Prepare
    let seen: unknown[] = [];
    const inspecting = new StatefulFunctions().withFunction(
      defineFunction({
        typename: 'example/inspecting',
        state: { seen: Types.int, name: Types.string },
        handle(ctx) {
          seen = [Object.keys(ctx.storage), 'seen' in ctx.storage, 'other' in ctx.storage, { ...ctx.storage }, JSON.stringify(ctx.storage)];
        },
      }),
    );
    const request = fullRequest({
      target: Address.of('example/inspecting', 'i'),
      state: [
        { name: 'seen', value: intValue(3) },
        { name: 'name', value: absent('io.statefun.types/string') },
      ],
    });

    // Act
    await inspecting.invoke(request);

    // Assess
    expect(seen).toEqual([['seen', 'name'], true, false, { seen: 3, name: null }, '{"seen":3,"name":null}']);
  });

  it('rejects stored state whose type differs from its spec', async () => {
    // Prepare
    const request = fullRequest({ state: [...fullRequest().state.slice(1), { name: 'seen', value: stringArg('two') }] });

    // Act
    const error = await rejection(registry.invoke(request));

    // Assess
    expect(error.cause).toBeInstanceOf(TypeMismatchError);
    expect((error.cause as Error).message).toBe('state "seen" of function example/greeter has type io.statefun.types/string, not io.statefun.types/int');
  });

  it('rejects garbage, truncated and empty bytes with an InvalidInputError', async () => {
    // Prepare
    const valid = encodeToFunction(fullRequest());

    // Act
    const garbage = await rejection(registry.handle(Buffer.from('this is not protobuf')));
    const truncated = await rejection(registry.handle(valid.subarray(0, 20)));
    const empty = await rejection(registry.handle(new Uint8Array(0)));

    // Assess
    expect(garbage).toBeInstanceOf(InvalidInputError);
    expect(garbage.message).toBe('malformed ToFunction (20 bytes): cant skip wire type 4');
    expect(truncated).toBeInstanceOf(InvalidInputError);
    expect(truncated.message).toMatch(/^malformed ToFunction \(20 bytes\): premature EOF$/);
    expect(empty.message).toBe(
      'invalid ToFunction (0 bytes): the "request" oneof is not set; expected an InvocationBatchRequest in field "invocation" (100)',
    );
  });

  it('refuses to register a function type twice', () => {
    // Act
    const register = () => new StatefulFunctions().withFunction(greeter).withFunction(greeter);

    // Assess
    expect(register).toThrow(InvalidInputError);
    expect(register).toThrow('withFunction: function example/greeter is already registered');
  });

  it('serves registered types embedded through the protocol messages', async () => {
    // Prepare
    const resolver = registry.resolver();

    // Act
    const endpoint = resolver.resolve('example/greeter');
    const response = await endpoint!.invoke(fullRequest({ invocations: [{ argument: stringArg('fig') }] }));

    // Assess
    expect(resolver.resolve('example/other')).toBeUndefined();
    expect(response.kind === 'result' && response.egress).toEqual([{ egress: 'example/greetings', argument: stringArg('Hello fig') }]);
    expect(() => registry.endpoint('example/other')).toThrow(UnknownFunctionError);
  });

  it('answers embedded exactly what it answers through the protocol bytes', async () => {
    // Prepare
    const request = fullRequest();
    const throughBytes = new RequestReplyEndpoint('example/greeter', (bytes) => registry.handle(bytes));

    // Act
    const embedded = await registry.endpoint('example/greeter').invoke(request);
    const overBytes = await throughBytes.invoke(request);
    const incomplete = await registry.endpoint('example/greeter').invoke(fullRequest({ state: [] }));

    // Assess
    expect(embedded).toEqual(overBytes);
    expect(incomplete).toEqual(await throughBytes.invoke(fullRequest({ state: [] })));
    expect(incomplete.kind).toBe('incomplete');
  });

  it('gives the embedded function and the caller their own copies of every value, as bytes would', async () => {
    // Prepare
    const scratch = new Uint8Array([1, 2, 3]);
    const shared = customType<number>('example/Shared', (n) => scratch.fill(n), (bytes) => bytes[0]!);
    let received: Uint8Array | null = null;
    const sharing = new StatefulFunctions().withFunction(
      defineFunction({
        typename: 'example/sharing',
        state: { last: shared },
        handle(ctx, msg) {
          received = msg.rawValue;
          ctx.storage.last = 7;
        },
      }),
    );
    const argument = { typename: 'example/Shared', value: new Uint8Array([9, 9, 9]) };
    const request = fullRequest({
      target: Address.of('example/sharing', 's'),
      state: [{ name: 'last', value: absent('example/Shared') }],
      invocations: [{ argument }],
    });

    // Act
    const response = await sharing.endpoint('example/sharing').invoke(request);
    received!.fill(0);
    scratch.fill(0);

    // Assess
    expect(argument.value).toEqual(new Uint8Array([9, 9, 9]));
    expect(response.kind === 'result' && response.mutations[0]!.value!.value).toEqual(new Uint8Array([7, 7, 7]));
  });

  it('propagates a handler failure from the embedded endpoint as a TerminalError', async () => {
    // Prepare
    const endpoint = registry.endpoint('example/greeter');

    // Act
    const error = await rejection(endpoint.invoke(fullRequest({ invocations: [{ argument: intValue(1) }] })));

    // Assess
    expect(error).toBeInstanceOf(FunctionFailedError);
    expect(error.message).toBe(
      'function example/greeter failed at example/greeter/ada on message 1 of 1 (type io.statefun.types/int): TypeMismatchError: the message to example/greeter/ada has type io.statefun.types/int, not io.statefun.types/string',
    );
  });
});
