import { Address } from '../../../runtime-lambda/core/Address';
import type { DeadLetter } from '../../../runtime-lambda/core/AddressState';
import { Dispatcher, type DispatcherOptions } from '../../../runtime-lambda/core/dispatch/Dispatcher';
import { RETRY_TIMER_TYPE } from '../../../runtime-lambda/core/dispatch/planBatch';
import type { Envelope } from '../../../runtime-lambda/core/Envelope';
import { CommitTooLargeError } from '../../../runtime-lambda/core/errors';
import { isParkedKey } from '../../../runtime-lambda/core/Inbox';
import type { FunctionEndpoint } from '../../../runtime-lambda/core/ports/FunctionEndpoint';
import { InMemoryStateStore } from '../../../runtime-lambda/local/InMemoryStateStore';
import { SimulatedClock } from '../../../runtime-lambda/local/SimulatedClock';
import { ingressEnvelope, readText } from '../../helpers/factories';
import { JournalFunction, resolverOf } from '../../helpers/journalFunction';

const A = Address.of('test/journal', 'a');
const B = Address.of('test/journal', 'b');
const HOUR = 3_600_000;

/** A function that never answers. */
const hanging: FunctionEndpoint = { invoke: () => new Promise(() => undefined) };

function setup(options: Partial<Omit<DispatcherOptions, 'store' | 'functions' | 'clock'>> = {}) {
  const store = new InMemoryStateStore();
  const fn = new JournalFunction();
  const clock = new SimulatedClock(1_000_000);
  const dispatcher = new Dispatcher({
    store,
    functions: resolverOf({ 'test/journal': fn, 'test/hang': hanging }),
    clock,
    sleep: async () => undefined,
    ...options,
  });
  const relayed = { retryTimers: [] as Envelope[], messages: [] as Envelope[], deadLetters: [] as DeadLetter[] };
  /** Takes the committed effects as the relay would: retry timers, wake-ups and dead letters. */
  const relay = () => {
    for (const { effects } of store.takeOutbox()) {
      relayed.retryTimers.push(...effects.timers.filter((t) => t.envelope.argument.typename === RETRY_TIMER_TYPE).map((t) => t.envelope));
      relayed.messages.push(...effects.messages);
      relayed.deadLetters.push(...effects.deadLetters);
    }
    return relayed;
  };
  /** Moves the clock to the address's retry and delivers its retry timer, as the delay queue would, with `others` after it. */
  const retry = async (address: Address, ...others: Envelope[]) => {
    const backoff = store.peek(address).backoff!;
    clock.set(Math.max(clock.now(), backoff.retryAtMs));
    const timer = relay().retryTimers.find((t) => t.id === backoff.timerId)!;
    return dispatcher.dispatch([timer, ...others]);
  };
  const journal = (address: Address) => readText(store.peek(address).values.get('journal'));
  const inboxKeys = async (address: Address) => (await store.readInbox([address], 1000)).get(address.key)!.entries.map((e) => e.key);
  return { store, fn, clock, dispatcher, relay, retry, journal, inboxKeys };
}

describe('Per-address backoff', () => {
  it('parks an address whose function is unavailable and applies the other addresses, failing nothing', async () => {
    // Prepare
    const { store, dispatcher, journal, inboxKeys } = setup();

    // Act
    const outcome = await dispatcher.dispatch([ingressEnvelope(A, 1, 'unavailable'), ingressEnvelope(B, 2, 'fine')]);

    // Assess
    expect(outcome.failures).toEqual([]);
    expect(outcome.applied).toBe(1);
    expect(outcome.parked).toBe(1);
    expect(outcome.backingOff.map((b) => [b.address.key, b.attempts, b.sinceMs])).toEqual([[A.key, 1, 1_000_000]]);
    expect(outcome.backingOff[0]!.lastError).toContain('journal function unavailable on test/journal/a');
    expect(journal(B)).toBe('fine');
    expect(journal(A)).toBeUndefined();
    const backoff = store.peek(A).backoff!;
    expect(backoff.retryAtMs).toBeGreaterThanOrEqual(1_000_500);
    expect(backoff.retryAtMs).toBeLessThanOrEqual(1_001_000);
    expect(store.peek(A).timers.has(backoff.timerId)).toBe(true);
    expect((await inboxKeys(A)).map(isParkedKey)).toEqual([true]);
  });

  it('parks new messages in order while backing off, without calling the function, and applies them all in order when the retry is due', async () => {
    // Prepare
    const { store, fn, dispatcher, retry, journal, inboxKeys } = setup();
    await dispatcher.dispatch([ingressEnvelope(A, 1, 'unavailable')]);
    const callsWhenParked = fn.requests.length;

    // Act
    const meanwhile = await dispatcher.dispatch([ingressEnvelope(A, 2, 'second'), ingressEnvelope(A, 3, 'third')]);
    const redelivered = await dispatcher.dispatch([ingressEnvelope(A, 1, 'unavailable')]);
    fn.unavailable = false;
    const recovered = await retry(A);

    // Assess
    expect(meanwhile).toMatchObject({ applied: 0, parked: 2, failures: [] });
    expect(redelivered).toMatchObject({ applied: 0, duplicates: 1, parked: 0 });
    expect(fn.requests.length).toBeGreaterThan(callsWhenParked);
    expect(fn.requests.slice(callsWhenParked).every((r) => r.invocations.length === 3)).toBe(true);
    expect(recovered).toMatchObject({ applied: 3, parked: 0, backingOff: [], failures: [] });
    expect(journal(A)).toBe('unavailable|second|third');
    expect(store.peek(A).backoff).toBeUndefined();
    expect(store.peek(A).timers.size).toBe(0);
    expect(await inboxKeys(A)).toEqual([]);
  });

  it('backs off exponentially with jitter and dead-letters every parked message, with its reason, once the budget is spent', async () => {
    // Prepare
    const { store, clock, dispatcher, relay, retry, inboxKeys } = setup({ retryBudgetMs: HOUR, retryBackoff: { baseDelayMs: 1_000, maxDelayMs: 600_000 } });
    await dispatcher.dispatch([ingressEnvelope(A, 1, 'unavailable one')]);
    await dispatcher.dispatch([ingressEnvelope(A, 2, 'unavailable two')]);
    const waits: number[] = [];

    // Act
    while (store.peek(A).backoff !== undefined) {
      const backoff = store.peek(A).backoff!;
      waits.push(backoff.retryAtMs - clock.now());
      await retry(A);
    }

    // Assess: each wait is between half and all of 1 s doubled per attempt, capped at 10 min
    waits.forEach((wait, i) => {
      const cap = Math.min(600_000, 1_000 * 2 ** i);
      expect(wait).toBeGreaterThanOrEqual(cap / 2);
      expect(wait).toBeLessThanOrEqual(cap);
    });
    expect(clock.now() - 1_000_000).toBeGreaterThanOrEqual(HOUR);
    expect(clock.now() - 1_000_000).toBeLessThan(HOUR + 600_000);
    const dead = relay().deadLetters;
    expect(dead.map((d) => 'envelope' in d && readText(d.envelope.argument))).toEqual(['unavailable one', 'unavailable two']);
    expect(dead[0]!.reason).toMatch(/^RETRY_BUDGET_SPENT: function "test\/journal" failed transiently on test\/journal\/a for 1\.\d h \(\d+ attempts; retry budget 1\.0 h\); last: RetryableError/);
    expect(store.peek(A).timers.size).toBe(0);
    expect(await inboxKeys(A)).toEqual([]);
  });

  it('says a budget of minutes in minutes', async () => {
    // Prepare
    const { store, dispatcher, relay, retry } = setup({ retryBudgetMs: 5 * 60_000, retryBackoff: { baseDelayMs: 60_000, maxDelayMs: 60_000 } });
    await dispatcher.dispatch([ingressEnvelope(A, 1, 'unavailable')]);

    // Act
    while (store.peek(A).backoff !== undefined) await retry(A);

    // Assess
    expect(relay().deadLetters[0]!.reason).toMatch(/^RETRY_BUDGET_SPENT: .* for [5-6]\.\d min \(\d+ attempts; retry budget 5\.0 min\)/);
  });

  it('dead-letters at the first transient failure with a budget of 0', async () => {
    // Prepare
    const { store, dispatcher, relay } = setup({ retryBudgetMs: 0 });

    // Act
    const outcome = await dispatcher.dispatch([ingressEnvelope(A, 1, 'unavailable')]);

    // Assess
    expect(outcome).toMatchObject({ applied: 0, deadLettered: 1, parked: 0, backingOff: [], failures: [] });
    expect(relay().deadLetters[0]!.reason).toMatch(/^RETRY_BUDGET_SPENT: .* for 0 s \(1 attempt; retry budget 0 s\)/);
    expect(store.peek(A).backoff).toBeUndefined();
  });

  it('leaves messages from other functions in the inbox while backing off, and applies each sender\'s in the order sent after', async () => {
    // Prepare
    const { fn, dispatcher, relay, retry, journal, inboxKeys } = setup();
    const sender = Address.of('test/journal', 's');
    await dispatcher.dispatch([ingressEnvelope(A, 1, 'unavailable')]);
    await dispatcher.dispatch([ingressEnvelope(sender, 2, `send ${A.key} m1`)]);
    await dispatcher.dispatch([ingressEnvelope(sender, 3, `send ${A.key} m2`)]);
    const [wakeUp1, wakeUp2] = relay().messages;

    // Act
    const whileParked = await dispatcher.dispatch([wakeUp2!, wakeUp1!]);
    const pendingWhileParked = await inboxKeys(A);
    fn.unavailable = false;
    await retry(A);

    // Assess
    expect(whileParked).toMatchObject({ applied: 0, duplicates: 0, parked: 0 });
    expect(pendingWhileParked).toHaveLength(3);
    expect(journal(A)).toBe('unavailable|m1|m2');
    expect(await inboxKeys(A)).toEqual([]);
  });

  it('ends a call that never answers at the deadline, parks its address and commits the others', async () => {
    // Prepare
    const { clock, dispatcher, journal } = setup();
    const stuck = Address.of('test/hang', 'x');

    // Act
    const outcome = await dispatcher.dispatch([ingressEnvelope(stuck, 1, 'hello'), ingressEnvelope(B, 2, 'fine')], { deadlineMs: clock.now() + 50 });

    // Assess
    expect(outcome).toMatchObject({ applied: 1, parked: 1, failures: [] });
    expect(outcome.backingOff.map((b) => b.address.key)).toEqual([stuck.key]);
    expect(outcome.backingOff[0]!.lastError).toContain("ran into the invocation's deadline after 50 ms without an answer");
    expect(journal(B)).toBe('fine');
  });

  it('applies nothing and parks the whole batch when a message fails transiently while the batch is retried message by message', async () => {
    // Prepare
    const { fn, dispatcher, relay, retry, journal } = setup();

    // Act
    const first = await dispatcher.dispatch([ingressEnvelope(A, 1, 'throw'), ingressEnvelope(A, 2, 'unavailable')]);
    const deadBefore = relay().deadLetters.length;
    fn.unavailable = false;
    const recovered = await retry(A);

    // Assess
    expect(first).toMatchObject({ applied: 0, deadLettered: 0, parked: 2 });
    expect(deadBefore).toBe(0);
    expect(recovered).toMatchObject({ applied: 1, deadLettered: 1 });
    expect(relay().deadLetters.map((d) => 'envelope' in d && readText(d.envelope.argument))).toEqual(['throw']);
    expect(journal(A)).toBe('unavailable');
  });

  it('applies a parked backlog larger than one inbox page in order, with a message arriving with the retry behind it', async () => {
    // Prepare
    const { fn, dispatcher, retry, journal, inboxKeys, store } = setup({ inboxPageSize: 2 });
    await dispatcher.dispatch([ingressEnvelope(A, 0, 'unavailable')]);
    for (let i = 1; i <= 4; i++) await dispatcher.dispatch([ingressEnvelope(A, i, `p${i}`)]);
    fn.unavailable = false;

    // Act
    const recovered = await retry(A, ingressEnvelope(A, 5, 'p5'));

    // Assess
    expect(recovered).toMatchObject({ applied: 6, parked: 1, failures: [] });
    expect(journal(A)).toBe('unavailable|p1|p2|p3|p4|p5');
    expect(store.peek(A).backoff).toBeUndefined();
    expect(await inboxKeys(A)).toEqual([]);
  });

  it('dead-letters a message that arrives while the address backs off and cannot be parked (too large), and keeps backing off', async () => {
    // Prepare: the store refuses any commit that parks the oversized message, as DynamoDB would its 400 KB item
    const { store, dispatcher, relay } = setup();
    await dispatcher.dispatch([ingressEnvelope(A, 1, 'unavailable')]);
    const original = store.commit.bind(store);
    store.commit = async (commit) => {
      if (commit.parked?.some((entry) => entry.envelopes.some((e) => readText(e.argument) === 'huge'))) throw new CommitTooLargeError('parked inbox entry would be 500000 bytes');
      return original(commit);
    };

    // Act
    const outcome = await dispatcher.dispatch([ingressEnvelope(A, 2, 'huge')]);

    // Assess
    expect(outcome).toMatchObject({ applied: 0, deadLettered: 1, parked: 0, failures: [] });
    expect(relay().deadLetters.map((d) => d.reason)).toEqual(['CommitTooLargeError: parked inbox entry would be 500000 bytes']);
    expect(store.peek(A).backoff?.attempts).toBe(1);
    expect(store.peek(A).timers.has(store.peek(A).backoff!.timerId)).toBe(true);
  });
});
