import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Effects } from '../core/Effects';
import { NO_EFFECTS } from '../core/Effects';
import { describeError } from '../core/errors';
import type { DelayScheduler } from '../aws/DelayScheduler';
import { OUTBOX_ATTR } from '../aws/commitItems';
import { payloadStoreFromEnv } from '../aws/S3PayloadStore';
import { decodeEffects } from '../aws/effectsCodec';
import { ConfigurationError, jsonObjectEnv, requiredEnv } from '../aws/envConfig';
import type { DynamoDBStreamEvent, DynamoDBStreamRecord, StreamBatchResponse } from '../aws/lambdaEvents';
import { DynamoEgressFence, type EgressFenceKey } from '../aws/EgressFence';
import type { KafkaCluster, KafkaSasl } from '../aws/KafkaProducers';
import { type EgressTarget, OutboxRelay, type OutboxRelayOptions } from '../aws/OutboxRelay';
import { RoutingDelayScheduler } from '../aws/RoutingDelayScheduler';
import { SchedulerDelayScheduler, type SchedulerTargetMode } from '../aws/SchedulerDelayScheduler';
import { SqsDelayScheduler } from '../aws/SqsDelayScheduler';
import { configuredOnFirstInvocation, type LambdaContext, type LambdaPowertools, lambdaPowertools, powertoolsHandler, traced } from './observability/powertools';
import { type HandlerLogger, type HandlerMetrics, NO_METRICS, RELAY_METRICS, SERVICE_NAMES, count } from './observability/telemetry';

/** Options of {@link createRelayHandler}: those of {@link OutboxRelay}, plus a logger and metrics. */
export interface RelayHandlerOptions extends OutboxRelayOptions {
  /** @default - `console` */
  readonly logger?: HandlerLogger;
  /** Where the counts of {@link RELAY_METRICS} go. @default - nowhere */
  readonly metrics?: HandlerMetrics;
}

/** The relay Lambda's handler. */
export type RelayHandler = (event: DynamoDBStreamEvent) => Promise<StreamBatchResponse>;

/** The relay as a Lambda entry point: the Lambda context goes to the Powertools utilities. */
export type RelayLambdaHandler = (event: DynamoDBStreamEvent, context?: LambdaContext) => Promise<StreamBatchResponse>;

/**
 * The outbox relay Lambda, driven by the outbox table's DynamoDB Stream (NEW_IMAGE): it
 * decodes the effects of every inserted or modified outbox item and publishes them with an
 * {@link OutboxRelay}. `REMOVE` records are ignored.
 *
 * An outbox item whose effects do not decode is published as a dead letter (its raw item
 * on the dead-letter queue), never retried forever. When an item cannot be fully
 * published, `batchItemFailures` names its stream sequence number: Lambda delivers it and
 * every later record again, and what had been published is dropped by its receivers.
 *
 * @example
 * export const handler = createRelayHandler({
 *   kinesis: new KinesisClient({}),
 *   messageStream: 'statefun-messages',
 *   sqs: new SQSClient({}),
 *   deadLetterQueueUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/statefun-dlq',
 * });
 */
export function createRelayHandler(options: RelayHandlerOptions): RelayHandler {
  const relay = new OutboxRelay(options);
  const logger = options.logger ?? console;
  const metrics = options.metrics ?? NO_METRICS;
  return async (event) => {
    const records = (event.Records ?? []).filter((record) => record.eventName === 'INSERT' || record.eventName === 'MODIFY');
    const items: Effects[] = records.map((record) => {
      try {
        return effectsOf(record);
      } catch (error) {
        logger.warn('malformed outbox item: dead-lettering it', { sequenceNumber: record.dynamodb.SequenceNumber, error: describeError(error) });
        count(metrics, RELAY_METRICS.malformedOutboxItems, 1);
        return malformedItemAsDeadLetter(record, error);
      }
    });
    const outcome = await relay.relay(items, records.map(fenceOf));
    for (const { index, error } of outcome.errors) {
      logger.warn('outbox item not fully relayed: it will be delivered again', {
        sequenceNumber: records[index]!.dynamodb.SequenceNumber,
        error: describeError(error),
      });
    }
    const relayed = items.slice(0, outcome.firstIncomplete ?? items.length);
    const sum = (of: (effects: Effects) => number) => relayed.reduce((total, effects) => total + of(effects), 0);
    count(metrics, RELAY_METRICS.outboxItemsRelayed, relayed.length);
    count(metrics, RELAY_METRICS.outboxItemsNotRelayed, items.length - relayed.length);
    count(metrics, RELAY_METRICS.messagesRelayed, sum((e) => e.messages.length));
    count(metrics, RELAY_METRICS.egressRecordsRelayed, sum((e) => e.egress.length));
    count(metrics, RELAY_METRICS.timersScheduled, sum((e) => e.timers.length));
    count(metrics, RELAY_METRICS.timersCancelled, sum((e) => e.cancelledTimers.length));
    count(metrics, RELAY_METRICS.deadLetters, sum((e) => e.deadLetters.length));
    return {
      batchItemFailures:
        outcome.firstIncomplete === undefined ? [] : [{ itemIdentifier: records[outcome.firstIncomplete]!.dynamodb.SequenceNumber }],
    };
  };
}

/** The egress fence of an outbox item's commit, when it set one. */
function fenceOf(record: DynamoDBStreamRecord): EgressFenceKey | undefined {
  const image = record.dynamodb.NewImage ?? {};
  const address = image[OUTBOX_ATTR.address];
  const fence = image[OUTBOX_ATTR.egressFence];
  if (!address || !('S' in address) || typeof address.S !== 'string' || !fence || !('S' in fence) || typeof fence.S !== 'string') return undefined;
  return { sender: address.S, key: fence.S };
}

function effectsOf(record: DynamoDBStreamRecord): Effects {
  const effects = record.dynamodb.NewImage?.[OUTBOX_ATTR.effects];
  if (effects === undefined || !('B' in effects) || typeof effects.B !== 'string') {
    throw new Error(`stream record ${record.dynamodb.SequenceNumber} has no binary "${OUTBOX_ATTR.effects}" in its NewImage: the stream must be the outbox table's, with view type NEW_IMAGE`);
  }
  return decodeEffects(new Uint8Array(Buffer.from(effects.B, 'base64')));
}

function malformedItemAsDeadLetter(record: DynamoDBStreamRecord, error: unknown): Effects {
  const image = record.dynamodb.NewImage ?? {};
  const address = image[OUTBOX_ATTR.address];
  const version = image[OUTBOX_ATTR.version];
  const id = `outbox/${address && 'S' in address ? address.S : '?'}/${version && 'N' in version ? version.N : record.dynamodb.SequenceNumber}`;
  return {
    ...NO_EFFECTS,
    deadLetters: [
      {
        id,
        address: address && 'S' in address ? address.S : '?',
        reason: `malformed outbox item: ${describeError(error)}`,
        atMs: Date.now(),
        egressRecord: { id, egress: 'statefun.internal/outbox', argument: { typename: 'statefun.internal/outbox-item', value: new TextEncoder().encode(JSON.stringify(image)) } },
      },
    ],
  };
}

const EGRESS_EXAMPLE =
  '{"fraud/alerts":{"kinesisStream":"alerts"},"fraud/audit":{"sqsQueueUrl":"https://sqs.us-east-1.amazonaws.com/123456789012/audit.fifo"},' +
  '"example/greetings":{"kafkaProducerRecordTopics":["greetings"],"kafkaCluster":{"bootstrapServers":"b-1.msk.example.com:9098","sasl":{"mechanism":"AWS_MSK_IAM"}}},' +
  '"shop/events":{"eventBus":"orders","source":"shop"}}';
const EGRESS_FORMS =
  '{"kinesisStream": ...}, {"kinesisEgressRecordStreams": [<stream>, ...]}, {"sqsQueueUrl": ..., "messageGroupId"?: ...}, ' +
  '{"kafkaProducerRecordTopics": [<topic>, ...], "kafkaCluster": {"bootstrapServers": ..., "tls"?: ..., "sasl"?: ...}} or {"eventBus": ..., "source"?: ..., "detailType"?: ...}';
const SASL_FORMS =
  '{"mechanism": "PLAIN" | "SCRAM-SHA-256" | "SCRAM-SHA-512", "username": ..., "password": ...}, the same with "secretArn" (a secret holding {"username", "password"}) instead of the user and password, or {"mechanism": "AWS_MSK_IAM", "region"?: ...}';

/**
 * `STATEFUN_EGRESSES`: egress name → `{ kinesisStream }`, `{ kinesisEgressRecordStreams: [...] }`,
 * `{ sqsQueueUrl, messageGroupId? }`, `{ kafkaProducerRecordTopics: [...], kafkaCluster }` or
 * `{ eventBus, source?, detailType? }` (see {@link EgressTarget}).
 *
 * @throws {@link ConfigurationError} naming the egress, the bad value and the accepted forms.
 *
 * @example
 * parseEgresses({ STATEFUN_EGRESSES: '{"example/greetings":{"kafkaProducerRecordTopics":["greetings"],"kafkaCluster":{"bootstrapServers":"kafka:9092"}}}' });
 */
export function parseEgresses(env: Readonly<Record<string, string | undefined>>, name = 'STATEFUN_EGRESSES'): Record<string, EgressTarget> {
  const raw = jsonObjectEnv(env, name, EGRESS_EXAMPLE);
  const out: Record<string, EgressTarget> = {};
  for (const [egress, value] of Object.entries(raw)) {
    const where = `${name}: egress ${JSON.stringify(egress)}`;
    const spec = value as Record<string, unknown> | null;
    const bad = () => new ConfigurationError(`${where} maps to ${JSON.stringify(value)}: expected ${EGRESS_FORMS}, e.g. ${EGRESS_EXAMPLE}`);
    if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) throw bad();
    const keys = Object.keys(spec);
    const only = (...allowed: string[]) => keys.every((k) => allowed.includes(k));
    const streams = spec.kinesisEgressRecordStreams;
    if ('kafkaProducerRecordTopics' in spec || 'kafkaCluster' in spec) {
      if (!only('kafkaProducerRecordTopics', 'kafkaCluster')) throw bad();
      out[egress] = { kafkaProducerRecordTopics: kafkaTopics(spec.kafkaProducerRecordTopics, where), kafkaCluster: kafkaCluster(spec.kafkaCluster, where) };
    } else if ('eventBus' in spec) {
      if (!only('eventBus', 'source', 'detailType')) throw bad();
      out[egress] = eventBusTarget(spec, where);
    } else if (keys.length === 1 && Array.isArray(streams) && streams.length > 0 && streams.every((s) => typeof s === 'string' && s !== '')) out[egress] = { kinesisEgressRecordStreams: streams as string[] };
    else if (typeof spec.kinesisStream === 'string' && spec.sqsQueueUrl === undefined && streams === undefined) out[egress] = { kinesisStream: spec.kinesisStream };
    else if (typeof spec.sqsQueueUrl === 'string' && spec.kinesisStream === undefined && streams === undefined && (spec.messageGroupId === undefined || typeof spec.messageGroupId === 'string')) {
      out[egress] = spec.messageGroupId === undefined ? { sqsQueueUrl: spec.sqsQueueUrl } : { sqsQueueUrl: spec.sqsQueueUrl, messageGroupId: spec.messageGroupId as string };
    } else throw bad();
  }
  return out;
}

/** Kafka's rule for topic names. */
const KAFKA_TOPIC = /^[A-Za-z0-9._-]{1,249}$/;
/** `host:port`, as Kafka's bootstrap.servers takes it. */
const HOST_PORT = /^[A-Za-z0-9._-]+:[0-9]{1,5}$/;

function kafkaTopics(value: unknown, where: string): string[] {
  if (!Array.isArray(value) || value.length === 0 || !value.every((t) => typeof t === 'string' && KAFKA_TOPIC.test(t) && t !== '.' && t !== '..')) {
    throw new ConfigurationError(`${where}: kafkaProducerRecordTopics must list the topics its records may name (1 to 249 of letters, digits, ".", "_" and "-"), got ${JSON.stringify(value)}: e.g. "kafkaProducerRecordTopics": ["greetings"]`);
  }
  return value as string[];
}

function kafkaCluster(value: unknown, where: string): KafkaCluster {
  const spec = value as Record<string, unknown> | null;
  const example = 'e.g. "kafkaCluster": {"bootstrapServers": "b-1.msk.example.com:9098,b-2.msk.example.com:9098", "sasl": {"mechanism": "AWS_MSK_IAM"}}';
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) throw new ConfigurationError(`${where}: kafkaCluster must be an object, got ${JSON.stringify(value)}: ${example}`);
  const unknown = Object.keys(spec).filter((k) => !['bootstrapServers', 'tls', 'sasl'].includes(k));
  if (unknown.length > 0) throw new ConfigurationError(`${where}: kafkaCluster has unknown key${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => JSON.stringify(k)).join(', ')}: expected "bootstrapServers", "tls" and "sasl"`);
  const servers = typeof spec.bootstrapServers === 'string' ? spec.bootstrapServers.split(',').map((s) => s.trim()) : spec.bootstrapServers;
  if (!Array.isArray(servers) || servers.length === 0 || !servers.every((s) => typeof s === 'string' && HOST_PORT.test(s))) {
    throw new ConfigurationError(`${where}: kafkaCluster.bootstrapServers must be "host:port[,host:port...]" or a list of them, got ${JSON.stringify(spec.bootstrapServers)}: ${example}`);
  }
  const tls = spec.tls as Record<string, unknown> | boolean | undefined;
  if (
    tls !== undefined &&
    typeof tls !== 'boolean' &&
    (tls === null || typeof tls !== 'object' || Object.keys(tls).some((k) => k !== 'caPem' && k !== 'serverName') || Object.values(tls).some((v) => typeof v !== 'string'))
  ) {
    throw new ConfigurationError(`${where}: kafkaCluster.tls must be true, false or {"caPem"?: <PEM>, "serverName"?: <name>}, got ${JSON.stringify(tls)}`);
  }
  return { bootstrapServers: servers as string[], ...(tls !== undefined ? { tls: tls as NonNullable<KafkaCluster['tls']> } : {}), ...(spec.sasl !== undefined ? { sasl: kafkaSasl(spec.sasl, where) } : {}) };
}

function kafkaSasl(value: unknown, where: string): KafkaSasl {
  const spec = value as Record<string, unknown> | null;
  const bad = (why: string) => new ConfigurationError(`${where}: kafkaCluster.sasl ${why}, got ${JSON.stringify(value)}: expected ${SASL_FORMS}`);
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) throw bad('must be an object');
  const keys = Object.keys(spec);
  const str = (k: string) => typeof spec[k] === 'string' && spec[k] !== '';
  if (spec.mechanism === 'AWS_MSK_IAM') {
    if (!keys.every((k) => k === 'mechanism' || k === 'region') || (spec.region !== undefined && !str('region'))) throw bad('for AWS_MSK_IAM takes only "region"');
    return spec.region === undefined ? { mechanism: 'AWS_MSK_IAM' } : { mechanism: 'AWS_MSK_IAM', region: spec.region as string };
  }
  if (spec.mechanism !== 'PLAIN' && spec.mechanism !== 'SCRAM-SHA-256' && spec.mechanism !== 'SCRAM-SHA-512') throw bad('has an unknown mechanism');
  const mechanism = spec.mechanism;
  if (keys.length === 2 && str('secretArn')) return { mechanism, secretArn: spec.secretArn as string };
  if (keys.length === 3 && str('username') && str('password')) return { mechanism, username: spec.username as string, password: spec.password as string };
  throw bad(`for ${mechanism} needs "username" and "password", or "secretArn"`);
}

function eventBusTarget(spec: Record<string, unknown>, where: string): EgressTarget {
  for (const key of ['eventBus', 'source', 'detailType']) {
    const v = spec[key];
    if ((key === 'eventBus' || v !== undefined) && (typeof v !== 'string' || v === '' || v.length > 256)) {
      throw new ConfigurationError(`${where}: ${key} must be a string of 1 to 256 characters, got ${JSON.stringify(v)}: e.g. {"eventBus": "orders", "source": "shop", "detailType": "OrderPlaced"}`);
    }
  }
  if (typeof spec.source === 'string' && spec.source.startsWith('aws.')) {
    throw new ConfigurationError(`${where}: source ${JSON.stringify(spec.source)} starts with "aws.", which EventBridge keeps for AWS services: choose another, e.g. "shop"`);
  }
  return {
    eventBus: spec.eventBus as string,
    ...(spec.source !== undefined ? { source: spec.source as string } : {}),
    ...(spec.detailType !== undefined ? { detailType: spec.detailType as string } : {}),
  };
}

/** Clients the delay schedulers of {@link delaySchedulerFromEnv} use. @default - new clients */
export interface DelayClients {
  readonly scheduler?: SchedulerClient;
  readonly sqs?: SQSClient;
}

/**
 * The {@link DelayScheduler} the relay's environment describes, or `undefined` when it
 * names neither a schedule group nor a delay queue:
 *
 * | variable | meaning |
 * | --- | --- |
 * | `STATEFUN_SCHEDULE_GROUP` | EventBridge Scheduler group for delays longer than the SQS threshold |
 * | `STATEFUN_SCHEDULER_ROLE_ARN` | role Scheduler assumes to put on the message stream (required with a group) |
 * | `STATEFUN_MESSAGE_STREAM_ARN` | the message stream's ARN (required with a group unless `STATEFUN_MESSAGE_STREAM` is an ARN) |
 * | `STATEFUN_SCHEDULER_TARGET` | `templated` (default) or `universal`: see {@link SchedulerTargetMode} |
 * | `STATEFUN_SCHEDULER_DLQ_ARN` | optional SQS queue ARN for timers Scheduler could not deliver (the schedules' `DeadLetterConfig`) |
 * | `STATEFUN_DELAY_QUEUE_URL` | standard SQS queue for short delays |
 * | `STATEFUN_SQS_DELAY_MAX_SECONDS` | delays up to this many seconds go through SQS when both are set (default 900) |
 *
 * @throws {@link ConfigurationError} naming the variable, its value and the fix.
 *
 * @example
 * const delays = delaySchedulerFromEnv({
 *   STATEFUN_SCHEDULE_GROUP: 'statefun-timers',
 *   STATEFUN_SCHEDULER_ROLE_ARN: 'arn:aws:iam::123456789012:role/statefun-scheduler',
 *   STATEFUN_MESSAGE_STREAM_ARN: 'arn:aws:kinesis:us-east-1:123456789012:stream/statefun-messages',
 *   STATEFUN_DELAY_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/statefun-delays',
 * });
 */
export function delaySchedulerFromEnv(env: Readonly<Record<string, string | undefined>> = process.env, clients: DelayClients = {}): DelayScheduler | undefined {
  const group = env.STATEFUN_SCHEDULE_GROUP?.trim();
  const queueUrl = env.STATEFUN_DELAY_QUEUE_URL?.trim();
  const role = env.STATEFUN_SCHEDULER_ROLE_ARN?.trim();
  if (!group && role) {
    throw new ConfigurationError(`STATEFUN_SCHEDULER_ROLE_ARN is set (${role}) but STATEFUN_SCHEDULE_GROUP is not: set the schedule group too, e.g. STATEFUN_SCHEDULE_GROUP=statefun-timers`);
  }
  if (!group && !queueUrl) return undefined;

  const maxText = env.STATEFUN_SQS_DELAY_MAX_SECONDS?.trim();
  const maxSeconds = maxText ? Number(maxText) : 900;
  if (!Number.isInteger(maxSeconds) || maxSeconds < 1) {
    throw new ConfigurationError(`STATEFUN_SQS_DELAY_MAX_SECONDS=${JSON.stringify(maxText)} is not a positive whole number of seconds: set e.g. STATEFUN_SQS_DELAY_MAX_SECONDS=900 (SQS delays one hop by at most 900)`);
  }

  let long: DelayScheduler | undefined;
  if (group) {
    const streamArn = env.STATEFUN_MESSAGE_STREAM_ARN?.trim() || (env.STATEFUN_MESSAGE_STREAM?.trim().startsWith('arn:') ? env.STATEFUN_MESSAGE_STREAM.trim() : undefined);
    if (!streamArn) {
      throw new ConfigurationError(
        `STATEFUN_SCHEDULE_GROUP is set but the message stream's ARN is not: set STATEFUN_MESSAGE_STREAM_ARN, e.g. STATEFUN_MESSAGE_STREAM_ARN=arn:aws:kinesis:us-east-1:123456789012:stream/statefun-messages (a schedule's target is an ARN)`,
      );
    }
    const roleArn = requiredEnv(env, 'STATEFUN_SCHEDULER_ROLE_ARN', 'arn:aws:iam::123456789012:role/statefun-scheduler');
    const targetText = env.STATEFUN_SCHEDULER_TARGET?.trim() || 'templated';
    if (targetText !== 'templated' && targetText !== 'universal') {
      throw new ConfigurationError(`STATEFUN_SCHEDULER_TARGET=${JSON.stringify(targetText)}: expected "templated" (Kinesis templated target) or "universal" (aws-sdk:kinesis:putRecord)`);
    }
    const deadLetterQueueArn = env.STATEFUN_SCHEDULER_DLQ_ARN?.trim();
    try {
      long = new SchedulerDelayScheduler({
        client: clients.scheduler ?? new SchedulerClient({}),
        groupName: group,
        roleArn,
        messageStreamArn: streamArn,
        target: targetText as SchedulerTargetMode,
        ...(deadLetterQueueArn ? { deadLetterQueueArn } : {}),
      });
    } catch (cause) {
      throw new ConfigurationError(`delayed messages (STATEFUN_SCHEDULE_GROUP, STATEFUN_SCHEDULER_ROLE_ARN, STATEFUN_MESSAGE_STREAM_ARN, STATEFUN_SCHEDULER_DLQ_ARN): ${(cause as Error).message}`, { cause });
    }
  }
  let short: DelayScheduler | undefined;
  if (queueUrl) {
    try {
      short = new SqsDelayScheduler({ sqs: clients.sqs ?? new SQSClient({}), queueUrl });
    } catch (cause) {
      throw new ConfigurationError(`STATEFUN_DELAY_QUEUE_URL=${queueUrl}: ${(cause as Error).message}`, { cause });
    }
  }
  return new RoutingDelayScheduler({ ...(long ? { long } : {}), ...(short ? { short } : {}), shortMaxMs: maxSeconds * 1000 });
}

/**
 * The relay as configured by its Lambda environment:
 *
 * | variable | meaning |
 * | --- | --- |
 * | `STATEFUN_MESSAGE_STREAM` | the message stream, name or ARN (required) |
 * | `STATEFUN_DLQ_URL` | the dead-letter SQS queue URL (optional; without it, items with dead letters are reported and retried) |
 * | `STATEFUN_EGRESSES` | JSON: egress name → `{kinesisStream}`, `{kinesisEgressRecordStreams: [...]}` (the SDKs' Kinesis egress records, each naming one of these streams), `{sqsQueueUrl, messageGroupId?}`, `{kafkaProducerRecordTopics: [...], kafkaCluster: {bootstrapServers, tls?, sasl?}}` (the SDKs' Kafka records, each naming one of these topics) or `{eventBus, source?, detailType?}` (optional; see {@link parseEgresses}) |
 * | `STATEFUN_INBOX_TABLE` | the inbox table, where commits with egress set their egress fences (optional; without it one address's egress may come out of order when the relay runs more than one lane) |
 * | `STATEFUN_PAYLOAD_BUCKET` | the S3 bucket where a dead letter too large for an SQS message is kept whole, the queue getting its stub (optional; without it such a dead letter fails to relay) |
 * | delays | see {@link delaySchedulerFromEnv}; without them, items with delayed messages are reported and retried |
 *
 * | `POWERTOOLS_*` | service name, metrics namespace and log level: see {@link lambdaPowertools} |
 *
 * Logs, metrics ({@link RELAY_METRICS}) and traces go through Powertools for AWS Lambda (see
 * {@link powertoolsHandler}); the Kinesis, SQS, EventBridge and Scheduler clients are traced. A `delays`
 * argument wins over the environment's.
 */
export function relayHandlerFromEnv(env: Readonly<Record<string, string | undefined>> = process.env, delays?: DelayScheduler): RelayLambdaHandler {
  const tools = lambdaPowertools(env, SERVICE_NAMES.relay);
  const handler = createRelayHandler({ ...relayOptionsFromEnv(env, tools, delays), logger: tools.logger, metrics: tools.metrics });
  return powertoolsHandler(tools, handler);
}

/**
 * The {@link OutboxRelayOptions} the environment describes (see {@link relayHandlerFromEnv}),
 * its clients traced: the relay's, and the reconciler's, which publishes the same way.
 */
export function relayOptionsFromEnv(env: Readonly<Record<string, string | undefined>>, tools: LambdaPowertools, delays?: DelayScheduler): OutboxRelayOptions {
  const deadLetterQueueUrl = env.STATEFUN_DLQ_URL?.trim();
  const messageStream = requiredEnv(env, 'STATEFUN_MESSAGE_STREAM', 'statefun-messages');
  const inboxTableName = env.STATEFUN_INBOX_TABLE?.trim();
  const sqs = traced(tools, new SQSClient({}));
  const configured = delays ?? delaySchedulerFromEnv(env, { sqs, scheduler: traced(tools, new SchedulerClient({})) });
  const egress = parseEgresses(env);
  return {
    kinesis: traced(tools, new KinesisClient({})),
    sqs,
    messageStream,
    egress,
    ...(Object.values(egress).some((target) => 'eventBus' in target) ? { eventBridge: traced(tools, new EventBridgeClient({})) } : {}),
    ...(deadLetterQueueUrl ? { deadLetterQueueUrl } : {}),
    ...(configured ? { delays: configured } : {}),
    ...(inboxTableName ? { egressFence: new DynamoEgressFence({ client: traced(tools, new DynamoDBClient({})), inboxTableName }) } : {}),
    ...payloadStoreFromEnv(env, (client) => traced(tools, client)),
  };
}

/** The Lambda entry point (`index.handler`), configured from the environment at the first invocation. */
export const handler: RelayLambdaHandler = configuredOnFirstInvocation(() => relayHandlerFromEnv());

export default handler;
