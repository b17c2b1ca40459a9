/*
 * The examples of docs/sdk.md, verbatim (imports aside), compiled by tsc and run here.
 * The last test fails when a ```ts block of the page is no longer found in this file.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromBinary } from '@bufbuild/protobuf';
import { decodeFromFunction, encodeToFunction } from '../../../runtime-lambda/protocol/codec';
import {
  Address,
  customType,
  defineFunction,
  egressMessage,
  jsonType,
  kafkaEgressMessage,
  kinesisEgressMessage,
  message,
  StatefulFunctions,
  Types,
} from '../../../runtime-lambda/sdk';
import { createHttpServer } from '../../../runtime-lambda/sdk/http';
import { lambdaHandler } from '../../../runtime-lambda/sdk/lambda';
import { readKinesisEgressRecord } from '../../../runtime-lambda/aws/statefunEgressRecords';
import { LocalRuntime } from '../../../runtime-lambda/local/LocalRuntime';
import { KafkaProducerRecordSchema } from '../../../runtime-lambda/protocol/generated/egress_pb';

// --- Defining a function ---------------------------------------------------------------

interface Cart {
  readonly items: readonly string[];
}
const CartType = jsonType<Cart>('example/Cart');

export const shopper = defineFunction({
  typename: 'example/shopper',
  state: {
    visits: Types.int,
    cart: { type: CartType, expireAfterCall: 24 * 60 * 60 * 1000 },
  },
  handle(ctx, msg) {
    const item = msg.as(Types.string);
    ctx.storage.visits = (ctx.storage.visits ?? 0) + 1;
    ctx.storage.cart = { items: [...(ctx.storage.cart?.items ?? []), item] };
    ctx.send(message({ to: Address.of('example/inventory', item), value: 1, type: Types.int }));
    ctx.egress(egressMessage({ egress: 'example/activity', value: `${ctx.self.id} added ${item}`, type: Types.string }));
  },
});

export const registry = new StatefulFunctions().withFunction(shopper);

// --- Types -----------------------------------------------------------------------------

const Celsius = customType<number>(
  'example/Celsius',
  (degrees) => Buffer.from(degrees.toFixed(1)),
  (bytes) => Number(Buffer.from(bytes).toString()),
);

// --- Messages, delayed messages, egress --------------------------------------------------

const fragments = new StatefulFunctions().withFunction(
  defineFunction({
    typename: 'example/fragments',
    state: { total: Types.int, last: Types.string },
    handle(ctx, msg) {
      if (msg.is(Types.int)) {
        ctx.storage.total = (ctx.storage.total ?? 0) + msg.as(Types.int);
      }
      // msg.typename: e.g. 'io.statefun.types/int'; msg.caller: the sender, null for ingress
      ctx.storage.last = `${msg.typename} from ${msg.caller?.toString() ?? 'ingress'}`;
    },
  }),
).withFunction(
  defineFunction({
    typename: 'example/effects',
    handle(ctx) {
      ctx.send(message({ to: Address.of('example/inventory', 'apple'), value: 1, type: Types.int }));
      ctx.sendAfter(15 * 60 * 1000, message({ to: ctx.self, value: 'check out?', type: Types.string }), `reminder-${ctx.self.id}`);
      // later, e.g. when the customer checks out:
      ctx.cancelDelayedMessage(`reminder-${ctx.self.id}`);
      ctx.egress(egressMessage({ egress: 'example/activity', value: 'ada added apple', type: Types.string }));
    },
  }),
);

// --- Kafka and Kinesis records ----------------------------------------------------------

interface Order {
  readonly id: string;
  readonly total: number;
}
const OrderType = jsonType<Order>('example/Order');

const checkout = defineFunction({
  typename: 'example/checkout',
  handle(ctx, msg) {
    const order = msg.as(OrderType);
    // on topic "orders", keyed by the order's id, the value as JSON
    ctx.egress(kafkaEgressMessage({ egress: 'example/kafka', topic: 'orders', key: order.id, value: order, type: OrderType }));
    // on stream "receipts"; a string without a type is written as UTF-8
    ctx.egress(kinesisEgressMessage({ egress: 'example/kinesis', stream: 'receipts', partitionKey: order.id, value: `paid ${order.total}` }));
  },
});

// --- Serving -----------------------------------------------------------------------------

function embedded() {
  const functions = registry.resolver(); // a FunctionResolver (runtime-lambda/core/ports)
  const endpoint = functions.resolve('example/shopper'); // or registry.endpoint('example/shopper')
  return endpoint;
}

// shopper.lambda.ts, bundled as the Lambda's code (handler: shopper.handler)
export const handler = lambdaHandler(registry);

/** Not called: it would listen on a fixed port. */
export function serveHttp(): void {
  createHttpServer(registry).listen(8000);
}

// --- the tests ---------------------------------------------------------------------------

const shopperRequest = (cart: Cart | null) => ({
  target: Address.of('example/shopper', 'ada'),
  state: [
    { name: 'visits', value: { typename: 'io.statefun.types/int', value: null } },
    { name: 'cart', value: { typename: 'example/Cart', value: cart === null ? null : CartType.serialize(cart) } },
  ],
  invocations: [{ argument: { typename: 'io.statefun.types/string', value: Types.string.serialize('apple') } }],
});

describe('Docs: docs/sdk.md examples', () => {
  it('runs the shopper embedded', async () => {
    // Act
    const response = await embedded()!.invoke(shopperRequest({ items: ['pear'] }));

    // Assess
    expect(response).toEqual({
      kind: 'result',
      mutations: [
        { name: 'visits', value: { typename: 'io.statefun.types/int', value: Types.int.serialize(1) } },
        { name: 'cart', value: { typename: 'example/Cart', value: CartType.serialize({ items: ['pear', 'apple'] }) } },
      ],
      messages: [{ target: Address.of('example/inventory', 'apple'), argument: { typename: 'io.statefun.types/int', value: Types.int.serialize(1) } }],
      delayed: [],
      egress: [{ egress: 'example/activity', argument: { typename: 'io.statefun.types/string', value: Types.string.serialize('ada added apple') } }],
    });
  });

  it('announces the shopper state with its expiry when it is missing', async () => {
    // Act
    const response = await registry.invoke({ ...shopperRequest(null), state: [] });

    // Assess
    expect(response).toEqual({
      kind: 'incomplete',
      missing: [
        { name: 'visits', typename: 'io.statefun.types/int' },
        { name: 'cart', typename: 'example/Cart', expiration: { mode: 'after-invoke', afterMs: 86_400_000 } },
      ],
    });
  });

  it('runs the shopper as a Lambda', async () => {
    // Act
    const result = await handler({ request: Buffer.from(encodeToFunction(shopperRequest(null))).toString('base64') });

    // Assess
    const response = decodeFromFunction(Buffer.from(result.response, 'base64'));
    expect(response.kind === 'result' && response.egress.length).toBe(1);
  });

  it('runs the message, delay and egress fragments', async () => {
    // Act
    const read = await fragments.invoke({
      target: Address.of('example/fragments', 'f'),
      state: [
        { name: 'total', value: { typename: 'io.statefun.types/int', value: Types.int.serialize(2) } },
        { name: 'last', value: { typename: 'io.statefun.types/string', value: null } },
      ],
      invocations: [{ caller: Address.of('example/shopper', 'ada'), argument: { typename: 'io.statefun.types/int', value: Types.int.serialize(3) } }],
    });
    const effects = await fragments.invoke({
      target: Address.of('example/effects', 'ada'),
      state: [],
      invocations: [{ argument: { typename: 'io.statefun.types/string', value: Types.string.serialize('go') } }],
    });

    // Assess
    expect(read.kind === 'result' && read.mutations.map((m) => [m.name, m.value && Buffer.from(m.value.value!).toString('hex')])).toEqual([
      ['total', Buffer.from(Types.int.serialize(5)).toString('hex')],
      ['last', Buffer.from(Types.string.serialize('io.statefun.types/int from example/shopper/ada')).toString('hex')],
    ]);
    expect(effects.kind === 'result' && effects.delayed).toEqual([
      {
        kind: 'send',
        delayMs: 900_000,
        target: Address.of('example/effects', 'ada'),
        argument: { typename: 'io.statefun.types/string', value: Types.string.serialize('check out?') },
        cancellationToken: 'reminder-ada',
      },
      { kind: 'cancel', cancellationToken: 'reminder-ada' },
    ]);
    expect(effects.kind === 'result' && effects.messages.length).toBe(1);
    expect(effects.kind === 'result' && effects.egress.length).toBe(1);
  });

  it('writes the checkout records: a KafkaProducerRecord, and a KinesisEgressRecord the relay reads', async () => {
    // Act
    const response = await new StatefulFunctions().withFunction(checkout).invoke({
      target: Address.of('example/checkout', 'o-1'),
      state: [],
      invocations: [{ argument: { typename: OrderType.typename, value: OrderType.serialize({ id: 'o-1', total: 12.5 }) } }],
    });

    // Assess
    const [kafka, kinesis] = response.kind === 'result' ? response.egress : [];
    expect([kafka?.egress, kafka?.argument.typename]).toEqual(['example/kafka', 'type.googleapis.com/io.statefun.sdk.egress.KafkaProducerRecord']);
    const record = fromBinary(KafkaProducerRecordSchema, kafka!.argument.value!);
    expect([record.topic, record.key, OrderType.deserialize(record.valueBytes)]).toEqual(['orders', 'o-1', { id: 'o-1', total: 12.5 }]);
    expect(readKinesisEgressRecord({ id: 'r1', ...kinesis! }, ['receipts'])).toEqual({ stream: 'receipts', partitionKey: 'o-1', data: new Uint8Array(Buffer.from('paid 12.5')) });
  });

  it('round-trips the custom type', () => {
    // Assess
    expect(Celsius.deserialize(Celsius.serialize(21.54))).toBe(21.5);
  });

  it('delivers a delayed message at the millisecond with exact precision, at the whole second by default, and across a restart with a state file', async () => {
    const pingsOf = (runtime: LocalRuntime) => {
      const stored = runtime.state(Address.of('example/pinger', 'p')).values.get('pings');
      return stored?.value ? Types.int.deserialize(stored.value) : 0;
    };
    const pinger = defineFunction({
      typename: 'example/pinger',
      state: { pings: Types.int },
      handle(ctx, msg) {
        if (msg.as(Types.string) === 'start') ctx.sendAfter(250, message({ to: ctx.self, value: 'ping', type: Types.string }));
        else ctx.storage.pings = (ctx.storage.pings ?? 0) + 1;
      },
    });
    const runtime = new LocalRuntime({ functions: new StatefulFunctions().withFunction(pinger).resolver(), timers: { precision: 'exact' } });
    runtime.send(Address.of('example/pinger', 'p'), { typename: Types.string.typename, value: Types.string.serialize('start') });
    await runtime.advanceBy(250); // 'ping' is delivered now; with the default precision, 1 s after the relay
    const aws = new LocalRuntime({ functions: new StatefulFunctions().withFunction(pinger).resolver() });
    aws.send(Address.of('example/pinger', 'p'), { typename: Types.string.typename, value: Types.string.serialize('start') });
    await aws.advanceBy(250);
    const awsAt250 = pingsOf(aws);
    await aws.advanceBy(750);
    expect([pingsOf(runtime), awsAt250, pingsOf(aws)]).toEqual([1, 0, 1]);

    const home = process.cwd();
    const dir = mkdtempSync(join(tmpdir(), 'statefun-docs-'));
    process.chdir(dir);
    try {
      const options = { functions: new StatefulFunctions().withFunction(pinger).resolver(), stateFile: 'pinger-state.json' };
      const before = new LocalRuntime(options);
      before.send(Address.of('example/pinger', 'p'), { typename: Types.string.typename, value: Types.string.serialize('start') });
      await before.runUntilIdle(); // idle: the file now holds the pending 'ping'
      const after = new LocalRuntime(options); // a restart: the same states, timers and clock
      await after.advanceBy(1000); // 'ping' is delivered: pings = 1

      expect([pingsOf(before), before.pendingTimers, pingsOf(after), after.pendingTimers]).toEqual([0, 1, 1, 0]);
    } finally {
      process.chdir(home);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps every ```ts block of docs/sdk.md in this file', () => {
    // Prepare
    const normalize = (text: string) =>
      text
        .split('\n')
        .map((line) => line.trim())
        .filter((line) => line.length > 0 && !line.startsWith('import '))
        .join('\n');
    const docs = readFileSync(join(__dirname, '../../../docs/sdk.md'), 'utf8');
    const blocks = [...docs.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => normalize(m[1]));
    const self = normalize(readFileSync(__filename, 'utf8'));

    // Act
    const missing = blocks.filter((block) => !self.includes(block));

    // Assess
    expect(blocks.length).toBe(12);
    expect(missing).toEqual([]);
  });
});

