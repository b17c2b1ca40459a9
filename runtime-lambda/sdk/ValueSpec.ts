import { InvalidInputError } from '../core/errors';
import type { Expiration, ValueSpec as CoreValueSpec } from '../core/ValueSpec';
import { isType, type Type } from './Type';

/**
 * Declares one state value: its type and an optional expiry (at most one of the two).
 *
 * @example
 * const cart: StateOpts<Cart> = { type: CartType, expireAfterCall: 3_600_000 };
 */
export interface StateOpts<T> {
  readonly type: Type<T>;
  /** Milliseconds after the last write of the value that it is deleted. */
  readonly expireAfterWrite?: number;
  /** Milliseconds after the last invocation of the address (read or write) that it is deleted. */
  readonly expireAfterCall?: number;
}

/**
 * {@link StateOpts} with the state's name.
 *
 * @example
 * const seen: ValueSpecOpts<number> = { name: 'seen', type: Types.int, expireAfterWrite: 86_400_000 };
 */
export interface ValueSpecOpts<T> extends StateOpts<T> {
  /** A letter or `_`, then letters, digits or `_` (e.g. `seen`, `cart_items`). */
  readonly name: string;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * A validated state declaration (StateFun's ValueSpec). {@link defineFunction} builds one
 * per entry of its `state`; build one yourself with {@link ValueSpec.of} to validate early.
 *
 * @example
 * const cart = ValueSpec.of({ name: 'cart', type: jsonType<Cart>('example/Cart'), expireAfterCall: 3_600_000 });
 * cart.expiration; // { mode: 'after-invoke', afterMs: 3600000 }
 */
export class ValueSpec<T> {
  private constructor(
    readonly name: string,
    readonly type: Type<T>,
    readonly expiration: Expiration | undefined,
  ) {}

  /**
   * Validates `opts`.
   *
   * @throws {@link InvalidInputError} for a bad name, a missing type, both expirations, or
   * an expiration that is not a positive integer number of milliseconds.
   */
  static of<T>(opts: ValueSpecOpts<T>): ValueSpec<T> {
    const { name, type, expireAfterWrite, expireAfterCall } = opts ?? ({} as ValueSpecOpts<T>);
    if (typeof name !== 'string' || !NAME.test(name)) {
      throw new InvalidInputError(
        `invalid state name ${JSON.stringify(name)}: use a letter or "_" followed by letters, digits or "_", e.g. "seen_count"`,
      );
    }
    if (!isType(type)) {
      throw new InvalidInputError(
        `state "${name}": "type" must be a StateFun type (Types.int, jsonType(...), customType(...)), got ${type === null ? 'null' : typeof type}`,
      );
    }
    if (expireAfterWrite !== undefined && expireAfterCall !== undefined) {
      throw new InvalidInputError(
        `state "${name}": set expireAfterWrite or expireAfterCall, not both (got ${expireAfterWrite} and ${expireAfterCall})`,
      );
    }
    const check = (ms: number, option: string) => {
      if (!Number.isSafeInteger(ms) || ms <= 0) {
        throw new InvalidInputError(
          `state "${name}": ${option} must be a positive integer number of milliseconds, got ${String(ms)}`,
        );
      }
    };
    let expiration: Expiration | undefined;
    if (expireAfterWrite !== undefined) {
      check(expireAfterWrite, 'expireAfterWrite');
      expiration = Object.freeze({ mode: 'after-write', afterMs: expireAfterWrite });
    } else if (expireAfterCall !== undefined) {
      check(expireAfterCall, 'expireAfterCall');
      expiration = Object.freeze({ mode: 'after-invoke', afterMs: expireAfterCall });
    }
    return Object.freeze(new ValueSpec(name, type, expiration));
  }

  /** The type name of the values. */
  get typename(): string {
    return this.type.typename;
  }

  /** The protocol form announced in an IncompleteInvocationContext. */
  toCore(): CoreValueSpec {
    return this.expiration === undefined
      ? { name: this.name, typename: this.type.typename }
      : { name: this.name, typename: this.type.typename, expiration: this.expiration };
  }
}
