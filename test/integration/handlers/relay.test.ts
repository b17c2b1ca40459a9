import { randomUUID } from 'node:crypto';
import { type AttributeValue, QueryCommand } from '@aws-sdk/client-dynamodb';
import {
  CreateStreamCommand,
  DeleteStreamCommand,
  KinesisClient,
  type PutRecordsCommandInput,
  type PutRecordsCommandOutput,
  type ServiceInputTypes,
  type ServiceOutputTypes,
  waitUntilStreamExists,
} from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { kinesisEgressMessage } from 'apache-flink-statefun';
import type { InitializeMiddleware } from '@smithy/types';
import { CreateQueueCommand, DeleteQueueCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { Address } from '../../../runtime-lambda/core/Address';
import { type Effects, NO_EFFECTS } from '../../../runtime-lambda/core/Effects';
import type { Envelope } from '../../../runtime-lambda/core/Envelope';
import { SimulatedClock } from '../../../runtime-lambda/local/SimulatedClock';
import { encodeEffects } from '../../../runtime-lambda/aws/effectsCodec';
import { decodeMessageBundle } from '../../../runtime-lambda/aws/messageRecords';
import { createDispatcherHandler } from '../../../runtime-lambda/handlers/dispatcher';
import { createRelayHandler } from '../../../runtime-lambda/handlers/relay';
import { RELAY_METRICS } from '../../../runtime-lambda/handlers/observability/telemetry';
import { SqsDelayScheduler } from '../../../runtime-lambda/aws/SqsDelayScheduler';
import { DynamoEgressFence } from '../../../runtime-lambda/aws/EgressFence';
import { outboxStreamRecord } from '../../helpers/awsEventFactories';
import { drainQueue } from '../../support/drainQueue';
import { readKinesisStream } from '../../support/readKinesisStream';
import { commitOf, ingressEnvelope, readText, textValue } from '../../helpers/factories';
import { emptyState } from '../../../runtime-lambda/core/AddressState';
import { JournalFunction, resolverOf } from '../../helpers/journalFunction';
import { awsClientConfig } from '../../support/awsClientConfig';
import { type DynamoStoreFixture, dynamoStoreFixture } from '../../support/dynamoStore';
import { RecordingMetrics } from './recordingMetrics';

const SENDER = Address.of('test/sender', 's1');
const T = Address.of('test/journal', 't');
const U = Address.of('test/journal', 'u');

/** A message from SENDER at sender position `position`. */
function message(target: Address, position: number, text: string): Envelope {
  return {
    id: `m${position}`,
    target,
    caller: SENDER,
    argument: textValue(text),
    origin: { kind: 'function', source: SENDER.key, position: String(position) },
  };
}

/** The outbox item the state store writes for SENDER's commit at `version`. */
function outboxItem(version: number, effects: Partial<Effects>): Record<string, AttributeValue> {
  return {
    address: { S: SENDER.key },
    version: { N: String(version) },
    token: { S: `tok-${version}` },
    effects: { B: encodeEffects({ ...NO_EFFECTS, ...effects }) },
  };
}

/** The outbox items of `sender` as the store wrote them, in version order. */
async function outboxItemsOf(fx: DynamoStoreFixture, sender: Address): Promise<Record<string, AttributeValue>[]> {
  const out = await fx.client.send(
    new QueryCommand({ TableName: fx.outboxTableName, KeyConditionExpression: 'address = :a', ExpressionAttributeValues: { ':a': { S: sender.key } }, ConsistentRead: true }),
  );
  return out.Items ?? [];
}

/**
 * A Kinesis client for moto: the SDK's Kinesis client speaks HTTP/2 by default (for
 * SubscribeToShard), which moto's server does not; HTTP/1.1 is what it serves.
 */
const kinesisClient = () => new KinesisClient({ ...awsClientConfig(), requestHandler: new NodeHttpHandler() });

describe('Handler: relay (DynamoDB Streams → Kinesis, SQS on moto)', () => {
  const kinesis = kinesisClient();
  const sqs = new SQSClient(awsClientConfig());
  const suffix = randomUUID().slice(0, 8);
  const stream = `statefun-messages-${suffix}`;
  let egressQueueUrl: string;
  let dlqUrl: string;
  let delayQueueUrl: string;
  const quiet = { warn: jest.fn() };

  beforeAll(async () => {
    await kinesis.send(new CreateStreamCommand({ StreamName: stream, ShardCount: 1 }));
    await waitUntilStreamExists({ client: kinesis, maxWaitTime: 60, minDelay: 1, maxDelay: 2 }, { StreamName: stream });
    egressQueueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `alerts-${suffix}.fifo`, Attributes: { FifoQueue: 'true' } }))).QueueUrl!;
    dlqUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `dlq-${suffix}` }))).QueueUrl!;
    delayQueueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `delays-${suffix}` }))).QueueUrl!;
  });
  afterAll(async () => {
    await kinesis.send(new DeleteStreamCommand({ StreamName: stream })).catch(() => {});
    await Promise.all([egressQueueUrl, dlqUrl, delayQueueUrl].map((QueueUrl) => sqs.send(new DeleteQueueCommand({ QueueUrl })).catch(() => {})));
    kinesis.destroy();
    sqs.destroy();
  });

  const readStream = () => readKinesisStream(kinesis, stream);

  it('puts one bundle per target in order, egress on a FIFO queue with its id, dead letters on the DLQ', async () => {
    // Prepare
    const metrics = new RecordingMetrics();
    const relay = createRelayHandler({ kinesis, sqs, messageStream: stream, egress: { 'test/alerts': { sqsQueueUrl: egressQueueUrl } }, deadLetterQueueUrl: dlqUrl, logger: quiet, metrics });
    const event = {
      Records: [
        outboxStreamRecord(outboxItem(1, { messages: [message(T, 1, 't1'), message(U, 2, 'u1'), message(T, 3, 't2')] }), 1),
        outboxStreamRecord(outboxItem(2, { messages: [message(T, 4, 't3')], egress: [{ id: 'b2.e0', egress: 'test/alerts', argument: textValue('alert!') }] }), 2),
        outboxStreamRecord(outboxItem(2, {}), 3, 'REMOVE'),
        outboxStreamRecord(
          outboxItem(3, { deadLetters: [{ id: 'in/0/9', address: T.key, reason: 'Error: boom', atMs: 5, envelope: ingressEnvelope(T, 9, 'poison') }] }),
          4,
        ),
      ],
    };

    // Act
    const response = await relay(event);

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    const records = await readStream();
    expect(records.map((r) => r.kinesis.partitionKey)).toEqual([T.key, U.key]);
    const bundles = records.map((r) => decodeMessageBundle(Buffer.from(r.kinesis.data, 'base64'), r.kinesis.partitionKey));
    // Wake-ups in order, without their values: the receivers read those from their inboxes.
    expect(bundles[0]!.map((e) => [e.id, e.argument.value])).toEqual([['m1', null], ['m3', null], ['m4', null]]);
    expect(bundles[1]!.map((e) => e.id)).toEqual(['m2']);

    const egress = await sqs.send(new ReceiveMessageCommand({ QueueUrl: egressQueueUrl, MessageAttributeNames: ['All'], MessageSystemAttributeNames: ['All'], WaitTimeSeconds: 1 }));
    expect(egress.Messages).toHaveLength(1);
    expect(egress.Messages![0]!.Body).toBe('alert!');
    expect(egress.Messages![0]!.MessageAttributes?.['statefun-id']?.StringValue).toBe('b2.e0');
    expect(egress.Messages![0]!.Attributes?.MessageDeduplicationId).toBe('b2.e0');
    const dlq = await sqs.send(new ReceiveMessageCommand({ QueueUrl: dlqUrl, WaitTimeSeconds: 1 }));
    expect(dlq.Messages).toHaveLength(1);
    expect(JSON.parse(dlq.Messages![0]!.Body!)).toMatchObject({ id: 'in/0/9', address: T.key, reason: 'Error: boom', envelope: { target: T.key, argument: { value: Buffer.from('poison').toString('base64') } } });
    expect(metrics.drain()).toEqual({
      [RELAY_METRICS.outboxItemsRelayed]: 3,
      [RELAY_METRICS.messagesRelayed]: 4,
      [RELAY_METRICS.egressRecordsRelayed]: 1,
      [RELAY_METRICS.deadLetters]: 1,
    });
  });

  it('counts timers scheduled and cancelled, and a malformed outbox item as a dead letter', async () => {
    // Prepare
    const metrics = new RecordingMetrics();
    const delays = new SqsDelayScheduler({ sqs, queueUrl: delayQueueUrl });
    const relay = createRelayHandler({ kinesis, sqs, messageStream: stream, deadLetterQueueUrl: dlqUrl, delays, logger: quiet, metrics });
    const timer = { timerId: 't-31', dueAtMs: Date.now(), envelope: message(T, 301, 'due now') };
    const malformed = outboxStreamRecord({ address: { S: SENDER.key }, version: { N: '33' } }, 33);

    // Act
    const response = await relay({
      Records: [outboxStreamRecord(outboxItem(31, { timers: [timer] }), 31), outboxStreamRecord(outboxItem(32, { cancelledTimers: [{ timerId: 't-0', owner: T }] }), 32), malformed],
    });

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(metrics.drain()).toEqual({
      [RELAY_METRICS.malformedOutboxItems]: 1,
      [RELAY_METRICS.outboxItemsRelayed]: 3,
      [RELAY_METRICS.timersScheduled]: 1,
      [RELAY_METRICS.timersCancelled]: 1,
      [RELAY_METRICS.deadLetters]: 1,
    });
    expect(quiet.warn).toHaveBeenCalledWith('malformed outbox item: dead-lettering it', {
      sequenceNumber: malformed.dynamodb.SequenceNumber,
      error: expect.stringContaining('has no binary "effects" in its NewImage'),
    });
    const delayed = await sqs.send(new ReceiveMessageCommand({ QueueUrl: delayQueueUrl, MessageAttributeNames: ['All'], VisibilityTimeout: 0 }));
    expect(delayed.Messages?.map((m) => m.MessageAttributes?.['statefun-timer-id']?.StringValue)).toEqual(['t-31']);
  });

  it('keeps per-sender order at the receiver when PutRecords partly fails', async () => {
    // Prepare: no emulator can make PutRecords fail single entries, so a client middleware
    // does what Kinesis does under throttling: it leaves chosen entries out of the request
    // and answers them with ProvisionedThroughputExceededException.
    const flaky = kinesisClient();
    let call = 0;
    const failedKeys: string[] = [];
    const inject: InitializeMiddleware<ServiceInputTypes, ServiceOutputTypes> = (next) => async (args) => {
        const input = args.input as PutRecordsCommandInput;
        if (!input.Records || input.StreamName !== stream) return next(args);
        call++;
        // Fail T's entry in calls 1 and 2, U's in call 1.
        const fails = (key: string | undefined) => (call <= 2 && key === T.key) || (call === 1 && key === U.key);
        const kept = input.Records.filter((r) => !fails(r.PartitionKey));
        failedKeys.push(...input.Records.filter((r) => fails(r.PartitionKey)).map((r) => r.PartitionKey!));
        const result = await next({ ...args, input: { ...input, Records: kept } });
        const output = result.output as PutRecordsCommandOutput;
        const answers = [...(output.Records ?? [])];
        output.Records = input.Records.map((r) =>
          fails(r.PartitionKey) ? { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'Rate exceeded for shard (injected)' } : answers.shift()!,
        );
        output.FailedRecordCount = input.Records.length - kept.length;
        return result;
      };
    flaky.middlewareStack.add(inject, { step: 'initialize', name: 'injectPartialPutRecordsFailure' });
    const before = (await readStream()).length;
    // Records of at most ~1 envelope each, so T's messages need several records of one key.
    const relay = createRelayHandler({ kinesis: flaky, messageStream: stream, maxRecordBytes: 420, sleep: async () => undefined, logger: quiet });
    const texts = ['x1', 'x2', 'x3', 'x4', 'x5', 'x6'];
    const commits = [
      [message(T, 101, texts[0]!), message(U, 102, 'y1'), message(T, 103, texts[1]!)],
      [message(T, 104, texts[2]!), message(T, 105, texts[3]!)],
      [message(T, 106, texts[4]!), message(T, 107, texts[5]!)],
    ];
    const batch1 = { Records: [outboxStreamRecord(outboxItem(11, { messages: commits[0]! }), 11), outboxStreamRecord(outboxItem(12, { messages: commits[1]! }), 12)] };
    const batch2 = { Records: [outboxStreamRecord(outboxItem(13, { messages: commits[2]! }), 13)] };

    // Act
    const responses = [await relay(batch1), await relay(batch2)];
    const received = (await readStream()).slice(before);
    const fx: DynamoStoreFixture = await dynamoStoreFixture();
    try {
      // The sender's commits, which wrote the messages into the receivers' inboxes.
      for (const [version, messages] of commits.entries()) {
        const state = { ...emptyState(SENDER), version: version + 1, epochMs: 1 };
        await fx.store.commit(commitOf(state, version, { ...NO_EFFECTS, messages }));
      }
      const dispatch = createDispatcherHandler({
        store: fx.store,
        functions: resolverOf({ 'test/journal': new JournalFunction() }),
        clock: new SimulatedClock(1_767_225_600_000),
        logger: quiet,
      });
      const dispatched = await dispatch({ Records: received });
      const journal = readText((await fx.store.load([T])).get(T.key)!.values.get('journal'));

      // Assess
      expect(responses).toEqual([{ batchItemFailures: [] }, { batchItemFailures: [] }]);
      expect(failedKeys).toEqual([T.key, U.key, T.key]);
      const tRecords = received.filter((r) => r.kinesis.partitionKey === T.key);
      expect(tRecords.length).toBeGreaterThan(2);
      const positions = tRecords.flatMap((r) => decodeMessageBundle(Buffer.from(r.kinesis.data, 'base64')).map((e) => Number((e.origin as { position: string }).position)));
      expect(positions).toEqual([101, 103, 104, 105, 106, 107]);
      expect(dispatched).toEqual({ batchItemFailures: [] });
      expect(journal).toBe(texts.join('|'));
    } finally {
      await fx.close();
      flaky.destroy();
    }
  });

  it('chunks egress by the sinks\' limits: 600 records to a Kinesis egress (500 a call), ten 40 KB records to SQS (256 KiB a batch), all in order', async () => {
    // Prepare
    const egressStream = `egress-${suffix}`;
    await kinesis.send(new CreateStreamCommand({ StreamName: egressStream, ShardCount: 1 }));
    await waitUntilStreamExists({ client: kinesis, maxWaitTime: 60, minDelay: 1, maxDelay: 2 }, { StreamName: egressStream });
    const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `wide-${suffix}.fifo`, Attributes: { FifoQueue: 'true' } }))).QueueUrl!;
    const relay = createRelayHandler({
      kinesis,
      sqs,
      messageStream: stream,
      egress: { 'test/stream': { kinesisStream: egressStream }, 'test/queue': { sqsQueueUrl: queueUrl } },
      logger: quiet,
    });
    const toStream = Array.from({ length: 600 }, (_, i) => ({ id: `b9.e${i}`, egress: 'test/stream', argument: textValue(`record ${i}`) }));
    const toQueue = Array.from({ length: 10 }, (_, i) => ({ id: `b9.q${i}`, egress: 'test/queue', argument: textValue(`${i}:${'x'.repeat(40 * 1024)}`) }));

    // Act
    const response = await relay({ Records: [outboxStreamRecord(outboxItem(90, { egress: [...toStream, ...toQueue] }), 90)] });

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    const onStream = await readKinesisStream(kinesis, egressStream);
    expect(onStream.map((r) => Buffer.from(r.kinesis.data, 'base64').toString('utf8'))).toEqual(toStream.map((r) => readText(r.argument)));
    const received = await drainQueue(sqs, queueUrl);
    expect(received.map((m) => m.body.split(':')[0])).toEqual(toQueue.map((_, i) => String(i)));
    await kinesis.send(new DeleteStreamCommand({ StreamName: egressStream }));
    await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
  });

  it('keeps one address\'s egress in commit order when its later commit reaches the relay first (egress fence)', async () => {
    // Prepare: two commits of one sender, each with an egress record, written by the store
    // (which sets the fences); the relay gets the later one first, as a second lane may.
    const fx: DynamoStoreFixture = await dynamoStoreFixture();
    const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `ordered-${suffix}.fifo`, Attributes: { FifoQueue: 'true' } }))).QueueUrl!;
    try {
      const sender = Address.of('test/sender', `fenced-${suffix}`);
      const egressOf = (n: number) => ({ ...NO_EFFECTS, egress: [{ id: `c${n}.e0`, egress: 'test/ordered', argument: textValue(`alert ${n}`) }] });
      await fx.store.commit(commitOf({ ...emptyState(sender), version: 1, epochMs: 1_767_225_600_000 }, 0, egressOf(1)));
      await fx.store.commit(commitOf({ ...emptyState(sender), version: 2, epochMs: 1_767_225_600_000 }, 1, egressOf(2)));
      const [first, second] = await outboxItemsOf(fx, sender);
      const relay = createRelayHandler({
        kinesis,
        sqs,
        messageStream: stream,
        egress: { 'test/ordered': { sqsQueueUrl: queueUrl } },
        egressFence: new DynamoEgressFence({ client: fx.client, inboxTableName: fx.inboxTableName }),
        logger: quiet,
      });

      // Act
      const early = await relay({ Records: [outboxStreamRecord(second!, 2)] });
      const beforeFirst = await drainQueue(sqs, queueUrl);
      const firstDone = await relay({ Records: [outboxStreamRecord(first!, 1)] });
      const late = await relay({ Records: [outboxStreamRecord(second!, 2)] });
      const after = await drainQueue(sqs, queueUrl);

      // Assess
      expect(early).toEqual({ batchItemFailures: [{ itemIdentifier: outboxStreamRecord(second!, 2).dynamodb.SequenceNumber }] });
      expect(beforeFirst).toEqual([]);
      expect(quiet.warn).toHaveBeenCalledWith('outbox item not fully relayed: it will be delivered again', expect.objectContaining({ error: expect.stringContaining("waits for an earlier commit's egress to be published first") }));
      expect([firstDone, late]).toEqual([{ batchItemFailures: [] }, { batchItemFailures: [] }]);
      expect(after.map((m) => m.body)).toEqual(['alert 1', 'alert 2']);
    } finally {
      await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
      await fx.close();
    }
  });

  it('puts the SDKs\' Kinesis egress records on the streams they name, with their partition and explicit hash keys, and dead-letters those it may not put', async () => {
    // Prepare: records built by the official JS SDK's kinesisEgressMessage, as a StateFun function writes them
    const [streamA, streamB] = [`sf-egress-a-${suffix}`, `sf-egress-b-${suffix}`];
    for (const name of [streamA, streamB]) {
      await kinesis.send(new CreateStreamCommand({ StreamName: name, ShardCount: 2 }));
      await waitUntilStreamExists({ client: kinesis, maxWaitTime: 60, minDelay: 1, maxDelay: 2 }, { StreamName: name });
    }
    const queueDlq = (await sqs.send(new CreateQueueCommand({ QueueName: `dlq-sf-egress-${suffix}` }))).QueueUrl!;
    const relay = createRelayHandler({
      kinesis,
      sqs,
      messageStream: stream,
      egress: { 'example/out': { kinesisEgressRecordStreams: [streamA, streamB] } },
      deadLetterQueueUrl: queueDlq,
      logger: quiet,
    });
    const official = (stream: string, partitionKey: string, value: string, hashKey = '') => {
      const built = kinesisEgressMessage({ typename: 'example/out', stream, partitionKey, hashKey, value });
      return { typename: built.typedValue.getTypename(), value: built.typedValue.getValue_asU8() };
    };
    const egress = [
      { id: 'k1.e0', egress: 'example/out', argument: official(streamA, 'alice', 'a1') },
      { id: 'k1.e1', egress: 'example/out', argument: official(streamB, 'dave', 'b1', '170141183460469231731687303715884105729') },
      { id: 'k1.e2', egress: 'example/out', argument: official(streamA, 'alice', 'a2') },
      { id: 'k1.e3', egress: 'example/out', argument: official(`elsewhere-${suffix}`, 'carol', 'c1') },
      { id: 'k1.e4', egress: 'example/out', argument: textValue('not a Kinesis egress record') },
    ];

    // Act
    const response = await relay({ Records: [outboxStreamRecord(outboxItem(95, { egress }), 95)] });
    const onA = await readKinesisStream(kinesis, streamA);
    const onB = await readKinesisStream(kinesis, streamB);
    const dead = (await drainQueue(sqs, queueDlq)).map((m) => JSON.parse(m.body) as { id: string; reason: string });

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(onA.map((r) => [r.kinesis.partitionKey, Buffer.from(r.kinesis.data, 'base64').toString('utf8')])).toEqual([
      ['alice', 'a1'],
      ['alice', 'a2'],
    ]);
    expect(onB.map((r) => [r.kinesis.partitionKey, Buffer.from(r.kinesis.data, 'base64').toString('utf8')])).toEqual([['dave', 'b1']]);
    // "dave" hashes to the lower half of the key space; its explicit hash key puts it on the second shard.
    expect(onB[0]!.eventID).toMatch(/^shardId-000000000001:/);
    expect(dead.map((d) => d.id).sort()).toEqual(['k1.e3', 'k1.e4']);
    expect(dead.find((d) => d.id === 'k1.e3')!.reason).toBe(
      `egress "example/out" cannot put it on Kinesis: stream "elsewhere-${suffix}" is not one this egress may write to ("${streamA}", "${streamB}")`,
    );
    expect(dead.find((d) => d.id === 'k1.e4')!.reason).toBe(
      'egress "example/out" cannot put it on Kinesis: expected a type.googleapis.com/io.statefun.sdk.egress.KinesisEgressRecord (an SDK\'s Kinesis egress message), got a value of type "test/text"',
    );
    for (const name of [streamA, streamB]) await kinesis.send(new DeleteStreamCommand({ StreamName: name }));
    await sqs.send(new DeleteQueueCommand({ QueueUrl: queueDlq }));
  });

  it('turns egress a sink refuses for good (a deleted queue, a missing stream) into dead letters and moves on', async () => {
    // Prepare
    const goneQueue = (await sqs.send(new CreateQueueCommand({ QueueName: `gone-${suffix}` }))).QueueUrl!;
    await sqs.send(new DeleteQueueCommand({ QueueUrl: goneQueue }));
    const queueDlq = (await sqs.send(new CreateQueueCommand({ QueueName: `dlq-refused-${suffix}` }))).QueueUrl!;
    const relay = createRelayHandler({
      kinesis,
      sqs,
      messageStream: stream,
      egress: { 'test/gone-queue': { sqsQueueUrl: goneQueue }, 'test/no-stream': { kinesisStream: `no-such-stream-${suffix}` } },
      deadLetterQueueUrl: queueDlq,
      retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 },
      sleep: async () => undefined,
      logger: quiet,
    });
    const egress = [
      { id: 'r1.e0', egress: 'test/gone-queue', argument: textValue('to a deleted queue') },
      { id: 'r1.e1', egress: 'test/no-stream', argument: textValue('to a missing stream') },
    ];

    // Act
    const response = await relay({ Records: [outboxStreamRecord(outboxItem(71, { egress }), 71), outboxStreamRecord(outboxItem(72, { messages: [message(T, 720, 'after')] }), 72)] });
    const dead = await drainQueue(sqs, queueDlq);

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    const letters = dead.map((m) => JSON.parse(m.body) as { id: string; address: string; reason: string });
    expect(letters.map((l) => [l.id, l.address]).sort()).toEqual([
      ['r1.e0', 'test/gone-queue'],
      ['r1.e1', 'test/no-stream'],
    ]);
    expect(letters.find((l) => l.id === 'r1.e0')!.reason).toMatch(/^egress "test\/gone-queue" refused it for good: .*SendMessageBatch to /);
    expect(letters.find((l) => l.id === 'r1.e1')!.reason).toMatch(/^egress "test\/no-stream" refused it for good: PutRecords to egress stream no-such-stream-/);
    await sqs.send(new DeleteQueueCommand({ QueueUrl: queueDlq }));
  });

  it('reports the first outbox item it could not relay', async () => {
    // Prepare
    const metrics = new RecordingMetrics();
    const relay = createRelayHandler({ kinesis, messageStream: stream, logger: quiet, metrics });
    const event = {
      Records: [
        outboxStreamRecord(outboxItem(21, { messages: [message(T, 201, 'ok')] }), 21),
        outboxStreamRecord(outboxItem(22, { egress: [{ id: 'b.e0', egress: 'test/alerts', argument: textValue('x') }] }), 22),
        outboxStreamRecord(outboxItem(23, { messages: [message(T, 202, 'ok too')] }), 23),
      ],
    };

    // Act
    const response = await relay(event);

    // Assess: the unknown egress becomes a dead letter, and without a DLQ that item is reported.
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: event.Records[1]!.dynamodb.SequenceNumber }] });
    expect(quiet.warn).toHaveBeenCalledWith('outbox item not fully relayed: it will be delivered again', {
      sequenceNumber: event.Records[1]!.dynamodb.SequenceNumber,
      error: expect.stringContaining('no dead-letter queue is configured'),
    });
    expect(metrics.drain()).toEqual({ [RELAY_METRICS.outboxItemsRelayed]: 1, [RELAY_METRICS.outboxItemsNotRelayed]: 2, [RELAY_METRICS.messagesRelayed]: 1 });
  });
});
