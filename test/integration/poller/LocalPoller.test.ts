import { randomUUID } from 'node:crypto';
import { DescribeTableCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { CreateStreamCommand, DeleteStreamCommand, KinesisClient, PutRecordsCommand, waitUntilStreamExists } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { DynamoStreamsSdkApi } from '../../../runtime-lambda/aws/DynamoStreamsApi';
import type { DynamoDBStreamEvent, KinesisStreamEvent, StreamBatchResponse } from '../../../runtime-lambda/aws/lambdaEvents';
import { LocalPoller, type PollerFailure, mappingOptions } from '../../../runtime-lambda/aws/LocalPoller';
import { SimulatedClock } from '../../../runtime-lambda/local/SimulatedClock';
import { awsClientConfig, dynamoClientConfig } from '../../support/awsClientConfig';
import { type DynamoStoreFixture, dynamoStoreFixture } from '../../support/dynamoStore';

/** moto serves HTTP/1.1 only; the Kinesis client defaults to HTTP/2 (see relay.test.ts). */
const kinesisClient = () => new KinesisClient({ ...awsClientConfig(), requestHandler: new NodeHttpHandler() });

interface Seen {
  readonly key: string;
  readonly data: string;
  readonly seq: string;
  readonly shard: string;
}

describe('LocalPoller (event source mappings on moto Kinesis and DynamoDB Local Streams)', () => {
  const kinesis = kinesisClient();
  const quiet = { warn: jest.fn() };
  const pollers: LocalPoller[] = [];
  const streams: string[] = [];

  afterEach(async () => {
    await Promise.all(pollers.splice(0).map((p) => p.stop()));
  });
  afterAll(async () => {
    await Promise.all(streams.map((StreamName) => kinesis.send(new DeleteStreamCommand({ StreamName })).catch(() => {})));
    kinesis.destroy();
  });

  async function stream(shards: number): Promise<string> {
    const name = `poller-${randomUUID().slice(0, 8)}`;
    streams.push(name);
    await kinesis.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
    await waitUntilStreamExists({ client: kinesis, maxWaitTime: 60, minDelay: 1, maxDelay: 2 }, { StreamName: name });
    return name;
  }

  /** Puts `perKey` records for each of `keys`, in order per key (data `key:i`). */
  async function put(name: string, keys: readonly string[], perKey: number): Promise<void> {
    for (let i = 0; i < perKey; i++) {
      await kinesis.send(new PutRecordsCommand({ StreamName: name, Records: keys.map((key) => ({ PartitionKey: key, Data: Buffer.from(`${key}:${i}`) })) }));
    }
  }

  function seenOf(event: KinesisStreamEvent): Seen[] {
    return event.Records.map((r) => ({
      key: r.kinesis.partitionKey,
      data: Buffer.from(r.kinesis.data, 'base64').toString(),
      seq: r.kinesis.sequenceNumber,
      shard: r.eventID.slice(0, r.eventID.indexOf(':')),
    }));
  }

  function start(poller: LocalPoller): LocalPoller {
    pollers.push(poller);
    poller.start();
    return poller;
  }

  it('reads every shard from TRIM_HORIZON in batches of batchSize, AWS-shaped, keys in order across parallel lanes', async () => {
    // Prepare
    const name = await stream(2);
    const keys = Array.from({ length: 8 }, (_, i) => `k${i}`);
    await put(name, keys, 5);
    const batches: Seen[][] = [];
    const events: KinesisStreamEvent[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const handler = async (event: KinesisStreamEvent) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      events.push(event);
      batches.push(seenOf(event));
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
    };

    // Act
    const poller = start(new LocalPoller({ sources: [{ kind: 'kinesis', client: kinesis, stream: name, handler, mapping: { batchSize: 4, parallelizationFactor: 3 } }], idlePollMs: 20, logger: quiet }));
    await poller.waitForIdle({ quietMs: 200, timeoutMs: 30_000 });

    // Assess
    const all = batches.flat();
    expect(all).toHaveLength(40);
    expect(new Set(all.map((s) => s.shard)).size).toBe(2);
    expect(Math.max(...batches.map((b) => b.length))).toBeLessThanOrEqual(4);
    for (const batch of batches) expect(new Set(batch.map((s) => s.shard)).size).toBe(1);
    for (const key of keys) expect(all.filter((s) => s.key === key).map((s) => s.data)).toEqual([0, 1, 2, 3, 4].map((i) => `${key}:${i}`));
    expect(maxInFlight).toBeGreaterThan(1);
    const record = events[0]!.Records[0]!;
    expect(record.eventSourceARN).toMatch(new RegExp(`^arn:aws:kinesis:[^:]+:\\d+:stream/${name}$`));
    expect(record.eventID).toBe(`${seenOf(events[0]!)[0]!.shard}:${record.kinesis.sequenceNumber}`);
    expect(poller.progress).toMatchObject({ recordsRead: 40, recordsDelivered: 40, recordsCheckpointed: 40, handlerErrors: 0 });
    expect(Object.keys(poller.progress.checkpoints)).toHaveLength(2);
  });

  it('checkpoints only before the lowest batchItemFailure and retries the tail from there', async () => {
    // Prepare
    const name = await stream(1);
    await put(name, ['a', 'b'], 3); // a:0 b:0 a:1 b:1 a:2 b:2
    const batches: string[][] = [];
    let failOnce = true;
    const handler = async (event: KinesisStreamEvent): Promise<StreamBatchResponse> => {
      const seen = seenOf(event);
      batches.push(seen.map((s) => s.data));
      if (failOnce) {
        failOnce = false;
        // Two failures reported: the lowest one (b:0) decides.
        return { batchItemFailures: [{ itemIdentifier: seen[3]!.seq }, { itemIdentifier: seen[1]!.seq }] };
      }
      return { batchItemFailures: [] };
    };

    // Act
    const poller = start(new LocalPoller({ sources: [{ kind: 'kinesis', client: kinesis, stream: name, handler, mapping: { batchSize: 10 } }], idlePollMs: 20, logger: quiet }));
    await poller.waitForIdle({ quietMs: 200, timeoutMs: 30_000 });

    // Assess
    expect(batches).toEqual([
      ['a:0', 'b:0', 'a:1', 'b:1', 'a:2', 'b:2'],
      ['b:0', 'a:1', 'b:1', 'a:2', 'b:2'],
    ]);
    expect(poller.progress).toMatchObject({ partialFailures: 1, retriedRecords: 5, recordsCheckpointed: 6 });
  });

  it('fails the whole batch on an unknown itemIdentifier or a throw, bisects, and hands records to onFailure after maxRetryAttempts', async () => {
    // Prepare
    const name = await stream(1);
    await put(name, ['p'], 4); // p:0..p:3; p:1 is poison
    const batches: string[][] = [];
    let calls = 0;
    const handler = async (event: KinesisStreamEvent): Promise<StreamBatchResponse> => {
      const data = seenOf(event).map((s) => s.data);
      batches.push(data);
      if (++calls === 1) return { batchItemFailures: [{ itemIdentifier: 'not-in-this-batch' }] };
      if (data.includes('p:1')) throw new Error('poison');
      return { batchItemFailures: [] };
    };
    const failures: PollerFailure[] = [];

    // Act
    const poller = start(
      new LocalPoller({
        sources: [{ kind: 'kinesis', client: kinesis, stream: name, handler, mapping: { batchSize: 4, bisectBatchOnFunctionError: true, maxRetryAttempts: 3 } }],
        onFailure: (f) => {
          failures.push(f);
        },
        idlePollMs: 20,
        logger: quiet,
      }),
    );
    await poller.waitForIdle({ quietMs: 200, timeoutMs: 30_000 });

    // Assess: attempt 1 whole batch (unknown id), 2 whole batch throws → bisect to 2,
    // 3 [p:0,p:1] throws → bisect to 1, 4 [p:0] ok, then [p:1] fails until retries run out.
    expect(batches.slice(0, 4)).toEqual([['p:0', 'p:1', 'p:2', 'p:3'], ['p:0', 'p:1', 'p:2', 'p:3'], ['p:0', 'p:1'], ['p:0']]);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ source: name, sourceKind: 'kinesis', condition: 'RetryAttemptsExhausted', records: 1, reason: expect.stringContaining('poison') });
    // The event of the records given up on, as the handler got it: what an S3 destination keeps.
    expect(seenOf(failures[0]!.event as KinesisStreamEvent).map((s) => s.data)).toEqual(['p:1']);
    expect(failures[0]).toMatchObject({ streamArn: expect.stringMatching(new RegExp(`:stream/${name}$`)) });
    expect(batches.at(-1)).toEqual(['p:2', 'p:3']);
    expect(poller.progress.recordsFailed).toBe(1);
    expect(poller.progress.bisections).toBeGreaterThanOrEqual(2);
    expect(quiet.warn).toHaveBeenCalledWith(expect.stringContaining('exhausted their retries'));
  });

  it('re-delivers a completed batch when a fault hook crashes the poller before its checkpoint', async () => {
    // Prepare
    const name = await stream(1);
    await put(name, ['x'], 2);
    const batches: string[][] = [];
    let crashes = 1;

    // Act
    const poller = start(
      new LocalPoller({
        sources: [{ kind: 'kinesis', client: kinesis, stream: name, handler: async (e) => void batches.push(seenOf(e).map((s) => s.data)) }],
        crashBeforeCheckpoint: () => crashes-- > 0,
        idlePollMs: 20,
        logger: quiet,
      }),
    );
    await poller.waitForIdle({ quietMs: 200, timeoutMs: 30_000 });

    // Assess
    expect(batches).toEqual([['x:0', 'x:1'], ['x:0', 'x:1']]);
    expect(poller.progress.checkpointsSkipped).toBe(1);
  });

  it('never delivers records older than their stream\'s retention, as the stream has trimmed them (a 25-hour outage on a simulated clock)', async () => {
    // Prepare: the same records on a 24-hour stream and on one that keeps them 48 hours
    const [short, long] = [await stream(1), await stream(1)];
    await put(short, ['x'], 3);
    await put(long, ['x'], 3);
    const delivered: Record<string, string[]> = { [short]: [], [long]: [] };
    const clock = { now: () => Date.now() + 25 * 3_600_000 };

    // Act
    const poller = start(
      new LocalPoller({
        sources: [
          { kind: 'kinesis', client: kinesis, stream: short, handler: async (e) => void delivered[short]!.push(...seenOf(e).map((r) => r.data)) },
          { kind: 'kinesis', client: kinesis, stream: long, retentionMs: 48 * 3_600_000, handler: async (e) => void delivered[long]!.push(...seenOf(e).map((r) => r.data)) },
        ],
        clock,
        idlePollMs: 20,
        logger: quiet,
      }),
    );
    await poller.waitForIdle({ quietMs: 300, timeoutMs: 30_000 });

    // Assess
    expect(delivered[short]).toEqual([]);
    expect(delivered[long]).toEqual(['x:0', 'x:1', 'x:2']);
    expect(poller.progress.recordsTrimmed).toBe(3);
  });

  it('reads the emulator\'s wall-clock stamps on a simulated clock\'s timeline: records from before a 25-hour move are trimmed, later ones arrive at the new time', async () => {
    // Prepare: two records, the clock moved 25 hours, two more
    const name = await stream(1);
    const clock = new SimulatedClock(Date.now());
    await put(name, ['x'], 2);
    clock.set(clock.now() + 25 * 3_600_000);
    const movedTo = clock.now();
    await kinesis.send(new PutRecordsCommand({ StreamName: name, Records: [{ PartitionKey: 'x', Data: Buffer.from('x:late') }] }));
    const delivered: { data: string; arrivalMs: number }[] = [];

    // Act
    const poller = start(
      new LocalPoller({
        sources: [{ kind: 'kinesis', client: kinesis, stream: name, handler: async (e) => void delivered.push(...e.Records.map((r) => ({ data: Buffer.from(r.kinesis.data, 'base64').toString(), arrivalMs: r.kinesis.approximateArrivalTimestamp! * 1000 }))) }],
        clock,
        idlePollMs: 20,
        logger: quiet,
      }),
    );
    await poller.waitForIdle({ quietMs: 300, timeoutMs: 30_000 });

    // Assess
    expect(delivered).toEqual([{ data: 'x:late', arrivalMs: movedTo }]);
    expect(poller.progress.recordsTrimmed).toBe(2);
  });

  it('waits, when asked for idleness, until a record written just before the call is handled', async () => {
    // Prepare: a poller that has drained its stream
    const name = await stream(2);
    const delivered: string[] = [];
    const poller = start(new LocalPoller({ sources: [{ kind: 'kinesis', client: kinesis, stream: name, handler: async (e) => void delivered.push(...seenOf(e).map((r) => r.data)) }], idlePollMs: 20, logger: quiet }));
    await poller.waitForIdle({ quietMs: 100, timeoutMs: 30_000 });

    for (let round = 0; round < 5; round++) {
      // Act: write, then ask at once (no quiet period to hide behind)
      await put(name, [`k${round}`], 1);
      await poller.waitForIdle({ quietMs: 0, timeoutMs: 30_000 });

      // Assess
      expect(delivered).toContain(`k${round}:0`);
    }
  });

  describe('DynamoDB Streams (DynamoDB Local)', () => {
    let fx: DynamoStoreFixture;
    beforeAll(async () => {
      fx = await dynamoStoreFixture();
    });
    afterAll(async () => {
      await fx?.close();
    });

    it('delivers the outbox stream as DynamoDB Streams events, in order per item', async () => {
      // Prepare
      const streamArn = (await fx.client.send(new DescribeTableCommand({ TableName: fx.outboxTableName }))).Table!.LatestStreamArn!;
      for (let version = 1; version <= 4; version++) {
        for (const address of ['ns/f/a', 'ns/f/b', 'ns/f/c']) {
          await fx.client.send(new PutItemCommand({ TableName: fx.outboxTableName, Item: { address: { S: address }, version: { N: String(version) }, effects: { B: new Uint8Array([version]) } } }));
        }
      }
      const events: DynamoDBStreamEvent[] = [];
      const streamsClient = new DynamoDBStreamsClient(dynamoClientConfig());
      const api = new DynamoStreamsSdkApi(streamsClient);

      // Act
      const poller = start(
        new LocalPoller({
          sources: [{ kind: 'dynamodb', api, streamArn, handler: async (event) => void events.push(event), mapping: { batchSize: 2, parallelizationFactor: 2 } }],
          idlePollMs: 20,
          logger: quiet,
        }),
      );
      await poller.waitForIdle({ quietMs: 300, timeoutMs: 30_000 });

      // Assess
      const records = events.flatMap((e) => e.Records);
      expect(records).toHaveLength(12);
      expect(records[0]).toMatchObject({ eventName: 'INSERT', eventSourceARN: streamArn, dynamodb: { NewImage: { effects: { B: 'AQ==' } }, StreamViewType: 'NEW_IMAGE' } });
      const keys = records.map((r) => `${(r.dynamodb.Keys!.address as { S: string }).S}@${(r.dynamodb.Keys!.version as { N: string }).N}`);
      expect(new Set(keys).size).toBe(12);
      expect(Math.max(...events.map((e) => e.Records.length))).toBeLessThanOrEqual(2);
      streamsClient.destroy();
    });

    it('trims outbox stream records older than 24 hours: a relay that was down that long never sees them', async () => {
      // Prepare
      const streamArn = (await fx.client.send(new DescribeTableCommand({ TableName: fx.outboxTableName }))).Table!.LatestStreamArn!;
      await fx.client.send(new PutItemCommand({ TableName: fx.outboxTableName, Item: { address: { S: 'ns/f/trimmed' }, version: { N: '1' }, effects: { B: new Uint8Array([1]) } } }));
      const seen: string[] = [];
      const streamsClient = new DynamoDBStreamsClient(dynamoClientConfig());

      // Act
      const poller = start(
        new LocalPoller({
          sources: [{ kind: 'dynamodb', api: new DynamoStreamsSdkApi(streamsClient), streamArn, handler: async (event) => void seen.push(...event.Records.map((r) => (r.dynamodb.Keys!.address as { S: string }).S)) }],
          clock: { now: () => Date.now() + 25 * 3_600_000 },
          idlePollMs: 20,
          logger: quiet,
        }),
      );
      await poller.waitForIdle({ quietMs: 300, timeoutMs: 30_000 });

      // Assess: every record of the table's stream so far is older than 24 hours by that clock
      expect(seen).toEqual([]);
      expect(poller.progress.recordsTrimmed).toBeGreaterThanOrEqual(1);
      streamsClient.destroy();
    });

    it('runs two items of one partition key in different lanes at once, as AWS may (order is kept per item only)', async () => {
      // Prepare: eight versions of ONE address; AWS keeps their order only per item at a factor above 1
      const streamArn = (await fx.client.send(new DescribeTableCommand({ TableName: fx.outboxTableName }))).Table!.LatestStreamArn!;
      for (let version = 1; version <= 8; version++) {
        await fx.client.send(new PutItemCommand({ TableName: fx.outboxTableName, Item: { address: { S: 'ns/f/solo' }, version: { N: String(version) }, effects: { B: new Uint8Array([version]) } } }));
      }
      const streamsClient = new DynamoDBStreamsClient(dynamoClientConfig());
      const api = new DynamoStreamsSdkApi(streamsClient);
      let inFlight = 0;
      let maxInFlight = 0;
      let release: () => void = () => undefined;
      const secondArrived = new Promise<void>((resolve) => (release = resolve));
      const handler = async (event: DynamoDBStreamEvent) => {
        if (!event.Records.some((r) => (r.dynamodb.Keys!.address as { S: string }).S === 'ns/f/solo')) return;
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        if (inFlight === 2) release();
        // Hold the first batch until a batch of another lane comes (or give up after 5 s: the assertion then fails).
        await Promise.race([secondArrived, new Promise((resolve) => setTimeout(resolve, 5_000))]);
        inFlight--;
      };

      // Act
      const poller = start(new LocalPoller({ sources: [{ kind: 'dynamodb', api, streamArn, handler, mapping: { batchSize: 1, parallelizationFactor: 2 } }], idlePollMs: 20, logger: quiet }));
      await poller.waitForIdle({ quietMs: 300, timeoutMs: 30_000 });

      // Assess
      expect(maxInFlight).toBe(2);
      streamsClient.destroy();
    });
  });

  it('stops cleanly: no loop or timer left behind', async () => {
    // Prepare
    const name = await stream(1);
    const poller = new LocalPoller({ sources: [{ kind: 'kinesis', client: kinesis, stream: name, handler: async () => undefined }], idlePollMs: 10_000, shardRefreshMs: 60_000, logger: quiet });
    poller.start();
    await new Promise((r) => setTimeout(r, 300));

    // Act
    const began = Date.now();
    await poller.stop();

    // Assess: the long sleeps were woken, not waited out.
    expect(Date.now() - began).toBeLessThan(2000);
    // ...and nothing polls after stop (an SDK keep-alive timer may outlive it, so count polls, not timers).
    const polls = poller.progress.polls;
    await new Promise((r) => setTimeout(r, 300));
    expect(poller.progress.polls).toBe(polls);
  });

  it('rejects mapping options outside Lambda\'s bounds with the option named', () => {
    expect(() => mappingOptions({ batchSize: 0 })).toThrow('batchSize must be an integer from 1 to 10000, got 0');
    expect(() => mappingOptions({ parallelizationFactor: 11 })).toThrow('parallelizationFactor must be an integer from 1 to 10');
    expect(() => mappingOptions({ maxRetryAttempts: -2 })).toThrow('maxRetryAttempts');
    expect(() => new LocalPoller({ sources: [] })).toThrow('at least one source');
  });
});
