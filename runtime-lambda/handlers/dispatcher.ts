import type { DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import type { LambdaClientConfig } from '@aws-sdk/client-lambda';
import { Dispatcher, type DispatcherOptions } from '../core/dispatch/Dispatcher';
import type { Envelope } from '../core/Envelope';
import { describeError } from '../core/errors';
import { type Clock, systemClock } from '../core/ports/Clock';
import type { FunctionResolver } from '../core/ports/FunctionEndpoint';
import { comparePositions } from '../core/positions';
import type { StateStore } from '../core/ports/StateStore';
import { DynamoStateStore } from '../aws/DynamoStateStore';
import { ConfigurationError, parseFunctionEndpoints, parseIngresses, requiredEnv } from '../aws/envConfig';
import { type DecodedKinesisRecord, type IngressMap, decodeKinesisRecord, validateIngresses, withUndecodableSink } from '../aws/kinesisRecords';
import type { KinesisStreamEvent, StreamBatchResponse } from '../aws/lambdaEvents';

/** Options of {@link createDispatcherHandler}. */
export interface DispatcherHandlerOptions {
  readonly store: StateStore;
  readonly functions: FunctionResolver;
  /** @default - no ingress streams: every record must be a message bundle */
  readonly ingresses?: IngressMap;
  /** @default - the system clock */
  readonly clock?: Clock;
  /** Tuning of the core dispatcher (retries, concurrency, mark retention, sleep). */
  readonly dispatcher?: Omit<DispatcherOptions, 'store' | 'functions' | 'clock'>;
  /** Where failures are logged. @default - `console` */
  readonly logger?: Pick<Console, 'warn'>;
}

/** The dispatcher Lambda's handler. */
export type DispatcherHandler = (event: KinesisStreamEvent) => Promise<StreamBatchResponse>;

/**
 * The dispatcher Lambda: decodes a Kinesis batch (message bundles of the message stream and
 * raw records of configured ingress streams), runs the core {@link Dispatcher} over it and
 * answers which records Lambda must deliver again.
 *
 * - A record that does not decode becomes a dead letter through the shard's built-in
 *   undecodable sink: committed exactly once (its mark advances), never dropped, never a
 *   stuck shard.
 * - `batchItemFailures` holds, per shard, the lowest sequence number of a record whose
 *   address did not commit. Lambda re-delivers it and everything after it; what had been
 *   committed is then recognised as duplicate and dropped.
 *
 * The event source mapping must set `FunctionResponseTypes: ["ReportBatchItemFailures"]`.
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
  const logger = options.logger ?? console;
  const dispatcher = new Dispatcher({
    ...options.dispatcher,
    store: options.store,
    functions: withUndecodableSink(options.functions),
    clock: options.clock ?? systemClock,
  });

  return async (event) => {
    const records = (event.Records ?? []).map((record) => decodeKinesisRecord(record, ingresses));
    const recordOf = new Map<Envelope, DecodedKinesisRecord>();
    for (const record of records) {
      for (const envelope of record.envelopes) recordOf.set(envelope, record);
      if (record.undecodable !== undefined) {
        logger.warn(JSON.stringify({
          message: 'undecodable record: dead-lettering it',
          stream: record.stream,
          shardId: record.shardId,
          sequenceNumber: record.sequenceNumber,
          reason: record.undecodable,
        }));
      }
    }
    const outcome = await dispatcher.dispatch(records.flatMap((r) => r.envelopes));

    const lowestFailedByShard = new Map<string, string>();
    for (const failure of outcome.failures) {
      logger.warn(JSON.stringify({
        message: 'address did not commit: its records will be delivered again',
        address: failure.address.key,
        messages: failure.envelopes.length,
        error: describeError(failure.error),
      }));
      for (const envelope of failure.envelopes) {
        const record = recordOf.get(envelope)!;
        const shard = `${record.stream}/${record.shardId}`;
        const lowest = lowestFailedByShard.get(shard);
        if (lowest === undefined || comparePositions(record.sequenceNumber, lowest) < 0) {
          lowestFailedByShard.set(shard, record.sequenceNumber);
        }
      }
    }
    return { batchItemFailures: [...lowestFailedByShard.values()].map((itemIdentifier) => ({ itemIdentifier })) };
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
  /**
   * Config of the one Lambda client shared by the `{"lambda": ...}` endpoints.
   * @default - the SDK defaults with `maxAttempts: 1` (the transport retries with backoff)
   */
  readonly lambdaClientConfig?: LambdaClientConfig;
  /** Where failures are logged. @default - `console` */
  readonly logger?: Pick<Console, 'warn'>;
}

/**
 * The dispatcher as configured by its Lambda environment:
 *
 * | variable | meaning |
 * | --- | --- |
 * | `STATEFUN_STATE_TABLE` | the state table (required) |
 * | `STATEFUN_OUTBOX_TABLE` | the outbox table (required) |
 * | `STATEFUN_FUNCTIONS` | JSON: function type or `namespace/*` → request-reply URL, `{url, timeoutMs?, maxAttempts?}` or `{lambda, timeoutMs?, maxAttempts?}` (required unless `embedded` functions are given) |
 * | `STATEFUN_INGRESSES` | JSON: ingress stream name → function type or `{functionType, valueType?}` (optional) |
 * | `STATEFUN_OUTBOX_TTL_DAYS` | days an outbox item is kept past its commit before DynamoDB TTL deletes it (optional, default 7) |
 *
 * Configuration is read at the first invocation; a bad value fails it with a
 * `ConfigurationError` naming the variable and the fix.
 *
 * @example
 * // a dispatcher with embedded functions, remote ones from STATEFUN_FUNCTIONS
 * export const handler = dispatcherHandlerFromEnv(process.env, { embedded: registry.resolver() });
 */
export function dispatcherHandlerFromEnv(env: Readonly<Record<string, string | undefined>> = process.env, options: DispatcherFromEnvOptions = {}): DispatcherHandler {
  const outboxTtlDays = optionalPositiveNumber(env, 'STATEFUN_OUTBOX_TTL_DAYS', '7');
  return createDispatcherHandler({
    store: new DynamoStateStore({
      tableName: requiredEnv(env, 'STATEFUN_STATE_TABLE', 'statefun-state'),
      outboxTableName: requiredEnv(env, 'STATEFUN_OUTBOX_TABLE', 'statefun-outbox'),
      ...(outboxTtlDays !== undefined ? { outboxTtlDays } : {}),
      ...(options.dynamoClientConfig ? { clientConfig: options.dynamoClientConfig } : {}),
    }),
    functions: parseFunctionEndpoints(env, {
      ...(options.embedded ? { embedded: options.embedded } : {}),
      ...(options.lambdaClientConfig ? { lambdaClientConfig: options.lambdaClientConfig } : {}),
    }),
    ingresses: parseIngresses(env),
    ...(options.logger ? { logger: options.logger } : {}),
  });
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

let fromEnv: DispatcherHandler | undefined;

/** The Lambda entry point (`index.handler`), configured from the environment. */
export const handler: DispatcherHandler = (event) => {
  fromEnv ??= dispatcherHandlerFromEnv();
  return fromEnv(event);
};

export default handler;
