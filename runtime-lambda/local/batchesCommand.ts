/**
 * `statefun dlq batches`: the batches the stream mappings gave up on, kept whole in the
 * skipped-batches bucket (the mappings' S3 on-failure destination): list them, show one,
 * replay them through their function once the cause is fixed. See docs/operations.md.
 */
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { type Command, Option } from 'commander';
import { InvalidInputError, describeError } from '../core/errors';
import { SKIPPED_BATCH_PREFIX, type SkippedBatch, readSkippedBatch } from '../aws/skippedBatches';
import type { CommandContext } from './commandContext';

/** The clients of the `batches` commands, made on first use (so that --help needs no AWS configuration). */
export interface BatchesClients {
  readonly s3: S3Client;
  readonly lambda: LambdaClient;
}

/** An object of the bucket, read or not. */
type Listed = { readonly key: string; readonly batch: SkippedBatch } | { readonly key: string; readonly error: string };

/** Adds `batches list|show|redrive` under `dlq`. */
export function addBatchesCommands(dlq: Command, context: CommandContext, clients: BatchesClients): void {
  const { out, err } = context.output;
  const fail = () => context.setCode(1);
  const batches = dlq.command('batches').description('batches the stream mappings gave up on, kept whole in the skipped-batches bucket: list, show, redrive');
  const bucketOption = () =>
    new Option('--bucket <name>', 'the skipped-batches bucket (the construct output SkippedBatchesBucketName)').env('STATEFUN_SKIPPED_BATCHES_BUCKET').makeOptionMandatory();

  batches
    .command('list')
    .description('one line per skipped batch: key, condition, stream, shard, sequence numbers, records, function')
    .addOption(bucketOption())
    .option('--json', 'one JSON object per line')
    .action(async (opts: { bucket: string; json?: boolean }) => {
      const listed = await listBatches(clients.s3, opts.bucket);
      for (const item of listed) {
        if ('error' in item) {
          out(opts.json ? JSON.stringify({ key: item.key, error: item.error }) : `${item.key}  UNREADABLE  ${item.error}`);
          continue;
        }
        const b = item.batch;
        out(
          opts.json
            ? JSON.stringify({ key: b.key, condition: b.condition, at: b.timestamp, streamArn: b.streamArn, shardId: b.shardId, startSequenceNumber: b.startSequenceNumber, endSequenceNumber: b.endSequenceNumber, records: b.event.Records.length, functionArn: b.functionArn })
            : `${b.key}  ${b.condition}  ${b.timestamp || '-'}  ${b.streamArn} ${b.shardId} ${b.startSequenceNumber}..${b.endSequenceNumber}  ${b.event.Records.length} record(s)  ${b.functionArn}`,
        );
      }
      err(`${listed.length} skipped batch(es)`);
    });

  batches
    .command('show')
    .description('print one skipped batch whole, its event included')
    .argument('<key>', 'the object key (from list)')
    .addOption(bucketOption())
    .action(async (key: string, opts: { bucket: string }) => {
      const text = await readObject(clients.s3, opts.bucket, key);
      out(JSON.stringify(readSkippedBatch(key, text), null, 2));
    });

  batches
    .command('redrive')
    .description('invoke the function again with each skipped batch, in order per shard; a batch is deleted only once its function succeeded')
    .addOption(bucketOption())
    .option('--key <key...>', 'only these objects')
    .option('--function <name or ARN>', "invoke this function instead of the one the batch names (e.g. after a redeploy under another name)")
    .option('--dry-run', 'say what would be redriven, change nothing')
    .action(async (opts: { bucket: string; key?: string[]; function?: string; dryRun?: boolean }) => {
      const listed = (await listBatches(clients.s3, opts.bucket)).filter((item) => opts.key === undefined || opts.key.includes(item.key));
      let redriven = 0;
      let kept = 0;
      // A batch after a failed one of the same shard waits: the records of a shard stay in order.
      const blockedShards = new Set<string>();
      for (const item of listed) {
        if ('error' in item) {
          kept++;
          fail();
          err(`kept ${item.key}: ${item.error}`);
          continue;
        }
        const batch = item.batch;
        const shard = `${batch.streamArn}/${batch.shardId}`;
        const functionName = opts.function ?? batch.functionArn;
        if (blockedShards.has(shard)) {
          kept++;
          err(`kept ${batch.key}: an earlier batch of ${shard} failed, this one waits for it`);
          continue;
        }
        if (opts.dryRun) {
          redriven++;
          out(`would redrive ${batch.key} (${batch.event.Records.length} record(s)) to ${functionName}`);
          continue;
        }
        const failure = await invoke(clients.lambda, functionName, batch);
        if (failure !== undefined) {
          kept++;
          blockedShards.add(shard);
          fail();
          err(`kept ${batch.key}: ${failure}`);
          continue;
        }
        await clients.s3.send(new DeleteObjectCommand({ Bucket: opts.bucket, Key: batch.key }));
        redriven++;
        out(`redrove ${batch.key} (${batch.event.Records.length} record(s)) to ${functionName}`);
      }
      err(`${opts.dryRun ? 'would redrive' : 'redrove'} ${redriven}, kept ${kept}`);
    });
}

/** Every object under Lambda's prefix, oldest first within each mapping and shard (the keys sort so). */
async function listBatches(s3: S3Client, bucket: string): Promise<Listed[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: SKIPPED_BATCH_PREFIX, ...(token ? { ContinuationToken: token } : {}) }));
    for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  keys.sort();
  const listed: Listed[] = [];
  for (const key of keys) {
    try {
      listed.push({ key, batch: readSkippedBatch(key, await readObject(s3, bucket, key)) });
    } catch (error) {
      listed.push({ key, error: error instanceof InvalidInputError ? error.message : describeError(error) });
    }
  }
  return listed;
}

async function readObject(s3: S3Client, bucket: string, key: string): Promise<string> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return object.Body!.transformToString();
}

/**
 * Invokes `functionName` with the batch's event; answers why it failed, or `undefined`. A
 * function that reports batch item failures failed those records again: the batch is kept.
 */
async function invoke(lambda: LambdaClient, functionName: string, batch: SkippedBatch): Promise<string | undefined> {
  let out;
  try {
    out = await lambda.send(new InvokeCommand({ FunctionName: functionName, InvocationType: 'RequestResponse', Payload: Buffer.from(JSON.stringify(batch.event)) }));
  } catch (error) {
    return `invoking ${functionName} failed: ${describeError(error)}`;
  }
  const body = out.Payload ? Buffer.from(out.Payload).toString('utf8') : '';
  if (out.FunctionError) return `${functionName} failed (${out.FunctionError}): ${body.slice(0, 500)}`;
  try {
    const failures = (JSON.parse(body || 'null') as { batchItemFailures?: { itemIdentifier?: string }[] } | null)?.batchItemFailures ?? [];
    if (failures.length > 0) return `${functionName} failed ${failures.length} record(s) again, from ${failures[0]?.itemIdentifier}`;
  } catch {
    // A function that answers something other than JSON reported no failures.
  }
  return undefined;
}
