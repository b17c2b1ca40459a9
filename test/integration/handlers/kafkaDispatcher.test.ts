import { Address } from '../../../runtime-lambda/core/Address';
import type { Envelope } from '../../../runtime-lambda/core/Envelope';
import { RetryableError } from '../../../runtime-lambda/core/errors';
import type { StateStore } from '../../../runtime-lambda/core/ports/StateStore';
import { SimulatedClock } from '../../../runtime-lambda/local/SimulatedClock';
import type { UndecodableKafkaRecord } from '../../../runtime-lambda/aws/kafkaRecords';
import { UNDECODABLE_TYPE } from '../../../runtime-lambda/aws/kinesisRecords';
import { createDispatcherHandler } from '../../../runtime-lambda/handlers/dispatcher';
import { DISPATCHER_METRICS } from '../../../runtime-lambda/handlers/observability/telemetry';
import { kafkaEvent, kafkaRecordFactory, kinesisEvent, kinesisRecordFactory } from '../../helpers/awsEventFactories';
import { readText } from '../../helpers/factories';
import { JournalFunction, resolverOf } from '../../helpers/journalFunction';
import { type DynamoStoreFixture, dynamoStoreFixture } from '../../support/dynamoStore';
import { RecordingMetrics } from './recordingMetrics';

const NOW = 1_767_225_600_000;
const DAY = 24 * 60 * 60 * 1000;

describe('Handler: dispatcher (Kafka events → DynamoDB Local)', () => {
  let fx: DynamoStoreFixture;
  let run = 0;
  const quiet = { warn: jest.fn() };

  beforeAll(async () => {
    fx = await dynamoStoreFixture();
  });
  afterAll(async () => {
    await fx?.close();
  });

  /** A fresh topic name, so each test starts with no marks. */
  const topic = (label: string) => `${label}-${run++}`;

  function setup(topics: string[], store: StateStore = fx.store) {
    const fn = new JournalFunction();
    const metrics = new RecordingMetrics();
    const handler = createDispatcherHandler({
      store,
      functions: resolverOf({ 'test/journal': fn }),
      kafkaIngresses: Object.fromEntries(topics.map((t) => [t, { functionType: 'test/journal', valueType: 'test/text' }])),
      clock: new SimulatedClock(NOW),
      dispatcher: { sleep: async () => undefined },
      logger: quiet,
      metrics,
    });
    return { fn, handler, metrics };
  }

  const journalOf = async (address: Address) => {
    const state = (await fx.store.load([address])).get(address.key)!;
    return { journal: readText(state.values.get('journal')), version: state.version, state };
  };

  const record = (t: string, partition: number, offset: number, key: string | null, value: string | null, extra: Partial<Parameters<typeof kafkaRecordFactory>[0]> = {}) =>
    kafkaRecordFactory({ topic: t, partition, offset, key, value, timestampMs: NOW - 1000, ...extra });

  it('applies each key\'s records in offset order, across partitions, and a redelivered batch changes nothing', async () => {
    // Prepare
    const names = topic('names');
    const { handler, fn, metrics } = setup([names]);
    const event = kafkaEvent(
      record(names, 0, 10, 'alice', 'a1'),
      record(names, 0, 11, 'bob', 'b1'),
      record(names, 0, 12, 'alice', 'a2'),
      record(names, 1, 4, 'carol', 'c1'),
      record(names, 1, 5, 'carol', 'c2'),
      record(names, 0, 13, 'alice', 'a3'),
    );
    const alice = Address.of('test/journal', 'alice');

    // Act
    const first = await handler(event);
    const before = await journalOf(alice);
    const calls = fn.requests.length;
    const again = await handler(event);

    // Assess
    expect(first).toEqual({ batchItemFailures: [] });
    expect(again).toEqual({ batchItemFailures: [] });
    expect(before.journal).toBe('a1|a2|a3');
    expect((await journalOf(Address.of('test/journal', 'bob'))).journal).toBe('b1');
    expect((await journalOf(Address.of('test/journal', 'carol'))).journal).toBe('c1|c2');
    expect(before.state.marks.get(`${names}/0`)?.position).toBe('13');
    expect((await journalOf(alice)).version).toBe(before.version);
    expect(fn.requests.length).toBe(calls);
    expect(metrics.drain()).toEqual({
      [DISPATCHER_METRICS.recordsReceived]: 12,
      [DISPATCHER_METRICS.messagesApplied]: 6,
      [DISPATCHER_METRICS.duplicatesDropped]: 6,
    });
  });

  it('orders offsets numerically: a redelivery from offset 9 after 10 and 11 were applied drops them and applies the rest', async () => {
    // Prepare
    const t = topic('numeric');
    const { handler } = setup([t]);
    const dave = Address.of('test/journal', `dave-${run}`);
    await handler(kafkaEvent(record(t, 0, 8, dave.id, 'r8'), record(t, 0, 9, dave.id, 'r9'), record(t, 0, 10, dave.id, 'r10'), record(t, 0, 11, dave.id, 'r11')));

    // Act
    await handler(kafkaEvent(record(t, 0, 9, dave.id, 'r9'), record(t, 0, 10, dave.id, 'r10'), record(t, 0, 11, dave.id, 'r11'), record(t, 0, 12, dave.id, 'r12'), record(t, 0, 100, dave.id, 'r100')));

    // Assess
    expect((await journalOf(dave)).journal).toBe('r8|r9|r10|r11|r12|r100');
    expect((await journalOf(dave)).state.marks.get(`${t}/0`)?.position).toBe('100');
  });

  it('dead-letters a record without a key, one of a topic not configured and one whose value is not its type, each once, and moves the partition on', async () => {
    // Prepare
    const names = topic('dl');
    const other = topic('other');
    const handler = createDispatcherHandler({
      store: fx.store,
      functions: resolverOf({ 'test/journal': new JournalFunction() }),
      kafkaIngresses: {
        [names]: { functionType: 'test/journal', valueType: 'test/text' },
        [`${names}-ints`]: { functionType: 'test/journal', valueType: 'io.statefun.types/int' },
      },
      // A stream of the same name is not a Kafka ingress.
      ingresses: { [other]: { functionType: 'test/journal' } },
      clock: new SimulatedClock(NOW),
      logger: quiet,
    });
    const erin = Address.of('test/journal', `erin-${run}`);
    const event = kafkaEvent(
      record(names, 0, 1, erin.id, 'first'),
      record(names, 0, 2, null, 'keyless'),
      record(names, 0, 3, erin.id, 'third'),
      record(other, 0, 7, erin.id, 'elsewhere'),
      record(`${names}-ints`, 0, 1, erin.id, 'not an int'),
    );

    // Act
    const first = await handler(event);
    const again = await handler(event);

    // Assess
    expect(first).toEqual({ batchItemFailures: [] });
    expect(again).toEqual({ batchItemFailures: [] });
    expect((await journalOf(erin)).journal).toBe('first|third');
    const deadLetters = async (source: string) => {
      const outbox = await fx.outboxOf(Address.of(UNDECODABLE_TYPE, source));
      return outbox.flatMap((effects) =>
        effects.deadLetters.map((dl) => ({ id: dl.id, reason: dl.reason, kept: JSON.parse(readText((dl as { envelope: Envelope }).envelope.argument)!) as UndecodableKafkaRecord })),
      );
    };
    const keyless = await deadLetters(`${names}/0`);
    expect(keyless).toHaveLength(1);
    expect(keyless[0]!.id).toBe(`${names}/0/2`);
    expect(keyless[0]!.reason).toContain(`Kafka record ${names}/0/2 has no key`);
    expect(keyless[0]!.kept).toMatchObject({ topic: names, partition: '0', offset: '2', key: null, value: Buffer.from('keyless').toString('base64') });
    const unknown = await deadLetters(`${other}/0`);
    expect(unknown.map((d) => d.reason)).toEqual([expect.stringContaining(`topic "${other}" is not a configured Kafka ingress`)]);
    const wrongType = await deadLetters(`${names}-ints/0`);
    expect(wrongType.map((d) => d.reason)).toEqual([expect.stringContaining('does not decode as io.statefun.types/int')]);
    expect(quiet.warn).toHaveBeenCalledWith('undecodable record: dead-lettering it', { topic: names, partition: '0', offset: '2', reason: expect.stringContaining('has no key') });
  });

  it('fails the whole batch when an address did not commit; the redelivered batch applies its records once and drops the committed ones', async () => {
    // Prepare
    const t = topic('flaky');
    const ok = Address.of('test/journal', `ok-${run}`);
    const throttled = Address.of('test/journal', `throttled-${run}`);
    const failing = new Set([throttled.key]);
    const flaky: StateStore = {
      load: (addresses) => fx.store.load(addresses),
      readInbox: (addresses, limit) => fx.store.readInbox(addresses, limit),
      clearInbox: (address, keys) => fx.store.clearInbox(address, keys),
      quarantine: (...args) => fx.store.quarantine(...args),
      commit: async (commit) => {
        if (failing.has(commit.address.key)) throw new RetryableError(`injected: commit of ${commit.address.key} throttled`);
        return fx.store.commit(commit);
      },
    };
    const { handler, metrics } = setup([t], flaky);
    const event = kafkaEvent(
      record(t, 0, 1, ok.id, 'o1'),
      record(t, 0, 2, throttled.id, 't1'),
      record(t, 1, 1, ok.id, 'o2'),
      record(t, 0, 3, throttled.id, 't2'),
    );

    // Act
    const failed = handler(event);
    await expect(failed).rejects.toThrow(RetryableError);
    await expect(failed).rejects.toThrow(
      `1 address(es) did not commit (first: ${throttled.key}: RetryableError: injected: commit of ${throttled.key} throttled): failing the Kafka batch so Lambda delivers it again (${t}/0 from offset 2); what was committed is then dropped as duplicate`,
    );
    const firstCounts = metrics.drain();
    failing.clear();
    const redelivered = await handler(event);

    // Assess
    expect(firstCounts).toMatchObject({ [DISPATCHER_METRICS.messagesApplied]: 2, [DISPATCHER_METRICS.addressesNotCommitted]: 1 });
    expect(redelivered).toEqual({ batchItemFailures: [] });
    expect(metrics.drain()).toMatchObject({ [DISPATCHER_METRICS.messagesApplied]: 2, [DISPATCHER_METRICS.duplicatesDropped]: 2 });
    expect((await journalOf(ok)).journal).toBe('o1|o2');
    expect((await journalOf(throttled)).journal).toBe('t1|t2');
  });

  it('dead-letters a record the broker stamped before the duplicate window, and ignores a producer\'s old timestamp', async () => {
    // Prepare
    const t = topic('old');
    const { handler } = setup([t]);
    const frank = Address.of('test/journal', `frank-${run}`);

    // Act
    await handler(
      kafkaEvent(
        record(t, 0, 1, frank.id, 'stale', { timestampMs: NOW - 8 * DAY, timestampType: 'LOG_APPEND_TIME' }),
        record(t, 0, 2, frank.id, 'mirrored', { timestampMs: NOW - 400 * DAY, timestampType: 'CREATE_TIME' }),
      ),
    );

    // Assess
    const { journal, state } = await journalOf(frank);
    expect(journal).toBe('mirrored');
    expect(state.version).toBe(1);
    const outbox = await fx.outboxOf(frank);
    expect(outbox.flatMap((e) => e.deadLetters.map((d) => d.id))).toEqual([`${t}/0/1`]);
  });

  it('still serves Kinesis events: the same handler takes both', async () => {
    // Prepare
    const stream = topic('stream');
    const handler = createDispatcherHandler({
      store: fx.store,
      functions: resolverOf({ 'test/journal': new JournalFunction() }),
      ingresses: { [stream]: { functionType: 'test/journal', valueType: 'test/text' } },
      kafkaIngresses: { [stream]: { functionType: 'test/journal', valueType: 'test/text' } },
      clock: new SimulatedClock(NOW),
      logger: quiet,
    });
    const gina = Address.of('test/journal', `gina-${run}`);

    // Act
    const fromKinesis = await handler(kinesisEvent(kinesisRecordFactory({ stream, n: 1, partitionKey: gina.id, data: 'k1', arrivedAtMs: NOW })));
    const fromKafka = await handler(kafkaEvent(record(stream, 0, 1, gina.id, 'f1')));

    // Assess
    expect(fromKinesis).toEqual({ batchItemFailures: [] });
    expect(fromKafka).toEqual({ batchItemFailures: [] });
    const { journal, state } = await journalOf(gina);
    expect(journal).toBe('k1|f1');
    expect([...state.marks.keys()].sort()).toEqual([`${stream}/0`, `${stream}/shardId-000000000000`]);
  });
});
