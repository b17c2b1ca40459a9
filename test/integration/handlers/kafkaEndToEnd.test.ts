import { randomUUID } from 'node:crypto';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { CreateQueueCommand, DeleteQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { Admin, Producer } from '@platformatic/kafka';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { kafkaEgressMessage } from 'apache-flink-statefun';
import { Address } from '../../../runtime-lambda/core/Address';
import type { InvocationRequest, InvocationResponse } from '../../../runtime-lambda/core/Invocation';
import type { FunctionEndpoint } from '../../../runtime-lambda/core/ports/FunctionEndpoint';
import { DynamoStreamsSdkApi } from '../../../runtime-lambda/aws/DynamoStreamsApi';
import { KafkaProducers } from '../../../runtime-lambda/aws/KafkaProducers';
import { type KafkaSource, LocalPoller } from '../../../runtime-lambda/aws/LocalPoller';
import { createDispatcherHandler } from '../../../runtime-lambda/handlers/dispatcher';
import { createRelayHandler } from '../../../runtime-lambda/handlers/relay';
import { Types } from '../../../runtime-lambda/sdk/Types';
import { readText, textValue } from '../../helpers/factories';
import { resolverOf } from '../../helpers/journalFunction';
import { awsClientConfig, dynamoClientConfig } from '../../support/awsClientConfig';
import { drainQueue } from '../../support/drainQueue';
import { type DynamoStoreFixture, dynamoStoreFixture } from '../../support/dynamoStore';
import { kafkaBootstrap } from '../../support/kafka';
import { type ReadRecord, committedOffsets, readTopic } from '../../support/kafkaTopics';

const COUNTER = 'test/counter';
const EGRESS = 'example/greets';

/**
 * A function that appends each message (a string) to its `seen` state and sends one record per
 * message to the output topic, keyed by its id, valued `<id>:<n>:<text>` (n: the count so far),
 * as a StateFun function's KafkaProducerRecord (built by the official JS SDK).
 */
class CounterFunction implements FunctionEndpoint {
  /** Messages the function was invoked with, per id (re-invocations included). */
  readonly calls = new Map<string, string[]>();

  constructor(private readonly outTopic: string) {}

  async invoke(request: InvocationRequest): Promise<InvocationResponse> {
    const supplied = request.state.find((s) => s.name === 'seen');
    if (supplied === undefined) return { kind: 'incomplete', missing: [{ name: 'seen', typename: 'test/text' }] };
    const id = request.target.id;
    const seen = (readText(supplied.value) ?? '').split('|').filter((s) => s !== '');
    const egress = request.invocations.map((invocation) => {
      const text = Types.string.deserialize(invocation.argument.value!);
      this.calls.set(id, [...(this.calls.get(id) ?? []), text]);
      seen.push(text);
      const built = kafkaEgressMessage({ typename: EGRESS, topic: this.outTopic, key: id, value: `${id}:${seen.length}:${text}` });
      return { egress: EGRESS, argument: { typename: built.typedValue.getTypename(), value: built.typedValue.getValue_asU8() } };
    });
    return { kind: 'result', mutations: [{ name: 'seen', value: textValue(seen.join('|')) }], messages: [], delayed: [], egress };
  }
}

describe('Kafka end to end on the real broker: topic → LocalPoller (Kafka) → dispatcher → DynamoDB Local → relay → topic', () => {
  const bootstrap = kafkaBootstrap();
  const admin = new Admin({ clientId: 'e2e-admin', bootstrapBrokers: [bootstrap] });
  const producer = new Producer({ clientId: 'e2e-producer', bootstrapBrokers: [bootstrap] });
  const sqs = new SQSClient(awsClientConfig());
  const kinesis = new KinesisClient({ ...awsClientConfig(), requestHandler: new NodeHttpHandler() });
  const streams = new DynamoStreamsSdkApi(new DynamoDBStreamsClient(dynamoClientConfig()));
  const kafkaProducers = new KafkaProducers({ retries: 2, timeoutMs: 5000 });
  const quiet = { warn: jest.fn(), info: jest.fn(), error: jest.fn(), debug: jest.fn() };
  const cleanups: (() => Promise<unknown>)[] = [];

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  afterAll(async () => {
    await kafkaProducers.close();
    await producer.close();
    await admin.close();
    sqs.destroy();
    kinesis.destroy();
  });

  /**
   * One application for one test: its input and output topics, fresh tables (so the outbox
   * stream holds only this test's items), a dead-letter queue, the dispatcher and the relay.
   */
  async function application(partitions: number) {
    const suffix = randomUUID().slice(0, 8);
    const inTopic = `names-${suffix}`;
    const outTopic = `greetings-${suffix}`;
    await admin.createTopics({ topics: [inTopic], partitions, replicas: 1 });
    await admin.createTopics({ topics: [outTopic], partitions: 3, replicas: 1 });
    const fx: DynamoStoreFixture = await dynamoStoreFixture();
    cleanups.push(() => fx.close());
    const outboxStreamArn = (await fx.client.send(new DescribeTableCommand({ TableName: fx.outboxTableName }))).Table!.LatestStreamArn!;
    const deadLetterQueueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `kafka-e2e-dlq-${suffix}` }))).QueueUrl!;
    cleanups.push(() => sqs.send(new DeleteQueueCommand({ QueueUrl: deadLetterQueueUrl })));
    const fn = new CounterFunction(outTopic);
    const dispatcher = createDispatcherHandler({
      store: fx.store,
      functions: resolverOf({ [COUNTER]: fn }),
      kafkaIngresses: { [inTopic]: { functionType: COUNTER, valueType: 'io.statefun.types/string' } },
      logger: quiet,
    });
    const relay = createRelayHandler({
      kinesis,
      messageStream: `unused-${suffix}`,
      sqs,
      deadLetterQueueUrl,
      egress: { [EGRESS]: { kafkaProducerRecordTopics: [outTopic], kafkaCluster: { bootstrapServers: [bootstrap] } } },
      kafkaProducers,
      logger: quiet,
    });
    const group = `dispatcher-${suffix}`;
    const kafkaSource = (mapping: KafkaSource['mapping'] = { batchSize: 4 }): KafkaSource => ({ kind: 'kafka', bootstrapBrokers: [bootstrap], topics: [inTopic], consumerGroupId: group, handler: dispatcher, mapping });
    const start = (options: Partial<ConstructorParameters<typeof LocalPoller>[0]> = {}) => {
      const poller = new LocalPoller({ sources: [kafkaSource()], idlePollMs: 20, logger: quiet, ...options });
      cleanups.push(() => poller.stop());
      poller.start();
      return poller;
    };
    const relayPoller = new LocalPoller({ sources: [{ kind: 'dynamodb', api: streams, streamArn: outboxStreamArn, handler: relay }], idlePollMs: 20, logger: quiet });
    cleanups.push(() => relayPoller.stop());
    relayPoller.start();
    return {
      inTopic,
      outTopic,
      group,
      fn,
      fx,
      deadLetterQueueUrl,
      start,
      /** Produces `[key, text]` records to `partition` (the default partitioner's when undefined), text as io.statefun.types/string. */
      produce: (records: readonly (readonly [string | null, string | Buffer])[], partition?: number) =>
        producer.send({
          messages: records.map(([key, value]) => ({
            topic: inTopic,
            ...(partition !== undefined ? { partition } : {}),
            ...(key !== null ? { key: Buffer.from(key) } : {}),
            value: Buffer.isBuffer(value) ? value : Buffer.from(Types.string.serialize(value)),
          })),
        }),
      /** Waits until every record read by `poller` went through the dispatcher and every outbox item through the relay. */
      settle: async (poller: LocalPoller) => {
        await poller.waitForIdle({ quietMs: 200, timeoutMs: 60_000 });
        await relayPoller.waitForIdle({ quietMs: 200, timeoutMs: 60_000 });
      },
      seen: async (id: string) => readText((await fx.store.load([Address.of(COUNTER, id)])).get(Address.of(COUNTER, id).key)!.values.get('seen')),
      /** The ids of the egress records the dispatcher committed for `ids`. */
      egressIds: async (ids: readonly string[]) => (await Promise.all(ids.map((id) => fx.outboxOf(Address.of(COUNTER, id))))).flat().flatMap((effects) => effects.egress.map((e) => e.id)),
    };
  }

  const statefunId = (r: ReadRecord) => r.headers.get('statefun-id')!;
  /** What a consumer that drops duplicates by statefun-id keeps. */
  const deduplicated = (records: readonly ReadRecord[]) => {
    const ids = new Set<string>();
    return records.filter((r) => !ids.has(statefunId(r)) && ids.add(statefunId(r)));
  };

  it('applies each key\'s records in offset order and produces each egress record in that order, keyed, with its statefun-id', async () => {
    // Prepare
    const app = await application(3);
    const keys = ['alice', 'bob', 'carol', 'dave'];
    for (let i = 0; i < 6; i++) await app.produce(keys.map((k) => [k, `${k}-${i}`] as const));

    // Act
    const poller = app.start();
    await app.settle(poller);
    const read = await readTopic(bootstrap, app.outTopic, keys.length * 6);

    // Assess
    for (const k of keys) {
      const expected = Array.from({ length: 6 }, (_, i) => `${k}-${i}`);
      expect(await app.seen(k)).toBe(expected.join('|'));
      expect(app.fn.calls.get(k)).toEqual(expected);
      const out = read.filter((r) => r.key === k);
      expect(out.map((r) => r.value.toString())).toEqual(expected.map((text, i) => `${k}:${i + 1}:${text}`));
      expect(new Set(out.map((r) => r.partition)).size).toBe(1);
    }
    expect(deduplicated(read).map(statefunId).sort()).toEqual((await app.egressIds(keys)).sort());
    expect(await committedOffsets(admin, app.group, app.inTopic)).toEqual(await partitionEnds(app.inTopic));
  });

  it('applies a redelivered batch once: a crash before the checkpoint delivers the records twice, state and egress count each once', async () => {
    // Prepare
    const app = await application(1);
    await app.produce([['erin', 'e-0'], ['frank', 'f-0'], ['erin', 'e-1'], ['frank', 'f-1']]);
    let crashes = 1;

    // Act
    const poller = app.start({ crashBeforeCheckpoint: () => crashes-- > 0 });
    await app.settle(poller);
    // One more than expected, within a bound: a duplicate egress record would be read as the fifth.
    const read = await readTopic(bootstrap, app.outTopic, 5, 3000);

    // Assess
    expect(poller.progress).toMatchObject({ recordsDelivered: 8, checkpointsSkipped: 1, recordsCheckpointed: 4 });
    expect(await app.seen('erin')).toBe('e-0|e-1');
    expect(await app.seen('frank')).toBe('f-0|f-1');
    expect(app.fn.calls.get('erin')).toEqual(['e-0', 'e-1']);
    expect(read.map((r) => r.value.toString()).sort()).toEqual(['erin:1:e-0', 'erin:2:e-1', 'frank:1:f-0', 'frank:2:f-1']);
    expect(await committedOffsets(admin, app.group, app.inTopic)).toEqual([4]);
  });

  it('drops what was committed when a poller crashed between our DynamoDB commit and the offset commit: a new poller of the group re-reads from the committed offset', async () => {
    // Prepare: a poller that dies before every offset commit, after its first batch went through the dispatcher
    const app = await application(2);
    const keys = ['gina', 'hal', 'ivy'];
    for (let i = 0; i < 4; i++) await app.produce(keys.map((k) => [k, `${k}-${i}`] as const));
    const crashing = app.start({ crashBeforeCheckpoint: () => true });
    await until(() => crashing.progress.invocations >= 2, 'two batches through the dispatcher');
    await crashing.stop();
    const committedAtCrash = await committedOffsets(admin, app.group, app.inTopic);
    const appliedBeforeCrash = [...app.fn.calls.values()].flat().length;
    for (const k of keys) await app.produce([[k, `${k}-4`]]);

    // Act
    const restarted = app.start();
    await app.settle(restarted);
    const expectedIds = await app.egressIds(keys);
    const read = await readTopic(bootstrap, app.outTopic, expectedIds.length);

    // Assess
    expect(committedAtCrash).toEqual([-1, -1]);
    expect(appliedBeforeCrash).toBeGreaterThan(0);
    expect(restarted.progress.recordsDelivered).toBe(15);
    for (const k of keys) {
      const expected = Array.from({ length: 5 }, (_, i) => `${k}-${i}`);
      expect(await app.seen(k)).toBe(expected.join('|'));
      expect(app.fn.calls.get(k)).toEqual(expected);
    }
    expect(expectedIds).toHaveLength(15);
    const unique = deduplicated(read);
    expect(unique.map(statefunId).sort()).toEqual([...expectedIds].sort());
    expect(await committedOffsets(admin, app.group, app.inTopic)).toEqual(await partitionEnds(app.inTopic));
  });

  it('dead-letters a record without a key and one whose value does not decode, with their reasons, while the good records of the same partition go through', async () => {
    // Prepare: a length-delimited field that claims 5 bytes and has 1 is no StringWrapper
    const app = await application(1);
    const truncated = Buffer.from([0x0a, 0x05, 0x61]);

    // Act
    await app.produce([['jan', 'j-0'], [null, 'keyless'], ['jan', truncated], ['jan', 'j-1']], 0);
    const poller = app.start();
    await app.settle(poller);
    const deadLetters = (await drainQueue(sqs, app.deadLetterQueueUrl)).map((m) => ({ id: m.id, reason: (JSON.parse(m.body) as { reason: string }).reason }));
    const read = await readTopic(bootstrap, app.outTopic, 2);

    // Assess
    expect(await app.seen('jan')).toBe('j-0|j-1');
    expect(read.map((r) => r.value.toString())).toEqual(['jan:1:j-0', 'jan:2:j-1']);
    expect(deadLetters.sort((a, b) => a.id.localeCompare(b.id))).toEqual([
      { id: `${app.inTopic}/0/1`, reason: expect.stringContaining(`Kafka record ${app.inTopic}/0/1 has no key`) },
      { id: `${app.inTopic}/0/2`, reason: expect.stringContaining('does not decode as io.statefun.types/string') },
    ]);
    expect(await committedOffsets(admin, app.group, app.inTopic)).toEqual([4]);
  });

  /** The end offset of each partition of `topic`: where a group that read everything has committed. */
  async function partitionEnds(topic: string): Promise<number[]> {
    const { partitionsCount } = (await admin.metadata({ topics: [topic] })).topics.get(topic)!;
    const [listed] = await admin.listOffsets({ topics: [{ name: topic, partitions: Array.from({ length: partitionsCount }, (_, partitionIndex) => ({ partitionIndex, timestamp: -1n })) }] });
    return [...listed!.partitions].sort((a, b) => a.partitionIndex - b.partitionIndex).map((p) => Number(p.offset));
  }

  /** Polls `condition` until it holds, failing after `timeoutMs`. */
  async function until(condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
});
