/*
 * The specification: every behaviour of the conformance suite, what is sent and what must
 * come out (reports on the out egress, stored state, the exchanges with the function, egress
 * records, dead letters). The same list runs against every SDK's functions
 * (docs/statefun-compatibility.md, "Conformance", is their contract).
 */
import { isDeepStrictEqual } from 'node:util';
import type { ValueSpec } from '../../../runtime-lambda/core/ValueSpec';
import { type Type, Types } from '../../../runtime-lambda/sdk';
import { decodeKafkaRecord, decodeKinesisRecord, KAFKA_RECORD_TYPENAME, KINESIS_RECORD_TYPENAME } from './egressRecords';
import { ConformanceFailure, type Scenario } from './Scenario';

/** The SDKs of the suite: ours (TypeScript) and the official JavaScript, Python, Go and Java SDKs. */
export type SdkName = 'ts' | 'js' | 'python' | 'go' | 'java';

export interface Behaviour {
  readonly name: string;
  /** Sends and checks; throws a {@link ConformanceFailure} saying what was expected and what came. */
  run(s: Scenario): Promise<void>;
  /** Where an SDK truly behaves differently (not a bug), and why: printed with its line, listed in the docs. */
  readonly differences?: Partial<Record<SdkName, string>>;
}

const STORE = 'conformance/store';
const FAULTY = 'conformance/faulty';
/** Longer than the Scenario's retry budget for a failing function (2 minutes). */
const RETRY_BUDGET_PASSED = 3 * 60_000;
const hex = (bytes: Uint8Array | null) => (bytes === null ? 'null' : Buffer.from(bytes).toString('hex'));
/** JSON with bytes (Buffer or not) as 0x hex and bigints as 123n. */
const show = (value: unknown): string =>
  JSON.stringify(value, function (this: Record<string, unknown>, key, v: unknown) {
    const raw = this[key];
    return raw instanceof Uint8Array ? `0x${hex(raw)}` : typeof v === 'bigint' ? `${v}n` : v;
  });
/** Bytes as plain Uint8Arrays (a Buffer and a Uint8Array of the same bytes are equal here), recursively. */
const plain = (value: unknown): unknown =>
  value instanceof Uint8Array
    ? new Uint8Array(value)
    : Array.isArray(value)
      ? value.map(plain)
      : value !== null && typeof value === 'object' && !(value instanceof Map)
        ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]))
        : value;

function expectEqual(actual: unknown, expected: unknown, what: string): void {
  if (!isDeepStrictEqual(plain(actual), plain(expected))) throw new ConformanceFailure(`${what}: expected ${show(expected)}, got ${show(actual)}`);
}

function expectNoDeadLetters(s: Scenario): void {
  expectEqual(
    s.deadLetters.map((d) => `${d.address}: ${d.reason}`),
    [],
    'dead letters',
  );
}

const utf8 = (text: string) => new TextEncoder().encode(text);
const string = (text: string) => ({ typename: Types.string.typename, value: Types.string.serialize(text) });
const peek = (fields: { value?: string; never?: string; w?: string; c?: string; log?: string }) =>
  `value=${fields.value ?? '-'} never=${fields.never ?? '-'} w=${fields.w ?? '-'} c=${fields.c ?? '-'} log=${fields.log ?? '-'}`;
const specsByName = (specs: readonly ValueSpec[]) => [...specs].sort((a, b) => a.name.localeCompare(b.name));

export const behaviours: readonly Behaviour[] = [
  {
    name: 'state read, write, delete',
    async run(s) {
      await s.send(`${STORE}/a`, 'set x').run();
      expectEqual(s.stored(`${STORE}/a`).get('value'), string('x'), 'stored "value" after set x');
      await s.send(`${STORE}/a`, 'peek').run();
      await s.send(`${STORE}/a`, 'del').run();
      expectEqual(s.stored(`${STORE}/a`).has('value'), false, '"value" is stored after del');
      await s.send(`${STORE}/a`, 'peek').run();
      // Within one batch, a write is seen by the next message.
      await s.send(`${STORE}/a`, 'set y', 'peek', 'del', 'peek').run();
      expectEqual(s.reports(), [peek({ value: 'x' }), peek({}), peek({ value: 'y' }), peek({})], 'reports');
      expectNoDeadLetters(s);
    },
  },
  {
    name: 'first access (the missing-state round trip)',
    async run(s) {
      await s.send(`${STORE}/a`, 'set x').run();
      const [first, second] = s.calls(STORE);
      expectEqual(first?.request.state, [], 'state sent on the first call (the runtime knows no spec yet)');
      if (first?.response?.kind !== 'incomplete') throw new ConformanceFailure(`first call: expected an IncompleteInvocationContext, got ${show(first?.response ?? `HTTP ${first?.status}`)}`);
      expectEqual(
        specsByName(first.response.missing),
        [
          { name: 'c', typename: Types.string.typename, expiration: { mode: 'after-invoke', afterMs: 60_000 } },
          { name: 'log', typename: Types.string.typename },
          { name: 'never', typename: Types.int.typename },
          { name: 'value', typename: Types.string.typename },
          { name: 'w', typename: Types.string.typename, expiration: { mode: 'after-write', afterMs: 60_000 } },
        ],
        'missing specs of the IncompleteInvocationContext',
      );
      expectEqual(second?.request.invocations, first.request.invocations, 'invocations re-sent after registration');
      expectEqual(second?.request.state.map((v) => [v.name, v.value.value]).sort(), [['c', null], ['log', null], ['never', null], ['value', null], ['w', null]], 'state sent on the second call');
      expectEqual(second?.response, { kind: 'result', mutations: [{ name: 'value', value: string('x') }], messages: [], delayed: [], egress: [] }, 'second response');
      expectEqual(s.calls(STORE).length, 2, 'calls');
      expectNoDeadLetters(s);
    },
  },
  {
    name: 'a declared state that is never written',
    async run(s) {
      await s.send(`${STORE}/a`, 'set x', 'peek').run();
      await s.send(`${STORE}/a`, 'peek').run();
      expectEqual(s.reports(), [peek({ value: 'x' }), peek({ value: 'x' })], 'reports');
      const mutated = s.exchanges.flatMap((e) => (e.response?.kind === 'result' ? e.response.mutations.map((m) => m.name) : []));
      expectEqual(mutated.includes('never'), false, '"never" was mutated');
      expectEqual(s.stored(`${STORE}/a`).has('never'), false, '"never" is stored');
      expectNoDeadLetters(s);
    },
  },
  {
    name: 'a batch with no effects',
    differences: { python: 'answers an effect-free batch with an empty body (a FromFunction with no response set), which StateFun and we read as no effects' },
    async run(s) {
      await s.send(`${STORE}/a`, 'set x').run();
      await s.send(`${STORE}/a`, 'noop', 'noop').run();
      const last = s.calls(STORE).at(-1);
      expectEqual(last?.request.invocations.length, 2, 'invocations in the no-effect batch');
      expectEqual(last?.response, { kind: 'result', mutations: [], messages: [], delayed: [], egress: [] }, 'response to the no-effect batch');
      if (s.sdk === 'python') expectEqual(last?.replyBytes, 0, "bytes of the Python SDK's reply");
      await s.send(`${STORE}/a`, 'peek').run();
      expectEqual(s.reports(), [peek({ value: 'x' })], 'reports');
      expectNoDeadLetters(s);
    },
  },
  {
    name: 'expire-after-write and expire-after-call',
    async run(s) {
      await s.send(`${STORE}/a`, 'setw a', 'setc b').run();
      await s.advanceBy(50_000);
      await s.send(`${STORE}/a`, 'noop').run(); // a call: "c" lives 60 s from here, "w" is not refreshed
      await s.advanceBy(50_000);
      await s.send(`${STORE}/a`, 'peek').run(); // t = 100 s
      await s.advanceBy(61_000);
      await s.send(`${STORE}/a`, 'peek').run(); // t = 161 s, 61 s after the last call
      expectEqual(s.reports(), [peek({ c: 'b' }), peek({})], 'reports at 100 s and 161 s');
      expectNoDeadLetters(s);
    },
  },
  {
    name: 'send to self and to other types, with cycles',
    async run(s) {
      await s.send('conformance/ping/a', 'bounce 4').run();
      await s.send('conformance/pong/b', 'loop 2').run();
      expectEqual(
        s.reports().map((r) => r.replace(/ caller=.*/, '')),
        [
          'conformance/ping/a bounce 4',
          'conformance/pong/a bounce 3',
          'conformance/ping/a bounce 2',
          'conformance/pong/a bounce 1',
          'conformance/ping/a bounce 0',
          'conformance/pong/b loop 2',
          'conformance/pong/b loop 1',
          'conformance/pong/b loop 0',
        ],
        'hops',
      );
      expectNoDeadLetters(s);
    },
  },
  {
    name: 'caller',
    async run(s) {
      await s.send('conformance/ping/a', 'bounce 1', 'loop 1', 'later 1000 - x').run();
      await s.advanceBy(1_000);
      expectEqual(
        s.reports().sort(),
        [
          'conformance/ping/a bounce 1 caller=-',
          'conformance/ping/a loop 1 caller=-',
          'conformance/pong/a bounce 0 caller=conformance/ping/a',
          'conformance/ping/a loop 0 caller=conformance/ping/a',
          'conformance/ping/a note x caller=conformance/ping/a',
        ].sort(),
        'reports (sorted)',
      );
      expectNoDeadLetters(s);
    },
  },
  {
    name: 'every built-in type',
    differences: {
      js: 'the official JavaScript SDK has no long or double type: the function declares them with StateFun.protoType over the SDK\'s generated LongWrapper and DoubleWrapper (JavaScript numbers, so longs within 2^53)',
    },
    async run(s) {
      const value = <T>(type: Type<T>, v: T) => ({ typename: type.typename, value: type.serialize(v) });
      // name, what is sent, what must come back and be stored
      const cases = [
        ['int', value(Types.int, 2_147_483_646), value(Types.int, 2_147_483_647)],
        ['long', value(Types.long, 9_007_199_254_740_000n), value(Types.long, 9_007_199_254_740_001n)],
        ['float', value(Types.float, 1.25), value(Types.float, 2.5)],
        ['double', value(Types.double, 0.1), value(Types.double, 0.2)],
        ['bool', value(Types.bool, true), value(Types.bool, false)],
        ['string', value(Types.string, 'zoë 🚀'), value(Types.string, 'zoë 🚀!')],
      ] as const;
      for (const [, sent] of cases) s.sendValue('conformance/types/a', sent);
      await s.run();
      const out = s.records('conformance/out').map((r) => r.argument);
      const stored = s.stored('conformance/types/a');
      for (const [i, [name, , expected]] of cases.entries()) {
        expectEqual(out[i], expected, `${name}: the value sent back`);
        expectEqual(stored.get(`${name}_v`), expected, `${name}: the stored ${name}_v`);
      }
      expectEqual(out.length, cases.length, 'values sent back');
      expectNoDeadLetters(s);
    },
  },
  {
    name: 'delayed messages, with and without cancellation',
    async run(s) {
      await s.send('conformance/ping/a', 'later 5000 t1 first', 'later 8000 - second', 'later 9000 t3 third').run();
      expectEqual(s.runtime.pendingTimers, 3, 'pending delayed messages');
      await s.advanceBy(4_000);
      await s.send('conformance/ping/a', 'cancel t1', 'cancel unknown').run();
      expectEqual(s.runtime.pendingTimers, 2, 'pending delayed messages after cancelling t1 (and an unknown token)');
      await s.advanceBy(4_500); // t = 8.5 s
      expectEqual(s.reports(), ['conformance/ping/a note second caller=conformance/ping/a'], 'reports at 8.5 s');
      await s.advanceBy(1_500); // t = 10 s
      expectEqual(s.reports().slice(1), ['conformance/ping/a note third caller=conformance/ping/a'], 'reports at 10 s');
      expectEqual(s.runtime.pendingTimers, 0, 'pending delayed messages at the end');
      expectNoDeadLetters(s);
    },
  },
  {
    name: 'Kafka and Kinesis egress records',
    async run(s) {
      await s.send('conformance/ping/a', 'kafka orders k1 v1', 'kinesis events pk1 hk1 v2').run();
      const [kafka, ...moreKafka] = s.records('conformance/kafka');
      const [kinesis, ...moreKinesis] = s.records('conformance/kinesis');
      expectEqual([moreKafka.length, moreKinesis.length], [0, 0], 'extra records on conformance/kafka and conformance/kinesis');
      expectEqual(kafka?.argument.typename, KAFKA_RECORD_TYPENAME, 'Kafka record typename');
      expectEqual(kafka?.argument.value && decodeKafkaRecord(kafka.argument.value), { key: 'k1', value: utf8('v1'), topic: 'orders' }, 'Kafka record');
      expectEqual(kinesis?.argument.typename, KINESIS_RECORD_TYPENAME, 'Kinesis record typename');
      expectEqual(
        kinesis?.argument.value && decodeKinesisRecord(kinesis.argument.value),
        { partitionKey: 'pk1', value: utf8('v2'), stream: 'events', explicitHashKey: 'hk1' },
        'Kinesis record',
      );
      expectNoDeadLetters(s);
    },
  },
  {
    name: 'a function error',
    async run(s) {
      // conformance/faulty: the store function behind an endpoint of its own (call budget 1 s).
      // Each step moves the clock past the retry budget, so a call that merely ran slow is retried, not lost.
      await s.send(`${FAULTY}/a`, 'set before').advanceBy(RETRY_BUDGET_PASSED);
      await s.send(`${FAULTY}/a`, 'fail').advanceBy(RETRY_BUDGET_PASSED);
      // Every call carrying "fail" got the SDK's 500, and the runtime called again.
      const failCalls = s.calls(FAULTY).filter((e) => e.request.invocations.some((i) => show(i.argument) === show(string('fail'))));
      expectEqual([...new Set(failCalls.map((e) => e.status))], [500], 'statuses of the calls carrying "fail"');
      if (failCalls.length < 2) throw new ConformanceFailure(`calls carrying "fail": expected the failing batch retried (2 or more), got ${failCalls.length}`);
      const [dead, ...more] = s.deadLetters;
      expectEqual(more.length, 0, 'more dead letters');
      expectEqual(dead && 'envelope' in dead ? dead.envelope.argument : undefined, string('fail'), 'the dead-lettered message');
      if (!/\/faulty\b/.test(dead?.reason ?? '')) throw new ConformanceFailure(`dead letter reason: expected it to name the endpoint .../faulty, got ${show(dead?.reason)}`);
      // The address goes on: the state the failed batch saw is intact, and it takes new messages.
      await s.send(`${FAULTY}/a`, 'peek', 'set after', 'peek').advanceBy(RETRY_BUDGET_PASSED);
      expectEqual(s.reports(), [peek({ value: 'before' }), peek({ value: 'after' })], 'reports after the failure');
    },
  },
  {
    name: 'batches of many messages to one address, capped by maxNumBatchRequests',
    async run(s) {
      const n = 25;
      s.send(`${STORE}/a`, ...Array.from({ length: n }, (_, i) => `append ${i}`));
      await s.run();
      await s.send(`${STORE}/a`, 'peek').run();
      expectEqual(s.reports(), [peek({ log: Array.from({ length: n }, (_, i) => i).join(',') })], 'reports');
      const sizes = s.calls(STORE).filter((e) => e.response?.kind === 'result').map((e) => e.request.invocations.length);
      expectEqual(sizes.slice(0, -1), [10, 10, 5], 'invocations per request (maxNumBatchRequests: 10)');
      expectNoDeadLetters(s);
    },
  },
  {
    name: '{function.name} templates',
    async run(s) {
      await s.send(`${STORE}/a`, 'peek').send('conformance/ping/a', 'note x').send('conformance/missing/a', 'hello').run();
      expectEqual(s.reports().sort(), ['conformance/ping/a note x caller=-', peek({})], 'reports of the types served at /store and /ping');
      const [dead, ...more] = s.deadLetters;
      expectEqual([dead?.address, more.length], ['conformance/missing/a', 0], 'dead letters');
      if (!/\/missing\b.*HTTP 404/.test(dead?.reason ?? '')) {
        throw new ConformanceFailure(`dead letter reason: expected a 404 from the URL ending in /missing, got ${show(dead?.reason)}`);
      }
      expectEqual([...new Set(s.exchanges.map((e) => `${e.fnType} ${e.path} ${e.status}`))].sort(), ['conformance/missing /missing 404', 'conformance/ping /ping 200', 'conformance/store /store 200'], 'calls (type, path, status)');
    },
  },
];
