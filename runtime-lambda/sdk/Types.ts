import { fromBinary, mergeFromBinary, toBinary } from '@bufbuild/protobuf';
import type { GenMessage } from '@bufbuild/protobuf/codegenv2';
import { InvalidInputError } from '../core/errors';
import * as pb from '../protocol/generated/types_pb';
import { describeValue, type Type } from './Type';

/*
 * StateFun's built-in types (`io.statefun.types/<name>`). Values are the one-field wrapper
 * messages of proto/types.proto, encoded with protobuf-es (`toBinary` / `fromBinary` on the
 * generated schemas) as the official SDKs do: a zero value (0, -0, 0n, false, '') is the
 * empty message, so state and messages are readable by functions in any language.
 */

const EMPTY = new Uint8Array(0);
const READ = { readUnknownFields: false } as const;
const WRITE = { writeUnknownFields: false } as const;

type Wrapper<T> = { value: T } & Parameters<typeof toBinary>[1];

/** The wire value functions of the built-in types; see {@link builtInWireValue}. */
const wireValues = new WeakMap<Type<unknown>, (value: unknown) => unknown>();

/**
 * For a built-in type, a function giving what `deserialize(serialize(value))` gives, without
 * encoding, and throwing as `serialize` does for an invalid value; `undefined` for other
 * types. Built-in values are immutable, so the SDK's storage may keep them decoded and
 * serialize a written one once per invocation instead of on every assignment. @internal
 */
export function builtInWireValue(type: Type<unknown>): ((value: unknown) => unknown) | undefined {
  return wireValues.get(type);
}

interface WrapperOpts<T> {
  readonly check: (value: unknown) => value is T;
  /** What `check` wants, for the error message. */
  readonly expected: string;
  readonly isZero: (value: T) => boolean;
  /** The value given to protobuf-es for a valid non-zero value. */
  readonly toWire?: (value: T) => T;
  /** What a valid non-zero value reads back as. @default - `toWire`'s result */
  readonly readBack?: (value: T) => T;
}

function wrapper<T>(name: string, schema: GenMessage<Wrapper<T>>, opts: WrapperOpts<T>): Type<T> {
  const typename = `io.statefun.types/${name}`;
  const { check, expected, isZero, toWire = (value: T) => value, readBack = toWire } = opts;
  const checked = (value: T): T => {
    if (!check(value)) {
      throw new InvalidInputError(`cannot serialize ${describeValue(value)} as ${typename}: expected ${expected}`);
    }
    return value;
  };
  // A zero value is the empty message, which reads back as +0, 0n, false or ''.
  const zero = fromBinary(schema, EMPTY, READ).value;
  const type: Type<T> = Object.freeze({
    typename,
    serialize(value: T): Uint8Array {
      // The official SDKs write a zero value as the empty message (protobuf-es would write -0.0).
      if (isZero(checked(value))) return EMPTY;
      return toBinary(schema, { $typeName: schema.typeName, value: toWire(value) } as Wrapper<T>, WRITE);
    },
    deserialize(bytes: Uint8Array): T {
      try {
        // Read into a complete literal of the one-field wrapper: what `fromBinary` does after
        // its reflective `create`, which costs more than the read itself on these values.
        return mergeFromBinary(schema, { $typeName: schema.typeName, value: zero } as Wrapper<T>, bytes, READ).value;
      } catch (cause) {
        throw new InvalidInputError(`invalid ${typename} value (${bytes.byteLength} bytes): ${(cause as Error).message}`, { cause });
      }
    },
  });
  wireValues.set(type as Type<unknown>, (value) => (isZero(checked(value as T)) ? zero : readBack(value as T)));
  return type;
}

const INT: Type<number> = wrapper('int', pb.IntWrapperSchema, {
  check: (v): v is number => Number.isInteger(v) && (v as number) >= -0x80000000 && (v as number) <= 0x7fffffff,
  expected: 'an integer from -2147483648 to 2147483647',
  isZero: (v) => v === 0,
});

const LONG: Type<bigint> = wrapper('long', pb.LongWrapperSchema, {
  check: (v): v is bigint => typeof v === 'bigint' && BigInt.asIntN(64, v) === v,
  expected: 'a bigint from -(2n ** 63n) to 2n ** 63n - 1n',
  isZero: (v) => v === 0n,
});

// Rounded to 32 bits first: protobuf-es rejects finite values beyond the float range, which
// become ±Infinity here as they do in the official SDKs.
const FLOAT: Type<number> = wrapper('float', pb.FloatWrapperSchema, {
  check: (v): v is number => typeof v === 'number',
  expected: 'a number',
  isZero: (v) => v === 0,
  toWire: Math.fround,
});

const DOUBLE: Type<number> = wrapper('double', pb.DoubleWrapperSchema, {
  check: (v): v is number => typeof v === 'number',
  expected: 'a number',
  isZero: (v) => v === 0,
});

const BOOL: Type<boolean> = wrapper('bool', pb.BooleanWrapperSchema, {
  check: (v): v is boolean => typeof v === 'boolean',
  expected: 'a boolean',
  isZero: (v) => v === false,
});

/** Lone surrogates, which UTF-8 encoding (protobuf-es's, as any) turns into U+FFFD. */
const LONE_SURROGATE = /\p{Surrogate}/gu;

const STRING: Type<string> = wrapper('string', pb.StringWrapperSchema, {
  check: (v): v is string => typeof v === 'string',
  expected: 'a string',
  isZero: (v) => v === '',
  readBack: (v) => v.replace(LONE_SURROGATE, '\uFFFD'),
});

/**
 * StateFun's built-in types, wire-identical to the official SDKs' (`io.statefun.types/int`
 * etc.): use them for values shared with functions in other languages.
 *
 * | type | TypeScript | wire |
 * | --- | --- | --- |
 * | `Types.int` | `number` (32-bit integer) | `IntWrapper` (sfixed32) |
 * | `Types.long` | `bigint` (64-bit) | `LongWrapper` (sfixed64) |
 * | `Types.float` | `number` (rounded to 32 bits) | `FloatWrapper` |
 * | `Types.double` | `number` | `DoubleWrapper` |
 * | `Types.bool` | `boolean` | `BooleanWrapper` |
 * | `Types.string` | `string` | `StringWrapper` |
 *
 * @example
 * const greeter = defineFunction({
 *   typename: 'example/greeter',
 *   state: { seen: Types.int },
 *   handle(ctx, message) {
 *     const name = message.as(Types.string);
 *     ctx.storage.seen = (ctx.storage.seen ?? 0) + 1;
 *   },
 * });
 */
export const Types = Object.freeze({
  int: INT,
  long: LONG,
  float: FLOAT,
  double: DOUBLE,
  bool: BOOL,
  string: STRING,
});
