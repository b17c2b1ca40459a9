import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { CreateStreamCommand, DeleteStreamCommand, KinesisClient, waitUntilStreamExists } from '@aws-sdk/client-kinesis';
import { CreateQueueCommand, DeleteQueueCommand, SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { Address } from '../../../runtime-lambda/core/Address';
import type { DeadLetter } from '../../../runtime-lambda/core/AddressState';
import { deadLetterJson } from '../../../runtime-lambda/core/deadLetterJson';
import { createDispatcherHandler } from '../../../runtime-lambda/handlers/dispatcher';
import { runStatefun } from '../../../runtime-lambda/local/statefun';
import { SimulatedClock } from '../../../runtime-lambda/local/SimulatedClock';
import { readText, textValue } from '../../helpers/factories';
import { JournalFunction, resolverOf } from '../../helpers/journalFunction';
import { awsClientConfig } from '../../support/awsClientConfig';
import { drainQueue } from '../../support/drainQueue';
import { type DynamoStoreFixture, dynamoStoreFixture } from '../../support/dynamoStore';
import { readKinesisStream } from '../../support/readKinesisStream';

const REPO = resolve(__dirname, '..', '..', '..');

describe('CLI: statefun dlq (SQS and Kinesis on moto, DynamoDB Local)', () => {
  const sqs = new SQSClient(awsClientConfig());
  const kinesis = new KinesisClient({ ...awsClientConfig(), requestHandler: new NodeHttpHandler() });
  const suffix = randomUUID().slice(0, 8);
  const stream = `statefun-messages-dlq-${suffix}`;
  let fx: DynamoStoreFixture;

  beforeAll(async () => {
    await kinesis.send(new CreateStreamCommand({ StreamName: stream, ShardCount: 1 }));
    await waitUntilStreamExists({ client: kinesis, maxWaitTime: 60, minDelay: 1, maxDelay: 2 }, { StreamName: stream });
    fx = await dynamoStoreFixture();
  });
  afterAll(async () => {
    await kinesis.send(new DeleteStreamCommand({ StreamName: stream })).catch(() => undefined);
    await fx.close();
    kinesis.destroy();
    sqs.destroy();
  });

  /** A fresh queue holding what the relay and a mapping would put there: two messages, an egress record, a skipped batch, garbage. */
  async function queueWithDeadLetters(label: string) {
    const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `dlq-${label}-${suffix}` }))).QueueUrl!;
    const target = Address.of('test/journal', `${label}-target`);
    const sender = Address.of('test/journal', `${label}-sender`);
    const atMs = Date.now() - 2 * 3_600_000;
    const messages: DeadLetter[] = [
      {
        id: 'b1.m0',
        address: target.key,
        reason: 'FUNCTION_FAILED: journal function told to throw',
        atMs,
        envelope: { id: 'b1.m0', target, caller: sender, argument: textValue('first'), origin: { kind: 'function', source: sender.key, position: '4096' } },
      },
      {
        id: 'orders/shardId-0/7',
        address: target.key,
        reason: 'OUTSIDE_DUPLICATE_WINDOW: ingress record 7 of orders/shardId-0 arrived 192.0 h ago',
        atMs,
        envelope: { id: 'orders/shardId-0/7', target, argument: textValue('second'), origin: { kind: 'ingress', source: 'orders/shardId-0', position: '7' } },
      },
      { id: 'b2.e0', address: 'test/alerts', reason: 'no egress named "test/alerts" is configured', atMs, egressRecord: { id: 'b2.e0', egress: 'test/alerts', argument: textValue('alert') } },
    ];
    for (const dl of messages) await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: deadLetterJson(dl) }));
    const skipped = { requestContext: { condition: 'RecordAgeExceeded' }, KinesisBatchInfo: { shardId: 'shardId-000000000000', startSequenceNumber: '1', endSequenceNumber: '9', streamArn: 'arn:aws:kinesis:us-east-1:123456789012:stream/orders' } };
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(skipped) }));
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'not json at all' }));
    return { queueUrl, target };
  }

  async function statefun(...argv: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runStatefun(argv, { sqs, kinesis }, { out: (l) => out.push(l), err: (l) => err.push(l) });
    return { code, out, err };
  }

  it('lists every message of the queue with its kind, filters by reason and type, and leaves them all on the queue', async () => {
    // Prepare
    const { queueUrl, target } = await queueWithDeadLetters('list');

    // Act
    const all = await statefun('dlq', 'list', '--queue-url', queueUrl, '--json');
    const byReason = await statefun('dlq', 'list', '--queue-url', queueUrl, '--reason', 'DUPLICATE_WINDOW');
    const byType = await statefun('dlq', 'list', '--queue-url', queueUrl, '--type', 'test/alerts');
    const left = await drainQueue(sqs, queueUrl);

    // Assess
    expect(all.code).toBe(0);
    const rows = all.out.map((l) => JSON.parse(l) as { id: string; kind: string; address: string });
    expect(rows.map((r) => [r.kind, r.address]).sort()).toEqual(
      [
        ['egress', 'test/alerts'],
        ['message', target.key],
        ['message', target.key],
        ['skipped-batch', 'arn:aws:kinesis:us-east-1:123456789012:stream/orders'],
        ['unknown', '-'],
      ].sort(),
    );
    expect(all.err).toEqual(['5 dead letter(s)']);
    expect(byReason.out).toHaveLength(1);
    expect(byReason.out[0]).toMatch(/^orders\/shardId-0\/7 {2}message {2}test\/journal\/list-target {2}\S+ {2}OUTSIDE_DUPLICATE_WINDOW/);
    expect(byType.out.map((l) => l.split('  ')[0])).toEqual(['b2.e0']);
    expect(left).toHaveLength(5);
    await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
  });

  it('shows one dead letter whole, and says when there is none', async () => {
    // Prepare
    const { queueUrl } = await queueWithDeadLetters('show');

    // Act
    const found = await statefun('dlq', 'show', 'b1.m0', '--queue-url', queueUrl);
    const missing = await statefun('dlq', 'show', 'nope', '--queue-url', queueUrl);
    const garbageId = (JSON.parse((await statefun('dlq', 'list', '--queue-url', queueUrl, '--json')).out.find((l) => l.includes('"unknown"'))!) as { messageId: string }).messageId;
    const garbage = await statefun('dlq', 'show', garbageId, '--queue-url', queueUrl);

    // Assess
    expect(found.code).toBe(0);
    expect(JSON.parse(found.out.join('\n'))).toMatchObject({ id: 'b1.m0', kind: 'message', body: { reason: 'FUNCTION_FAILED: journal function told to throw', envelope: { target: 'test/journal/show-target' } } });
    expect(missing).toMatchObject({ code: 1, out: [] });
    expect(missing.err[0]).toContain('no dead letter "nope" in');
    expect(garbage.code).toBe(0);
    expect(JSON.parse(garbage.out.join('\n'))).toMatchObject({ kind: 'unknown', body: 'not json at all', reason: 'the body is not a JSON object' });
    await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
  });

  it('redrives the dead messages once: they are applied, removed from the queue, and a second redrive of one is a duplicate; the rest stays', async () => {
    // Prepare
    const { queueUrl, target } = await queueWithDeadLetters('redrive');
    const before = (await readKinesisStream(kinesis, stream)).length;

    // Act
    const dryRun = await statefun('dlq', 'redrive', '--queue-url', queueUrl, '--stream', stream, '--dry-run');
    const afterDryRun = (await readKinesisStream(kinesis, stream)).length;
    const redrive = await statefun('dlq', 'redrive', '--queue-url', queueUrl, '--stream', stream);
    const records = (await readKinesisStream(kinesis, stream)).slice(before);
    const dispatch = createDispatcherHandler({ store: fx.store, functions: resolverOf({ 'test/journal': new JournalFunction() }), clock: new SimulatedClock(Date.now()), logger: { warn: () => undefined } });
    await dispatch({ Records: records });
    const again = await dispatch({ Records: records }); // a second redrive of the same dead letters
    const state = (await fx.store.load([target])).get(target.key)!;
    const left = await drainQueue(sqs, queueUrl);

    // Assess
    expect(dryRun.code).toBe(0);
    expect(dryRun.out.sort()).toEqual([`would redrive b1.m0 to ${target.key}`, `would redrive orders/shardId-0/7 to ${target.key}`]);
    expect(afterDryRun).toBe(before);
    expect(redrive.code).toBe(0);
    expect(redrive.err.at(-1)).toBe('redrove 2, skipped 3');
    expect(records).toHaveLength(2);
    expect(readText(state.values.get('journal'))!.split('|').sort()).toEqual(['first', 'second']);
    expect(again).toEqual({ batchItemFailures: [] });
    expect(state.version).toBe((await fx.store.load([target])).get(target.key)!.version);
    expect(left.map((m) => m.body).some((b) => b.includes('b2.e0'))).toBe(true);
    expect(left).toHaveLength(3);
    await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
  });

  it('purges only with --yes', async () => {
    // Prepare
    const { queueUrl } = await queueWithDeadLetters('purge');

    // Act
    const refused = await statefun('dlq', 'purge', '--queue-url', queueUrl);
    const kept = (await statefun('dlq', 'list', '--queue-url', queueUrl)).out.length;
    const purged = await statefun('dlq', 'purge', '--queue-url', queueUrl, '--yes');

    // Assess
    expect(refused.code).toBe(2);
    expect(refused.err[0]).toBe(`purging ${queueUrl} deletes every dead letter for good: run again with --yes`);
    expect(kept).toBe(5);
    expect(purged).toMatchObject({ code: 0, out: [`purged ${queueUrl}`] });
    expect(await drainQueue(sqs, queueUrl)).toEqual([]);
    await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
  });

  it.each([
    [['dlq', 'list'], "error: required option '--queue-url <url>' not specified"],
    [['dlq', 'list', '--queue-url', 'q', '--max', 'ten'], "error: option '--max <n>' argument 'ten' is invalid. expected a whole number, got \"ten\""],
    [['dlq', 'list', '--queue-url', 'q', '--type', 'shop'], 'error: option \'--type <namespace/type>\' argument \'shop\' is invalid. invalid type name "shop"'],
    [['dlq', 'redrive', '--queue-url', 'q'], "error: required option '--stream <name or ARN>' not specified"],
    [['dlq', 'rewind'], "error: unknown command 'rewind'"],
  ])('refuses the command line %j with exit code 2 and the reason', async (argv, message) => {
    const run = await statefun(...argv);
    expect(run.code).toBe(2);
    expect(run.err.join('\n')).toContain(message);
  });

  it('runs from the executable that the package bin names (`npx statefun`)', () => {
    const bin = (JSON.parse(readFileSync(resolve(REPO, 'package.json'), 'utf8')) as { bin: Record<string, string> }).bin.statefun!;
    const run = spawnSync(process.execPath, [resolve(REPO, bin), 'dlq', '--help'], { cwd: REPO, encoding: 'utf8' });
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('redrive [options]');
  });
});
