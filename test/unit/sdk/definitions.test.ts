import { Address } from '../../../runtime-lambda/core/Address';
import { InvalidInputError } from '../../../runtime-lambda/core/errors';
import type { InvocationRequest } from '../../../runtime-lambda/core/Invocation';
import {
  customType,
  defineFunction,
  egressMessage,
  FunctionFailedError,
  jsonType,
  message,
  StatefulFunctions,
  Types,
  ValueSpec,
} from '../../../runtime-lambda/sdk';
import type { Type } from '../../../runtime-lambda/sdk';
import { builtInWireValue } from '../../../runtime-lambda/sdk/Types';

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}

describe('Class: ValueSpec', () => {
  it('builds a validated spec with its expiration', () => {
    // Act
    const spec = ValueSpec.of({ name: 'cart_items', type: Types.string, expireAfterCall: 1_000 });

    // Assess
    expect(spec.toCore()).toEqual({ name: 'cart_items', typename: 'io.statefun.types/string', expiration: { mode: 'after-invoke', afterMs: 1_000 } });
    expect(ValueSpec.of({ name: 'seen', type: Types.int }).toCore()).toEqual({ name: 'seen', typename: 'io.statefun.types/int' });
  });

  it.each([
    [{ name: '1st', type: Types.int }, 'invalid state name "1st": use a letter or "_" followed by letters, digits or "_", e.g. "seen_count"'],
    [{ name: 'my-state', type: Types.int }, 'invalid state name "my-state": use a letter or "_" followed by letters, digits or "_", e.g. "seen_count"'],
    [{ name: 'seen', type: 'int' }, 'state "seen": "type" must be a StateFun type (Types.int, jsonType(...), customType(...)), got string'],
    [
      { name: 'seen', type: Types.int, expireAfterWrite: 10, expireAfterCall: 20 },
      'state "seen": set expireAfterWrite or expireAfterCall, not both (got 10 and 20)',
    ],
    [{ name: 'seen', type: Types.int, expireAfterWrite: 0 }, 'state "seen": expireAfterWrite must be a positive integer number of milliseconds, got 0'],
    [{ name: 'seen', type: Types.int, expireAfterCall: -5 }, 'state "seen": expireAfterCall must be a positive integer number of milliseconds, got -5'],
    [{ name: 'seen', type: Types.int, expireAfterCall: 1.5 }, 'state "seen": expireAfterCall must be a positive integer number of milliseconds, got 1.5'],
  ])('rejects %p', (opts, message) => {
    // Act
    const error = thrown(() => ValueSpec.of(opts as never));

    // Assess
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.message).toBe(message);
  });
});

describe('Function: defineFunction', () => {
  it('rejects an invalid typename, handler or state, naming the function', () => {
    // Act
    const badName = thrown(() => defineFunction({ typename: 'greeter', handle() {} }));
    const noHandler = thrown(() => defineFunction({ typename: 'example/greeter' } as never));
    const badState = thrown(() => defineFunction({ typename: 'example/greeter', state: { seen: { type: Types.int, expireAfterWrite: -1 } }, handle() {} }));

    // Assess
    expect(badName).toBeInstanceOf(InvalidInputError);
    expect(badName.message).toBe(
      'defineFunction: invalid type name "greeter": expected "namespace/type" with letters, digits, ".", "_" or "-" in each part, e.g. "fraud/model"',
    );
    expect(noHandler.message).toBe('defineFunction(example/greeter): "handle" must be a function (ctx, message) => void');
    expect(badState.message).toBe(
      'defineFunction(example/greeter): state "seen": expireAfterWrite must be a positive integer number of milliseconds, got -1',
    );
  });
});

describe('Object: Types', () => {
  it.each([
    [() => Types.int.serialize(1.5), 'cannot serialize the number 1.5 as io.statefun.types/int: expected an integer from -2147483648 to 2147483647'],
    [() => Types.int.serialize(2 ** 31), 'cannot serialize the number 2147483648 as io.statefun.types/int: expected an integer from -2147483648 to 2147483647'],
    [() => Types.long.serialize(1 as never), 'cannot serialize the number 1 as io.statefun.types/long: expected a bigint from -(2n ** 63n) to 2n ** 63n - 1n'],
    [() => Types.long.serialize(2n ** 63n), 'cannot serialize the bigint 9223372036854775808n as io.statefun.types/long: expected a bigint from -(2n ** 63n) to 2n ** 63n - 1n'],
    [() => Types.string.serialize(null as never), 'cannot serialize null as io.statefun.types/string: expected a string'],
    [() => Types.bool.serialize('yes' as never), 'cannot serialize the string "yes" as io.statefun.types/bool: expected a boolean'],
    [() => Types.int.deserialize(new Uint8Array([0x0d, 1, 2])), 'invalid io.statefun.types/int value (3 bytes): Offset is outside the bounds of the DataView'],
    [() => Types.int.deserialize(new Uint8Array([0x08, 1])), 'invalid io.statefun.types/int value (2 bytes): Offset is outside the bounds of the DataView'],
  ])('rejects bad values and bytes with an InvalidInputError (%#)', (fn, message) => {
    // Act
    const error = thrown(fn);

    // Assess
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.message).toBe(message);
  });

  it.each([
    ['int', Types.int, [0, -0, 1, -1, 2 ** 31 - 1, -(2 ** 31)]],
    ['long', Types.long, [0n, 1n, -1n, 2n ** 63n - 1n, -(2n ** 63n)]],
    ['float', Types.float, [0, -0, 0.1, -1e-50, 1e-50, 1e39, -1e39, NaN, Infinity, -Infinity, 3.5]],
    ['double', Types.double, [0, -0, 0.1, -5e-324, NaN, -Infinity, Number.MAX_VALUE]],
    ['bool', Types.bool, [false, true]],
    ['string', Types.string, ['', 'a', 'h\u00e9llo \u{1F600}', 'lone \uD800 and \uDFFF', '\uDC00\uD800']],
  ] as [string, Type<unknown>, unknown[]][])('gives what the wire reads back for a %s value without encoding it', (_name, type, values) => {
    // Prepare
    const wireValue = builtInWireValue(type)!;

    // Act
    const read = values.map((value) => wireValue(value));

    // Assess: Object.is tells -0 from 0 and NaN from NaN
    values.forEach((value, i) => expect(Object.is(read[i], type.deserialize(type.serialize(value)))).toBe(true));
  });

  it('checks a value given to a wire value function as serialize does, and has none for other types', () => {
    // Act
    const error = thrown(() => builtInWireValue(Types.int)!(1.5));

    // Assess
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.message).toBe('cannot serialize the number 1.5 as io.statefun.types/int: expected an integer from -2147483648 to 2147483647');
    expect(builtInWireValue(jsonType('example/J'))).toBeUndefined();
  });

  it('rejects bytes that are not JSON for a JSON type', () => {
    // Act
    const error = thrown(() => jsonType('example/J').deserialize(new Uint8Array([0x7b])));

    // Assess: the reason after "not JSON" is V8's and varies by Node version
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.message.startsWith('invalid example/J value: not JSON (')).toBe(true);
  });

  it('round-trips custom and JSON types', () => {
    // Prepare
    const Celsius = customType<number>('example/Celsius', (v) => Buffer.from(String(v)), (b) => Number(Buffer.from(b).toString()));
    const Point = jsonType<{ x: number }>('example/Point');

    // Act
    const celsius = Celsius.deserialize(Celsius.serialize(21.5));
    const point = Point.deserialize(Point.serialize({ x: 1 }));

    // Assess
    expect(celsius).toBe(21.5);
    expect(point).toEqual({ x: 1 });
    expect(Buffer.from(Point.serialize({ x: 1 })).toString()).toBe('{"x":1}');
  });
});

describe('Function: message / egressMessage', () => {
  it.each([
    [() => message({ to: 'example/x/1' as never, value: 1, type: Types.int }), `message(): "to" must be an Address (e.g. Address.of('example/greeter', id)), got string`],
    [() => message({ to: Address.of('example/x', '1'), value: null as never, type: Types.int }), 'message() to example/x/1: "value" is null; a message needs a value of type io.statefun.types/int'],
    [() => message({ to: Address.of('example/x', '1'), value: 1, type: undefined as never }), 'message() to example/x/1: "type" must be a StateFun type (e.g. Types.string), got undefined'],
    [() => egressMessage({ egress: 'alerts', value: 'x', type: Types.string }), 'egressMessage(): invalid type name "alerts": expected "namespace/type" with letters, digits, ".", "_" or "-" in each part, e.g. "fraud/model"'],
  ])('rejects bad options with an InvalidInputError (%#)', (fn, text) => {
    // Act
    const error = thrown(fn);

    // Assess
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.message).toBe(text);
  });
});

describe('Class: Context', () => {
  const run = async (handle: Parameters<typeof defineFunction>[0]['handle']) => {
    const registry = new StatefulFunctions().withFunction(defineFunction({ typename: 'example/ctx', handle }));
    const request: InvocationRequest = {
      target: Address.of('example/ctx', 'c'),
      state: [],
      invocations: [{ argument: { typename: 'io.statefun.types/int', value: Types.int.serialize(1) } }],
    };
    try {
      await registry.invoke(request);
    } catch (error) {
      return error as Error;
    }
    throw new Error('expected a failure');
  };
  const msg = () => message({ to: Address.of('example/x', '1'), value: 1, type: Types.int });

  it.each([
    ['a negative delay', (ctx: any) => ctx.sendAfter(-1, msg()), 'ctx.sendAfter(): delay must be a non-negative integer number of milliseconds, got -1'],
    ['an empty token', (ctx: any) => ctx.sendAfter(10, msg(), ''), 'ctx.sendAfter(): the cancellation token must be a non-empty string, got ""'],
    ['a cancellation without token', (ctx: any) => ctx.cancelDelayedMessage(undefined), 'ctx.cancelDelayedMessage(): the cancellation token must be a non-empty string, got undefined'],
    [
      'an egress message sent with send',
      (ctx: any) => ctx.send(egressMessage({ egress: 'example/out', value: 1, type: Types.int })),
      'ctx.send(): expected a message built with message({ to, value, type }); use ctx.egress() for egress messages',
    ],
  ])('rejects %s', async (_case, handle, text) => {
    // Act
    const error = await run(handle);

    // Assess
    expect(error).toBeInstanceOf(FunctionFailedError);
    expect(error.cause).toBeInstanceOf(InvalidInputError);
    expect((error.cause as Error).message).toBe(text);
  });
});
