import { Address } from '../../../runtime-lambda/core/Address';
import type { EgressRecord } from '../../../runtime-lambda/core/Effects';
import { InvalidInputError } from '../../../runtime-lambda/core/errors';
import { LocalRuntime } from '../../../runtime-lambda/local/LocalRuntime';
import { SimulatedClock } from '../../../runtime-lambda/local/SimulatedClock';
import type { TimerDeliveryOptions } from '../../../runtime-lambda/local/TimerQueue';
import { readText, textValue } from '../../helpers/factories';
import { JournalFunction, resolverOf } from '../../helpers/journalFunction';

const A = Address.of('test/journal', 'a');
const B = Address.of('test/journal', 'b');

function runtimeWith(egress: EgressRecord[] = [], clock = new SimulatedClock(0), timers?: TimerDeliveryOptions) {
  const fn = new JournalFunction();
  const runtime = new LocalRuntime({
    functions: resolverOf({ 'test/journal': fn }),
    ingresses: [{ name: 'commands', target: 'test/journal' }],
    egresses: { 'test/out': (record) => void egress.push(record) },
    clock,
    partitions: 3,
    dispatcher: { sleep: async () => undefined },
    timers,
  });
  return { runtime, fn, clock };
}

const journal = (runtime: LocalRuntime, address: Address) => readText(runtime.state(address).values.get('journal'));

describe('Class: LocalRuntime', () => {
  it('routes ingress records by key to their function instance, in order', async () => {
    // Prepare
    const { runtime } = runtimeWith();

    // Act
    for (const text of ['1', '2', '3']) runtime.ingest('commands', 'a', textValue(text));
    runtime.ingest('commands', 'b', textValue('x'));
    await runtime.runUntilIdle();

    // Assess
    expect(journal(runtime, A)).toBe('1|2|3');
    expect(journal(runtime, B)).toBe('x');
    expect(runtime.stats.applied).toBe(4);
  });

  it('carries messages between functions, cycles included, until the conversation ends', async () => {
    // Prepare
    const { runtime } = runtimeWith();

    // Act
    runtime.ingest('commands', 'a', textValue('send test/journal/b send test/journal/a send test/journal/b end'));
    await runtime.runUntilIdle();

    // Assess
    expect(journal(runtime, A)).toBe('send test/journal/b send test/journal/a send test/journal/b end|send test/journal/b end');
    expect(journal(runtime, B)).toBe('send test/journal/a send test/journal/b end|end');
  });

  it('delivers egress records to their handler with deterministic ids', async () => {
    // Prepare
    const out: EgressRecord[] = [];
    const { runtime } = runtimeWith(out);

    // Act
    runtime.ingest('commands', 'a', textValue('egress hello'));
    await runtime.runUntilIdle();

    // Assess
    expect(out.map((r) => [r.egress, readText(r.argument)])).toEqual([['test/out', 'hello']]);
    expect(out[0]!.id).toMatch(/^[A-Za-z0-9_-]{24}\.e0$/);
  });

  it('fires a delayed message at its due time of simulated time, not before', async () => {
    // Prepare
    const { runtime, clock } = runtimeWith();
    runtime.ingest('commands', 'a', textValue('after 60000 - test/journal/b wake'));
    await runtime.runUntilIdle();

    // Act
    await runtime.advanceTo(59_999);
    const before = journal(runtime, B);
    await runtime.advanceTo(120_000);

    // Assess
    expect(before).toBeUndefined();
    expect(journal(runtime, B)).toBe('wake');
    expect(runtime.stats.timersFired).toBe(1);
    expect(runtime.pendingTimers).toBe(0);
    expect(clock.now()).toBe(120_000);
  });

  it('fires timers in due order, each at its own time, including timers set by fired timers (exact precision)', async () => {
    // Prepare
    const { runtime } = runtimeWith([], new SimulatedClock(0), { precision: 'exact' });
    runtime.ingest('commands', 'a', textValue('after 300 - test/journal/b third'));
    runtime.ingest('commands', 'a', textValue('after 100 - test/journal/b after 100 - test/journal/b second'));
    runtime.ingest('commands', 'a', textValue('after 50 - test/journal/b first'));

    // Act
    await runtime.advanceBy(1000);

    // Assess
    expect(journal(runtime, B)).toBe('first|after 100 - test/journal/b second|second|third');
  });

  it('delivers as AWS would by default: short delays at whole seconds after the relay (SQS), long ones at the next whole minute (Scheduler)', async () => {
    // Prepare
    const start = Date.UTC(2026, 0, 1, 9, 0, 0, 250);
    const { runtime } = runtimeWith([], new SimulatedClock(start));
    runtime.ingest('commands', 'a', textValue('after 1500 - test/journal/b sqs'));
    runtime.ingest('commands', 'a', textValue(`after ${30 * 60_000 + 20_000} - test/journal/b scheduler`));
    await runtime.runUntilIdle();
    const fired: [string | undefined, number][] = [];
    const watch = async (to: number) => {
      await runtime.advanceTo(to);
      fired.push([journal(runtime, B), to - start]);
    };

    // Act
    await watch(start + 1999); // due at +1.5 s; SQS delays whole seconds: +2 s
    await watch(start + 2000);
    await watch(Date.UTC(2026, 0, 1, 9, 30, 59, 999)); // due 09:30:20.250; Scheduler: 09:31:00
    await watch(Date.UTC(2026, 0, 1, 9, 31));

    // Assess
    expect(fired.map(([text]) => text)).toEqual([undefined, 'sqs', 'sqs', 'sqs|scheduler']);
  });

  it('takes the SQS path up to the configured threshold only', async () => {
    // Prepare: a 10-minute delay with a 5-minute threshold goes through Scheduler.
    const start = Date.UTC(2026, 0, 1, 9, 0, 30);
    const { runtime } = runtimeWith([], new SimulatedClock(start), { shortDelayMaxMs: 5 * 60_000 });
    runtime.ingest('commands', 'a', textValue('after 600000 - test/journal/b late'));
    await runtime.runUntilIdle();

    // Act
    await runtime.advanceTo(start + 600_000);
    const atDue = journal(runtime, B);
    await runtime.advanceTo(Date.UTC(2026, 0, 1, 9, 11));

    // Assess
    expect(atDue).toBeUndefined();
    expect(journal(runtime, B)).toBe('late');
  });

  it('never delivers a cancelled delayed message', async () => {
    // Prepare
    const { runtime } = runtimeWith();
    runtime.ingest('commands', 'a', textValue('after 1000 tok test/journal/b never'));
    runtime.ingest('commands', 'a', textValue('after 2000 other test/journal/b kept'));
    await runtime.runUntilIdle();

    // Act
    runtime.ingest('commands', 'a', textValue('cancel tok'));
    await runtime.advanceBy(5000);

    // Assess
    expect(journal(runtime, B)).toBe('kept');
    expect(runtime.state(A).timers.size).toBe(0);
  });

  it('keeps a dead letter for a failing message and carries on with the others', async () => {
    // Prepare
    const { runtime } = runtimeWith();

    // Act
    runtime.ingest('commands', 'a', textValue('throw'));
    runtime.ingest('commands', 'a', textValue('fine'));
    await runtime.runUntilIdle();

    // Assess
    expect(journal(runtime, A)).toBe('fine');
    expect(runtime.deadLetters.map((d) => [d.address, 'envelope' in d ? readText(d.envelope.argument) : undefined])).toEqual([[A.key, 'throw']]);
  });

  it('rides out a 20-minute outage of one function type: its messages wait in order while the other type keeps working, and nothing becomes a dead letter', async () => {
    // Prepare: test/flaky answers "unavailable" until minute 20
    const clock = new SimulatedClock(0);
    const flaky = new JournalFunction();
    const steady = new JournalFunction();
    const runtime = new LocalRuntime({
      functions: resolverOf({ 'test/flaky': flaky, 'test/journal': steady }),
      ingresses: [
        { name: 'flaky', target: 'test/flaky' },
        { name: 'commands', target: 'test/journal' },
      ],
      clock,
      dispatcher: { sleep: async () => undefined },
    });
    const OUTAGE_MS = 20 * 60_000;

    // Act: one message a minute to each type during the outage, then the function comes back
    for (let minute = 0; minute < 20; minute++) {
      runtime.ingest('flaky', 'f', textValue(`unavailable ${minute}`));
      runtime.ingest('commands', 'a', textValue(String(minute)));
      await runtime.advanceTo(minute * 60_000 + 30_000);
    }
    const appliedDuringOutage = journal(runtime, A);
    const backoffDuringOutage = runtime.state(Address.of('test/flaky', 'f')).backoff;
    flaky.unavailable = false;
    await runtime.advanceTo(OUTAGE_MS + 11 * 60_000);

    // Assess
    expect(appliedDuringOutage).toBe(Array.from({ length: 20 }, (_, i) => String(i)).join('|'));
    expect(backoffDuringOutage?.attempts).toBeGreaterThanOrEqual(5);
    expect(readText(runtime.state(Address.of('test/flaky', 'f')).values.get('journal'))).toBe(Array.from({ length: 20 }, (_, i) => `unavailable ${i}`).join('|'));
    expect(runtime.state(Address.of('test/flaky', 'f')).backoff).toBeUndefined();
    expect(runtime.deadLetters).toEqual([]);
    expect(runtime.stats.parked).toBeGreaterThanOrEqual(20);
    expect(runtime.pendingTimers).toBe(0);
  });

  it('dead-letters a record for an egress nobody configured, naming the configured ones', async () => {
    // Prepare
    const runtime = new LocalRuntime({
      functions: resolverOf({ 'test/journal': new JournalFunction() }),
      ingresses: [{ name: 'commands', target: 'test/journal' }],
    });

    // Act
    runtime.ingest('commands', 'a', textValue('egress lost?'));
    await runtime.runUntilIdle();

    // Assess
    expect(runtime.deadLetters).toHaveLength(1);
    expect(runtime.deadLetters[0]!.reason).toBe('no egress named "test/out" is configured: configured egresses are none');
    expect('egressRecord' in runtime.deadLetters[0]! && readText(runtime.deadLetters[0]!.egressRecord.argument)).toBe('lost?');
  });

  it('rejects a record for an unknown ingress with the list of known ones', () => {
    // Prepare
    const { runtime } = runtimeWith();

    // Act
    const act = () => runtime.ingest('transactions', 'a', textValue('x'));

    // Assess
    expect(act).toThrow(InvalidInputError);
    expect(act).toThrow('unknown ingress "transactions": configured ingresses are "commands"');
  });

  it('refuses to move simulated time backwards', async () => {
    // Prepare
    const { runtime } = runtimeWith(undefined, new SimulatedClock(5000));

    // Act
    const act = runtime.advanceTo(10);

    // Assess
    await expect(act).rejects.toThrow(InvalidInputError);
    await expect(act).rejects.toThrow('cannot move the simulated clock from 1970-01-01T00:00:05.000Z back to 10: time only moves forward');
  });

  it('redelivers the messages of an address whose commit failed, and applies them once', async () => {
    // Prepare
    const { runtime } = runtimeWith();
    const original = runtime.store.commit.bind(runtime.store);
    let failuresLeft = 2;
    runtime.store.commit = async (commit) => {
      if (failuresLeft-- > 0) throw new Error('injected store failure');
      return original(commit);
    };

    // Act
    runtime.ingest('commands', 'a', textValue('one'));
    runtime.ingest('commands', 'a', textValue('two'));
    await runtime.runUntilIdle();

    // Assess
    expect(journal(runtime, A)).toBe('one|two');
    expect(runtime.state(A).version).toBe(1);
  });

  it('counts commit failures in a row: an address that got through starts again from zero', async () => {
    // Prepare
    const { runtime } = runtimeWith();
    const original = runtime.store.commit.bind(runtime.store);
    let failuresLeft = 0;
    runtime.store.commit = async (commit) => {
      if (failuresLeft > 0) {
        failuresLeft--;
        throw new Error('injected store failure');
      }
      return original(commit);
    };

    // Act: nine failures, a success, nine failures again (ten in a row would be fatal)
    failuresLeft = 9;
    runtime.ingest('commands', 'a', textValue('one'));
    await runtime.runUntilIdle();
    failuresLeft = 9;
    runtime.ingest('commands', 'a', textValue('two'));
    await runtime.runUntilIdle();

    // Assess
    expect(journal(runtime, A)).toBe('one|two');
    expect(runtime.state(A).version).toBe(2);
  });
});
