/*
 * Type-level tests, checked by `npx tsc --noEmit -p .` (not run by jest). Each
 * `@ts-expect-error` line MUST be a compile error: if one stops being an error, tsc fails
 * with "Unused '@ts-expect-error' directive", so a regression cannot pass silently.
 */
import {
  Address,
  defineFunction,
  egressMessage,
  jsonType,
  message,
  StatefulFunctions,
  Types,
  type Context,
} from '../../../runtime-lambda/sdk';

interface Cart {
  readonly items: readonly string[];
}
const CartType = jsonType<Cart>('example/Cart');

export const typed = defineFunction({
  typename: 'example/typed',
  state: { seen: Types.int, total: Types.long, cart: { type: CartType, expireAfterCall: 60_000 } },
  handle(ctx, msg) {
    // reading gives the spec's type, or null
    const seen: number | null = ctx.storage.seen;
    const total: bigint | null = ctx.storage.total;
    const cart: Cart | null = ctx.storage.cart;
    ctx.storage.seen = (seen ?? 0) + 1;
    ctx.storage.total = (total ?? 0n) + 1n;
    ctx.storage.cart = { items: [...(cart?.items ?? []), 'x'] };
    ctx.storage.cart = null;

    // @ts-expect-error unknown state name (read)
    void ctx.storage.sen;
    // @ts-expect-error unknown state name (write)
    ctx.storage.count = 1;
    // @ts-expect-error wrong value type assigned to storage
    ctx.storage.seen = 'one';
    // @ts-expect-error a long is a bigint, not a number
    ctx.storage.total = 1;
    // @ts-expect-error wrong shape for a JSON state
    ctx.storage.cart = { items: 'x' };
    // @ts-expect-error delete with null, not undefined
    ctx.storage.seen = undefined;

    const to = Address.of('example/other', 'x');
    ctx.send(message({ to, value: 1, type: Types.int }));
    ctx.send(message({ to, value: { items: [] }, type: CartType }));
    // @ts-expect-error wrong value for a typed message
    ctx.send(message({ to, value: 'one', type: Types.int }));
    // @ts-expect-error a long message needs a bigint
    ctx.send(message({ to, value: 1, type: Types.long }));
    // @ts-expect-error wrong shape for a JSON message
    ctx.send(message({ to, value: { items: 1 }, type: CartType }));
    // @ts-expect-error the target must be an Address, not a string
    ctx.send(message({ to: 'example/other/x', value: 1, type: Types.int }));
    ctx.egress(egressMessage({ egress: 'example/out', value: 'text', type: Types.string }));
    // @ts-expect-error wrong value for a typed egress message
    ctx.egress(egressMessage({ egress: 'example/out', value: 1, type: Types.string }));
    // @ts-expect-error egress messages go through ctx.egress
    ctx.send(egressMessage({ egress: 'example/out', value: 'text', type: Types.string }));

    // message.as returns the type's value type
    const n: number = msg.as(Types.int);
    // @ts-expect-error as(Types.int) is a number
    const s: string = msg.as(Types.int);
    void n;
    void s;

    // @ts-expect-error the delay is a number of milliseconds
    ctx.sendAfter('1m', message({ to, value: 1, type: Types.int }));
  },
});

export const withoutState = defineFunction({
  typename: 'example/stateless',
  handle(ctx) {
    // @ts-expect-error a function without state has no storage names
    void ctx.storage.anything;
  },
});

export function registryAcceptsAnyDefinition(): StatefulFunctions {
  return new StatefulFunctions().withFunction(typed).withFunction(withoutState);
}

export function contextIsTypedByState(ctx: Context<{ readonly seen: typeof Types.int }>): number | null {
  // @ts-expect-error not declared in this context's state
  void ctx.storage.other;
  return ctx.storage.seen;
}
