import { Address } from '../../../runtime-lambda/core/Address';
import { Dispatcher } from '../../../runtime-lambda/core/dispatch/Dispatcher';
import { DEFAULT_DUPLICATE_WINDOW_MS, duplicateWindowMs } from '../../../runtime-lambda/core/duplicateWindow';
import type { Envelope } from '../../../runtime-lambda/core/Envelope';
import { InvalidInputError } from '../../../runtime-lambda/core/errors';
import { InMemoryStateStore } from '../../../runtime-lambda/local/InMemoryStateStore';
import { LocalRuntime } from '../../../runtime-lambda/local/LocalRuntime';
import { SimulatedClock } from '../../../runtime-lambda/local/SimulatedClock';
import { ingressEnvelope, readText, textValue } from '../../helpers/factories';
import { JournalFunction, resolverOf } from '../../helpers/journalFunction';

const A = Address.of('test/journal', 'a');
const DAY = 24 * 60 * 60 * 1000;
const NOW = 1_800_000_000_000;

/** An ingress record of `source` at `position` that arrived on its stream `ageMs` before NOW. */
function arrived(position: number, text: string, ageMs: number): Envelope {
  const envelope = ingressEnvelope(A, position, text);
  return { ...envelope, origin: { ...(envelope.origin as { kind: 'ingress'; source: string; position: string }), arrivedAtMs: NOW - ageMs } };
}

function setup(windowMs?: number) {
  const store = new InMemoryStateStore();
  const fn = new JournalFunction();
  const dispatcher = new Dispatcher({
    store,
    functions: resolverOf({ 'test/journal': fn }),
    clock: new SimulatedClock(NOW),
    sleep: async () => undefined,
    ...(windowMs ? { duplicateWindowMs: windowMs } : {}),
  });
  return { store, fn, dispatcher };
}

describe('Duplicate window', () => {
  it('dead-letters a new ingress record older than the window, with the reason, and applies the fresh one after it', async () => {
    // Prepare
    const { store, fn, dispatcher } = setup();

    // Act
    const outcome = await dispatcher.dispatch([arrived(1, 'stale', 8 * DAY), arrived(2, 'fresh', 1000)]);

    // Assess
    expect(outcome).toEqual({ applied: 1, duplicates: 0, deadLettered: 1, parked: 0, backingOff: [], failures: [] });
    expect(readText(store.peek(A).values.get('journal'))).toBe('fresh');
    expect(fn.requests.flatMap((r) => r.invocations.map((i) => readText(i.argument)))).not.toContain('stale');
    const [entry] = store.outbox;
    const [deadLetter] = entry!.effects.deadLetters;
    expect(deadLetter).toMatchObject({ id: 'in/0/1', address: A.key });
    expect(deadLetter!.reason).toBe(
      'OUTSIDE_DUPLICATE_WINDOW: ingress record 1 of in/0 arrived 192.0 h ago, longer than the duplicate window (168.0 h): whether it was applied before can no longer be proved, so it was not applied; redrive it if it is new, and keep the window above the retention of the streams that feed the application',
    );
  });

  it('still drops an old record it can prove applied (at or below its mark), and dead-letters an old one only once', async () => {
    // Prepare
    const { store, dispatcher } = setup();
    await dispatcher.dispatch([arrived(1, 'one', 1000)]);
    await dispatcher.dispatch([arrived(2, 'late', 9 * DAY)]);
    const version = store.peek(A).version;

    // Act
    const replay = await dispatcher.dispatch([arrived(1, 'one', 9 * DAY), arrived(2, 'late', 9 * DAY)]);

    // Assess
    expect(replay).toEqual({ applied: 0, duplicates: 2, deadLettered: 0, parked: 0, backingOff: [], failures: [] });
    expect(store.peek(A).version).toBe(version);
    expect(readText(store.peek(A).values.get('journal'))).toBe('one');
  });

  it('applies old records when the window is long enough', async () => {
    // Prepare
    const { store, dispatcher } = setup(30 * DAY);

    // Act
    const outcome = await dispatcher.dispatch([arrived(1, 'eight days old', 8 * DAY)]);

    // Assess
    expect(outcome.applied).toBe(1);
    expect(store.peek(A).marks.get('in/0')).toEqual({ position: '1', atMs: NOW });
  });

  it('takes whole milliseconds from an hour up, and names the value and the fix otherwise', () => {
    expect(duplicateWindowMs(DEFAULT_DUPLICATE_WINDOW_MS)).toBe(7 * DAY);
    for (const bad of [0, 59 * 60 * 1000, 1.5 * 3_600_000 + 0.5, Number.NaN]) {
      expect(() => duplicateWindowMs(bad)).toThrow(InvalidInputError);
      expect(() => duplicateWindowMs(bad)).toThrow(`duplicateWindowMs must be a whole number of milliseconds of at least 3600000 (an hour), got ${String(bad)}`);
    }
    expect(() => new Dispatcher({ store: new InMemoryStateStore(), functions: resolverOf({}), clock: new SimulatedClock(NOW), duplicateWindowMs: 1000 })).toThrow(
      'duplicateWindowMs must be a whole number of milliseconds of at least 3600000 (an hour), got 1000',
    );
  });
});

describe('LocalRuntime: empty addresses', () => {
  it('keeps an empty address as a tombstone for the duplicate window, then deletes it; an address with values stays', async () => {
    // Prepare: a one-shot sender with no state of its own sends one message and is empty afterwards
    const sender = { invoke: async () => ({ kind: 'result' as const, mutations: [], messages: [{ target: A, argument: textValue('hello') }], delayed: [], egress: [] }) };
    const runtime = new LocalRuntime({
      functions: resolverOf({ 'test/sender': sender, 'test/journal': new JournalFunction() }),
      ingresses: [{ name: 'tx', target: 'test/sender' }],
      duplicateWindowMs: DAY,
    });
    const one = Address.of('test/sender', 'tx-1');
    runtime.ingest('tx', 'tx-1', textValue('go'));
    await runtime.runUntilIdle();
    const tombstone = runtime.state(one);

    // Act
    await runtime.advanceBy(DAY + 1);

    // Assess
    expect(tombstone).toMatchObject({ version: 1, values: new Map(), timers: new Map() });
    expect(tombstone.marks.size).toBe(1);
    expect(runtime.state(one).version).toBe(0);
    expect([...runtime.store.all()].map((s) => s.address.key)).toEqual([A.key]);
    expect(readText(runtime.state(A).values.get('journal'))).toBe('hello');
  });
});
