import { randomUUID } from 'node:crypto';
import { CreateStreamCommand, DeleteStreamCommand, KinesisClient, waitUntilStreamExists } from '@aws-sdk/client-kinesis';
import { CreateQueueCommand, DeleteQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { Address } from '../../../runtime-lambda/core/Address';
import { Dispatcher } from '../../../runtime-lambda/core/dispatch/Dispatcher';
import type { Envelope } from '../../../runtime-lambda/core/Envelope';
import { DynamoEgressFence } from '../../../runtime-lambda/aws/EgressFence';
import { decodeMessageBundle } from '../../../runtime-lambda/aws/messageRecords';
import { OutboxRelay } from '../../../runtime-lambda/aws/OutboxRelay';
import { RECONCILER_WAKE_TYPE, Reconciler } from '../../../runtime-lambda/aws/Reconciler';
import { SqsDelayScheduler } from '../../../runtime-lambda/aws/SqsDelayScheduler';
import { SimulatedClock } from '../../../runtime-lambda/local/SimulatedClock';
import { ingressEnvelope, readText } from '../../helpers/factories';
import { JournalFunction, resolverOf } from '../../helpers/journalFunction';
import { awsClientConfig } from '../../support/awsClientConfig';
import { drainQueue } from '../../support/drainQueue';
import { type DynamoStoreFixture, dynamoStoreFixture } from '../../support/dynamoStore';
import { readKinesisStream } from '../../support/readKinesisStream';

const MINUTE = 60_000;

describe('Class: Reconciler (a relay that never ran; DynamoDB Local, Kinesis and SQS on moto)', () => {
  const kinesis = new KinesisClient({ ...awsClientConfig(), requestHandler: new NodeHttpHandler() });
  const sqs = new SQSClient(awsClientConfig());
  const suffix = randomUUID().slice(0, 8);
  const stream = `statefun-messages-reconcile-${suffix}`;
  const queues: Record<'egress' | 'dlq' | 'delays', string> = { egress: '', dlq: '', delays: '' };
  let fx: DynamoStoreFixture;

  beforeAll(async () => {
    await kinesis.send(new CreateStreamCommand({ StreamName: stream, ShardCount: 1 }));
    await waitUntilStreamExists({ client: kinesis, maxWaitTime: 60, minDelay: 1, maxDelay: 2 }, { StreamName: stream });
    for (const name of Object.keys(queues) as (keyof typeof queues)[]) {
      queues[name] = (await sqs.send(new CreateQueueCommand({ QueueName: `reconcile-${name}-${suffix}` }))).QueueUrl!;
    }
    fx = await dynamoStoreFixture();
  });
  afterAll(async () => {
    await kinesis.send(new DeleteStreamCommand({ StreamName: stream })).catch(() => undefined);
    for (const url of Object.values(queues)) await sqs.send(new DeleteQueueCommand({ QueueUrl: url })).catch(() => undefined);
    await fx.close();
    kinesis.destroy();
    sqs.destroy();
  });

  it('delivers from the tables what the relay never relayed: messages, egress, dead letters and a timer, each once', async () => {
    // Prepare: commits whose outbox records the relay never saw (an outage past the stream's retention)
    const clock = new SimulatedClock(1_767_225_600_000);
    const dispatcher = new Dispatcher({ store: fx.store, functions: resolverOf({ 'test/journal': new JournalFunction() }), clock, sleep: async () => undefined });
    const a = Address.of('test/journal', `a-${suffix}`);
    const b = Address.of('test/journal', `b-${suffix}`);
    const c = Address.of('test/journal', `c-${suffix}`);
    await dispatcher.dispatch([
      ingressEnvelope(a, 1, `send ${b.key} hello`),
      ingressEnvelope(a, 2, 'egress alert'),
      ingressEnvelope(a, 3, `after 1000 - ${a.key} ping`),
      ingressEnvelope(c, 4, 'throw'),
    ]);
    const relay = new OutboxRelay({
      kinesis,
      messageStream: stream,
      sqs,
      egress: { 'test/out': { sqsQueueUrl: queues.egress } },
      deadLetterQueueUrl: queues.dlq,
      delays: new SqsDelayScheduler({ sqs, queueUrl: queues.delays }),
      egressFence: new DynamoEgressFence({ client: fx.client, inboxTableName: fx.inboxTableName }),
    });
    const reconciler = new Reconciler({ client: fx.client, stateTableName: fx.tableName, outboxTableName: fx.outboxTableName, inboxTableName: fx.inboxTableName, relay, clock });

    // Act: nothing is stale yet; twenty minutes later everything is
    const early = await reconciler.sweepInbox();
    clock.set(clock.now() + 20 * MINUTE);
    const inbox = await reconciler.sweepInbox();
    const again = await reconciler.sweepInbox();
    const timers = await reconciler.sweepTimers();
    const wakeUps = (await readKinesisStream(kinesis, stream)).flatMap((r) => decodeMessageBundle(Buffer.from(r.kinesis.data, 'base64')));
    const woken = await dispatcher.dispatch(wakeUps);
    const delayed = (await drainQueue(sqs, queues.delays)).flatMap((m) => decodeMessageBundle(Buffer.from(m.body, 'base64')));
    const fired = await dispatcher.dispatch(delayed);
    const afterFiring = await reconciler.sweepTimers();
    const egress = await drainQueue(sqs, queues.egress);
    const deadLetters = await drainQueue(sqs, queues.dlq);

    // Assess
    expect(early).toEqual({ addressesWoken: 0, commitsRepublished: 0, commitsFailed: 0 });
    expect(inbox).toEqual({ addressesWoken: 1, commitsRepublished: 2, commitsFailed: 0 });
    expect(again).toEqual({ addressesWoken: 1, commitsRepublished: 0, commitsFailed: 0 }); // b has not applied it yet: woken again, harmless
    expect(wakeUps.map((e: Envelope) => [e.target.key, e.argument.typename])).toEqual([
      [b.key, RECONCILER_WAKE_TYPE],
      [b.key, RECONCILER_WAKE_TYPE],
    ]);
    expect(woken).toMatchObject({ applied: 1, failures: [] });
    expect(readText((await fx.store.load([b])).get(b.key)!.values.get('journal'))).toBe('hello');
    expect(egress.map((m) => m.body)).toEqual(['alert']);
    expect(deadLetters.map((m) => (JSON.parse(m.body) as { address: string }).address)).toEqual([c.key]);
    expect(timers).toEqual({ timersFired: 1, timersLost: 0 });
    expect(delayed.map((e) => [e.origin.kind, e.target.key, readText(e.argument)])).toEqual([['timer', a.key, 'ping']]);
    expect(fired).toMatchObject({ applied: 1, failures: [] });
    expect(readText((await fx.store.load([a])).get(a.key)!.values.get('journal'))!.endsWith('|ping')).toBe(true);
    expect(afterFiring).toEqual({ timersFired: 0, timersLost: 0 });
  });
});
