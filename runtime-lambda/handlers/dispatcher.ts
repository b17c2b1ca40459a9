import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { LambdaClient, type LambdaClientConfig } from '@aws-sdk/client-lambda';
import { Dispatcher, type DispatchOutcome, type DispatcherOptions } from '../core/dispatch/Dispatcher';
import type { Envelope } from '../core/Envelope';
import { DEFAULT_DUPLICATE_WINDOW_MS, arrivedBeforeWindow, duplicateWindowMs } from '../core/duplicateWindow';
import { RetryableError, StateConflictError, describeError } from '../core/errors';
import { type Clock, systemClock } from '../core/ports/Clock';
import type { FunctionResolver } from '../core/ports/FunctionEndpoint';
import { comparePositions } from '../core/positions';
import type { StateStore } from '../core/ports/StateStore';
import { DynamoStateStore } from '../aws/DynamoStateStore';
import { payloadStoreFromEnv } from '../aws/S3PayloadStore';
import { ConfigurationError, parseFunctionEndpoints, parseIngresses, parseKafkaIngresses, parseModuleEndpoints, requiredEnv, wholeSecondsEnv } from '../aws/envConfig';
import { httpHeadersFromEnv } from '../aws/httpHeaderSecrets';
import { moduleResolver } from '../module/moduleResolver';
import { decodeKafkaEvent } from '../aws/kafkaRecords';
import { type IngressMap, decodeKinesisRecord, validateIngresses, withUndecodableSink } from '../aws/kinesisRecords';
import type { KafkaEvent, KinesisStreamEvent, StreamBatchResponse } from '../aws/lambdaEvents';
import { configuredOnFirstInvocation, type LambdaContext, lambdaPowertools, powertoolsHandler, traced } from './observability/powertools';
import { DISPATCHER_METRICS, type HandlerLogger, type HandlerMetrics, NO_METRICS, SERVICE_NAMES, count } from './observability/telemetry';

/** Options of {@link createDispatcherHandler}. */
export interface DispatcherHandlerOptions {
  readonly store: StateStore;
  readonly functions: FunctionResolver;
  /** @default - no ingress streams: every record must be a message bundle */
  readonly ingresses?: IngressMap;
  /**
   * Kafka topics (Amazon MSK or self-managed) whose records go to functions, the record's
   * key as the id. A record of another topic is a dead letter.
   * @default - none: every Kafka record is a dead letter
   */
  readonly kafkaIngresses?: IngressMap;
  /** @default - the system clock */
  readonly clock?: Clock;
  /** Tuning of the core dispatcher (retries, concurrency, mark retention, sleep). */
  readonly dispatcher?: Omit<DispatcherOptions, 'store' | 'functions' | 'clock'>;
  /** Where failures are logged. @default - `console` */
  readonly logger?: HandlerLogger;
  /** Where the counts of {@link DISPATCHER_METRICS} go. @default - nowhere */
  readonly metrics?: HandlerMetrics;
  /**
   * Time kept free at the end of an invocation for the commits: function calls and their
   * retries end this long before Lambda's timeout (from the context's remaining time), and
   * the addresses still waiting then are parked, to be retried.
   * @default 10000 ms, or a quarter of the remaining time when that is less
   */
  readonly commitReserveMs?: number;
}

/** What drives the dispatcher: a Kinesis batch (the message stream, ingress streams) or a Kafka batch (MSK, self-managed). */
export type DispatcherEvent = KinesisStreamEvent | KafkaEvent;

/** The dispatcher Lambda's handler; with a Lambda context, invocations end before its timeout. */
export type DispatcherHandler = (event: DispatcherEvent, context?: Pick<LambdaContext, 'getRemainingTimeInMillis'>) => Promise<StreamBatchResponse>;

/** One record of a batch, whatever its source, and the envelopes it became. */
interface BatchRecord {
  /** `<stream>/<shardId>` or `<topic>/<partition>`. */
  readonly source: string;
  /** The sequence number or offset. */
  readonly position: string;
  readonly envelopes: readonly Envelope[];
  readonly undecodable?: string;
  /** How logs name the record. */
  readonly logFields: Readonly<Record<string, string>>;
}

/** A Kafka event (a `records` object) rather than a Kinesis one (a `Records` array). */
function isKafkaEvent(event: DispatcherEvent): event is KafkaEvent {
  return !Array.isArray((event as { Records?: unknown }).Records) && (event as { records?: unknown }).records !== undefined;
}

/**
 * The dispatcher Lambda: decodes a Kinesis batch (message bundles of the message stream and
 * raw records of configured ingress streams) or a Kafka batch (records of configured Kafka
 * topics, from Amazon MSK or a self-managed cluster), runs the core {@link Dispatcher} over
 * it and answers which records Lambda must deliver again.
 *
 * - A record that does not decode becomes a dead letter through the shard's built-in
 *   undecodable sink: committed exactly once (its mark advances), never dropped, never a
 *   stuck shard.
 * - An address whose function fails transiently (unavailable, throttled, timing out, or
 *   still running when the invocation's deadline comes) parks its messages and backs off;
 *   that is a commit like any other, so its records are not delivered again.
 * - `batchItemFailures` holds, per shard, the lowest sequence number of a record whose
 *   address did not commit (the store failed). Lambda re-delivers it and everything after
 *   it; what had been committed is then recognised as duplicate and dropped.
 *
 * The Kinesis event source mapping must set `FunctionResponseTypes: ["ReportBatchItemFailures"]`.
 *
 * Kafka records are deduplicated by `<topic>/<partition>` and offset as Kinesis records are
 * by shard and sequence number. A Kafka event source mapping retries whole batches (partial
 * batch responses exist only in provisioned mode), so when an address did not commit the
 * handler throws: Lambda delivers the batch again, its committed records are dropped as
 * duplicates and the rest applied. Keep the mapping's `MaximumRetryAttempts` unlimited, or
 * records are discarded while the store fails.
 *
 * @example
 * export const handler = createDispatcherHandler({
 *   store: new DynamoStateStore({ tableName: 'state', outboxTableName: 'outbox' }),
 *   functions: { resolve: (type) => (type === 'shop/cart' ? cartEndpoint : undefined) },
 *   ingresses: { orders: { functionType: 'shop/cart' } },
 * });
 */
export function createDispatcherHandler(options: DispatcherHandlerOptions): DispatcherHandler {
  const ingresses = validateIngresses(options.ingresses ?? {});
  const kafkaIngresses = validateIngresses(options.kafkaIngresses ?? {}, 'kafkaIngresses');
  const logger = options.logger ?? console;
  const metrics = options.metrics ?? NO_METRICS;
  const clock = options.clock ?? systemClock;
  const windowMs = options.dispatcher?.duplicateWindowMs ?? DEFAULT_DUPLICATE_WINDOW_MS;
  const dispatcher = new Dispatcher({
    onInboxNotCleared: (address, error) =>
      logger.warn('inbox entries applied but not removed: they stay listed as applied and a later batch removes them', { address: address.key, error: describeError(error) }),
    ...options.dispatcher,
    store: countingConflicts(options.store, metrics),
    functions: withUndecodableSink(options.functions),
    clock,
  });

  return async (event, context) => {
    const remainingMs = context?.getRemainingTimeInMillis?.();
    const deadline = remainingMs === undefined ? {} : { deadlineMs: clock.now() + remainingMs - Math.min(options.commitReserveMs ?? 10_000, remainingMs / 4) };
    const kafka = isKafkaEvent(event);
    const records: BatchRecord[] = kafka
      ? decodeKafkaEvent(event, kafkaIngresses).map((r) => ({
          source: `${r.topic}/${r.partition}`,
          position: r.offset,
          envelopes: r.envelopes,
          ...(r.undecodable !== undefined ? { undecodable: r.undecodable } : {}),
          logFields: { topic: r.topic, partition: r.partition, offset: r.offset },
        }))
      : ((event as KinesisStreamEvent).Records ?? []).map((record) => {
          const r = decodeKinesisRecord(record, ingresses);
          return {
            source: `${r.stream}/${r.shardId}`,
            position: r.sequenceNumber,
            envelopes: r.envelopes,
            ...(r.undecodable !== undefined ? { undecodable: r.undecodable } : {}),
            logFields: { stream: r.stream, shardId: r.shardId, sequenceNumber: r.sequenceNumber },
          };
        });
    const recordOf = new Map<Envelope, BatchRecord>();
    for (const record of records) {
      for (const envelope of record.envelopes) recordOf.set(envelope, record);
      if (record.undecodable !== undefined) logger.warn('undecodable record: dead-lettering it', { ...record.logFields, reason: record.undecodable });
    }
    const envelopes = records.flatMap((r) => r.envelopes);
    const windowStartMs = clock.now() - windowMs;
    const pastWindow = envelopes.filter((e) => arrivedBeforeWindow(e, windowStartMs)).length;
    if (pastWindow > 0) {
      logger.warn('ingress records older than the duplicate window: duplicates are dropped, the rest dead-lettered, none applied', {
        records: pastWindow,
        duplicateWindowSeconds: windowMs / 1000,
      });
    }
    const outcome = await dispatcher.dispatch(envelopes, deadline);
    count(metrics, DISPATCHER_METRICS.recordsReceived, records.length);
    count(metrics, DISPATCHER_METRICS.recordsPastDuplicateWindow, pastWindow);
    count(metrics, DISPATCHER_METRICS.messagesApplied, outcome.applied);
    count(metrics, DISPATCHER_METRICS.duplicatesDropped, outcome.duplicates);
    count(metrics, DISPATCHER_METRICS.deadLetters, outcome.deadLettered);
    count(metrics, DISPATCHER_METRICS.addressesNotCommitted, outcome.failures.length);
    count(metrics, DISPATCHER_METRICS.messagesParked, outcome.parked);
    reportBackoffs(outcome.backingOff, clock.now(), logger, metrics);

    const lowestFailedBySource = new Map<string, string>();
    for (const failure of outcome.failures) {
      logger.warn('address did not commit: its records will be delivered again', {
        address: failure.address.key,
        messages: failure.envelopes.length,
        error: describeError(failure.error),
      });
      for (const envelope of failure.envelopes) {
        const record = recordOf.get(envelope)!;
        const lowest = lowestFailedBySource.get(record.source);
        if (lowest === undefined || comparePositions(record.position, lowest) < 0) lowestFailedBySource.set(record.source, record.position);
      }
    }
    if (kafka && lowestFailedBySource.size > 0) {
      const from = [...lowestFailedBySource].map(([source, offset]) => `${source} from offset ${offset}`).join(', ');
      throw new RetryableError(
        `${outcome.failures.length} address(es) did not commit (first: ${outcome.failures[0]!.address.key}: ${describeError(outcome.failures[0]!.error)}): failing the Kafka batch so Lambda delivers it again (${from}); what was committed is then dropped as duplicate`,
        { code: 'BATCH_NOT_COMMITTED' },
      );
    }
    return { batchItemFailures: [...lowestFailedBySource.values()].map((itemIdentifier) => ({ itemIdentifier })) };
  };
}

/** Logs and counts the addresses left backing off: how many, and how long the oldest has waited. */
function reportBackoffs(backingOff: DispatchOutcome['backingOff'], nowMs: number, logger: HandlerLogger, metrics: HandlerMetrics): void {
  if (backingOff.length === 0) return;
  const oldest = backingOff.reduce((a, b) => (b.sinceMs < a.sinceMs ? b : a));
  const ageSeconds = Math.max(0, Math.round((nowMs - oldest.sinceMs) / 1000));
  count(metrics, DISPATCHER_METRICS.addressesBackingOff, backingOff.length);
  metrics.addMetric(DISPATCHER_METRICS.backoffAgeSeconds, 'Seconds', ageSeconds);
  logger.warn('addresses backing off: their functions failed transiently; their messages are parked and retried in order', {
    addresses: backingOff.length,
    oldest: { address: oldest.address.key, backingOffSeconds: ageSeconds, attempts: oldest.attempts, lastError: oldest.lastError },
    sample: backingOff.slice(0, 5).map((b) => ({ address: b.address.key, attempts: b.attempts, retryAt: new Date(b.retryAtMs).toISOString() })),
  });
}

/** `store`, counting each commit that loses the version race (the dispatcher re-runs it). */
function countingConflicts(store: StateStore, metrics: HandlerMetrics): StateStore {
  if (metrics === NO_METRICS) return store;
  return {
    load: (addresses) => store.load(addresses),
    readInbox: (addresses, limit) => store.readInbox(addresses, limit),
    clearInbox: (address, keys) => store.clearInbox(address, keys),
    quarantine: (address, deadLetters, token) => store.quarantine(address, deadLetters, token),
    commit: async (commit) => {
      try {
        await store.commit(commit);
      } catch (error) {
        if (error instanceof StateConflictError) count(metrics, DISPATCHER_METRICS.commitConflicts, 1);
        throw error;
      }
    },
  };
}

/**
 * Options of {@link dispatcherHandlerFromEnv}: what the environment cannot carry.
 *
 * @example
 * const opts: DispatcherFromEnvOptions = { embedded: registry.resolver() };
 */
export interface DispatcherFromEnvOptions {
  /**
   * Functions served inside the dispatcher (an SDK registry's `resolver()`), tried before the
   * remote endpoints of `STATEFUN_FUNCTIONS`, which then becomes optional.
   * @default - none: every function is remote
   */
  readonly embedded?: FunctionResolver;
  /** Config of the DynamoDB client. @default - the SDK defaults (region, credentials of the Lambda environment) */
  readonly dynamoClientConfig?: DynamoDBClientConfig;
  /** Headers on every request to an HTTP function endpoint (the entry point reads them with {@link httpHeadersFromEnv}). @default - none */
  readonly httpHeaders?: Readonly<Record<string, string>>;
  /**
   * Config of the one Lambda client shared by the `{"lambda": ...}` endpoints.
   * @default - the SDK defaults with `maxAttempts: 1` (the transport retries with backoff)
   */
  readonly lambdaClientConfig?: LambdaClientConfig;
  /** Where failures are logged. @default - the Powertools `Logger` of the dispatcher */
  readonly logger?: HandlerLogger;
}

/** The dispatcher as a Lambda entry point: the Lambda context goes to the Powertools utilities. */
export type DispatcherLambdaHandler = (event: DispatcherEvent, context?: LambdaContext) => Promise<StreamBatchResponse>;

/**
 * The dispatcher as configured by its Lambda environment:
 *
 * | variable | meaning |
 * | --- | --- |
 * | `STATEFUN_STATE_TABLE` | the state table (required) |
 * | `STATEFUN_OUTBOX_TABLE` | the outbox table (required) |
 * | `STATEFUN_INBOX_TABLE` | the inbox table (required) |
 * | `STATEFUN_FUNCTIONS` | JSON: function type or `namespace/*` → request-reply URL, `{url, timeoutMs?, maxAttempts?}` or `{lambda, timeoutMs?, maxAttempts?}` (required unless `embedded` functions are given) |
 * | `STATEFUN_MODULE_ENDPOINTS` | JSON: the function endpoints of a StateFun module.yaml, as the construct read them (optional; see `parseModuleEndpoints`) |
 * | `STATEFUN_HTTP_HEADER_SECRETS` | JSON: header → `{secretArn, field?}`, read from Secrets Manager at the start by the entry point and put on every HTTP call (optional) |
 * | `STATEFUN_INGRESSES` | JSON: ingress stream name → function type or `{functionType, valueType?}`, `functionType` one type or a list (optional) |
 * | `STATEFUN_KAFKA_INGRESSES` | JSON: Kafka topic → function type or `{functionType, valueType?}`, as `STATEFUN_INGRESSES`; the record's key is the function id (optional) |
 * | `STATEFUN_DUPLICATE_WINDOW_SECONDS` | the duplicate window in seconds, at least 3600 (optional, default 604800: 7 days); see `docs/exactly-once.md` |
 * | `STATEFUN_RETRY_BUDGET_SECONDS` | how long an address whose function fails transiently keeps retrying, its messages parked, before they become dead letters (optional, default 86400: 24 hours; 0 dead-letters at once) |
 * | `STATEFUN_PAYLOAD_BUCKET` | the S3 bucket where a dead letter too large for its commit is kept whole, the commit carrying its stub (optional; without it such a message stays uncommitted and is retried) |
 * | `STATEFUN_OUTBOX_TTL_DAYS` | days an outbox item is kept past its commit before DynamoDB TTL deletes it (optional, default 7) |
 * | `POWERTOOLS_*` | service name, metrics namespace and log level: see {@link lambdaPowertools} |
 *
 * Logs, metrics ({@link DISPATCHER_METRICS}) and traces go through Powertools for AWS Lambda
 * (see {@link powertoolsHandler}); the DynamoDB and Lambda clients are traced.
 *
 * Configuration is read at the first invocation; a bad value fails it with a
 * `ConfigurationError` naming the variable and the fix.
 *
 * @example
 * // a dispatcher with embedded functions, remote ones from STATEFUN_FUNCTIONS
 * export const handler = dispatcherHandlerFromEnv(process.env, { embedded: registry.resolver() });
 */
export function dispatcherHandlerFromEnv(env: Readonly<Record<string, string | undefined>> = process.env, options: DispatcherFromEnvOptions = {}): DispatcherLambdaHandler {
  const outboxTtlDays = optionalPositiveNumber(env, 'STATEFUN_OUTBOX_TTL_DAYS', '7');
  const tableName = requiredEnv(env, 'STATEFUN_STATE_TABLE', 'statefun-state');
  const outboxTableName = requiredEnv(env, 'STATEFUN_OUTBOX_TABLE', 'statefun-outbox');
  const inboxTableName = requiredEnv(env, 'STATEFUN_INBOX_TABLE', 'statefun-inbox');
  const windowSeconds = optionalPositiveNumber(env, 'STATEFUN_DUPLICATE_WINDOW_SECONDS', '604800');
  const windowMs = windowSeconds === undefined ? DEFAULT_DUPLICATE_WINDOW_MS : duplicateWindowFromEnv(windowSeconds);
  const retryBudgetSeconds = wholeSecondsEnv(env, 'STATEFUN_RETRY_BUDGET_SECONDS', 0, '86400');
  const tools = lambdaPowertools(env, SERVICE_NAMES.dispatcher);
  const moduleEndpoints = parseModuleEndpoints(env);
  // Created here to be traced; maxAttempts 1 as parseFunctionEndpoints' own: the transport retries with backoff.
  const lambdaClient = traced(tools, new LambdaClient({ maxAttempts: 1, ...options.lambdaClientConfig }));
  const httpHeaders = options.httpHeaders ? { httpHeaders: options.httpHeaders } : {};
  const handler = createDispatcherHandler({
    store: new DynamoStateStore({
      tableName,
      outboxTableName,
      inboxTableName,
      duplicateWindowMs: windowMs,
      ...(outboxTtlDays !== undefined ? { outboxTtlDays } : {}),
      client: traced(tools, new DynamoDBClient(options.dynamoClientConfig ?? {})),
    }),
    functions: parseFunctionEndpoints(env, {
      ...(options.embedded ? { embedded: options.embedded } : {}),
      ...(moduleEndpoints.length > 0 ? { module: moduleResolver({ file: 'STATEFUN_MODULE_ENDPOINTS', endpoints: moduleEndpoints, ingresses: [], egresses: [] }, { lambdaClient, ...httpHeaders }) } : {}),
      lambdaClient,
      ...httpHeaders,
    }),
    ingresses: parseIngresses(env),
    kafkaIngresses: parseKafkaIngresses(env),
    dispatcher: { duplicateWindowMs: windowMs, ...(retryBudgetSeconds !== undefined ? { retryBudgetMs: retryBudgetSeconds * 1000 } : {}), ...payloadStoreFromEnv(env, (client) => traced(tools, client)) },
    logger: options.logger ?? tools.logger,
    metrics: tools.metrics,
  });
  return powertoolsHandler(tools, handler);
}

function duplicateWindowFromEnv(seconds: number): number {
  try {
    return duplicateWindowMs(seconds * 1000);
  } catch {
    throw new ConfigurationError(
      `environment variable STATEFUN_DUPLICATE_WINDOW_SECONDS must be a whole number of seconds of at least 3600, got ${seconds}: set it, e.g. STATEFUN_DUPLICATE_WINDOW_SECONDS=604800 (7 days), above the retention of the streams that feed the application`,
    );
  }
}

function optionalPositiveNumber(env: Readonly<Record<string, string | undefined>>, name: string, example: string): number | undefined {
  const text = env[name]?.trim();
  if (!text) return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) {
    throw new ConfigurationError(`environment variable ${name} must be a positive number, got ${JSON.stringify(text)}: set it, e.g. ${name}=${example}, or unset it for the default`);
  }
  return value;
}

/** The Lambda entry point (`index.handler`), configured from the environment at the first invocation. */
export const handler: DispatcherLambdaHandler = configuredOnFirstInvocation(async () => dispatcherHandlerFromEnv(process.env, { httpHeaders: await httpHeadersFromEnv(process.env) }));

export default handler;
