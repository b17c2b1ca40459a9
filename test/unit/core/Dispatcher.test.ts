import { randomBytes } from 'node:crypto';
import { Address } from '../../../runtime-lambda/core/Address';
import { Dispatcher } from '../../../runtime-lambda/core/dispatch/Dispatcher';
import type { Envelope } from '../../../runtime-lambda/core/Envelope';
import { CommitTooLargeError, RetryableError, StateConflictError, TerminalError } from '../../../runtime-lambda/core/errors';
import type { Commit } from '../../../runtime-lambda/core/ports/StateStore';
import { InMemoryStateStore } from '../../../runtime-lambda/local/InMemoryStateStore';
import { SimulatedClock } from '../../../runtime-lambda/local/SimulatedClock';
import { ingressEnvelope, readText, textValue } from '../../helpers/factories';
import { JournalFunction, resolverOf } from '../../helpers/journalFunction';

const A = Address.of('test/journal', 'a');
const B = Address.of('test/journal', 'b');

function setup(options: { store?: InMemoryStateStore; fn?: JournalFunction } = {}) {
  const store = options.store ?? new InMemoryStateStore();
  const fn = options.fn ?? new JournalFunction();
  const clock = new SimulatedClock(1_000_000);
  const dispatcher = new Dispatcher({
    store,
    functions: resolverOf({ 'test/journal': fn }),
    clock,
    sleep: async () => undefined,
  });
  return { store, fn, clock, dispatcher };
}

const journalOf = (store: InMemoryStateStore, address: Address) => readText(store.peek(address).values.get('journal'));

describe('Class: Dispatcher', () => {
  it('applies the messages of each address in batch order, interleaved addresses included', async () => {
    // Prepare
    const { store, dispatcher } = setup();
    const batch = [
      ingressEnvelope(A, 1, 'a1'),
      ingressEnvelope(B, 2, 'b1'),
      ingressEnvelope(A, 3, 'a2'),
      ingressEnvelope(B, 4, 'b2'),
      ingressEnvelope(A, 5, 'a3'),
    ];

    // Act
    const outcome = await dispatcher.dispatch(batch);

    // Assess
    expect(outcome).toEqual({ applied: 5, duplicates: 0, deadLettered: 0, parked: 0, backingOff: [], failures: [] });
    expect(journalOf(store, A)).toBe('a1|a2|a3');
    expect(journalOf(store, B)).toBe('b1|b2');
  });

  it('invokes each address once with all its pending messages, after one missing-state round trip', async () => {
    // Prepare
    const { fn, dispatcher } = setup();

    // Act
    await dispatcher.dispatch([ingressEnvelope(A, 1, 'x'), ingressEnvelope(A, 2, 'y'), ingressEnvelope(A, 3, 'z')]);
    await dispatcher.dispatch([ingressEnvelope(A, 4, 'w')]);

    // Assess
    expect(fn.requests.map((r) => r.invocations.length)).toEqual([3, 3, 1]);
    expect(fn.requests[0]!.state).toEqual([]);
    expect(fn.requests[1]!.state).toEqual([{ name: 'journal', value: { typename: 'test/text', value: null } }]);
    expect(readText(fn.requests[2]!.state[0]!.value)).toBe('x|y|z');
  });

  it('changes nothing when the same batch is delivered again', async () => {
    // Prepare
    const { store, fn, dispatcher } = setup();
    const batch = [ingressEnvelope(A, 1, 'send test/journal/b hi'), ingressEnvelope(A, 2, 'egress out')];
    await dispatcher.dispatch(batch);
    const before = store.peek(A);
    const callsBefore = fn.requests.length;

    // Act
    const outcome = await dispatcher.dispatch(batch);

    // Assess
    expect(outcome).toEqual({ applied: 0, duplicates: 2, deadLettered: 0, parked: 0, backingOff: [], failures: [] });
    expect(store.peek(A)).toBe(before);
    expect(fn.requests.length).toBe(callsBefore);
    expect(store.outbox).toHaveLength(1);
  });

  it('applies only the new tail of a redelivered batch that overlaps what was committed', async () => {
    // Prepare
    const { store, dispatcher } = setup();
    await dispatcher.dispatch([ingressEnvelope(A, 1, 'one'), ingressEnvelope(A, 2, 'two')]);

    // Act
    const outcome = await dispatcher.dispatch([ingressEnvelope(A, 1, 'one'), ingressEnvelope(A, 2, 'two'), ingressEnvelope(A, 3, 'three')]);

    // Assess
    expect(outcome.applied).toBe(1);
    expect(outcome.duplicates).toBe(2);
    expect(journalOf(store, A)).toBe('one|two|three');
  });

  it('produces deterministic effect ids and sender positions, so a re-run plans the same commit', async () => {
    // Prepare
    const commits: Commit[][] = [[], []];
    for (const run of [0, 1]) {
      const store = new InMemoryStateStore();
      const original = store.commit.bind(store);
      store.commit = async (commit) => {
        commits[run]!.push(commit);
        return original(commit);
      };
      const { dispatcher } = setup({ store });

      // Act
      await dispatcher.dispatch([
        ingressEnvelope(A, 7, 'send test/journal/b first'),
        ingressEnvelope(A, 8, 'after 5000 tok test/journal/b later'),
        ingressEnvelope(A, 9, 'egress alert'),
        ingressEnvelope(A, 10, 'send test/journal/b second'),
      ]);
    }

    // Assess
    const [first, second] = commits.map((c) => c[0]!);
    expect(first!.token).toBe(second!.token);
    expect(JSON.stringify(first!.effects)).toBe(JSON.stringify(second!.effects));
    const { messages, timers, egress } = first!.effects;
    expect(messages.map((m) => [m.id, m.target.key, readText(m.argument), m.caller?.key])).toEqual([
      [`${first!.token}.m0`, B.key, 'first', A.key],
      [`${first!.token}.m1`, B.key, 'second', A.key],
    ]);
    const positions = messages.map((m) => (m.origin.kind === 'function' ? BigInt(m.origin.position) : -1n));
    expect(positions[1]! - positions[0]!).toBe(1n);
    expect(timers.map((t) => [t.timerId, t.dueAtMs, t.envelope.target.key, t.envelope.forwardTo?.key])).toEqual([
      [`${first!.token}.t0`, 1_005_000, A.key, B.key],
    ]);
    expect(egress.map((e) => [e.id, e.egress, readText(e.argument)])).toEqual([[`${first!.token}.e0`, 'test/out', 'alert']]);
    expect(first!.state.timers.get(`${first!.token}.t0`)).toEqual({ dueAtMs: 1_005_000, version: 1, cancellationToken: 'tok' });
  });

  it('drops a duplicate function message by the sender mark, and applies the next one', async () => {
    // Prepare
    const { store, dispatcher } = setup();
    await dispatcher.dispatch([ingressEnvelope(A, 1, 'send test/journal/b one'), ingressEnvelope(A, 2, 'send test/journal/b two')]);
    const [sent] = store.takeOutbox();
    const [one, two] = sent!.effects.messages;

    // Act
    const first = await dispatcher.dispatch([one!, two!]);
    const again = await dispatcher.dispatch([one!, two!]);

    // Assess
    expect(first.applied).toBe(2);
    expect(again.duplicates).toBe(2);
    expect(journalOf(store, B)).toBe('one|two');
  });

  it('cancels a delayed message exactly: the timer leaves the pending set and a late firing is dropped', async () => {
    // Prepare
    const { store, dispatcher } = setup();
    await dispatcher.dispatch([ingressEnvelope(A, 1, 'after 1000 tok test/journal/a ping')]);
    const [scheduled] = store.takeOutbox();
    const timer = scheduled!.effects.timers[0]!;

    // Act
    await dispatcher.dispatch([ingressEnvelope(A, 2, 'cancel tok')]);
    const [cancelled] = store.takeOutbox();
    const late = await dispatcher.dispatch([timer.envelope]);

    // Assess
    expect(cancelled!.effects.cancelledTimers).toEqual([{ timerId: timer.timerId, owner: A }]);
    expect(store.peek(A).timers.size).toBe(0);
    expect(late).toEqual({ applied: 0, duplicates: 1, deadLettered: 0, parked: 0, backingOff: [], failures: [] });
    expect(journalOf(store, A)).toBe('after 1000 tok test/journal/a ping|cancel tok');
  });

  it('fires a pending timer once, forwarding it from its owner to another address', async () => {
    // Prepare
    const { store, dispatcher } = setup();
    await dispatcher.dispatch([ingressEnvelope(A, 1, 'after 1000 - test/journal/b hello')]);
    const timer = store.takeOutbox()[0]!.effects.timers[0]!;

    // Act
    const fired = await dispatcher.dispatch([timer.envelope]);
    const again = await dispatcher.dispatch([timer.envelope]);

    // Assess
    expect(fired.applied).toBe(1);
    expect(again.duplicates).toBe(1);
    const forwarded = store.takeOutbox();
    expect(forwarded).toHaveLength(1);
    expect(forwarded[0]!.effects.messages.map((m) => [m.target.key, m.caller?.key, readText(m.argument)])).toEqual([[B.key, A.key, 'hello']]);
    expect(store.peek(A).timers.size).toBe(0);
  });

  it('dead-letters only the failing message of a batch, commits the rest, and moves on', async () => {
    // Prepare
    const { store, dispatcher } = setup();

    // Act
    const outcome = await dispatcher.dispatch([ingressEnvelope(A, 1, 'before'), ingressEnvelope(A, 2, 'throw'), ingressEnvelope(A, 3, 'later')]);

    // Assess
    expect(outcome).toEqual({ applied: 2, duplicates: 0, deadLettered: 1, parked: 0, backingOff: [], failures: [] });
    expect(journalOf(store, A)).toBe('before|later');
    const [entry] = store.takeOutbox();
    expect(entry!.effects.deadLetters).toHaveLength(1);
    const dead = entry!.effects.deadLetters[0]!;
    expect(dead.address).toBe(A.key);
    expect('envelope' in dead && readText(dead.envelope.argument)).toBe('throw');
    expect(dead.reason).toBe(
      'TerminalError: function "test/journal" failed on test/journal/a: TerminalError: journal function told to throw on test/journal/a',
    );
  });

  it('dead-letters a message to an unknown function type with a reason naming the type', async () => {
    // Prepare
    const { store, dispatcher } = setup();
    const stray = ingressEnvelope('test/nobody/x', 1, 'hello');

    // Act
    const outcome = await dispatcher.dispatch([stray]);

    // Assess
    expect(outcome.deadLettered).toBe(1);
    expect(store.takeOutbox()[0]!.effects.deadLetters[0]!.reason).toBe(
      'TerminalError: no function is registered for type "test/nobody" (message to test/nobody/x): register it in the application\'s function list',
    );
  });

  it('retries a transient function failure and applies the message once', async () => {
    // Prepare
    const fn = new JournalFunction();
    let failuresLeft = 2;
    const flaky = {
      invoke: async (request: Parameters<JournalFunction['invoke']>[0]) => {
        if (failuresLeft-- > 0) throw new RetryableError('throttled');
        return fn.invoke(request);
      },
    };
    const store = new InMemoryStateStore();
    const dispatcher = new Dispatcher({ store, functions: resolverOf({ 'test/journal': flaky }), clock: new SimulatedClock(), sleep: async () => undefined });

    // Act
    const outcome = await dispatcher.dispatch([ingressEnvelope(A, 1, 'once')]);

    // Assess
    expect(outcome.applied).toBe(1);
    expect(journalOf(store, A)).toBe('once');
  });

  it('does not retry a terminal function failure', async () => {
    // Prepare
    let calls = 0;
    const broken = {
      invoke: async () => {
        calls++;
        throw new TerminalError('garbage response');
      },
    };
    const { store } = setup();
    const dispatcher = new Dispatcher({ store, functions: resolverOf({ 'test/journal': broken }), clock: new SimulatedClock(), sleep: async () => undefined });

    // Act
    const outcome = await dispatcher.dispatch([ingressEnvelope(A, 1, 'x')]);

    // Assess
    expect(calls).toBe(1);
    expect(outcome.deadLettered).toBe(1);
  });

  it('loses nothing when it crashes after invoking and before committing: the redelivery applies it once', async () => {
    // Prepare
    const store = new InMemoryStateStore();
    const original = store.commit.bind(store);
    let crash = true;
    store.commit = async (commit) => {
      if (crash) throw new Error('process killed before commit');
      return original(commit);
    };
    const { dispatcher } = setup({ store });
    const batch = [ingressEnvelope(A, 1, 'send test/journal/b x'), ingressEnvelope(A, 2, 'two')];

    // Act
    const crashed = await dispatcher.dispatch(batch);
    crash = false;
    const redelivered = await dispatcher.dispatch(batch);

    // Assess
    expect(crashed.failures.map((f) => [f.address.key, f.envelopes.length, f.error.message])).toEqual([[A.key, 2, 'process killed before commit']]);
    expect(redelivered.applied).toBe(2);
    expect(journalOf(store, A)).toBe('send test/journal/b x|two');
    expect(store.outbox).toHaveLength(1);
  });

  it('loses nothing when it crashes after committing and before checkpointing: the redelivery is all duplicates', async () => {
    // Prepare
    const { store, dispatcher } = setup();
    const batch = [ingressEnvelope(A, 1, 'egress once')];
    await dispatcher.dispatch(batch); // committed; the checkpoint "never happened"

    // Act
    const redelivered = await dispatcher.dispatch(batch);

    // Assess
    expect(redelivered.duplicates).toBe(1);
    expect(store.outbox.flatMap((e) => e.effects.egress)).toHaveLength(1);
  });

  it('re-runs a batch that lost the version race, on the winner\'s state, applying each message once', async () => {
    // Prepare
    const store = new InMemoryStateStore();
    const first = setup({ store });
    const second = setup({ store });
    const original = store.commit.bind(store);
    let conflicts = 0;
    store.commit = async (commit) => {
      try {
        return await original(commit);
      } catch (error) {
        if (error instanceof StateConflictError) conflicts++;
        throw error;
      }
    };

    // Act
    await Promise.all([
      first.dispatcher.dispatch([ingressEnvelope(A, 1, 'one', 'in/0')]),
      second.dispatcher.dispatch([ingressEnvelope(A, 1, 'uno', 'in/1')]),
    ]);

    // Assess
    expect(conflicts).toBe(1);
    expect(store.peek(A).version).toBe(2);
    expect(journalOf(store, A)!.split('|').sort()).toEqual(['one', 'uno']);
  });

  it('never shows an expired value to the function and drops it at the next commit', async () => {
    // Prepare
    const fn = new JournalFunction({ name: 'journal', typename: 'test/text', expiration: { mode: 'after-write', afterMs: 1000 } });
    const { store, clock, dispatcher } = setup({ fn });
    await dispatcher.dispatch([ingressEnvelope(A, 1, 'old')]);

    // Act
    clock.set(clock.now() + 1000);
    await dispatcher.dispatch([ingressEnvelope(A, 2, 'new')]);

    // Assess
    expect(journalOf(store, A)).toBe('new');
    expect(store.peek(A).values.get('journal')?.expiration).toEqual({ mode: 'after-write', afterMs: 1000 });
  });

  it('keeps an after-invoke value alive while the address is called, and expires it when idle', async () => {
    // Prepare
    const fn = new JournalFunction({ name: 'journal', typename: 'test/text', expiration: { mode: 'after-invoke', afterMs: 1000 } });
    const { store, clock, dispatcher } = setup({ fn });
    await dispatcher.dispatch([ingressEnvelope(A, 1, 'a')]);

    // Act
    clock.set(clock.now() + 900);
    await dispatcher.dispatch([ingressEnvelope(A, 2, 'b')]);
    clock.set(clock.now() + 900);
    await dispatcher.dispatch([ingressEnvelope(A, 3, 'c')]);
    const alive = journalOf(store, A);
    clock.set(clock.now() + 1000);
    await dispatcher.dispatch([ingressEnvelope(A, 4, 'd')]);

    // Assess
    expect(alive).toBe('a|b|c');
    expect(journalOf(store, A)).toBe('d');
  });

  it('reports a store outage as failures of every address, so the whole batch is redelivered', async () => {
    // Prepare
    const store = new InMemoryStateStore();
    store.load = async () => {
      throw new RetryableError('DynamoDB unavailable');
    };
    const { dispatcher } = setup({ store });
    const batch: Envelope[] = [ingressEnvelope(A, 1, 'x'), ingressEnvelope(B, 2, 'y')];

    // Act
    const outcome = await dispatcher.dispatch(batch);

    // Assess
    expect(outcome.failures.map((f) => [f.address.key, f.error.message])).toEqual([
      [A.key, 'DynamoDB unavailable'],
      [B.key, 'DynamoDB unavailable'],
    ]);
  });

  it('sends the typed value through unchanged', async () => {
    // Prepare
    const { store, dispatcher } = setup();
    const value = textValue('send test/journal/b ünïcödé ✓');

    // Act
    await dispatcher.dispatch([{ ...ingressEnvelope(A, 1, ''), argument: value }]);

    // Assess
    expect(readText(store.takeOutbox()[0]!.effects.messages[0]!.argument)).toBe('ünïcödé ✓');
  });
});

describe('Class: Dispatcher (a commit the store can never write)', () => {
  const kb150 = (label: string) => `${label}:${'x'.repeat(150_000)}`;

  it('splits a batch whose state would pass the 400 KB item limit into commits that fit, in order; only the message that cannot fit is a dead letter', async () => {
    // Prepare: each message adds 150 KB to the journal, so the third one cannot fit
    const { store, dispatcher } = setup();
    const batch = [ingressEnvelope(A, 1, kb150('one')), ingressEnvelope(A, 2, kb150('two')), ingressEnvelope(A, 3, kb150('three')), ingressEnvelope(B, 4, 'other')];

    // Act
    const outcome = await dispatcher.dispatch(batch);

    // Assess
    expect(outcome).toMatchObject({ applied: 3, deadLettered: 1, failures: [] });
    expect(journalOf(store, A)!.split('|').map((entry) => entry.split(':')[0])).toEqual(['one', 'two']);
    expect(journalOf(store, B)).toBe('other');
    const [dead] = store.outbox.flatMap((item) => item.effects.deadLetters);
    expect('envelope' in dead! && readText(dead.envelope.argument)!.startsWith('three:')).toBe(true);
    expect(dead!.reason).toMatch(/^CommitTooLargeError: state item of test\/journal\/a would be \d+ bytes, over DynamoDB's item limit of 409600 bytes \(400 KB\)/);
    expect(store.peek(A).marks.get('in/0')?.position).toBe('3');
  });

  it('splits a batch whose messages would pass the item limit, so that every message is sent', async () => {
    // Prepare: three 130 KB messages (random, so they do not deflate) to one receiver do not fit one outbox item; each fits alone
    const { store, dispatcher } = setup();
    const batch = ['one', 'two', 'three'].map((label, i) => ingressEnvelope(A, i + 1, `send ${B.key} ${label}:${randomBytes(97_500).toString('base64')}`));

    // Act
    const outcome = await dispatcher.dispatch(batch);

    // Assess
    expect(outcome).toMatchObject({ applied: 3, deadLettered: 0, failures: [] });
    expect(store.outbox.flatMap((item) => item.effects.messages).map((m) => readText(m.argument)!.split(':')[0])).toEqual(['one', 'two', 'three']);
  });

  it('commits each message as a dead letter with the store\'s reason when none can be written, advancing the marks, instead of failing forever', async () => {
    // Prepare
    const store = new InMemoryStateStore();
    const original = store.commit.bind(store);
    store.commit = async (commit) => {
      if (commit.effects.deadLetters.length === 0) throw new CommitTooLargeError('state item of test/journal/a would be 500000 bytes, over the limit');
      return original(commit);
    };
    const { dispatcher } = setup({ store });
    const batch = [ingressEnvelope(A, 1, 'huge'), ingressEnvelope(A, 2, 'also')];

    // Act
    const outcome = await dispatcher.dispatch(batch);
    const again = await dispatcher.dispatch(batch);

    // Assess
    expect(outcome).toEqual({ applied: 0, duplicates: 0, deadLettered: 2, parked: 0, backingOff: [], failures: [] });
    expect(again.duplicates).toBe(2);
    expect(journalOf(store, A)).toBeUndefined();
    expect(store.outbox.flatMap((item) => item.effects.deadLetters).map((d) => ['envelope' in d && readText(d.envelope.argument), d.reason])).toEqual([
      ['huge', 'CommitTooLargeError: state item of test/journal/a would be 500000 bytes, over the limit'],
      ['also', 'CommitTooLargeError: state item of test/journal/a would be 500000 bytes, over the limit'],
    ]);
  });
});
