import { randomUUID } from 'node:crypto';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { SQSClient, CreateQueueCommand, DeleteQueueCommand } from '@aws-sdk/client-sqs';
import { Admin, Producer } from '@platformatic/kafka';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { Address } from '../../../runtime-lambda/core/Address';
import { type Effects, type EgressRecord, NO_EFFECTS } from '../../../runtime-lambda/core/Effects';
import { KafkaProducers } from '../../../runtime-lambda/aws/KafkaProducers';
import type { KafkaEvent, KafkaRecord } from '../../../runtime-lambda/aws/lambdaEvents';
import { OutboxRelay } from '../../../runtime-lambda/aws/OutboxRelay';
import { createDispatcherHandler } from '../../../runtime-lambda/handlers/dispatcher';
import { SimulatedClock } from '../../../runtime-lambda/local/SimulatedClock';
import { readText, textValue } from '../../helpers/factories';
import { JournalFunction, resolverOf } from '../../helpers/journalFunction';
import { awsClientConfig } from '../../support/awsClientConfig';
import { drainQueue } from '../../support/drainQueue';
import { type DynamoStoreFixture, dynamoStoreFixture } from '../../support/dynamoStore';
import { kafkaBootstrap } from '../../support/kafka';
import { type ReadRecord as Read, officialKafkaRecord, readTopic } from '../../support/kafkaTopics';

/** The Kafka event Lambda's event source mapping would deliver for `messages` (as MSK sends it). */
function lambdaKafkaEvent(messages: readonly Read[]): KafkaEvent {
  const records: Record<string, KafkaRecord[]> = {};
  for (const m of messages) {
    (records[`${m.topic}-${m.partition}`] ??= []).push({
      topic: m.topic,
      partition: m.partition,
      offset: Number(m.offset),
      timestamp: Number(m.timestamp),
      timestampType: 'CREATE_TIME',
      ...(m.key === undefined || m.key === null ? {} : { key: Buffer.from(m.key, 'utf8').toString('base64') }),
      value: m.value.toString('base64'),
      headers: [...m.headers].map(([name, value]) => ({ [name]: [...Buffer.from(value, 'utf8')] })),
    });
  }
  return { eventSource: 'aws:kafka', eventSourceArn: 'arn:aws:kafka:us-east-1:123456789012:cluster/test/0', bootstrapServers: 'test', records };
}

describe('Kafka on a real broker: relay egress and dispatcher ingress', () => {
  const bootstrap = kafkaBootstrap();
  const suffix = randomUUID().slice(0, 8);
  const admin = new Admin({ clientId: 'test-admin', bootstrapBrokers: [bootstrap] });
  const sqs = new SQSClient(awsClientConfig());
  const kinesis = new KinesisClient({ ...awsClientConfig(), requestHandler: new NodeHttpHandler() });
  const producers = new KafkaProducers({ retries: 2, timeoutMs: 3000 });
  let dlqUrl: string;
  let fx: DynamoStoreFixture;

  beforeAll(async () => {
    fx = await dynamoStoreFixture();
    dlqUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `kafka-dlq-${suffix}` }))).QueueUrl!;
  });
  afterAll(async () => {
    await producers.close();
    await admin.close();
    await sqs.send(new DeleteQueueCommand({ QueueUrl: dlqUrl })).catch(() => {});
    sqs.destroy();
    kinesis.destroy();
    await fx?.close();
  });

  const relayTo = (topics: string[], cluster = { bootstrapServers: [bootstrap] }) =>
    new OutboxRelay({
      kinesis,
      messageStream: `unused-${suffix}`,
      sqs,
      egress: { 'example/greets': { kafkaProducerRecordTopics: topics, kafkaCluster: cluster } },
      deadLetterQueueUrl: dlqUrl,
      kafkaProducers: producers,
      sleep: async () => undefined,
    });
  const item = (egress: EgressRecord[]): Effects => ({ ...NO_EFFECTS, egress });

  it('produces the SDKs\' records to the topics they name, keyed, each key in order, ids in statefun-id headers; a retried item\'s duplicates carry the same ids', async () => {
    // Prepare
    const topic = `greetings-${suffix}`;
    await admin.createTopics({ topics: [topic], partitions: 3, replicas: 1 });
    const relay = relayTo([topic]);
    const first = ['alice', 'bob', 'alice', 'carol', 'bob', 'alice'].map((key, i) => officialKafkaRecord(`example/greeter/${key}.1.e${i}`, topic, key, `${key}-${i}`));
    const second = [officialKafkaRecord('example/greeter/x.2.e0', topic, '', 'no key')];

    // Act
    const outcomes = [await relay.relay([item(first), item(second)]), await relay.relay([item(first)])];
    const read = await readTopic(bootstrap, topic, first.length * 2 + second.length);

    // Assess
    expect(outcomes).toEqual([
      { firstIncomplete: undefined, errors: [] },
      { firstIncomplete: undefined, errors: [] },
    ]);
    const byKey = new Map<string | null, Read[]>();
    for (const m of read) byKey.set(m.key ?? null, [...(byKey.get(m.key ?? null) ?? []), m]);
    // Each key on one partition, in commit order; the redelivered item's records again, same ids.
    expect(byKey.get('alice')!.map((m) => m.value.toString())).toEqual(['alice-0', 'alice-2', 'alice-5', 'alice-0', 'alice-2', 'alice-5']);
    expect(byKey.get('bob')!.map((m) => m.value.toString())).toEqual(['bob-1', 'bob-4', 'bob-1', 'bob-4']);
    for (const records of byKey.values()) expect(new Set(records.map((m) => m.partition)).size).toBe(1);
    expect(byKey.get('alice')!.map((m) => m.headers.get('statefun-id'))).toEqual([...['e0', 'e2', 'e5'], ...['e0', 'e2', 'e5']].map((e) => `example/greeter/alice.1.${e}`));
    expect(byKey.get(null)!.map((m) => [m.value.toString(), m.headers.get('statefun-id')])).toEqual([['no key', 'example/greeter/x.2.e0']]);
    // What a consumer that drops duplicates by statefun-id sees: each record once.
    const seen = new Set<string>();
    const deduplicated = read.filter((m) => !seen.has(m.headers.get('statefun-id')!) && seen.add(m.headers.get('statefun-id')!));
    expect(deduplicated.map((m) => m.headers.get('statefun-id')).sort()).toEqual([...first, ...second].map((r) => r.id).sort());
  });

  it('dead-letters records for a topic the broker does not have, or the egress may not write to, and moves on', async () => {
    // Prepare
    const existing = `kept-${suffix}`;
    const missing = `missing-${suffix}`;
    await admin.createTopics({ topics: [existing], partitions: 1, replicas: 1 });
    const relay = relayTo([existing, missing]);
    const records = [
      officialKafkaRecord('to-missing', missing, 'k', 'lost'),
      officialKafkaRecord('elsewhere', `other-${suffix}`, 'k', 'refused'),
      { id: 'not-a-record', egress: 'example/greets', argument: textValue('plain text') },
    ];

    // Act
    const outcome = await relay.relay([item(records), item([officialKafkaRecord('kept', existing, 'k', 'fine')])]);
    const dead = (await drainQueue(sqs, dlqUrl)).map((m) => JSON.parse(m.body) as { id: string; reason: string });
    const read = await readTopic(bootstrap, existing, 1);

    // Assess
    expect(outcome.errors).toEqual([]);
    expect(read.map((m) => m.headers.get('statefun-id'))).toEqual(['kept']);
    expect(dead.map((d) => d.id).sort()).toEqual(['elsewhere', 'not-a-record', 'to-missing']);
    expect(dead.find((d) => d.id === 'to-missing')!.reason).toMatch(new RegExp(`^egress "example/greets" refused it for good: Kafka \\(${bootstrap}\\) refused records for ${missing}: Error: Unknown topic ${missing}\\.$`));
    expect(dead.find((d) => d.id === 'elsewhere')!.reason).toBe(
      `egress "example/greets" cannot produce it to Kafka: topic "other-${suffix}" is not one this egress may write to ("${existing}", "${missing}")`,
    );
    expect(dead.find((d) => d.id === 'not-a-record')!.reason).toBe(
      'egress "example/greets" cannot produce it to Kafka: expected a type.googleapis.com/io.statefun.sdk.egress.KafkaProducerRecord (an SDK\'s Kafka egress message), got a value of type "test/text"',
    );
  });

  it('reports the outbox item incomplete, to be relayed again, when no broker answers', async () => {
    // Prepare
    const relay = relayTo([`t-${suffix}`], { bootstrapServers: ['127.0.0.1:1'] });

    // Act
    const outcome = await relay.relay([item([officialKafkaRecord('r', `t-${suffix}`, 'k', 'v')])]);

    // Assess
    expect(outcome.firstIncomplete).toBe(0);
    expect(outcome.errors).toHaveLength(1);
    expect(outcome.errors[0]!.error).toMatchObject({ code: 'RELAY_INCOMPLETE', retryable: true });
    expect(outcome.errors[0]!.error.message).toMatch(new RegExp(`^producing 1 record\\(s\\) to t-${suffix} on Kafka \\(127\\.0\\.0\\.1:1\\) failed: `));
  });

  it('dispatches records produced to the broker: each key in offset order, and a redelivered batch changes nothing', async () => {
    // Prepare
    const topic = `names-${suffix}`;
    await admin.createTopics({ topics: [topic], partitions: 2, replicas: 1 });
    const producer = new Producer({ clientId: 'test-producer', bootstrapBrokers: [bootstrap], idempotent: true });
    const sent = ['ann', 'ben', 'ann', 'cid', 'ben', 'ann', 'cid', 'ann'].map((key, i) => ({ topic, key: Buffer.from(key), value: Buffer.from(`${key}${i}`) }));
    await producer.send({ messages: sent });
    await producer.close();
    const read = await readTopic(bootstrap, topic, sent.length);
    const event = lambdaKafkaEvent(read);
    const fn = new JournalFunction();
    const handler = createDispatcherHandler({
      store: fx.store,
      functions: resolverOf({ 'test/journal': fn }),
      kafkaIngresses: { [topic]: { functionType: 'test/journal', valueType: 'test/text' } },
      clock: new SimulatedClock(Date.now()),
      logger: { warn: jest.fn() },
    });
    const journal = async (id: string) => readText((await fx.store.load([Address.of('test/journal', id)])).get(`test/journal/${id}`)!.values.get('journal'));

    // Act
    const first = await handler(event);
    const after = await Promise.all(['ann', 'ben', 'cid'].map(journal));
    const calls = fn.requests.length;
    const again = await handler(event);

    // Assess
    expect(Object.keys(event.records).length).toBe(2);
    expect(first).toEqual({ batchItemFailures: [] });
    expect(again).toEqual({ batchItemFailures: [] });
    expect(after).toEqual(['ann0|ann2|ann5|ann7', 'ben1|ben4', 'cid3|cid6']);
    expect(await Promise.all(['ann', 'ben', 'cid'].map(journal))).toEqual(after);
    expect(fn.requests.length).toBe(calls);
  });
});
