/**
 * The `statefun` command (`npx statefun`, the `bin` of package.json):
 * - `dlq`, to inspect, redrive and purge the dead-letter queue of an application, on AWS or
 *   on the emulators (`AWS_ENDPOINT_URL`); see docs/operations.md;
 * - `dev --module module.yaml`, to run a StateFun module locally, and `send`, to feed its
 *   playground ingress; see docs/local-dev.md.
 */
import { KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { LambdaClient } from '@aws-sdk/client-lambda';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageCommand,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { S3Client } from '@aws-sdk/client-s3';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { typename } from '../core/Address';
import { describeError } from '../core/errors';
import { encodeMessageBundle, streamRef } from '../aws/messageRecords';
import { S3PayloadStore, parseS3Ref } from '../aws/S3PayloadStore';
import type { CommandContext } from './commandContext';
import { type DeadLetterKind, type DeadLetterView, readDeadLetter, redriveEnvelope } from './deadLetters';
import { addDevCommand } from './devCommand';
import { addSendCommand } from './sendCommand';
import { addBatchesCommands } from './batchesCommand';

/** The AWS clients the commands use; the defaults read region, credentials and `AWS_ENDPOINT_URL` from the environment. */
export interface StatefunClients {
  readonly sqs: SQSClient;
  readonly kinesis: KinesisClient;
  /** Reads dead letters kept whole in the payload bucket (their queue message is a stub), and skipped batches. */
  readonly s3: S3Client;
  /** Invokes the function of a skipped batch again (`dlq batches redrive`). */
  readonly lambda: LambdaClient;
}

/** Where the commands write: lines of output, and lines of errors. */
export interface StatefunOutput {
  out(line: string): void;
  err(line: string): void;
}

interface Filters {
  readonly reason?: string;
  readonly type?: string;
  readonly olderThan?: number;
  readonly id?: readonly string[];
  readonly max: number;
}

/** Messages taken from the queue at once while scanning it; they are made visible again after. */
const SCAN_VISIBILITY_SECONDS = 30;

/**
 * Runs `statefun <argv>`; answers the exit code (0 done, 1 something failed, 2 a bad
 * command line).
 *
 * @example
 * await runStatefun(['dlq', 'list', '--queue-url', url], { sqs, kinesis });
 */
export async function runStatefun(argv: readonly string[], clients?: Partial<StatefunClients>, output: StatefunOutput = consoleOutput): Promise<number> {
  let sqs = clients?.sqs;
  let kinesis = clients?.kinesis;
  let s3 = clients?.s3;
  let lambda = clients?.lambda;
  // Made on first use, so that --help and bad command lines need no AWS configuration.
  const lazy = {
    get s3() {
      return (s3 ??= new S3Client({ forcePathStyle: process.env.AWS_ENDPOINT_URL !== undefined }));
    },
    get sqs() {
      return (sqs ??= new SQSClient({}));
    },
    get kinesis() {
      return (kinesis ??= new KinesisClient({}));
    },
    get lambda() {
      return (lambda ??= new LambdaClient({}));
    },
  };
  let code = 0;
  const program = new Command('statefun')
    .description('Stateful Functions on AWS: run an application locally, operate it on AWS')
    .exitOverride()
    .configureOutput({ writeOut: (text) => output.out(text.trimEnd()), writeErr: (text) => output.err(text.trimEnd()) });

  const dlq = program.command('dlq').description("inspect, redrive and purge the application's dead-letter queue");
  const queueOption = () => new Option('--queue-url <url>', 'the dead-letter queue (the construct output DeadLetterQueueUrl)').env('STATEFUN_DLQ_URL').makeOptionMandatory();
  const filterOptions = (command: Command) =>
    command
      .option('--reason <text>', 'only dead letters whose reason contains this text')
      .option('--type <namespace/type>', 'only dead letters for this function type (or egress)', parseType)
      .option('--older-than <minutes>', 'only dead letters older than this many minutes', parseWholeNumber)
      .option('--id <id...>', 'only the dead letters with these ids')
      .option('--max <n>', 'read at most this many messages from the queue', parseWholeNumber, 1000);

  filterOptions(dlq.command('list').description('list the dead letters, one line each').addOption(queueOption()))
    .option('--json', 'one JSON object per line')
    .action(async (opts: Filters & { queueUrl: string; json?: boolean }) => {
      const letters = await scan(lazy.sqs, opts.queueUrl, opts);
      await release(lazy.sqs, opts.queueUrl, letters);
      for (const { view } of letters) output.out(opts.json ? JSON.stringify(summary(view)) : line(view));
      output.err(`${letters.length} dead letter(s)`);
    });

  dlq
    .command('show')
    .description('print one dead letter whole')
    .argument('<id>', 'the dead letter id (or SQS message id)')
    .addOption(queueOption())
    .option('--max <n>', 'read at most this many messages from the queue', parseWholeNumber, 1000)
    .action(async (id: string, opts: { queueUrl: string; max: number }) => {
      const letters = await scan(lazy.sqs, opts.queueUrl, { id: [id], max: opts.max });
      await release(lazy.sqs, opts.queueUrl, letters);
      const found = letters[0];
      if (found === undefined) {
        output.err(`no dead letter ${JSON.stringify(id)} in ${opts.queueUrl} (among the first ${opts.max} messages)`);
        code = 1;
        return;
      }
      const view = await whole(lazy.s3, found.view);
      output.out(JSON.stringify({ ...summary(view), ...(found.view.payloadRef ? { payloadRef: found.view.payloadRef } : {}), body: view.kind === 'unknown' ? view.body : (JSON.parse(view.body) as unknown) }, null, 2));
    });

  filterOptions(dlq.command('redrive').description('send dead messages to their functions again, then remove them from the queue').addOption(queueOption()))
    .addOption(new Option('--stream <name or ARN>', 'the message stream (the construct output MessageStreamName)').env('STATEFUN_MESSAGE_STREAM').makeOptionMandatory())
    .option('--dry-run', 'say what would be redriven, change nothing')
    .action(async (opts: Filters & { queueUrl: string; stream: string; dryRun?: boolean }) => {
      const letters = await scan(lazy.sqs, opts.queueUrl, opts);
      let redriven = 0;
      let skipped = 0;
      const keep: typeof letters = [];
      for (const letter of letters) {
        let envelope;
        try {
          envelope = redriveEnvelope(await whole(lazy.s3, letter.view));
        } catch (error) {
          skipped++;
          keep.push(letter);
          output.err(`skipped ${letter.view.id}: ${describeError(error)}`);
          continue;
        }
        if (opts.dryRun) {
          keep.push(letter);
          output.out(`would redrive ${letter.view.id} to ${envelope.target.key}`);
          redriven++;
          continue;
        }
        const record = encodeMessageBundle([envelope]);
        const put = await lazy.kinesis.send(new PutRecordsCommand({ ...streamRef(opts.stream), Records: [{ PartitionKey: record.partitionKey, Data: record.data }] }));
        if (put.FailedRecordCount) {
          keep.push(letter);
          code = 1;
          output.err(`could not redrive ${letter.view.id}: ${put.Records?.[0]?.ErrorCode}: ${put.Records?.[0]?.ErrorMessage}; it stays on the queue`);
          continue;
        }
        // Removed only once its message is on the stream; a second redrive of it is a duplicate.
        await lazy.sqs.send(new DeleteMessageCommand({ QueueUrl: opts.queueUrl, ReceiptHandle: letter.receiptHandle }));
        output.out(`redrove ${letter.view.id} to ${envelope.target.key}`);
        redriven++;
      }
      await release(lazy.sqs, opts.queueUrl, keep);
      output.err(`${opts.dryRun ? 'would redrive' : 'redrove'} ${redriven}, skipped ${skipped}`);
    });

  dlq
    .command('purge')
    .description('delete every message of the queue (SQS PurgeQueue)')
    .addOption(queueOption())
    .option('--yes', 'confirm: the messages cannot be recovered')
    .action(async (opts: { queueUrl: string; yes?: boolean }) => {
      if (!opts.yes) {
        output.err(`purging ${opts.queueUrl} deletes every dead letter for good: run again with --yes`);
        code = 2;
        return;
      }
      await lazy.sqs.send(new PurgeQueueCommand({ QueueUrl: opts.queueUrl }));
      output.out(`purged ${opts.queueUrl}`);
    });

  const ctx: CommandContext = { output, setCode: (n) => (code = n) };
  addDevCommand(program, ctx);
  addSendCommand(program, ctx);
  addBatchesCommands(dlq, ctx, lazy);

  try {
    await program.parseAsync(['node', 'statefun', ...argv]);
    return code;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    output.err(`statefun: ${describeError(error)}`);
    return 1;
  }
}

const consoleOutput: StatefunOutput = { out: (text) => console.log(text), err: (text) => console.error(text) };

interface Scanned {
  readonly view: DeadLetterView;
  readonly receiptHandle: string;
}

/** Reads the queue (hiding what it reads for a while) and keeps the messages the filters pass. */
async function scan(sqs: SQSClient, queueUrl: string, filters: Filters): Promise<Scanned[]> {
  const seen = new Set<string>();
  const kept: Scanned[] = [];
  const others: Scanned[] = [];
  while (seen.size < filters.max) {
    const out = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: Math.min(10, filters.max - seen.size), VisibilityTimeout: SCAN_VISIBILITY_SECONDS, WaitTimeSeconds: 0 }),
    );
    const messages = out.Messages ?? [];
    if (messages.length === 0) break;
    for (const message of messages) {
      if (seen.has(message.MessageId!)) continue;
      seen.add(message.MessageId!);
      const scanned = { view: readDeadLetter(message.MessageId!, message.Body ?? ''), receiptHandle: message.ReceiptHandle! };
      (passes(scanned.view, filters) ? kept : others).push(scanned);
    }
  }
  await release(sqs, queueUrl, others);
  return kept;
}

/** The dead letter itself: read from the payload bucket when the queue holds its stub. */
async function whole(s3: S3Client, view: DeadLetterView): Promise<DeadLetterView> {
  if (view.payloadRef === undefined) return view;
  const bytes = await new S3PayloadStore({ client: s3, bucket: parseS3Ref(view.payloadRef).bucket }).get(view.payloadRef);
  return readDeadLetter(view.messageId, Buffer.from(bytes).toString('utf8'));
}

/** Makes messages read by {@link scan} visible again at once. */
async function release(sqs: SQSClient, queueUrl: string, letters: readonly Scanned[]): Promise<void> {
  for (let i = 0; i < letters.length; i += 10) {
    const entries = letters.slice(i, i + 10).map((letter, j) => ({ Id: String(j), ReceiptHandle: letter.receiptHandle, VisibilityTimeout: 0 }));
    await sqs.send(new ChangeMessageVisibilityBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
  }
}

function passes(view: DeadLetterView, filters: Filters): boolean {
  if (filters.id && !filters.id.includes(view.id) && !filters.id.includes(view.messageId)) return false;
  if (filters.reason !== undefined && !view.reason.includes(filters.reason)) return false;
  // An address `namespace/type/id`, or an egress `namespace/type`.
  if (filters.type !== undefined && view.address !== filters.type && !view.address.startsWith(`${filters.type}/`)) return false;
  if (filters.olderThan !== undefined && (view.atMs === undefined || view.atMs > Date.now() - filters.olderThan * 60_000)) return false;
  return true;
}

function summary(view: DeadLetterView): { id: string; kind: DeadLetterKind; address: string; at: string | null; reason: string; messageId: string } {
  return { id: view.id, kind: view.kind, address: view.address, at: view.atMs === undefined ? null : new Date(view.atMs).toISOString(), reason: view.reason, messageId: view.messageId };
}

function line(view: DeadLetterView): string {
  const at = view.atMs === undefined ? '-' : new Date(view.atMs).toISOString();
  return `${view.id}  ${view.kind}  ${view.address}  ${at}  ${view.reason}`;
}

function parseWholeNumber(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n)) throw new InvalidArgumentError(`expected a whole number, got ${JSON.stringify(text)}`);
  return n;
}

function parseType(text: string): string {
  try {
    return typename(text);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

if (require.main === module) {
  runStatefun(process.argv.slice(2)).then((code) => process.exit(code));
}
