import { randomBytes, randomUUID } from 'node:crypto';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { CreateBucketCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, DeleteQueueCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { Address } from '../../../runtime-lambda/core/Address';
import type { DeadLetter } from '../../../runtime-lambda/core/AddressState';
import { NO_EFFECTS } from '../../../runtime-lambda/core/Effects';
import { Dispatcher } from '../../../runtime-lambda/core/dispatch/Dispatcher';
import { OutboxRelay } from '../../../runtime-lambda/aws/OutboxRelay';
import { S3PayloadStore } from '../../../runtime-lambda/aws/S3PayloadStore';
import { runStatefun } from '../../../runtime-lambda/local/statefun';
import { SimulatedClock } from '../../../runtime-lambda/local/SimulatedClock';
import { ingressEnvelope, textValue } from '../../helpers/factories';
import { JournalFunction, resolverOf } from '../../helpers/journalFunction';
import { awsClientConfig } from '../../support/awsClientConfig';
import { type DynamoStoreFixture, dynamoStoreFixture } from '../../support/dynamoStore';

describe('Oversized dead letters kept whole in S3 (S3 and SQS on moto, DynamoDB Local)', () => {
  const s3 = new S3Client({ ...awsClientConfig(), forcePathStyle: true });
  const sqs = new SQSClient(awsClientConfig());
  const kinesis = new KinesisClient(awsClientConfig());
  const suffix = randomUUID().slice(0, 8);
  const bucket = `statefun-payloads-${suffix}`;
  const payloads = new S3PayloadStore({ client: s3, bucket });
  let queueUrl: string;
  let fx: DynamoStoreFixture;

  beforeAll(async () => {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `dlq-payloads-${suffix}` }))).QueueUrl!;
    fx = await dynamoStoreFixture();
  });
  afterAll(async () => {
    await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl })).catch(() => undefined);
    await fx.close();
    for (const client of [s3, sqs, kinesis]) client.destroy();
  });

  const s3Text = async (ref: string) => {
    const key = ref.slice(`s3://${bucket}/`.length);
    return (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString();
  };

  it('relays a dead letter over the SQS limit as a stub whose whole form statefun dlq shows and redrives', async () => {
    // Prepare: a 300 KB message (400 KB in base64), random so that nothing shrinks it
    const target = Address.of('test/journal', `big-${suffix}`);
    const value = randomBytes(300 * 1024);
    const deadLetter: DeadLetter = {
      id: `in/0/${suffix}`,
      address: target.key,
      reason: 'FUNCTION_FAILED: too much',
      atMs: Date.now(),
      envelope: { id: `in/0/${suffix}`, target, argument: { typename: 'test/blob', value }, origin: { kind: 'ingress', source: 'in/0', position: '1' } },
    };
    const relay = new OutboxRelay({ kinesis, messageStream: 'unused', sqs, deadLetterQueueUrl: queueUrl, payloads });

    // Act
    const outcome = await relay.relay([{ ...NO_EFFECTS, deadLetters: [deadLetter] }]);
    const received = (await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 1, VisibilityTimeout: 0 }))).Messages![0]!;
    const out: string[] = [];
    const err: string[] = [];
    const code = await runStatefun(['dlq', 'show', deadLetter.id, '--queue-url', queueUrl], { sqs, kinesis, s3 }, { out: (l) => out.push(l), err: (l) => err.push(l) });
    const dryRun: string[] = [];
    await runStatefun(['dlq', 'redrive', '--queue-url', queueUrl, '--stream', 'unused', '--dry-run'], { sqs, kinesis, s3 }, { out: (l) => dryRun.push(l), err: () => undefined });

    // Assess
    expect(outcome.firstIncomplete).toBeUndefined();
    expect(Buffer.byteLength(received.Body!)).toBeLessThan(2048);
    const stub = JSON.parse(received.Body!) as { payloadRef: string; envelope: { argument: { value: unknown } } };
    expect(stub.payloadRef).toMatch(new RegExp(`^s3://${bucket}/dead-letters/[\\w-]+\\.json$`));
    expect(stub.envelope.argument.value).toBeNull();
    expect(JSON.parse(await s3Text(stub.payloadRef))).toMatchObject({ id: deadLetter.id, envelope: { argument: { value: value.toString('base64') } } });
    expect(code).toBe(0);
    const shown = JSON.parse(out.join('\n')) as { payloadRef: string; body: { envelope: { argument: { value: string } } } };
    expect(shown.payloadRef).toBe(stub.payloadRef);
    expect(shown.body.envelope.argument.value).toBe(value.toString('base64'));
    expect(dryRun).toEqual([`would redrive ${deadLetter.id} to ${target.key}`]);
  });

  it('commits a message whose own dead letter is over the item limit as a stub, the whole one in S3', async () => {
    // Prepare: a 500 KB record the function would keep in its state: neither it nor its dead letter fits an item
    const target = Address.of('test/journal', `huge-${suffix}`);
    const text = randomBytes(375 * 1024).toString('base64');
    const dispatcher = new Dispatcher({ store: fx.store, functions: resolverOf({ 'test/journal': new JournalFunction() }), clock: new SimulatedClock(1_767_225_600_000), payloads, sleep: async () => undefined });

    // Act
    const outcome = await dispatcher.dispatch([ingressEnvelope(target, 1, text), ingressEnvelope(target, 2, 'small')]);

    // Assess
    expect(outcome).toMatchObject({ applied: 1, deadLettered: 1, failures: [] });
    const [stub] = (await fx.outboxOf(target)).flatMap((effects) => effects.deadLetters);
    expect(stub!.reason).toMatch(/^CommitTooLargeError: state item of test\/journal\/huge-\w+ would be \d+ bytes/);
    expect(stub!.payloadRef).toMatch(new RegExp(`^s3://${bucket}/dead-letters/`));
    expect('envelope' in stub! && stub.envelope.argument.value).toBeNull();
    expect(JSON.parse(await s3Text(stub!.payloadRef!))).toMatchObject({ id: stub!.id, envelope: { argument: { value: Buffer.from(textValue(text).value!).toString('base64') } } });
  });
});
