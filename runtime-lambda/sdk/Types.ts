import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import type { GenMessage } from '@bufbuild/protobuf/codegenv2';
import { InvalidInputError } from '../core/errors';
import * as pb from '../protocol/generated/types_pb';
import type { Type } from './Type';

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

function wrapper<T>(
  name: string,
  schema: GenMessage<Wrapper<T>>,
  check: (value: unknown) => value is T,
  expected: string,
  isZero: (value: T) => boolean,
  toWire: (value: T) => T = (value) => value,
): Type<T> {
  const typename = `io.statefun.types/${name}`;
  return Object.freeze({
    typename,
    serialize(value: T): Uint8Array {
      if (!check(value)) {
        throw new InvalidInputError(`cannot serialize ${describe(value)} as ${typename}: expected ${expected}`);
      }
      // The official SDKs write a zero value as the empty message (protobuf-es would write -0.0).
      return isZero(value) ? EMPTY : toBinary(schema, create(schema, { value: toWire(value) } as never), WRITE);
    },
    deserialize(bytes: Uint8Array): T {
      try {
        return fromBinary(schema, bytes, READ).value;
      } catch (cause) {
        throw new InvalidInputError(`invalid ${typename} value (${bytes.byteLength} bytes): ${(cause as Error).message}`, { cause });
      }
    },
  });
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (typeof value === 'bigint') return `the bigint ${value}n`;
  if (typeof value === 'number' || typeof value === 'boolean') return `the ${typeof value} ${value}`;
  return value === null ? 'null' : typeof value;
}

const INT: Type<number> = wrapper(
  'int',
  pb.IntWrapperSchema,
  (v): v is number => Number.isInteger(v) && (v as number) >= -0x80000000 && (v as number) <= 0x7fffffff,
  'an integer from -2147483648 to 2147483647',
  (v) => v === 0,
);

const LONG: Type<bigint> = wrapper(
  'long',
  pb.LongWrapperSchema,
  (v): v is bigint => typeof v === 'bigint' && BigInt.asIntN(64, v) === v,
  'a bigint from -(2n ** 63n) to 2n ** 63n - 1n',
  (v) => v === 0n,
);

// Rounded to 32 bits first: protobuf-es rejects finite values beyond the float range, which
// become ±Infinity here as they do in the official SDKs.
const FLOAT: Type<number> = wrapper(
  'float',
  pb.FloatWrapperSchema,
  (v): v is number => typeof v === 'number',
  'a number',
  (v) => v === 0,
  Math.fround,
);

const DOUBLE: Type<number> = wrapper('double', pb.DoubleWrapperSchema, (v): v is number => typeof v === 'number', 'a number', (v) => v === 0);

const BOOL: Type<boolean> = wrapper('bool', pb.BooleanWrapperSchema, (v): v is boolean => typeof v === 'boolean', 'a boolean', (v) => v === false);

const STRING: Type<string> = wrapper('string', pb.StringWrapperSchema, (v): v is string => typeof v === 'string', 'a string', (v) => v === '');

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
