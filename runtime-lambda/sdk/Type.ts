import { typename as validTypename } from '../core/Address';
import { InvalidInputError } from '../core/errors';

/**
 * A StateFun type: a type name (`namespace/name`, unique across languages) and how its
 * values are turned into bytes and back. Every message value and state value has one.
 * Use the built-ins in {@link Types}, {@link jsonType} or {@link customType}.
 *
 * @example
 * const Celsius: Type<number> = customType(
 *   'example/Celsius',
 *   (v) => Buffer.from(String(v)),
 *   (bytes) => Number(Buffer.from(bytes).toString()),
 * );
 */
export interface Type<T> {
  readonly typename: string;
  serialize(value: T): Uint8Array;
  deserialize(bytes: Uint8Array): T;
}

/**
 * The value type of a {@link Type}.
 *
 * @example
 * type Count = ValueOfType<typeof Types.int>; // number
 */
export type ValueOfType<X> = X extends Type<infer T> ? T : never;

/**
 * A type whose values are JSON (UTF-8), wire-compatible with StateFun's `jsonType` in the
 * official SDKs.
 *
 * @example
 * interface Greeting { readonly text: string }
 * const GreetingType = jsonType<Greeting>('example/Greeting');
 * GreetingType.serialize({ text: 'hi' }); // bytes of '{"text":"hi"}'
 */
export function jsonType<T>(typename: string): Type<T> {
  const name = checkTypename(typename, 'jsonType');
  return Object.freeze({
    typename: name,
    serialize(value: T): Uint8Array {
      const text = JSON.stringify(value);
      if (text === undefined) {
        throw new InvalidInputError(`cannot serialize ${typeof value} as JSON type ${name}`);
      }
      return Buffer.from(text, 'utf8');
    },
    deserialize(bytes: Uint8Array): T {
      const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
      try {
        return JSON.parse(text) as T;
      } catch (cause) {
        throw new InvalidInputError(`invalid ${name} value: not JSON (${(cause as Error).message})`, { cause });
      }
    },
  });
}

/**
 * A type with your own serializer, e.g. for protobuf messages or a compact binary format.
 *
 * @example
 * const Point = customType<{ x: number; y: number }>(
 *   'example/Point',
 *   (p) => new Uint8Array(new Float64Array([p.x, p.y]).buffer),
 *   (bytes) => {
 *     const [x, y] = new Float64Array(Uint8Array.from(bytes).buffer);
 *     return { x, y };
 *   },
 * );
 */
export function customType<T>(
  typename: string,
  serialize: (value: T) => Uint8Array,
  deserialize: (bytes: Uint8Array) => T,
): Type<T> {
  const name = checkTypename(typename, 'customType');
  if (typeof serialize !== 'function' || typeof deserialize !== 'function') {
    throw new InvalidInputError(`customType(${JSON.stringify(name)}): serialize and deserialize must be functions`);
  }
  return Object.freeze({
    typename: name,
    serialize(value: T): Uint8Array {
      const bytes = serialize(value);
      if (!(bytes instanceof Uint8Array)) {
        throw new InvalidInputError(`serializer of type ${name} returned ${typeof bytes}, expected a Uint8Array`);
      }
      return bytes;
    },
    deserialize,
  });
}

/** Validates a type name, prefixing errors with the calling API. @internal */
export function checkTypename(typename: string, api: string): string {
  if (typeof typename !== 'string') {
    throw new InvalidInputError(`${api}: the type name must be a string "namespace/name", got ${typeof typename}`);
  }
  try {
    return validTypename(typename);
  } catch (cause) {
    throw new InvalidInputError(`${api}: ${(cause as Error).message}`, { cause });
  }
}

/** Whether `value` looks like a {@link Type}. @internal */
export function isType(value: unknown): value is Type<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Type<unknown>).typename === 'string' &&
    typeof (value as Type<unknown>).serialize === 'function' &&
    typeof (value as Type<unknown>).deserialize === 'function'
  );
}

/** A value for an error message: a string quoted (up to 40 characters), a number with its kind, else its kind. @internal */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (typeof value === 'bigint') return `the bigint ${value}n`;
  if (typeof value === 'number' || typeof value === 'boolean') return `the ${typeof value} ${value}`;
  if (value === null || value === undefined) return String(value);
  if (value instanceof Uint8Array) return `a Uint8Array of ${value.byteLength} bytes`;
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
