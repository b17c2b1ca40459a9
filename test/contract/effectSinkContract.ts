import { Address } from '../../runtime-lambda/core/Address';
import type { DeadLetter } from '../../runtime-lambda/core/AddressState';
import { type Effects, NO_EFFECTS } from '../../runtime-lambda/core/Effects';
import type { Envelope } from '../../runtime-lambda/core/Envelope';
import type { EffectSink } from '../../runtime-lambda/core/ports/EffectSink';
import { readText, textValue } from '../helpers/factories';

/** What arrived downstream of a sink, as the adapter under test can observe it. */
export interface Delivered {
  /** Messages by target address key, in arrival order. */
  readonly messages: ReadonlyMap<string, readonly Envelope[]>;
  /** Ids of the timers scheduled and not cancelled. */
  readonly pendingTimerIds: readonly string[];
  /** Egress records by egress name, in arrival order, as `id=text`. */
  readonly egress: ReadonlyMap<string, readonly string[]>;
  readonly deadLetters: readonly DeadLetter[];
}

export interface EffectSinkUnderTest {
  readonly sink: EffectSink;
  /** Everything delivered so far (waiting for in-flight deliveries as the adapter needs). */
  observe(): Promise<Delivered>;
  close?(): Promise<void>;
}

const owner = Address.of('contract/sender', 's');
const t1 = Address.of('contract/receiver', 'r1');
const t2 = Address.of('contract/receiver', 'r2');

function messageTo(target: Address, index: number): Envelope {
  return {
    id: `batch.m${index}`,
    target,
    caller: owner,
    argument: textValue(`m${index}`),
    origin: { kind: 'function', source: owner.key, position: String(100 + index) },
  };
}

const effects: Effects = {
  messages: [messageTo(t1, 0), messageTo(t2, 1), messageTo(t1, 2), messageTo(t1, 3)],
  timers: [
    { timerId: 'batch.t0', dueAtMs: 10_000, envelope: { id: 'batch.t0', target: owner, argument: textValue('wake'), origin: { kind: 'timer', timerId: 'batch.t0' } } },
    { timerId: 'batch.t1', dueAtMs: 20_000, envelope: { id: 'batch.t1', target: owner, argument: textValue('wake2'), origin: { kind: 'timer', timerId: 'batch.t1' } } },
  ],
  cancelledTimers: [],
  egress: [
    { id: 'batch.e0', egress: 'contract/alerts', argument: textValue('first') },
    { id: 'batch.e1', egress: 'contract/alerts', argument: textValue('second') },
  ],
  deadLetters: [{ id: 'in/0/7', address: t1.key, reason: 'Error: boom', atMs: 1, envelope: messageTo(t1, 9) }],
};

/**
 * The contract every {@link EffectSink} passes (the local runtime's, the AWS relay's):
 * everything committed arrives, messages keep their order per target, and publishing the
 * same effects again (an at-least-once relay) schedules no timer twice and reorders nothing.
 * Adapters must route egress `contract/alerts` somewhere `observe` can see.
 */
export function describeEffectSinkContract(name: string, make: () => Promise<EffectSinkUnderTest>): void {
  describe(`EffectSink contract: ${name}`, () => {
    let underTest: EffectSinkUnderTest;

    beforeEach(async () => {
      underTest = await make();
    });
    afterEach(async () => {
      await underTest.close?.();
    });

    it('delivers every message in order per target, every timer, egress record and dead letter', async () => {
      // Act
      await underTest.sink.publish(effects);
      const delivered = await underTest.observe();

      // Assess
      expect(delivered.messages.get(t1.key)?.map((m) => readText(m.argument))).toEqual(['m0', 'm2', 'm3']);
      expect(delivered.messages.get(t2.key)?.map((m) => readText(m.argument))).toEqual(['m1']);
      expect(delivered.messages.get(t1.key)?.[0]).toMatchObject({ id: 'batch.m0', caller: owner, origin: { kind: 'function', source: owner.key, position: '100' } });
      expect([...delivered.pendingTimerIds].sort()).toEqual(['batch.t0', 'batch.t1']);
      expect(delivered.egress.get('contract/alerts')).toEqual(['batch.e0=first', 'batch.e1=second']);
      expect(delivered.deadLetters.map((d) => [d.id, d.address, d.reason])).toEqual([['in/0/7', t1.key, 'Error: boom']]);
    });

    it('schedules a timer once however often the same effects are published', async () => {
      // Act
      await underTest.sink.publish(effects);
      await underTest.sink.publish(effects);
      const delivered = await underTest.observe();

      // Assess
      expect([...delivered.pendingTimerIds].sort()).toEqual(['batch.t0', 'batch.t1']);
      const t1Ids = delivered.messages.get(t1.key)!.map((m) => m.id);
      expect(t1Ids.filter((id, i) => t1Ids.indexOf(id) === i)).toEqual(['batch.m0', 'batch.m2', 'batch.m3']);
    });

    it('deletes a cancelled timer', async () => {
      // Act
      await underTest.sink.publish(effects);
      await underTest.sink.publish({ ...NO_EFFECTS, cancelledTimers: [{ timerId: 'batch.t0', owner }] });
      const delivered = await underTest.observe();

      // Assess
      expect(delivered.pendingTimerIds).toEqual(['batch.t1']);
    });
  });
}
