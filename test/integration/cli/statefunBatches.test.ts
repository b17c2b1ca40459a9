import { randomUUID } from 'node:crypto';
import { CreateStreamCommand, DeleteStreamCommand, KinesisClient, PutRecordCommand, waitUntilStreamExists } from '@aws-sdk/client-kinesis';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { Address } from '../../../runtime-lambda/core/Address';
import { DynamoStateStore } from '../../../runtime-lambda/aws/DynamoStateStore';
import { LocalPoller } from '../../../runtime-lambda/aws/LocalPoller';
import type { KinesisStreamEvent } from '../../../runtime-lambda/aws/lambdaEvents';
import { s3OnFailureDestination, skippedBatchObject } from '../../../runtime-lambda/aws/skippedBatches';
import { createDispatcherHandler } from '../../../runtime-lambda/handlers/dispatcher';
import { runStatefun } from '../../../runtime-lambda/local/statefun';
import { readText } from '../../helpers/factories';
import { JournalFunction, resolverOf } from '../../helpers/journalFunction';
import { awsClientConfig } from '../../support/awsClientConfig';
import { type DynamoStoreFixture, dynamoStoreFixture } from '../../support/dynamoStore';
import { type LambdaInvokeEmulator, startLambdaInvokeEmulator } from '../../support/lambdaInvokeEmulator';

const DISPATCHER_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:dispatcher';
const quiet = { warn: () => undefined };

describe('CLI: statefun dlq batches (S3 and Kinesis on moto, DynamoDB Local, the Lambda Invoke API emulated)', () => {
  const s3 = new S3Client({ ...awsClientConfig(), forcePathStyle: true });
  const kinesis = new KinesisClient({ ...awsClientConfig(), requestHandler: new NodeHttpHandler() });
  const suffix = randomUUID().slice(0, 8);
  const stream = `statefun-orders-batches-${suffix}`;
  const ingresses = { [stream]: { functionType: 'test/journal', valueType: 'test/text' } };
  let fx: DynamoStoreFixture;
  let lambda: LambdaInvokeEmulator;
  let lambdaClient: LambdaClient;

  beforeAll(async () => {
    await kinesis.send(new CreateStreamCommand({ StreamName: stream, ShardCount: 1 }));
    await waitUntilStreamExists({ client: kinesis, maxWaitTime: 60, minDelay: 1, maxDelay: 2 }, { StreamName: stream });
    fx = await dynamoStoreFixture();
    lambda = await startLambdaInvokeEmulator();
    lambdaClient = new LambdaClient(lambda.clientConfig());
  });
  afterAll(async () => {
    await kinesis.send(new DeleteStreamCommand({ StreamName: stream })).catch(() => undefined);
    await fx.close();
    await lambda.close();
    lambdaClient.destroy();
    kinesis.destroy();
    s3.destroy();
  });

  async function bucket(label: string): Promise<string> {
    const name = `skipped-${label}-${suffix}`;
    await s3.send(new CreateBucketCommand({ Bucket: name }));
    return name;
  }

  async function keysOf(name: string): Promise<string[]> {
    return ((await s3.send(new ListObjectsV2Command({ Bucket: name }))).Contents ?? []).map((o) => o.Key!);
  }

  async function statefun(...argv: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runStatefun(argv, { s3, lambda: lambdaClient }, { out: (l) => out.push(l), err: (l) => err.push(l) });
    return { code, out, err };
  }

  /** A dispatcher whose tables do not exist: every batch fails, as a dispatcher does while its store is down. */
  const brokenDispatcher = () =>
    createDispatcherHandler({
      store: new DynamoStateStore({ tableName: `missing-${suffix}`, outboxTableName: `missing-outbox-${suffix}`, inboxTableName: `missing-inbox-${suffix}`, client: fx.client }),
      functions: resolverOf({ 'test/journal': new JournalFunction() }),
      ingresses,
      logger: quiet,
    });
  const dispatcher = () => createDispatcherHandler({ store: fx.store, functions: resolverOf({ 'test/journal': new JournalFunction() }), ingresses, logger: quiet });

  it('keeps a batch the mapping gave up on whole, lists it, and its redrive applies each ingress record once, even when redriven twice', async () => {
    // Prepare: three ingress records whose mapping gives up (the store is down), written to S3 as Lambda writes them
    const name = await bucket('redrive');
    const alice = `alice-${suffix}`;
    const bob = `bob-${suffix}`;
    for (const [key, text] of [[alice, 'one'], [bob, 'two'], [alice, 'three']] as const) {
      await kinesis.send(new PutRecordCommand({ StreamName: stream, PartitionKey: key, Data: new TextEncoder().encode(text) }));
    }
    const poller = new LocalPoller({
      sources: [{ kind: 'kinesis', client: kinesis, stream, handler: brokenDispatcher(), mapping: { batchSize: 10, maxRetryAttempts: 1 } }],
      onFailure: s3OnFailureDestination({ client: s3, bucket: name, functionArn: DISPATCHER_ARN, mappingId: 'orders-mapping' }),
      idlePollMs: 20,
      logger: quiet,
    });
    poller.start();
    await poller.waitForIdle({ quietMs: 200, timeoutMs: 30_000 });
    await poller.stop();
    const [key] = await keysOf(name);
    const original = await (await s3.send(new GetObjectCommand({ Bucket: name, Key: key! }))).Body!.transformToString();
    lambda.register('dispatcher', (event) => dispatcher()(event as KinesisStreamEvent));

    // Act
    const listed = await statefun('dlq', 'batches', 'list', '--bucket', name, '--json');
    const shown = await statefun('dlq', 'batches', 'show', key!, '--bucket', name);
    const dryRun = await statefun('dlq', 'batches', 'redrive', '--bucket', name, '--dry-run');
    const keptByDryRun = await keysOf(name);
    const redrive = await statefun('dlq', 'batches', 'redrive', '--bucket', name);
    const afterRedrive = await keysOf(name);
    const states = await fx.store.load([Address.of('test/journal', alice), Address.of('test/journal', bob)]);
    // The same batch again (say, a copy restored from a backup): nothing is applied twice.
    await s3.send(new PutObjectCommand({ Bucket: name, Key: key!, Body: original }));
    const second = await statefun('dlq', 'batches', 'redrive', '--bucket', name);
    const statesAfterSecond = await fx.store.load([Address.of('test/journal', alice), Address.of('test/journal', bob)]);

    // Assess
    expect(poller.progress.recordsFailed).toBe(3);
    expect(listed.code).toBe(0);
    expect(listed.out.map((l) => JSON.parse(l) as Record<string, unknown>)).toEqual([
      expect.objectContaining({ key, condition: 'RetryAttemptsExhausted', shardId: 'shardId-000000000000', records: 3, functionArn: DISPATCHER_ARN, streamArn: expect.stringMatching(new RegExp(`:stream/${stream}$`)) }),
    ]);
    expect(shown.code).toBe(0);
    expect((JSON.parse(shown.out.join('\n')) as { event: KinesisStreamEvent }).event.Records.map((r) => Buffer.from(r.kinesis.data, 'base64').toString())).toEqual(['one', 'two', 'three']);
    expect(key).toMatch(/^aws\/lambda\/orders-mapping\/shardId-000000000000\/\d{4}\/\d{2}\/\d{2}\//);
    expect(dryRun.out).toEqual([`would redrive ${key} (3 record(s)) to ${DISPATCHER_ARN}`]);
    expect(keptByDryRun).toEqual([key]);
    expect(redrive).toMatchObject({ code: 0, out: [`redrove ${key} (3 record(s)) to ${DISPATCHER_ARN}`], err: ['redrove 1, kept 0'] });
    expect(afterRedrive).toEqual([]);
    expect(readText(states.get(`test/journal/${alice}`)!.values.get('journal'))).toBe('one|three');
    expect(readText(states.get(`test/journal/${bob}`)!.values.get('journal'))).toBe('two');
    expect(second.code).toBe(0);
    expect(statesAfterSecond.get(`test/journal/${alice}`)!.version).toBe(states.get(`test/journal/${alice}`)!.version);
    expect(readText(statesAfterSecond.get(`test/journal/${alice}`)!.values.get('journal'))).toBe('one|three');
    expect(lambda.invocations.filter((i) => i.functionName === 'dispatcher')).toHaveLength(2);
  });

  it('keeps a batch whose function fails again and the later batches of its shard, keeps what it cannot read, and says so with exit code 1', async () => {
    // Prepare: two batches of one shard (the first older), another shard's batch, and an object that is not a batch
    const name = await bucket('kept');
    const event = (text: string, sequenceNumber: string): KinesisStreamEvent => ({
      Records: [
        {
          kinesis: { kinesisSchemaVersion: '1.0', partitionKey: `carol-${suffix}`, sequenceNumber, data: Buffer.from(text).toString('base64') },
          eventSource: 'aws:kinesis',
          eventVersion: '1.0',
          eventID: `shardId-000000000000:${sequenceNumber}`,
          eventName: 'aws:kinesis:record',
          eventSourceARN: `arn:aws:kinesis:us-east-1:123456789012:stream/${stream}`,
        },
      ],
    });
    const batch = (shardId: string, text: string, sequenceNumber: string, atMs: number) =>
      skippedBatchObject(
        { sourceKind: 'kinesis', streamArn: `arn:aws:kinesis:us-east-1:123456789012:stream/${stream}`, shardId, condition: 'RecordAgeExceeded', attempts: 3, event: event(text, sequenceNumber) },
        { functionArn: 'failing', mappingId: 'm', atMs },
      );
    const older = batch('shardId-000000000000', 'first', '100', Date.parse('2026-12-01T10:00:00Z'));
    const newer = batch('shardId-000000000000', 'second', '200', Date.parse('2026-12-01T11:00:00Z'));
    const otherShard = batch('shardId-000000000001', 'other', '300', Date.parse('2026-12-01T10:30:00Z'));
    for (const o of [older, newer, otherShard]) await s3.send(new PutObjectCommand({ Bucket: name, Key: o.key, Body: o.body }));
    await s3.send(new PutObjectCommand({ Bucket: name, Key: 'aws/lambda/m/garbage', Body: '{"requestContext": {}}' }));
    lambda.register('failing', () => {
      throw new Error('store still down');
    });
    lambda.register('working', (e) => dispatcher()(e as KinesisStreamEvent));

    // Act
    const listed = await statefun('dlq', 'batches', 'list', '--bucket', name);
    const redrive = await statefun('dlq', 'batches', 'redrive', '--bucket', name);
    const left = (await keysOf(name)).sort();
    const other = await statefun('dlq', 'batches', 'redrive', '--bucket', name, '--key', otherShard.key, '--function', 'working');

    // Assess
    expect(listed.out.find((l) => l.startsWith('aws/lambda/m/garbage'))).toContain('UNREADABLE  s3 object aws/lambda/m/garbage is not a skipped batch of an event source mapping: requestContext.functionArn and requestContext.condition must be strings');
    expect(listed.err).toEqual(['4 skipped batch(es)']);
    expect(redrive.code).toBe(1);
    expect(redrive.err).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`^kept ${escape(older.key)}: failing failed \\(Unhandled\\): .*store still down`)),
        `kept ${newer.key}: an earlier batch of arn:aws:kinesis:us-east-1:123456789012:stream/${stream}/shardId-000000000000 failed, this one waits for it`,
        expect.stringMatching(/^kept aws\/lambda\/m\/garbage: s3 object/),
        'redrove 0, kept 4',
      ]),
    );
    expect(left).toEqual([older.key, newer.key, otherShard.key, 'aws/lambda/m/garbage'].sort());
    expect(other).toMatchObject({ code: 0, out: [`redrove ${otherShard.key} (1 record(s)) to working`] });
    expect(await keysOf(name)).not.toContain(otherShard.key);
  });

  it.each([
    [['dlq', 'batches', 'list'], "error: required option '--bucket <name>' not specified"],
    [['dlq', 'batches', 'redrive'], "error: required option '--bucket <name>' not specified"],
    [['dlq', 'batches', 'show', '--bucket', 'b'], "error: missing required argument 'key'"],
    [['dlq', 'batches', 'replay', '--bucket', 'b'], "error: unknown command 'replay'"],
  ])('refuses the command line %j with exit code 2 and the reason', async (argv, message) => {
    const run = await statefun(...argv);
    expect(run.code).toBe(2);
    expect(run.err.join('\n')).toContain(message);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
