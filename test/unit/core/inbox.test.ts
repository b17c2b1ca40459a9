import { Address } from '../../../runtime-lambda/core/Address';
import { Dispatcher } from '../../../runtime-lambda/core/dispatch/Dispatcher';
import type { Envelope } from '../../../runtime-lambda/core/Envelope';
import { encodeStateItem } from '../../../runtime-lambda/aws/stateItem';
import { dynamoItemSize } from '../../../runtime-lambda/aws/dynamoItemSize';
import { InMemoryStateStore } from '../../../runtime-lambda/local/InMemoryStateStore';
import { SimulatedClock } from '../../../runtime-lambda/local/SimulatedClock';
import { ingressEnvelope, readText } from '../../helpers/factories';
import { JournalFunction, resolverOf } from '../../helpers/journalFunction';

const HUB = Address.of('test/journal', 'hub');

/** An in-memory store whose inbox clearing can be made to fail (a crash between the commit and the clear). */
class ClearFailingStore extends InMemoryStateStore {
  failClears = false;
  override async clearInbox(address: Address, keys: readonly string[]): Promise<void> {
    if (this.failClears) throw new Error('injected: the dispatcher died before clearing the inbox');
    return super.clearInbox(address, keys);
  }
}

function setup(inboxPageSize?: number) {
  const store = new ClearFailingStore();
  const fn = new JournalFunction();
  const notCleared: string[] = [];
  const dispatcher = new Dispatcher({
    store,
    functions: resolverOf({ 'test/journal': fn }),
    clock: new SimulatedClock(1_000_000),
    sleep: async () => undefined,
    onInboxNotCleared: (address, error) => notCleared.push(`${address.key}: ${error.message}`),
    ...(inboxPageSize ? { inboxPageSize } : {}),
  });
  /** The wake-ups the relay would put on the message stream, from the outbox, oldest first. */
  const wakeUps = (): Envelope[] => store.takeOutbox().flatMap((entry) => entry.effects.messages);
  const journal = (address: Address) => readText(store.peek(address).values.get('journal'));
  return { store, fn, dispatcher, wakeUps, journal, notCleared };
}

describe('Inbox: messages between functions', () => {
  it('applies a sender\'s messages in the order sent when the later one arrives first, and drops nothing', async () => {
    // Prepare: S commits m1, then m2, both to the hub (the review's relay-reordering scenario)
    const { store, dispatcher, wakeUps, journal } = setup();
    const sender = Address.of('test/journal', 's');
    await dispatcher.dispatch([ingressEnvelope(sender, 1, `send ${HUB.key} m1`)]);
    await dispatcher.dispatch([ingressEnvelope(sender, 2, `send ${HUB.key} m2`)]);
    const [wakeUp1, wakeUp2] = wakeUps();

    // Act: the relay delivers m2's wake-up first, then m1's
    const first = await dispatcher.dispatch([wakeUp2!]);
    const second = await dispatcher.dispatch([wakeUp1!]);

    // Assess
    expect(journal(HUB)).toBe('m1|m2');
    expect(first).toEqual({ applied: 2, duplicates: 0, deadLettered: 0, parked: 0, backingOff: [], failures: [] });
    expect(second).toEqual({ applied: 0, duplicates: 1, deadLettered: 0, parked: 0, backingOff: [], failures: [] });
    expect(store.peek(HUB).marks.size).toBe(0);
    expect((await store.readInbox([HUB], 10)).get(HUB.key)!.entries).toEqual([]);
  });

  it('does not apply a message again when its wake-up comes back after the inbox was cleared', async () => {
    // Prepare
    const { store, dispatcher, wakeUps, journal } = setup();
    await dispatcher.dispatch([ingressEnvelope('test/journal/s', 1, `send ${HUB.key} once`)]);
    const [wakeUp] = wakeUps();
    await dispatcher.dispatch([wakeUp!]);
    const version = store.peek(HUB).version;

    // Act
    const again = await dispatcher.dispatch([wakeUp!, wakeUp!]);

    // Assess
    expect(again).toEqual({ applied: 0, duplicates: 2, deadLettered: 0, parked: 0, backingOff: [], failures: [] });
    expect(journal(HUB)).toBe('once');
    expect(store.peek(HUB).version).toBe(version);
  });

  it('does not apply an entry the receiver committed but did not clear (a crash in between), and clears it later', async () => {
    // Prepare
    const { store, dispatcher, wakeUps, journal, notCleared } = setup();
    await dispatcher.dispatch([ingressEnvelope('test/journal/s', 1, `send ${HUB.key} kept`)]);
    const [wakeUp] = wakeUps();
    store.failClears = true;
    await dispatcher.dispatch([wakeUp!]);
    const lingering = (await store.readInbox([HUB], 10)).get(HUB.key)!.entries;
    store.failClears = false;

    // Act
    const redelivered = await dispatcher.dispatch([wakeUp!]);

    // Assess
    expect(lingering).toHaveLength(1);
    expect(notCleared).toEqual([`${HUB.key}: injected: the dispatcher died before clearing the inbox`]);
    expect(store.peek(HUB).inboxApplied.has(lingering[0]!.key)).toBe(true);
    expect(redelivered).toEqual({ applied: 0, duplicates: 1, deadLettered: 0, parked: 0, backingOff: [], failures: [] });
    expect(journal(HUB)).toBe('kept');
    expect((await store.readInbox([HUB], 10)).get(HUB.key)!.entries).toEqual([]);
  });

  it('applies a backlog larger than one inbox page in several commits, in order, each listing at most a page', async () => {
    // Prepare: one sender commits 25 messages to the hub, one per batch
    const { store, dispatcher, wakeUps, journal } = setup(10);
    const sender = Address.of('test/journal', 'chatty');
    for (let i = 0; i < 25; i++) await dispatcher.dispatch([ingressEnvelope(sender, i + 1, `send ${HUB.key} n${i}`)]);
    const pending = wakeUps();
    const commits: number[] = [];
    const commit = store.commit.bind(store);
    store.commit = (c) => {
      if (c.address.equals(HUB)) commits.push(c.state.inboxApplied.size);
      return commit(c);
    };

    // Act: only the last wake-up arrives
    const outcome = await dispatcher.dispatch([pending.at(-1)!]);

    // Assess
    expect(outcome).toEqual({ applied: 25, duplicates: 0, deadLettered: 0, parked: 0, backingOff: [], failures: [] });
    expect(journal(HUB)).toBe(Array.from({ length: 25 }, (_, i) => `n${i}`).join('|'));
    expect(commits).toHaveLength(3);
    expect(Math.max(...commits)).toBeLessThanOrEqual(20); // one page applied plus one page not yet proved cleared
  });

  it('keeps the receiver bounded at 5,000 one-shot senders: no mark per sender, an applied list of at most one page', async () => {
    // Prepare: every sender is new, sends one message to the hub and never speaks again
    const { store, dispatcher, wakeUps, journal } = setup();
    const senders = 5_000;
    const ingress = Array.from({ length: senders }, (_, i) => ingressEnvelope(Address.of('test/journal', `tx-${i}`), i + 1, `send ${HUB.key} q${i}`));
    for (let i = 0; i < senders; i += 1_000) await dispatcher.dispatch(ingress.slice(i, i + 1_000));
    const all = wakeUps();
    let largestControlBytes = 0;

    // Act: the wake-ups in batches of 100, as the relay's PutRecords would bundle them
    let applied = 0;
    for (let i = 0; i < all.length; i += 100) {
      applied += (await dispatcher.dispatch(all.slice(i, i + 100))).applied;
      const hub = store.peek(HUB);
      // What the runtime keeps in the item besides the function's own values.
      largestControlBytes = Math.max(largestControlBytes, dynamoItemSize(encodeStateItem({ ...hub, values: new Map() }, 'token-of-36-characters-xxxxxxxxxxxxx')));
    }

    // Assess
    expect(applied).toBe(senders);
    expect(new Set(journal(HUB)!.split('|')).size).toBe(senders);
    expect(store.peek(HUB).marks.size).toBe(0);
    expect(store.peek(HUB).inboxApplied.size).toBeLessThanOrEqual(100);
    expect(largestControlBytes).toBeLessThan(16 * 1024);
  });
});
