import { randomUUID } from 'node:crypto';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { Admin, Consumer, Producer, stringSerializers } from '@platformatic/kafka';
import type { KafkaEvent } from '../../../runtime-lambda/aws/lambdaEvents';
import { type KafkaSource, LocalPoller, type PollerFailure } from '../../../runtime-lambda/aws/LocalPoller';
import { s3OnFailureDestination } from '../../../runtime-lambda/aws/skippedBatches';
import { awsClientConfig } from '../../support/awsClientConfig';
import { kafkaBootstrap } from '../../support/kafka';
import { committedOffsets } from '../../support/kafkaTopics';

interface Seen {
  readonly group: string;
  readonly partition: number;
  readonly offset: number;
  readonly key: string | undefined;
  readonly value: string;
}

const MSK_ARN = 'arn:aws:kafka:us-east-1:123456789012:cluster/statefun/751d2973-a626-431c-9d4e-d7975eb44dd7-2';

describe('LocalPoller: Kafka source (Lambda\'s Kafka event source mapping on a real broker)', () => {
  const bootstrap = kafkaBootstrap();
  const admin = new Admin({ clientId: 'poller-test-admin', bootstrapBrokers: [bootstrap] });
  const producer = new Producer({ clientId: 'poller-test-producer', bootstrapBrokers: [bootstrap], serializers: stringSerializers });
  const quiet = { warn: jest.fn() };
  const pollers: LocalPoller[] = [];

  afterEach(async () => {
    await Promise.all(pollers.splice(0).map((p) => p.stop()));
  });
  afterAll(async () => {
    await producer.close();
    await admin.close();
  });

  /** A topic of its own for each test. */
  async function topic(partitions: number): Promise<string> {
    const name = `poller-${randomUUID().slice(0, 8)}`;
    await admin.createTopics({ topics: [name], partitions, replicas: 1 });
    return name;
  }

  /** Produces `values` to one partition, in order; a value `key:rest` is keyed `key`, a bare value has no key. */
  async function produce(name: string, partition: number, values: readonly string[]): Promise<void> {
    await producer.send({
      messages: values.map((value) => ({ topic: name, partition, value, ...(value.includes(':') ? { key: value.slice(0, value.indexOf(':')) } : {}), headers: { origin: 'test' } })),
    });
  }

  const committed = (group: string, name: string) => committedOffsets(admin, group, name);

  function seenOf(event: KafkaEvent): Seen[] {
    return Object.entries(event.records).flatMap(([group, records]) =>
      records.map((r) => ({
        group,
        partition: Number(r.partition),
        offset: Number(r.offset),
        key: typeof r.key === 'string' ? Buffer.from(r.key, 'base64').toString() : undefined,
        value: Buffer.from(r.value as string, 'base64').toString(),
      })),
    );
  }

  function source(name: string, group: string, handler: KafkaSource['handler'], extra: Partial<KafkaSource> = {}): KafkaSource {
    return { kind: 'kafka', bootstrapBrokers: [bootstrap], topics: [name], consumerGroupId: group, handler, ...extra };
  }

  function start(options: ConstructorParameters<typeof LocalPoller>[0]): LocalPoller {
    const poller = new LocalPoller({ idlePollMs: 20, logger: quiet, ...options });
    pollers.push(poller);
    poller.start();
    return poller;
  }

  /** Polls `condition` until it holds, failing after `timeoutMs`. */
  async function until(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  const idle = (poller: LocalPoller) => poller.waitForIdle({ quietMs: 200, timeoutMs: 30_000 });
  const group = () => `group-${randomUUID().slice(0, 8)}`;

  it('delivers batches of at most batchSize records of one partition in offset order, shaped as Lambda\'s self-managed Kafka event, and commits the group\'s offset after them', async () => {
    // Prepare
    const name = await topic(1);
    const g = group();
    await produce(name, 0, ['a:0', 'b:1', 'keyless', 'a:3', 'b:4', 'a:5', 'a:6']);
    const events: KafkaEvent[] = [];

    // Act
    const poller = start({ sources: [source(name, g, async (event) => void events.push(event), { mapping: { batchSize: 3 } })] });
    await idle(poller);

    // Assess
    expect(events.map((e) => seenOf(e).map((s) => s.offset))).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
    expect(events.every((e) => Object.keys(e.records).join() === `${name}-0`)).toBe(true);
    const [first] = events;
    expect(first).toMatchObject({ eventSource: 'SelfManagedKafka', bootstrapServers: bootstrap });
    expect(first).not.toHaveProperty('eventSourceArn');
    const record = first!.records[`${name}-0`]![0]!;
    expect(record).toEqual({
      topic: name,
      partition: 0,
      offset: 0,
      timestamp: expect.any(Number),
      timestampType: 'CREATE_TIME',
      key: Buffer.from('a').toString('base64'),
      value: Buffer.from('a:0').toString('base64'),
      headers: [{ origin: [...Buffer.from('test')] }],
    });
    expect(Math.abs(record.timestamp! - Date.now())).toBeLessThan(60_000);
    // A record without a key has no key field, as Lambda sends it.
    expect(first!.records[`${name}-0`]![2]).not.toHaveProperty('key');
    expect(await committed(g, name)).toEqual([7]);
    expect(poller.progress.checkpoints[`${g}/${name}-0`]).toBe('6');
    expect(poller.progress).toMatchObject({ invocations: 3, recordsDelivered: 7, recordsCheckpointed: 7 });
  });

  it('keeps each partition in offset order across several partitions, one partition per event, each record once, with an MSK event\'s eventSourceArn', async () => {
    // Prepare
    const name = await topic(3);
    const g = group();
    for (let p = 0; p < 3; p++) await produce(name, p, Array.from({ length: 12 }, (_, i) => `k${p}:${i}`));
    const events: KafkaEvent[] = [];

    // Act
    const poller = start({ sources: [source(name, g, async (event) => void events.push(event), { mapping: { batchSize: 5 }, eventSource: 'aws:kafka', eventSourceArn: MSK_ARN })] });
    await idle(poller);

    // Assess
    for (const event of events) {
      expect(event).toMatchObject({ eventSource: 'aws:kafka', eventSourceArn: MSK_ARN, bootstrapServers: bootstrap });
      expect(Object.keys(event.records)).toHaveLength(1);
      expect(seenOf(event).length).toBeLessThanOrEqual(5);
    }
    const seen = events.flatMap(seenOf);
    for (let p = 0; p < 3; p++) {
      const ofPartition = seen.filter((s) => s.partition === p);
      expect(ofPartition.map((s) => s.offset)).toEqual(Array.from({ length: 12 }, (_, i) => i));
      expect(ofPartition.map((s) => s.value)).toEqual(Array.from({ length: 12 }, (_, i) => `k${p}:${i}`));
      expect(new Set(ofPartition.map((s) => s.group))).toEqual(new Set([`${name}-${p}`]));
    }
    expect(await committed(g, name)).toEqual([12, 12, 12]);
  });

  it('starts from the group\'s committed offset: a second poller of the same group resumes where the first stopped, no record twice; another group starts from the earliest', async () => {
    // Prepare
    const name = await topic(2);
    const g = group();
    await produce(name, 0, ['a:0', 'a:1', 'a:2']);
    await produce(name, 1, ['b:0', 'b:1']);
    const first: Seen[] = [];
    const firstPoller = start({ sources: [source(name, g, async (e) => void first.push(...seenOf(e)), { mapping: { batchSize: 2 } })] });
    await idle(firstPoller);
    await firstPoller.stop();
    await produce(name, 0, ['a:3']);
    await produce(name, 1, ['b:2', 'b:3']);
    const second: Seen[] = [];
    const other: Seen[] = [];

    // Act
    const secondPoller = start({
      sources: [source(name, g, async (e) => void second.push(...seenOf(e))), source(name, group(), async (e) => void other.push(...seenOf(e)))],
    });
    await idle(secondPoller);

    // Assess
    expect(first.map((s) => s.value).sort()).toEqual(['a:0', 'a:1', 'a:2', 'b:0', 'b:1']);
    expect(second.map((s) => s.value).sort()).toEqual(['a:3', 'b:2', 'b:3']);
    expect(other).toHaveLength(8);
    expect(await committed(g, name)).toEqual([4, 4]);
  });

  it('commits the offset only after a successful batch: a handler that throws gets the same records again while the committed offset stays put', async () => {
    // Prepare
    const name = await topic(1);
    const g = group();
    await produce(name, 0, ['x:0', 'x:1', 'x:2']);
    const batches: string[][] = [];
    const committedDuringRetries: number[][] = [];
    let failures = 2;

    // Act
    const poller = start({
      sources: [
        source(name, g, async (event) => {
          batches.push(seenOf(event).map((s) => s.value));
          if (batches.length > 1) committedDuringRetries.push(await committed(g, name));
          if (failures-- > 0) throw new Error('injected: the function failed');
        }),
      ],
    });
    await idle(poller);

    // Assess
    expect(batches).toEqual([['x:0', 'x:1', 'x:2'], ['x:0', 'x:1', 'x:2'], ['x:0', 'x:1', 'x:2']]);
    expect(committedDuringRetries).toEqual([[-1], [-1]]);
    expect(await committed(g, name)).toEqual([3]);
    expect(poller.progress).toMatchObject({ handlerErrors: 2, retriedRecords: 6, recordsCheckpointed: 3 });
  });

  it('re-delivers completed records when the poller crashes before its checkpoint, and commits nothing for them: a restarted poller of the group reads them again', async () => {
    // Prepare
    const name = await topic(1);
    const g = group();
    await produce(name, 0, ['y:0', 'y:1']);
    const batches: string[][] = [];
    const committedOnRedelivery: number[][] = [];
    let crashes = 1;

    // Act: one simulated crash, then a poller that crashes before every checkpoint, stopped, and a fresh one
    const poller = start({
      sources: [
        source(name, g, async (event) => {
          batches.push(seenOf(event).map((s) => s.value));
          if (batches.length === 2) committedOnRedelivery.push(await committed(g, name));
        }),
      ],
      crashBeforeCheckpoint: () => crashes-- > 0,
    });
    await idle(poller);
    const committedAfterRecovery = await committed(g, name);

    const other = group();
    const neverCommits: string[][] = [];
    const crashing = start({ sources: [source(name, other, async (e) => void neverCommits.push(seenOf(e).map((s) => s.value)))], crashBeforeCheckpoint: () => true });
    await until(() => neverCommits.length >= 1, 'the crashing poller\'s first invocation');
    await crashing.stop();
    const committedAfterCrash = await committed(other, name);
    const restarted: string[][] = [];
    const fresh = start({ sources: [source(name, other, async (e) => void restarted.push(seenOf(e).map((s) => s.value)))] });
    await idle(fresh);

    // Assess
    expect(batches).toEqual([['y:0', 'y:1'], ['y:0', 'y:1']]);
    expect(committedOnRedelivery).toEqual([[-1]]);
    expect(committedAfterRecovery).toEqual([2]);
    expect(poller.progress.checkpointsSkipped).toBe(1);
    expect(committedAfterCrash).toEqual([-1]);
    expect(restarted).toEqual([['y:0', 'y:1']]);
    expect(await committed(other, name)).toEqual([2]);
  });

  it('hands a batch that exhausted maxRetryAttempts to onFailure as a Kafka failure (S3 destination: Lambda\'s KafkaBatchInfo and the event), commits past it and moves on', async () => {
    // Prepare
    const name = await topic(1);
    const g = group();
    const s3 = new S3Client({ ...awsClientConfig(), forcePathStyle: true });
    const bucket = `kafka-failures-${randomUUID().slice(0, 8)}`;
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const toS3 = s3OnFailureDestination({ client: s3, bucket, functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:dispatcher', mappingId: 'kafka-mapping' });
    const failures: PollerFailure[] = [];
    await produce(name, 0, ['p:0', 'p:poison', 'p:2']);
    const delivered: string[][] = [];

    // Act
    const poller = start({
      sources: [
        source(
          name,
          g,
          async (event) => {
            const values = seenOf(event).map((s) => s.value);
            delivered.push(values);
            if (values.includes('p:poison')) throw new Error('poison');
          },
          { mapping: { maxRetryAttempts: 2 }, eventSource: 'aws:kafka', eventSourceArn: MSK_ARN },
        ),
      ],
      onFailure: async (failure) => {
        failures.push(failure);
        await toS3(failure);
      },
    });
    await idle(poller);
    await produce(name, 0, ['p:3']);
    await idle(poller);

    // Assess
    expect(delivered).toEqual([...Array(3).fill(['p:0', 'p:poison', 'p:2']), ['p:3']]);
    expect(failures).toHaveLength(1);
    const [failure] = failures;
    expect(failure).toMatchObject({
      source: g,
      sourceKind: 'kafka',
      topic: name,
      partition: 0,
      condition: 'RetryAttemptsExhausted',
      attempts: 3,
      firstSequenceNumber: '0',
      lastSequenceNumber: '2',
      records: 3,
      reason: expect.stringContaining('handler threw: Error: poison'),
    });
    expect(seenOf(failure!.event as KafkaEvent).map((s) => s.value)).toEqual(['p:0', 'p:poison', 'p:2']);
    expect(await committed(g, name)).toEqual([4]);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    expect(listed.Contents?.map((o) => o.Key)).toEqual([expect.stringMatching(new RegExp(`^aws/lambda/kafka-mapping/${name}-0/\\d{4}/\\d{2}/\\d{2}/`))]);
    const object = JSON.parse(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: listed.Contents![0]!.Key! }))).Body!.transformToString());
    expect(object).toMatchObject({
      requestContext: { condition: 'RetryAttemptsExhausted', approximateInvokeCount: 3 },
      KafkaBatchInfo: {
        batchSize: 3,
        eventSourceArn: MSK_ARN,
        bootstrapServers: bootstrap,
        recordsInfo: { [`${name}-0`]: { firstRecordOffset: '0', lastRecordOffset: '2', firstRecordTimestamp: expect.stringMatching(/Z$/), lastRecordTimestamp: expect.stringMatching(/Z$/) } },
      },
    });
    expect(JSON.parse(object.payload)).toEqual(failure!.event);
    s3.destroy();
  });

  it('starts a partition without a committed offset at its end with LATEST: only records produced after the start are delivered', async () => {
    // Prepare
    const name = await topic(1);
    const g = group();
    await produce(name, 0, ['old:0', 'old:1']);
    const seen: string[] = [];
    const poller = start({ sources: [source(name, g, async (e) => void seen.push(...seenOf(e).map((s) => s.value)), { startingPosition: 'LATEST' })] });
    await idle(poller);

    // Act
    await produce(name, 0, ['new:2', 'new:3']);
    await idle(poller);

    // Assess
    expect(seen).toEqual(['new:2', 'new:3']);
    expect(await committed(g, name)).toEqual([4]);
  });

  it('picks up partitions added to a topic at its next listing', async () => {
    // Prepare
    const name = await topic(1);
    const seen: Seen[] = [];
    const poller = start({ sources: [source(name, group(), async (e) => void seen.push(...seenOf(e)))], shardRefreshMs: 200 });
    await idle(poller);

    // Act
    await admin.createPartitions({ topics: [{ name, count: 2 }] });
    await produce(name, 1, ['new:0']);
    await until(() => seen.length === 1, 'the record of the new partition');

    // Assess
    expect(seen).toEqual([expect.objectContaining({ group: `${name}-1`, partition: 1, offset: 0, value: 'new:0' })]);
  });

  it('retries an offset commit the broker refuses while another consumer is an active member of the group, and commits once it left', async () => {
    // Prepare: a consumer that joined the group
    const name = await topic(1);
    const g = group();
    const member = new Consumer({ groupId: g, clientId: 'poller-test-member', bootstrapBrokers: [bootstrap] });
    const stream = await member.consume({ topics: [name], mode: 'latest', autocommit: false });
    await produce(name, 0, ['z:0']);
    const warnings: string[] = [];
    const seen: string[] = [];

    // Act
    const poller = start({ sources: [source(name, g, async (e) => void seen.push(...seenOf(e).map((s) => s.value)))], logger: { warn: (line: string) => void warnings.push(line) } });
    await until(() => warnings.some((w) => w.includes('committing the checkpoint failed')), 'the refused commit');
    const committedWhileMember = await committed(g, name);
    await stream.close();
    await member.close(true);
    await idle(poller);

    // Assess
    expect(seen).toEqual(['z:0']);
    expect(committedWhileMember).toEqual([-1]);
    expect(warnings.find((w) => w.includes('committing the checkpoint failed'))).toContain(
      `Kafka source ${g}: committing offset 1 of ${name}-0 failed (the broker refuses it while another consumer is an active member of group ${g}: a mapping's group must be its own)`,
    );
    expect(await committed(g, name)).toEqual([1]);
  });

  it('rejects a parallelizationFactor above 1: Kafka mappings have none', () => {
    // Act
    const attempt = () => new LocalPoller({ sources: [source('orders', 'g1', async () => undefined, { mapping: { parallelizationFactor: 2 } })] });

    // Assess
    expect(attempt).toThrow(RangeError);
    expect(attempt).toThrow(
      'Kafka source g1: parallelizationFactor must be 1, got 2: Kafka event source mappings have no parallelization factor (a partition\'s records go one batch at a time); add partitions to read in parallel',
    );
  });

  it.each<[string, Partial<KafkaSource> & Record<string, unknown>, string]>([
    ['an empty consumerGroupId', { consumerGroupId: '' }, 'Kafka source: consumerGroupId must be a non-empty string (Lambda\'s ConsumerGroupId, where the committed offsets are kept), got ""'],
    ['no brokers', { bootstrapBrokers: [] }, 'Kafka source g1: bootstrapBrokers must be a non-empty array of "host:port" strings, e.g. ["127.0.0.1:9092"], got []'],
    ['a broker without a port', { bootstrapBrokers: ['localhost'] }, 'Kafka source g1: bootstrapBrokers must be a non-empty array of "host:port" strings, e.g. ["127.0.0.1:9092"], got ["localhost"]'],
    ['a string for bootstrapBrokers', { bootstrapBrokers: 'localhost:9092' as unknown as string[] }, 'Kafka source g1: bootstrapBrokers must be a non-empty array of "host:port" strings, e.g. ["127.0.0.1:9092"], got "localhost:9092"'],
    ['no topic', { topics: [] as unknown as [string] }, 'Kafka source g1: topics must be an array of exactly one topic name, as a Lambda Kafka mapping\'s Topics is (a source per topic), got []'],
    [
      'two topics',
      { topics: ['orders', 'payments'] as unknown as [string] },
      'Kafka source g1: topics must be an array of exactly one topic name, as a Lambda Kafka mapping\'s Topics is (a source per topic), got ["orders","payments"]',
    ],
    ['a topic name Kafka refuses', { topics: ['my orders'] }, 'Kafka source g1: topics has "my orders", not a Kafka topic name (1 to 249 of a-z, A-Z, 0-9, \'.\', \'_\', \'-\')'],
    ['no handler', { handler: undefined as unknown as KafkaSource['handler'] }, 'Kafka source g1: handler must be a function taking a Kafka event, got undefined'],
    ['an unknown startingPosition', { startingPosition: 'EARLIEST' as 'LATEST' }, 'Kafka source g1: startingPosition must be "TRIM_HORIZON" or "LATEST", got "EARLIEST"'],
    ['an unknown eventSource', { eventSource: 'msk' as 'aws:kafka' }, 'Kafka source g1: eventSource must be "aws:kafka" (Amazon MSK) or "SelfManagedKafka", got "msk"'],
    [
      'an MSK source without its cluster ARN',
      { eventSource: 'aws:kafka' },
      'Kafka source g1: an "aws:kafka" (Amazon MSK) source needs eventSourceArn, the cluster\'s ARN (arn:aws:kafka:<region>:<account>:cluster/<name>/<uuid>), got undefined',
    ],
    [
      'a self-managed source with an ARN',
      { eventSourceArn: MSK_ARN },
      'Kafka source g1: eventSourceArn is for an "aws:kafka" (Amazon MSK) source; a "SelfManagedKafka" source\'s events carry bootstrapServers only: remove it or set eventSource "aws:kafka"',
    ],
    ['a batchSize out of Lambda\'s bounds', { mapping: { batchSize: 10_001 } }, 'Kafka source g1: batchSize must be an integer from 1 to 10000, got 10001'],
  ])('rejects %s with an error naming the field and the fix', (_label, override, message) => {
    // Act
    const attempt = () => new LocalPoller({ sources: [{ ...source('orders', 'g1', async () => undefined), ...override } as KafkaSource] });

    // Assess
    expect(attempt).toThrow(message);
  });
});
