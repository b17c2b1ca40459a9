import { Address, StatefulFunctions, Types, defineFunction, egressMessage, message } from '../../runtime-lambda/sdk';

/**
 * The README's tour: greets each name, counting visits per name; tells `example/audit` of
 * a first visit; reminds itself a minute later unless cancelled.
 */
export const greeter = defineFunction({
  typename: 'example/greeter',
  state: { seen: Types.int },
  handle(ctx, msg) {
    if (msg.is(Types.string)) {
      const name = msg.as(Types.string);
      const seen = (ctx.storage.seen ?? 0) + 1;
      ctx.storage.seen = seen; // durable, per greeter instance (per name)
      ctx.egress(egressMessage({ egress: 'example/greetings', value: `Hello ${name} #${seen}`, type: Types.string }));
      if (seen === 1) {
        // message another function by address; it may message back (cycles are fine)
        ctx.send(message({ to: Address.of('example/audit', name), value: 'first visit', type: Types.string }));
      }
      // a delayed message to itself, cancellable by its token
      ctx.sendAfter(60_000, message({ to: ctx.self, value: seen, type: Types.int }), `remind-${name}`);
    } else {
      const visit = msg.as(Types.int);
      ctx.egress(egressMessage({ egress: 'example/greetings', value: `Still there, ${ctx.self.id}? (visit ${visit})`, type: Types.string }));
    }
  },
});

/** Records first visits. */
export const audit = defineFunction({
  typename: 'example/audit',
  state: { firstVisits: Types.int },
  handle(ctx) {
    ctx.storage.firstVisits = (ctx.storage.firstVisits ?? 0) + 1;
  },
});

export const app = new StatefulFunctions().withFunction(greeter).withFunction(audit);
