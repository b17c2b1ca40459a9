import { DeleteItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { Address } from '../../../runtime-lambda/core/Address';
import { NO_EFFECTS } from '../../../runtime-lambda/core/Effects';
import type { Envelope } from '../../../runtime-lambda/core/Envelope';
import { RetryableError, StateConflictError } from '../../../runtime-lambda/core/errors';
import type { Commit, StateStore } from '../../../runtime-lambda/core/ports/StateStore';
import { SimulatedClock } from '../../../runtime-lambda/local/SimulatedClock';
import { UNDECODABLE_TYPE, type UndecodableRecord } from '../../../runtime-lambda/aws/kinesisRecords';
import { createDispatcherHandler } from '../../../runtime-lambda/handlers/dispatcher';
import { deadLetterJson } from '../../../runtime-lambda/core/deadLetterJson';
import { readDeadLetter, redriveEnvelope } from '../../../runtime-lambda/local/deadLetters';
import { DISPATCHER_METRICS } from '../../../runtime-lambda/handlers/observability/telemetry';
import { bundleRecord, kinesisEvent, kinesisRecordFactory, sequenceNumber } from '../../helpers/awsEventFactories';
import { commitOf, readText, textValue } from '../../helpers/factories';
import { RecordingMetrics } from './recordingMetrics';
import { JournalFunction, resolverOf } from '../../helpers/journalFunction';
import { type DynamoStoreFixture, dynamoStoreFixture } from '../../support/dynamoStore';

const MESSAGES = 'statefun-messages';
const INGRESS = 'orders';

/** A function message from `sender` at sender position `position`. */
function fromSender(target: Address, sender: Address, position: number, text: string): Envelope {
  return {
    id: `${sender.key}.${position}`,
    target,
    caller: sender,
    argument: textValue(text),
    origin: { kind: 'function', source: sender.key, position: String(position) },
  };
}

/** A store that fails every commit of the addresses in `failing` (a throttled partition, say). */
class FlakyStore implements StateStore {
  constructor(
    private readonly inner: StateStore,
    readonly failing: Set<string>,
  ) {}
  load(addresses: Parameters<StateStore['load']>[0]) {
    return this.inner.load(addresses);
  }
  readInbox(addresses: Parameters<StateStore['readInbox']>[0], limit: number) {
    return this.inner.readInbox(addresses, limit);
  }
  clearInbox(address: Parameters<StateStore['clearInbox']>[0], keys: readonly string[]) {
    return this.inner.clearInbox(address, keys);
  }
  quarantine(...args: Parameters<StateStore['quarantine']>) {
    return this.inner.quarantine(...args);
  }
  async commit(commit: Commit): Promise<void> {
    if (this.failing.has(commit.address.key)) throw new RetryableError(`injected: commit of ${commit.address.key} throttled`);
    return this.inner.commit(commit);
  }
}

/**
 * A store where a rival dispatcher commits the same batch just before the first commit of
 * each address: that commit then meets the real version condition of DynamoDB and fails.
 */
class RacedStore implements StateStore {
  readonly raced = new Set<string>();
  conflicts = 0;
  constructor(private readonly inner: StateStore) {}
  load(addresses: Parameters<StateStore['load']>[0]) {
    return this.inner.load(addresses);
  }
  readInbox(addresses: Parameters<StateStore['readInbox']>[0], limit: number) {
    return this.inner.readInbox(addresses, limit);
  }
  clearInbox(address: Parameters<StateStore['clearInbox']>[0], keys: readonly string[]) {
    return this.inner.clearInbox(address, keys);
  }
  quarantine(...args: Parameters<StateStore['quarantine']>) {
    return this.inner.quarantine(...args);
  }
  async commit(commit: Commit): Promise<void> {
    if (!this.raced.has(commit.address.key)) {
      this.raced.add(commit.address.key);
      await this.inner.commit(commit);
    }
    try {
      await this.inner.commit(commit);
    } catch (error) {
      if (error instanceof StateConflictError) this.conflicts++;
      throw error;
    }
  }
}

describe('Handler: dispatcher (Kinesis → DynamoDB Local)', () => {
  let fx: DynamoStoreFixture;
  let run = 0;
  const fresh = (label: string) => Address.of('test/journal', `${label}-${run++}`);
  const quiet = { warn: jest.fn() };

  beforeAll(async () => {
    fx = await dynamoStoreFixture();
  });
  afterAll(async () => {
    await fx?.close();
  });

  function setup(store: StateStore = fx.store) {
    const fn = new JournalFunction();
    const metrics = new RecordingMetrics();
    const handler = createDispatcherHandler({
      store,
      functions: resolverOf({ 'test/journal': fn }),
      ingresses: { [INGRESS]: { functionType: 'test/journal', valueType: 'test/text' } },
      clock: new SimulatedClock(1_767_225_600_000),
      dispatcher: { sleep: async () => undefined },
      logger: quiet,
      metrics,
    });
    return { fn, handler, metrics };
  }

  /** Commits `messages` as one batch of their sender, writing their inbox entries as a real sender's commit does. */
  const sent = async (...messages: Envelope[]): Promise<Envelope[]> => {
    const sender = messages[0]!.caller!;
    const state = (await fx.store.load([sender])).get(sender.key)!;
    await fx.store.commit(commitOf({ ...state, version: state.version + 1 }, state.version, { ...NO_EFFECTS, messages }));
    return messages;
  };

  const journalOf = async (address: Address) => {
    const state = (await fx.store.load([address])).get(address.key)!;
    return { journal: readText(state.values.get('journal')), version: state.version, state };
  };

  it('applies bundles and raw ingress records in order per address, interleaved', async () => {
    // Prepare
    const { handler } = setup();
    const a = fresh('a');
    const b = fresh('b');
    const sender = Address.of('test/sender', `s-${run}`);
    const event = kinesisEvent(
      bundleRecord(MESSAGES, 1, await sent(fromSender(a, sender, 10, 'a1'), fromSender(a, sender, 11, 'a2'))),
      kinesisRecordFactory({ stream: INGRESS, n: 2, partitionKey: b.id, data: 'b1' }),
      bundleRecord(MESSAGES, 3, await sent(fromSender(b, sender, 12, 'b2'))),
      kinesisRecordFactory({ stream: INGRESS, n: 4, partitionKey: a.id, data: 'a3' }),
      bundleRecord(MESSAGES, 5, await sent(fromSender(a, sender, 13, 'a4'))),
    );

    // Act
    const response = await handler(event);

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect((await journalOf(a)).journal).toBe('a1|a2|a3|a4');
    expect((await journalOf(b)).journal).toBe('b1|b2');
    const { marks } = (await journalOf(a)).state;
    expect(marks.has(sender.key)).toBe(false); // messages from functions leave no mark: their inbox entries are cleared
    expect((await fx.store.readInbox([a, b], 10)).get(a.key)!.entries).toEqual([]);
    expect(marks.get(`${INGRESS}/shardId-000000000000`)?.position).toBe(sequenceNumber(4));
  });

  it('routes an ingress record to every target type of its stream (StateFun\'s targets), each applied once even when delivered again', async () => {
    // Prepare
    const handler = createDispatcherHandler({
      store: fx.store,
      functions: resolverOf({ 'test/journal': new JournalFunction(), 'test/audit': new JournalFunction() }),
      ingresses: { [INGRESS]: { functionType: ['test/journal', 'test/audit'], valueType: 'test/text' } },
      clock: new SimulatedClock(1_767_225_600_000),
      logger: quiet,
    });
    const journal = fresh('fan');
    const audit = Address.of('test/audit', journal.id);
    const event = kinesisEvent(
      kinesisRecordFactory({ stream: INGRESS, n: 1, partitionKey: journal.id, data: 'first' }),
      kinesisRecordFactory({ stream: INGRESS, n: 2, partitionKey: journal.id, data: 'second' }),
    );

    // Act
    const response = await handler(event);
    const again = await handler(event);

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(again).toEqual({ batchItemFailures: [] });
    expect((await journalOf(journal)).journal).toBe('first|second');
    expect((await journalOf(audit)).journal).toBe('first|second');
    expect((await journalOf(audit)).version).toBe(1);
  });

  it('changes nothing when the same batch is delivered again', async () => {
    // Prepare
    const { handler, fn } = setup();
    const a = fresh('dup');
    const event = kinesisEvent(
      kinesisRecordFactory({ stream: INGRESS, n: 1, partitionKey: a.id, data: 'x1' }),
      kinesisRecordFactory({ stream: INGRESS, n: 2, partitionKey: a.id, data: `send ${a.key.replace('dup', 'peer')} hi` }),
    );
    await handler(event);
    const before = await journalOf(a);
    const outboxBefore = await fx.outboxOf(a);
    const callsBefore = fn.requests.length;

    // Act
    const response = await handler(event);

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    const after = await journalOf(a);
    expect(after.version).toBe(before.version);
    expect(after.journal).toBe(before.journal);
    expect(await fx.outboxOf(a)).toEqual(outboxBefore);
    expect(outboxBefore).toHaveLength(1);
    expect(fn.requests.length).toBe(callsBefore);
  });

  it('dead-letters a poison record exactly once and moves the shard on', async () => {
    // Prepare
    const { handler } = setup();
    const a = fresh('poison');
    const shardId = `shardId-00000000${String(run).padStart(4, '0')}`;
    const poison = kinesisRecordFactory({ stream: MESSAGES, shardId, n: 2, partitionKey: a.key, data: '{"not":"a bundle"}' });
    const event = kinesisEvent(
      bundleRecord(MESSAGES, 1, await sent(fromSender(a, a, 1, 'before')), shardId),
      poison,
      bundleRecord(MESSAGES, 3, await sent(fromSender(a, a, 2, 'behind')), shardId),
    );
    const sink = Address.of(UNDECODABLE_TYPE, `${MESSAGES}/${shardId}`);

    // Act
    const first = await handler(event);
    const again = await handler(event);

    // Assess
    expect(first).toEqual({ batchItemFailures: [] });
    expect(again).toEqual({ batchItemFailures: [] });
    expect((await journalOf(a)).journal).toBe('before|behind');
    const outbox = await fx.outboxOf(sink);
    expect(outbox).toHaveLength(1);
    const [deadLetter] = outbox[0]!.deadLetters;
    expect(outbox[0]!.deadLetters).toHaveLength(1);
    expect(deadLetter!.id).toBe(`${MESSAGES}/${shardId}/${sequenceNumber(2)}`);
    expect(deadLetter!.reason).toContain('UndecodableRecordError: MalformedRecordError: JSON record without "sfb" is not a message bundle');
    const kept = JSON.parse(readText((deadLetter as { envelope: Envelope }).envelope.argument)!) as UndecodableRecord;
    expect(kept).toMatchObject({ stream: MESSAGES, shardId, sequenceNumber: sequenceNumber(2), partitionKey: a.key });
    expect(Buffer.from(kept.data, 'base64').toString()).toBe('{"not":"a bundle"}');
    expect((await journalOf(sink)).state.marks.get(`${MESSAGES}/${shardId}`)?.position).toBe(sequenceNumber(2));
  });

  it('reports the lowest sequence number of an address that did not commit, and a redelivery from there applies each record once', async () => {
    // Prepare
    const a = fresh('ok');
    const b = fresh('throttled');
    const flaky = new FlakyStore(fx.store, new Set([b.key]));
    const { handler, metrics } = setup(flaky);
    const records = [
      kinesisRecordFactory({ stream: INGRESS, n: 1, partitionKey: a.id, data: 'a1' }),
      kinesisRecordFactory({ stream: INGRESS, n: 2, partitionKey: b.id, data: 'b1' }),
      kinesisRecordFactory({ stream: INGRESS, n: 3, partitionKey: a.id, data: 'a2' }),
      kinesisRecordFactory({ stream: INGRESS, n: 4, partitionKey: b.id, data: 'b2' }),
      kinesisRecordFactory({ stream: INGRESS, n: 5, partitionKey: a.id, data: 'a3' }),
    ];

    // Act
    const response = await handler(kinesisEvent(...records));
    const first = metrics.drain();
    flaky.failing.clear();
    const redelivered = await handler(kinesisEvent(...records.slice(1)));

    // Assess
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: sequenceNumber(2) }] });
    expect(quiet.warn).toHaveBeenCalledWith('address did not commit: its records will be delivered again', {
      address: b.key,
      messages: 2,
      error: expect.stringContaining(`injected: commit of ${b.key} throttled`),
    });
    expect(first).toEqual({ [DISPATCHER_METRICS.recordsReceived]: 5, [DISPATCHER_METRICS.messagesApplied]: 3, [DISPATCHER_METRICS.addressesNotCommitted]: 1 });
    expect(redelivered).toEqual({ batchItemFailures: [] });
    expect(metrics.drain()).toEqual({ [DISPATCHER_METRICS.recordsReceived]: 4, [DISPATCHER_METRICS.messagesApplied]: 2, [DISPATCHER_METRICS.duplicatesDropped]: 2 });
    expect((await journalOf(a)).journal).toBe('a1|a2|a3');
    expect((await journalOf(b)).journal).toBe('b1|b2');
  });

  it('dead-letters a message to an unknown function type and an ingress record of a bundle-only stream', async () => {
    // Prepare
    const { handler } = setup();
    const unknown = Address.of('test/nobody', `n-${run++}`);
    const shardId = `shardId-00000000${String(run).padStart(4, '0')}`;
    const event = kinesisEvent(
      bundleRecord(MESSAGES, 1, await sent(fromSender(unknown, unknown, 1, 'hello')), shardId),
      kinesisRecordFactory({ stream: 'unconfigured', shardId, n: 2, partitionKey: 'k', data: 'raw' }),
    );

    // Act
    const response = await handler(event);

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    const unknownEffects = (await fx.outboxOf(unknown)).at(-1); // after the sender's own commit
    expect(unknownEffects!.deadLetters[0]!.reason).toContain('no function is registered for type "test/nobody"');
    const [sinkEffects] = await fx.outboxOf(Address.of(UNDECODABLE_TYPE, `unconfigured/${shardId}`));
    expect(sinkEffects!.deadLetters[0]!.reason).toContain('stream unconfigured is not a configured ingress');
  });

  it('counts a commit that lost the version race (to a rival with the same batch) and applies each record once', async () => {
    // Prepare
    const a = fresh('raced');
    const raced = new RacedStore(fx.store);
    const { handler, metrics } = setup(raced);
    const records = [
      kinesisRecordFactory({ stream: INGRESS, n: 1, partitionKey: a.id, data: 'a1' }),
      kinesisRecordFactory({ stream: INGRESS, n: 2, partitionKey: a.id, data: 'a2' }),
    ];

    // Act
    const response = await handler(kinesisEvent(...records));

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(raced.conflicts).toBe(1);
    expect(metrics.drain()).toEqual({ [DISPATCHER_METRICS.recordsReceived]: 2, [DISPATCHER_METRICS.commitConflicts]: 1, [DISPATCHER_METRICS.duplicatesDropped]: 2 });
    expect((await journalOf(a)).journal).toBe('a1|a2');
  });

  it('counts dead letters: a message to an unknown function type and an undecodable record', async () => {
    // Prepare
    const { handler, metrics } = setup();
    const unknown = Address.of('test/nobody', `n-${run++}`);
    const shardId = `shardId-00000000${String(run).padStart(4, '0')}`;

    // Act
    await handler(kinesisEvent(
      bundleRecord(MESSAGES, 1, await sent(fromSender(unknown, unknown, 1, 'hello')), shardId),
      kinesisRecordFactory({ stream: 'unconfigured', shardId, n: 2, partitionKey: 'k', data: 'raw' }),
    ));

    // Assess
    expect(metrics.drain()).toEqual({ [DISPATCHER_METRICS.recordsReceived]: 2, [DISPATCHER_METRICS.deadLetters]: 2 });
    expect(quiet.warn).toHaveBeenCalledWith('undecodable record: dead-lettering it', expect.objectContaining({ stream: 'unconfigured', shardId, reason: expect.stringContaining('stream unconfigured is not a configured ingress') }));
  });

  it('dead-letters a message whose outbox item is gone (the inbox entry is lost), naming both, and clears the entry', async () => {
    // Prepare: a sender's commit, then its outbox item deleted (as an expired TTL would)
    const { handler, fn } = setup();
    const a = fresh('lost');
    const sender = Address.of('test/sender', `lost-${run}`);
    const messages = await sent(fromSender(a, sender, 1, 'never read'));
    await fx.client.send(new DeleteItemCommand({ TableName: fx.outboxTableName, Key: { address: { S: sender.key }, version: { N: '1' } } }));
    const calls = fn.requests.length;

    // Act
    const response = await handler(kinesisEvent(bundleRecord(MESSAGES, 1, messages)));

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(fn.requests.length).toBe(calls);
    const [effects] = await fx.outboxOf(a);
    const [deadLetter] = effects!.deadLetters;
    expect(deadLetter!.reason).toBe(
      `LOST_INBOX_ENTRY: the messages of ${sender.key} (version 1) to ${a.key} cannot be read: the outbox item is gone from ${fx.outboxTableName} (its TTL passed before the receiver applied them: keep outboxTtlDays above the longest a receiver may fall behind)`,
    );
    expect((await fx.store.readInbox([a], 10)).get(a.key)!.entries).toEqual([]);
  });

  it('dead-letters an ingress record older than the duplicate window, counts it and says so, and applies the fresh one', async () => {
    // Prepare: the handler's clock is 2026-01-01; one record arrived 8 days before, one just now
    const { handler, metrics } = setup();
    const a = fresh('old');
    const shardId = `shardId-00000000${String(run).padStart(4, '0')}`;
    const now = 1_767_225_600_000;

    // Act
    const response = await handler(kinesisEvent(
      kinesisRecordFactory({ stream: INGRESS, shardId, n: 1, partitionKey: a.id, data: 'replayed', arrivedAtMs: now - 8 * 24 * 3_600_000 }),
      kinesisRecordFactory({ stream: INGRESS, shardId, n: 2, partitionKey: a.id, data: 'fresh', arrivedAtMs: now }),
    ));

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect((await journalOf(a)).journal).toBe('fresh');
    const [effects] = await fx.outboxOf(a);
    expect(effects!.deadLetters[0]!.reason).toMatch(/^OUTSIDE_DUPLICATE_WINDOW: ingress record \d+ of orders\/shardId-\d+ arrived 192\.0 h ago/);
    expect(metrics.drain()).toMatchObject({ [DISPATCHER_METRICS.recordsPastDuplicateWindow]: 1, [DISPATCHER_METRICS.deadLetters]: 1, [DISPATCHER_METRICS.messagesApplied]: 1 });
    expect(quiet.warn).toHaveBeenCalledWith(
      'ingress records older than the duplicate window: duplicates are dropped, the rest dead-lettered, none applied',
      { records: 1, duplicateWindowSeconds: 604800 },
    );
  });
  it('dead-letters the messages of an address whose state item is malformed, applies the others, and applies them once redriven after the repair', async () => {
    // Prepare: a state item edited by hand into something the store cannot read
    const { handler } = setup();
    const broken = fresh('broken');
    const healthy = fresh('healthy');
    await fx.client.send(new PutItemCommand({ TableName: fx.tableName, Item: { address: { S: broken.key }, version: { N: '3' }, values: { S: 'edited by hand' } } }));

    // Act
    const response = await handler(kinesisEvent(
      kinesisRecordFactory({ stream: INGRESS, n: 1, partitionKey: broken.id, data: 'kept' }),
      kinesisRecordFactory({ stream: INGRESS, n: 2, partitionKey: healthy.id, data: 'fine' }),
    ));
    const deadLetters = (await fx.outboxOf(broken)).flatMap((effects) => effects.deadLetters);
    await fx.client.send(new DeleteItemCommand({ TableName: fx.tableName, Key: { address: { S: broken.key } } }));
    const view = readDeadLetter('m1', deadLetterJson(deadLetters[0]!));
    const redriven = await handler(kinesisEvent(bundleRecord(MESSAGES, 3, [redriveEnvelope(view)])));

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect((await journalOf(healthy)).journal).toBe('fine');
    expect(deadLetters).toHaveLength(1);
    expect(deadLetters[0]!.reason).toMatch(
      new RegExp(`^UNREADABLE_STATE: the state of ${broken.key} cannot be read, so this message was not applied: state item "${broken.key}" in table ${fx.tableName} is malformed: attribute values should be a map \\(M\\) but is S "edited by hand"`),
    );
    expect(redriven).toEqual({ batchItemFailures: [] });
    expect((await journalOf(broken)).journal).toBe('kept');
  });
});
