import { typename as validTypename, type Typename } from '../core/Address';
import { InvalidInputError } from '../core/errors';
import type { Context } from './Context';
import type { Message } from './Message';
import { isType, type Type } from './Type';
import { ValueSpec, type StateOpts } from './ValueSpec';

/**
 * One state declaration: a bare type, or a type with an expiry.
 *
 * @example
 * const seen: StateDecl = Types.int;
 * const cart: StateDecl = { type: CartType, expireAfterCall: 3_600_000 };
 */
export type StateDecl = Type<unknown> | StateOpts<unknown>;

/**
 * A function's state declarations, by state name.
 *
 * @example
 * const state = { seen: Types.int, cart: { type: CartType, expireAfterWrite: 60_000 } } satisfies StateDecls;
 */
export type StateDecls = { readonly [name: string]: StateDecl };

/**
 * The TypeScript type of the values of a {@link StateDecl}.
 *
 * @example
 * type Seen = StateValue<typeof Types.int>; // number
 */
export type StateValue<D> = D extends { readonly type: Type<infer T> } ? T : D extends Type<infer T> ? T : never;

/**
 * The typed storage of a function: each declared state is a property, `null` when absent.
 * Assign a value to write it, `null` to delete it.
 *
 * @example
 * type S = Storage<{ seen: typeof Types.int }>; // { seen: number | null }
 */
export type Storage<S extends StateDecls> = { -readonly [K in keyof S]: StateValue<S[K]> | null };

/**
 * Options of {@link defineFunction}.
 *
 * @example
 * const opts: FunctionOpts<{ seen: typeof Types.int }> = {
 *   typename: 'example/counter',
 *   state: { seen: Types.int },
 *   handle(ctx) {
 *     ctx.storage.seen = (ctx.storage.seen ?? 0) + 1;
 *   },
 * };
 */
export interface FunctionOpts<S extends StateDecls> {
  /** The function type, `namespace/type`. */
  readonly typename: string;
  /** State values by name: `{ seen: Types.int, cart: { type: CartType, expireAfterCall: 3_600_000 } }`. */
  readonly state?: S;
  /** Handles one message; the batch's messages are handled one after the other, in order. */
  handle(ctx: Context<S>, message: Message): void | Promise<void>;
}

/**
 * A validated function definition, ready to register with {@link StatefulFunctions}.
 *
 * @example
 * const registry = new StatefulFunctions().withFunction(greeter);
 */
export interface FunctionDefinition<S extends StateDecls = StateDecls> {
  readonly typename: Typename;
  readonly specs: readonly ValueSpec<unknown>[];
  handle(ctx: Context<S>, message: Message): void | Promise<void>;
}

/**
 * Defines a stateful function: its type, its state, and its handler. Everything is
 * validated now, so a mistake fails at startup, not on the first message.
 *
 * @throws {@link InvalidInputError} for an invalid type name, state name or expiry, or a
 * missing handler.
 *
 * @example
 * const greeter = defineFunction({
 *   typename: 'example/greeter',
 *   state: { seen: Types.int, last: { type: Types.string, expireAfterWrite: 86_400_000 } },
 *   handle(ctx, message) {
 *     const name = message.as(Types.string);
 *     const seen = (ctx.storage.seen ?? 0) + 1;
 *     ctx.storage.seen = seen;
 *     ctx.storage.last = name;
 *     ctx.egress(egressMessage({ egress: 'example/greetings', value: `Hello ${name} #${seen}`, type: Types.string }));
 *   },
 * });
 */
export function defineFunction<S extends StateDecls = Record<never, never>>(opts: FunctionOpts<S>): FunctionDefinition<S> {
  if (typeof opts !== 'object' || opts === null) {
    throw new InvalidInputError(`defineFunction: expected { typename, state, handle }, got ${opts === null ? 'null' : typeof opts}`);
  }
  let typename: Typename;
  try {
    typename = validTypename(opts.typename);
  } catch (cause) {
    throw new InvalidInputError(`defineFunction: ${(cause as Error).message}`, { cause });
  }
  if (typeof opts.handle !== 'function') {
    throw new InvalidInputError(`defineFunction(${typename}): "handle" must be a function (ctx, message) => void`);
  }
  const specs: ValueSpec<unknown>[] = [];
  for (const [name, decl] of Object.entries(opts.state ?? {})) {
    try {
      specs.push(isType(decl) ? ValueSpec.of({ name, type: decl }) : ValueSpec.of({ ...(decl as StateOpts<unknown>), name }));
    } catch (cause) {
      throw new InvalidInputError(`defineFunction(${typename}): ${(cause as Error).message}`, { cause });
    }
  }
  const handle = opts.handle;
  return Object.freeze({
    typename,
    specs: Object.freeze(specs),
    handle(ctx: Context<S>, message: Message) {
      return handle.call(opts, ctx, message);
    },
  });
}
