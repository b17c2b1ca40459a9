/**
 * How a state value expires (StateFun's ExpirationSpec): `after-write` counts from the
 * last write, `after-invoke` from the last invocation of the address (read or write).
 */
export interface Expiration {
  readonly mode: 'after-write' | 'after-invoke';
  readonly afterMs: number;
}

/**
 * A state value a function declares: its name, the type name of its values, and an
 * optional expiration. Functions announce their specs through the protocol's
 * IncompleteInvocationContext; the dispatcher then supplies those values on every call.
 */
export interface ValueSpec {
  readonly name: string;
  readonly typename: string;
  readonly expiration?: Expiration;
}
