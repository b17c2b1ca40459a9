import { randomUUID } from 'node:crypto';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import {
  CreateStreamCommand,
  DeleteStreamCommand,
  KinesisClient,
  PutRecordCommand,
  waitUntilStreamExists,
} from '@aws-sdk/client-kinesis';
import {
  CreateScheduleGroupCommand,
  DeleteScheduleGroupCommand,
  GetScheduleCommand,
  ListSchedulesCommand,
  SchedulerClient,
} from '@aws-sdk/client-scheduler';
import { CreateQueueCommand, DeleteQueueCommand, ReceiveMessageCommand, SQSClient, type SendMessageBatchCommandInput } from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { Address } from '../../../runtime-lambda/core/Address';
import type { Effects } from '../../../runtime-lambda/core/Effects';
import { SimulatedClock } from '../../../runtime-lambda/local/SimulatedClock';
import type { DelayScheduler } from '../../../runtime-lambda/aws/DelayScheduler';
import { encodeEffects } from '../../../runtime-lambda/aws/effectsCodec';
import type { KinesisStreamRecord } from '../../../runtime-lambda/aws/lambdaEvents';
import { decodeMessageBundle } from '../../../runtime-lambda/aws/messageRecords';
import { RoutingDelayScheduler } from '../../../runtime-lambda/aws/RoutingDelayScheduler';
import { KINESIS_PUT_RECORD_TARGET_ARN, SchedulerDelayScheduler, type SchedulerTargetMode, scheduleNameOf } from '../../../runtime-lambda/aws/SchedulerDelayScheduler';
import { DUE_AT_ATTRIBUTE, SqsDelayScheduler } from '../../../runtime-lambda/aws/SqsDelayScheduler';
import { createDelayedDeliveryHandler, type SQSEvent } from '../../../runtime-lambda/handlers/delayedDelivery';
import { createDispatcherHandler } from '../../../runtime-lambda/handlers/dispatcher';
import { createRelayHandler } from '../../../runtime-lambda/handlers/relay';
import { kinesisEvent, kinesisRecordFactory, outboxStreamRecord, streamArn } from '../../helpers/awsEventFactories';
import { readKinesisStream } from '../../support/readKinesisStream';
import { fireSchedule } from '../../support/schedulerTimeline';
import { readText } from '../../helpers/factories';
import { JournalFunction, resolverOf } from '../../helpers/journalFunction';
import { awsClientConfig } from '../../support/awsClientConfig';
import { type DynamoStoreFixture, dynamoStoreFixture } from '../../support/dynamoStore';

const START = Date.UTC(2026, 0, 1);
const HOUR = 3_600_000;
const ROLE = 'arn:aws:iam::123456789012:role/statefun-scheduler';
const INGRESS = 'orders';
const DLQ = 'arn:aws:sqs:us-east-1:123456789012:statefun-dlq';

/** moto speaks HTTP/1.1 only; the Kinesis client defaults to HTTP/2. */
const kinesisClient = () => new KinesisClient({ ...awsClientConfig(), requestHandler: new NodeHttpHandler() });

describe('Time on AWS: Scheduler and SQS delays through relay, stream and dispatcher (moto + DynamoDB Local)', () => {
  const kinesis = kinesisClient();
  const scheduler = new SchedulerClient(awsClientConfig());
  const sqs = new SQSClient(awsClientConfig());
  const suffix = randomUUID().slice(0, 8);
  const stream = `statefun-messages-${suffix}`;
  const group = `statefun-timers-${suffix}`;
  const clock = new SimulatedClock(START);
  const quiet = { warn: jest.fn() };
  let fx: DynamoStoreFixture;
  let queueUrl: string;
  let fn: JournalFunction;
  let dispatch: ReturnType<typeof createDispatcherHandler>;
  let outboxSeq = 0;
  let ingressSeq = 0;
  let streamRead = 0;
  let run = 0;
  const fresh = (label: string) => Address.of('test/journal', `${label}-${run++}`);

  beforeAll(async () => {
    fx = await dynamoStoreFixture();
    await kinesis.send(new CreateStreamCommand({ StreamName: stream, ShardCount: 1 }));
    await waitUntilStreamExists({ client: kinesis, maxWaitTime: 60, minDelay: 1, maxDelay: 2 }, { StreamName: stream });
    await scheduler.send(new CreateScheduleGroupCommand({ Name: group }));
    queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `statefun-delays-${suffix}` }))).QueueUrl!;
    fn = new JournalFunction();
    dispatch = createDispatcherHandler({
      store: fx.store,
      functions: resolverOf({ 'test/journal': fn }),
      ingresses: { [INGRESS]: { functionType: 'test/journal', valueType: 'test/text' } },
      clock,
      dispatcher: { sleep: async () => undefined },
      logger: quiet,
    });
  });
  afterAll(async () => {
    await kinesis.send(new DeleteStreamCommand({ StreamName: stream })).catch(() => {});
    await scheduler.send(new DeleteScheduleGroupCommand({ Name: group })).catch(() => {});
    await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl })).catch(() => {});
    await fx?.close();
    [kinesis, scheduler, sqs].forEach((c) => c.destroy());
  });

  const schedulerDelays = (target: SchedulerTargetMode = 'templated', deadLetterQueueArn?: string) =>
    new SchedulerDelayScheduler({ client: scheduler, groupName: group, roleArn: ROLE, messageStreamArn: streamArn(stream), target, clock, deadLetterQueueArn });

  /** An ingress record with `text` for `address`, dispatched. */
  async function send(address: Address, text: string): Promise<void> {
    const response = await dispatch(kinesisEvent(kinesisRecordFactory({ stream: INGRESS, n: ++ingressSeq, partitionKey: address.id, data: text })));
    expect(response).toEqual({ batchItemFailures: [] });
  }

  /** Relays the newest outbox item of `address` with `delays`, as the relay Lambda would. */
  async function relayLatest(address: Address, delays: DelayScheduler): Promise<Effects> {
    const effects = (await fx.outboxOf(address)).at(-1)!;
    const item: Record<string, AttributeValue> = {
      address: { S: address.key },
      version: { N: String(++outboxSeq) },
      token: { S: `tok-${outboxSeq}` },
      effects: { B: encodeEffects(effects) },
    };
    const relay = createRelayHandler({ kinesis, sqs, messageStream: stream, delays, logger: quiet });
    expect(await relay({ Records: [outboxStreamRecord(item, outboxSeq)] })).toEqual({ batchItemFailures: [] });
    return effects;
  }

  /** The test clock "fires" a schedule the way Scheduler would (moto never does). */
  const fire = (name: string) => fireSchedule(scheduler, kinesis, group, name);

  /** An SQS client that records the input of every SendMessageBatch it sends in `sent`. */
  function sqsRecordingBatches(sent: SendMessageBatchCommandInput[]): SQSClient {
    const client = new SQSClient(awsClientConfig());
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'SendMessageBatchCommand') sent.push(args.input as SendMessageBatchCommandInput);
        return next(args);
      },
      { step: 'initialize', name: 'captureSendMessageBatch' },
    );
    return client;
  }

  /** Records put on the message stream since the last call, as the dispatcher receives them. */
  async function newStreamRecords(): Promise<KinesisStreamRecord[]> {
    const all = await readKinesisStream(kinesis, stream);
    const fresh = all.slice(streamRead);
    streamRead = all.length;
    return fresh;
  }

  /** Dispatches whatever is new on the message stream. */
  async function dispatchStream(): Promise<KinesisStreamRecord[]> {
    const records = await newStreamRecords();
    if (records.length > 0) expect(await dispatch({ Records: records })).toEqual({ batchItemFailures: [] });
    return records;
  }

  const journalOf = async (address: Address) => {
    const state = (await fx.store.load([address])).get(address.key)!;
    return { journal: readText(state.values.get('journal')), pending: [...state.timers.keys()] };
  };
  const scheduleNames = async () => ((await scheduler.send(new ListSchedulesCommand({ GroupName: group }))).Schedules ?? []).map((s) => s.Name);

  it('schedules a one-time UTC schedule named after the timer, on the Kinesis target with a dead-letter queue, once however often relayed', async () => {
    // Prepare
    const a = fresh('sched');
    await send(a, `after ${2 * HOUR + 20_000} - ${a.key} ping`);

    // Act
    const effects = await relayLatest(a, schedulerDelays('templated', DLQ));
    await relayLatest(a, schedulerDelays('templated', DLQ)); // a relay that runs again: ConflictException = already scheduled

    // Assess
    const [timer] = effects.timers;
    const name = scheduleNameOf(timer!.timerId);
    expect(name).toBe(timer!.timerId);
    expect((await scheduleNames()).filter((n) => n === name)).toHaveLength(1);
    const schedule = await scheduler.send(new GetScheduleCommand({ GroupName: group, Name: name }));
    expect(schedule).toMatchObject({
      GroupName: group,
      ScheduleExpression: 'at(2026-01-01T02:01:00)', // due 02:00:20, rounded up to the minute
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      ActionAfterCompletion: 'DELETE',
      Target: { Arn: streamArn(stream), RoleArn: ROLE, KinesisParameters: { PartitionKey: a.key }, DeadLetterConfig: { Arn: DLQ } },
    });
    const envelopes = decodeMessageBundle(Buffer.from(schedule.Target!.Input!, 'utf8'), a.key);
    expect(envelopes).toEqual([timer!.envelope]);
  });

  it('delivers a fired schedule to its owner through the dispatcher, applied once even when put twice', async () => {
    // Prepare
    const a = fresh('fire');
    await send(a, `after ${HOUR} - ${a.key} ping`);
    const effects = await relayLatest(a, schedulerDelays());
    const name = scheduleNameOf(effects.timers[0]!.timerId);
    await newStreamRecords();
    expect((await journalOf(a)).pending).toEqual([effects.timers[0]!.timerId]);

    // Act
    clock.set(clock.now() + HOUR + 60_000);
    const record = (await scheduler.send(new GetScheduleCommand({ GroupName: group, Name: name }))).Target!;
    await fire(name);
    await kinesis.send(new PutRecordCommand({ StreamARN: record.Arn, PartitionKey: record.KinesisParameters!.PartitionKey!, Data: Buffer.from(record.Input!, 'utf8') })); // Scheduler is at least once
    const delivered = await dispatchStream();

    // Assess
    expect(delivered).toHaveLength(2);
    expect(await journalOf(a)).toEqual({ journal: `after ${HOUR} - ${a.key} ping|ping`, pending: [] });
    expect(await scheduleNames()).not.toContain(name);
  });

  it('forwards a timer meant for another address once the owner has checked it (universal target)', async () => {
    // Prepare
    const a = fresh('owner');
    const b = fresh('peer');
    await send(a, `after ${HOUR} - ${b.key} hello`);
    const effects = await relayLatest(a, schedulerDelays('universal'));
    const name = scheduleNameOf(effects.timers[0]!.timerId);
    expect((await scheduler.send(new GetScheduleCommand({ GroupName: group, Name: name }))).Target!.Arn).toBe(KINESIS_PUT_RECORD_TARGET_ARN);
    await newStreamRecords();

    // Act
    await fire(name);
    await dispatchStream(); // the owner checks the timer, then sends the message on
    await relayLatest(a, schedulerDelays());
    await dispatchStream(); // the peer receives it

    // Assess
    expect((await journalOf(a)).pending).toEqual([]);
    expect((await journalOf(b)).journal).toBe('hello');
  });

  it('cancels by deleting the schedule; a cancel of a fired or unknown schedule is a no-op', async () => {
    // Prepare
    const a = fresh('cancel');
    await send(a, `after ${HOUR} tok ${a.key} never`);
    const scheduled = await relayLatest(a, schedulerDelays());
    const name = scheduleNameOf(scheduled.timers[0]!.timerId);
    await send(a, 'cancel tok');

    // Act
    const cancelled = await relayLatest(a, schedulerDelays());
    await relayLatest(a, schedulerDelays()); // again: ResourceNotFoundException = already deleted

    // Assess
    expect(cancelled.cancelledTimers.map((c) => c.timerId)).toEqual([scheduled.timers[0]!.timerId]);
    expect(await scheduleNames()).not.toContain(name);
    await expect(scheduler.send(new GetScheduleCommand({ GroupName: group, Name: name }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    expect((await journalOf(a)).pending).toEqual([]);
  });

  it('drops a schedule that fires after the cancel committed (before the relay deleted it)', async () => {
    // Prepare
    const a = fresh('race');
    await send(a, `after ${HOUR} tok ${a.key} too-late`);
    const scheduled = await relayLatest(a, schedulerDelays());
    const name = scheduleNameOf(scheduled.timers[0]!.timerId);
    await send(a, 'cancel tok'); // committed; its DeleteSchedule not relayed yet
    await newStreamRecords();

    // Act
    await fire(name);
    await dispatchStream();
    await relayLatest(a, schedulerDelays()); // the cancel's DeleteSchedule: already gone

    // Assess
    expect((await journalOf(a)).journal).toBe(`after ${HOUR} tok ${a.key} too-late|cancel tok`);
    expect(fn.requests.filter((r) => r.target.equals(a)).flatMap((r) => r.invocations.map((i) => readText(i.argument)))).not.toContain('too-late');
  });

  it('routes short delays to the SQS delay queue with DelaySeconds, long ones to Scheduler; delivery puts due ones on the stream', async () => {
    // Prepare
    const a = fresh('sqs');
    const sent: SendMessageBatchCommandInput[] = [];
    const watched = sqsRecordingBatches(sent);
    await send(a, `after 2000 - ${a.key} soon`);
    const delays = new RoutingDelayScheduler({ long: schedulerDelays(), short: new SqsDelayScheduler({ sqs: watched, queueUrl, clock }), clock });
    const effects = await relayLatest(a, delays);
    await send(a, `after ${HOUR} - ${a.key} later`);
    const longEffects = await relayLatest(a, delays);
    await newStreamRecords();

    // Act
    const early = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: ['All'] }));
    clock.set(clock.now() + 2_000);
    const event: SQSEvent = {
      Records: (received.Messages ?? []).map((m) => ({
        messageId: m.MessageId!,
        body: m.Body!,
        messageAttributes: Object.fromEntries(Object.entries(m.MessageAttributes ?? {}).map(([k, v]) => [k, { stringValue: v.StringValue!, dataType: v.DataType! }])),
      })),
    };
    const deliver = createDelayedDeliveryHandler({ kinesis, sqs, messageStream: stream, delayQueueUrl: queueUrl, clock, logger: quiet });
    const response = await deliver(event);
    await dispatchStream();

    // Assess
    expect(sent).toHaveLength(1);
    expect(sent[0]!.Entries).toHaveLength(1);
    expect(sent[0]!.Entries![0]).toMatchObject({ DelaySeconds: 2, MessageAttributes: { [DUE_AT_ATTRIBUTE]: { StringValue: String(effects.timers[0]!.dueAtMs) } } });
    expect(early.Messages ?? []).toHaveLength(0); // moto honours DelaySeconds
    expect(event.Records).toHaveLength(1);
    expect(response).toEqual({ batchItemFailures: [] });
    expect((await journalOf(a)).journal).toBe(`after 2000 - ${a.key} soon|after ${HOUR} - ${a.key} later|soon`);
    expect(await scheduleNames()).toContain(scheduleNameOf(longEffects.timers[0]!.timerId));
    watched.destroy();
  });

  it('sends a message that is not due yet back to the queue with the time left; reports a malformed one', async () => {
    // Prepare
    const sent: SendMessageBatchCommandInput[] = [];
    const watched = sqsRecordingBatches(sent);
    const deliver = createDelayedDeliveryHandler({ kinesis, sqs: watched, messageStream: stream, delayQueueUrl: queueUrl, clock, logger: quiet });
    const dueAt = clock.now() + HOUR;

    // Act
    const response = await deliver({
      Records: [
        { messageId: 'm-later', body: 'AFNGQg==', messageAttributes: { [DUE_AT_ATTRIBUTE]: { stringValue: String(dueAt), dataType: 'Number' } } },
        { messageId: 'm-bad', body: Buffer.from('not a bundle').toString('base64') },
      ],
    });

    // Assess
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-bad' }] });
    expect(sent).toHaveLength(1);
    expect(sent[0]!.Entries![0]).toMatchObject({ MessageBody: 'AFNGQg==', DelaySeconds: 900, MessageAttributes: { [DUE_AT_ATTRIBUTE]: { StringValue: String(dueAt) } } });
    expect(await newStreamRecords()).toHaveLength(0);
    watched.destroy();
  });
});
