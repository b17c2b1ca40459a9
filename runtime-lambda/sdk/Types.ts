import { InvalidInputError } from '../core/errors';
import { I32, I64, LEN, Reader, VARINT, utf8Size, varintSize } from '../protocol/wire';
import type { Type } from './Type';

/*
 * StateFun's built-in types (`io.statefun.types/<name>`). Values are the one-field wrapper
 * messages of proto/types.proto, encoded exactly as the official SDKs do (a zero value is
 * the empty message), so state and messages are readable by functions in any language.
 */

const EMPTY = new Uint8Array(0);

function wrapper<T>(
  name: string,
  wireType: number,
  check: (value: unknown) => value is T,
  expected: string,
  isZero: (value: T) => boolean,
  write: (value: T) => Uint8Array,
  read: (r: Reader, bytes: Uint8Array) => T,
  zero: T,
): Type<T> {
  const typename = `io.statefun.types/${name}`;
  return Object.freeze({
    typename,
    serialize(value: T): Uint8Array {
      if (!check(value)) {
        throw new InvalidInputError(`cannot serialize ${describe(value)} as ${typename}: expected ${expected}`);
      }
      return isZero(value) ? EMPTY : write(value);
    },
    deserialize(bytes: Uint8Array): T {
      let value = zero;
      try {
        const r = Reader.of(bytes);
        while (!r.done()) {
          const key = r.tag();
          if (key === ((1 << 3) | wireType)) value = read(r, bytes);
          else if (key >>> 3 === 1) throw new Error(`field 1 has wire type ${key & 7}, expected ${wireType}`);
          else r.skip(key & 7, key >>> 3);
        }
      } catch (cause) {
        throw new InvalidInputError(`invalid ${typename} value (${bytes.byteLength} bytes): ${(cause as Error).message}`, { cause });
      }
      return value;
    },
  });
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (typeof value === 'bigint') return `the bigint ${value}n`;
  if (typeof value === 'number' || typeof value === 'boolean') return `the ${typeof value} ${value}`;
  return value === null ? 'null' : typeof value;
}

// Scratch space for float/double/long conversions (little-endian, as the wire format).
const scratch = new ArrayBuffer(8);
const scratchBytes = new Uint8Array(scratch);
const scratchView = new DataView(scratch);

/** `n` bytes after a field tag, the value staged in `scratchBytes`. */
function fixed(tag: number, n: number): Uint8Array {
  const out = new Uint8Array(1 + n);
  out[0] = tag;
  for (let i = 0; i < n; i++) out[1 + i] = scratchBytes[i];
  return out;
}

/** Copies `n` bytes at `at` into `scratchBytes`. */
function stage(bytes: Uint8Array, at: number, n: number): void {
  for (let i = 0; i < n; i++) scratchBytes[i] = bytes[at + i];
}

const INT: Type<number> = wrapper(
  'int',
  I32,
  (v): v is number => Number.isInteger(v) && (v as number) >= -0x80000000 && (v as number) <= 0x7fffffff,
  'an integer from -2147483648 to 2147483647',
  (v) => v === 0,
  (v) => new Uint8Array([(1 << 3) | I32, v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff]),
  (r, bytes) => {
    const at = r.fixed(4);
    return bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) | (bytes[at + 3] << 24);
  },
  0,
);

const LONG: Type<bigint> = wrapper(
  'long',
  I64,
  (v): v is bigint => typeof v === 'bigint' && BigInt.asIntN(64, v) === v,
  'a bigint from -(2n ** 63n) to 2n ** 63n - 1n',
  (v) => v === 0n,
  (v) => {
    scratchView.setBigInt64(0, v, true);
    return fixed((1 << 3) | I64, 8);
  },
  (r, bytes) => {
    stage(bytes, r.fixed(8), 8);
    return scratchView.getBigInt64(0, true);
  },
  0n,
);

const FLOAT: Type<number> = wrapper(
  'float',
  I32,
  (v): v is number => typeof v === 'number',
  'a number',
  (v) => v === 0,
  (v) => {
    scratchView.setFloat32(0, v, true);
    return fixed((1 << 3) | I32, 4);
  },
  (r, bytes) => {
    stage(bytes, r.fixed(4), 4);
    return scratchView.getFloat32(0, true);
  },
  0,
);

const DOUBLE: Type<number> = wrapper(
  'double',
  I64,
  (v): v is number => typeof v === 'number',
  'a number',
  (v) => v === 0,
  (v) => {
    scratchView.setFloat64(0, v, true);
    return fixed((1 << 3) | I64, 8);
  },
  (r, bytes) => {
    stage(bytes, r.fixed(8), 8);
    return scratchView.getFloat64(0, true);
  },
  0,
);

const BOOL: Type<boolean> = wrapper(
  'bool',
  VARINT,
  (v): v is boolean => typeof v === 'boolean',
  'a boolean',
  (v) => v === false,
  () => new Uint8Array([(1 << 3) | VARINT, 1]),
  (r) => r.bool(),
  false,
);

const STRING: Type<string> = wrapper(
  'string',
  LEN,
  (v): v is string => typeof v === 'string',
  'a string',
  (v) => v === '',
  (v) => {
    const size = utf8Size(v);
    const out = Buffer.allocUnsafe(1 + varintSize(size) + size);
    out[0] = (1 << 3) | LEN;
    let pos = 1;
    let n = size;
    while (n >= 0x80) {
      out[pos++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    out[pos++] = n;
    out.write(v, pos, size, 'utf8');
    return out;
  },
  (r) => r.string(),
  '',
);

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
