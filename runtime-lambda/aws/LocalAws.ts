import { DeleteTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  CreateStreamCommand,
  DeleteStreamCommand,
  KinesisClient,
  PutRecordsCommand,
  ResourceInUseException,
  waitUntilStreamExists,
} from '@aws-sdk/client-kinesis';
import { CreateQueueCommand, DeleteQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { CancelledTimer, ScheduledTimer } from '../core/Effects';
import type { Envelope } from '../core/Envelope';
import { describeError } from '../core/errors';
import { createTables } from './createTables';
import type { DelayScheduler } from './DelayScheduler';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { DynamoStreamsSdkApi } from './DynamoStreamsApi';
import { encodeMessageBundles } from './messageRecords';
import type { EgressTarget } from './OutboxRelay';

/** Where the local AWS endpoints are and as whom to call them. */
export interface LocalAwsEndpoints {
  /** DynamoDB (and DynamoDB Streams). */
  readonly dynamodb: string;
  /** Kinesis and SQS. */
  readonly aws: string;
  readonly region: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

/** The SDK clients for local AWS; Kinesis on HTTP/1.1 (moto serves no HTTP/2). */
export interface LocalAwsClients {
  readonly dynamo: DynamoDBClient;
  readonly kinesis: KinesisClient;
  readonly sqs: SQSClient;
  readonly streams: DynamoStreamsSdkApi;
  destroy(): void;
}

/** Clients for `endpoints`. */
export function localAwsClients(endpoints: LocalAwsEndpoints): LocalAwsClients {
  const base = { region: endpoints.region, credentials: endpoints.credentials };
  const dynamo = new DynamoDBClient({ ...base, endpoint: endpoints.dynamodb });
  const kinesis = new KinesisClient({ ...base, endpoint: endpoints.aws, requestHandler: new NodeHttpHandler() });
  serializeKinesisPuts(kinesis, endpoints.aws);
  const sqs = new SQSClient({ ...base, endpoint: endpoints.aws });
  const streamsClient = new DynamoDBStreamsClient({ ...base, endpoint: endpoints.dynamodb });
  const streams = new DynamoStreamsSdkApi(streamsClient);
  return {
    dynamo,
    kinesis,
    sqs,
    streams,
    destroy: () => {
      dynamo.destroy();
      kinesis.destroy();
      sqs.destroy();
      streamsClient.destroy();
    },
  };
}

/** The tail of the chain of Kinesis puts in flight, per emulator endpoint. */
const putsInFlight = new Map<string, Promise<unknown>>();

/**
 * Lets one `PutRecord(s)` at a time reach the emulator at `endpoint`, across all clients of
 * this process. moto numbers a shard's records as "highest sequence number + 1" without a
 * lock, so two concurrent puts can get the same number and one record silently replaces the
 * other (answered as a success). The chaos test caught it as lost messages whenever two
 * relay invocations ran at once. Real Kinesis needs no such thing; only emulator clients
 * made here get it.
 */
function serializeKinesisPuts(client: KinesisClient, endpoint: string): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== 'PutRecordsCommand' && context.commandName !== 'PutRecordCommand') return next(args);
      const previous = putsInFlight.get(endpoint) ?? Promise.resolve();
      const mine = previous.then(() => next(args));
      const settled = mine.catch(() => undefined);
      putsInFlight.set(endpoint, settled);
      try {
        return await mine;
      } finally {
        if (putsInFlight.get(endpoint) === settled) putsInFlight.delete(endpoint);
      }
    },
    { step: 'initialize', name: 'statefunSerializeEmulatorKinesisPuts' },
  );
}

/** What {@link provisionLocalAws} creates; every name starts with `prefix`. */
export interface LocalAwsSpec {
  readonly prefix: string;
  /** @default 2 */
  readonly messageShards?: number;
  /** Ingress streams to create (name → shard count). */
  readonly ingressStreams?: Readonly<Record<string, number>>;
  /** Egress names (`namespace/type`) to give a FIFO SQS queue each. */
  readonly sqsEgress?: readonly string[];
}

/** The resources of a local app. */
export interface LocalAwsResources {
  readonly tableName: string;
  readonly outboxTableName: string;
  readonly inboxTableName: string;
  readonly outboxStreamArn: string;
  readonly messageStream: string;
  readonly deadLetterQueueUrl: string;
  readonly egress: Record<string, EgressTarget>;
}

/**
 * Creates (or finds) the state and outbox tables, the message stream, the ingress streams,
 * the dead-letter queue and one FIFO queue per egress: what the CDK stack makes on AWS.
 * Idempotent: what exists already is kept.
 */
export async function provisionLocalAws(clients: LocalAwsClients, spec: LocalAwsSpec): Promise<LocalAwsResources> {
  const tableName = `${spec.prefix}-state`;
  const outboxTableName = `${spec.prefix}-outbox`;
  const inboxTableName = `${spec.prefix}-inbox`;
  const messageStream = `${spec.prefix}-messages`;
  await createTables(clients.dynamo, { tableName, outboxTableName, inboxTableName });
  const outboxStreamArn = (await clients.dynamo.send(new DescribeTableCommand({ TableName: outboxTableName }))).Table?.LatestStreamArn;
  if (!outboxStreamArn) throw new Error(`table ${outboxTableName} has no stream: delete it and run again (it must be created with a NEW_IMAGE stream)`);

  const streams: [string, number][] = [[messageStream, spec.messageShards ?? 2], ...Object.entries(spec.ingressStreams ?? {})];
  await Promise.all(streams.map(([name, shards]) => createStream(clients.kinesis, name, shards)));

  const deadLetterQueueUrl = (await clients.sqs.send(new CreateQueueCommand({ QueueName: `${spec.prefix}-dlq` }))).QueueUrl!;
  const egress: Record<string, EgressTarget> = {};
  for (const name of spec.sqsEgress ?? []) {
    const queue = `${spec.prefix}-${name.replace(/[^A-Za-z0-9_-]/g, '-')}`.slice(0, 75) + '.fifo';
    const url = (await clients.sqs.send(new CreateQueueCommand({ QueueName: queue, Attributes: { FifoQueue: 'true' } }))).QueueUrl!;
    egress[name] = { sqsQueueUrl: url };
  }
  return { tableName, outboxTableName, inboxTableName, outboxStreamArn, messageStream, deadLetterQueueUrl, egress };
}

/**
 * Deletes what {@link provisionLocalAws} made (and the ingress streams named), best effort:
 * for tests and benches that provision an app of their own on shared emulators.
 */
export async function deleteLocalAws(clients: LocalAwsClients, resources: LocalAwsResources, ingressStreams: readonly string[] = []): Promise<void> {
  const r = resources;
  await Promise.allSettled([
    ...[r.tableName, r.outboxTableName, r.inboxTableName].map((TableName) => clients.dynamo.send(new DeleteTableCommand({ TableName }))),
    ...[r.messageStream, ...ingressStreams].map((StreamName) => clients.kinesis.send(new DeleteStreamCommand({ StreamName }))),
    ...[r.deadLetterQueueUrl, ...Object.values(r.egress).map((t) => ('sqsQueueUrl' in t ? t.sqsQueueUrl : undefined))]
      .filter((url): url is string => url !== undefined)
      .map((QueueUrl) => clients.sqs.send(new DeleteQueueCommand({ QueueUrl }))),
  ]);
}

async function createStream(kinesis: KinesisClient, name: string, shards: number): Promise<void> {
  try {
    await kinesis.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  await waitUntilStreamExists({ client: kinesis, maxWaitTime: 60, minDelay: 1, maxDelay: 2 }, { StreamName: name });
}

/**
 * Puts `envelopes` on the message stream as a fired timer does: one bundle per target,
 * keyed by its address, in one `PutRecords` call (at most 500 bundles). Throws if any record failed.
 */
export async function putOnMessageStream(kinesis: KinesisClient, messageStream: string, envelopes: readonly Envelope[]): Promise<void> {
  const byTarget = new Map<string, Envelope[]>();
  for (const envelope of envelopes) {
    const group = byTarget.get(envelope.target.key);
    if (group) group.push(envelope);
    else byTarget.set(envelope.target.key, [envelope]);
  }
  const records = [...byTarget.values()].flatMap((group) => encodeMessageBundles(group));
  const out = await kinesis.send(new PutRecordsCommand({ StreamName: messageStream, Records: records.map((r) => ({ PartitionKey: r.partitionKey, Data: r.data })) }));
  if (out.FailedRecordCount) throw new Error(`PutRecords to ${messageStream}: ${out.FailedRecordCount} of ${records.length} record(s) failed`);
}

/**
 * A {@link DelayScheduler} for local development: in-process timers that put the delayed
 * envelope on the message stream when due. Not durable (a restart forgets pending delays;
 * EventBridge Scheduler keeps them on AWS); `stop()` clears every timer.
 */
export class LocalDelayScheduler implements DelayScheduler {
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly kinesis: KinesisClient,
    private readonly messageStream: string,
    private readonly logger: Pick<Console, 'warn'> = console,
  ) {}

  async schedule(timers: readonly ScheduledTimer[]): Promise<void> {
    for (const timer of timers) {
      if (this.timers.has(timer.timerId)) continue;
      const handle = setTimeout(() => {
        this.timers.delete(timer.timerId);
        putOnMessageStream(this.kinesis, this.messageStream, [timer.envelope])
          .catch((error: unknown) => this.logger.warn(JSON.stringify({ message: 'LocalDelayScheduler: could not put a fired timer', timerId: timer.timerId, error: describeError(error) })));
      }, Math.max(0, timer.dueAtMs - Date.now()));
      this.timers.set(timer.timerId, handle);
    }
  }

  async cancel(timers: readonly CancelledTimer[]): Promise<void> {
    for (const { timerId } of timers) {
      clearTimeout(this.timers.get(timerId));
      this.timers.delete(timerId);
    }
  }

  /** Pending delays. */
  get pending(): number {
    return this.timers.size;
  }

  stop(): void {
    for (const handle of this.timers.values()) clearTimeout(handle);
    this.timers.clear();
  }
}
