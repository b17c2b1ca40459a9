/**
 * A value tagged with its type name, as StateFun's `TypedValue`: `typename` says how to
 * read `value` (e.g. `io.statefun.types/int`, or a user type such as
 * `com.example/Transaction`). `value` is `null` for an absent value, which the protocol
 * distinguishes from an empty one.
 */
export interface TypedValue {
  readonly typename: string;
  readonly value: Uint8Array | null;
}

/** A present value of type `typename`. */
export function typedValue(typename: string, value: Uint8Array): TypedValue {
  return { typename, value };
}

/** Byte-wise equality of two typed values. */
export function typedValueEquals(a: TypedValue, b: TypedValue): boolean {
  if (a.typename !== b.typename) return false;
  if (a.value === null || b.value === null) return a.value === b.value;
  return Buffer.from(a.value).equals(Buffer.from(b.value));
}
