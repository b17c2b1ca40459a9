import { KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { SQSClient, type SendMessageBatchRequestEntry } from '@aws-sdk/client-sqs';
import { describeError } from '../core/errors';
import { type Clock, systemClock } from '../core/ports/Clock';
import { requiredEnv } from '../aws/envConfig';
import { decodeMessageBundle, partitionKeyOf, streamRef } from '../aws/messageRecords';
import { DUE_AT_ATTRIBUTE, TIMER_ID_ATTRIBUTE, delaySecondsFor, sendBatch } from '../aws/SqsDelayScheduler';
import { configuredOnFirstInvocation, type LambdaContext, lambdaPowertools, powertoolsHandler, traced } from './observability/powertools';
import { DELAYED_DELIVERY_METRICS, type HandlerLogger, type HandlerMetrics, NO_METRICS, SERVICE_NAMES, count } from './observability/telemetry';

/** One record of an SQS event as Lambda delivers it (the fields this handler reads). */
export interface SQSRecord {
  readonly messageId: string;
  readonly body: string;
  readonly messageAttributes?: Readonly<Record<string, { readonly stringValue?: string; readonly dataType?: string }>>;
  readonly eventSourceARN?: string;
}

/** An SQS event. */
export interface SQSEvent {
  readonly Records: readonly SQSRecord[];
}

/** The partial batch response (the mapping needs `ReportBatchItemFailures`). */
export interface SQSBatchResponse {
  readonly batchItemFailures: readonly { readonly itemIdentifier: string }[];
}

/** Options of {@link createDelayedDeliveryHandler}. */
export interface DelayedDeliveryOptions {
  readonly kinesis: KinesisClient;
  readonly sqs: SQSClient;
  /** The message stream, name or ARN. */
  readonly messageStream: string;
  /** The delay queue itself: a message not due yet is sent here again with the time left. */
  readonly delayQueueUrl: string;
  /** @default - the system clock */
  readonly clock?: Clock;
  /** @default - `console` */
  readonly logger?: HandlerLogger;
  /** Where the counts of {@link DELAYED_DELIVERY_METRICS} go. @default - nowhere */
  readonly metrics?: HandlerMetrics;
}

/** The delayed-delivery Lambda's handler. */
export type DelayedDeliveryHandler = (event: SQSEvent) => Promise<SQSBatchResponse>;

/** The delayed-delivery handler as a Lambda entry point: the Lambda context goes to the Powertools utilities. */
export type DelayedDeliveryLambdaHandler = (event: SQSEvent, context?: LambdaContext) => Promise<SQSBatchResponse>;

/**
 * The delayed-delivery Lambda, driven by the SQS delay queue that {@link SqsDelayScheduler}
 * writes to: a due message (its `statefun-due-at-ms` less than a second away, or passed)
 * goes onto the message stream as the bundle it carries, keyed by its owner's address; a
 * message that is not due yet (a wait longer than SQS' 15-minute maximum) is sent to the
 * queue again with the time left. Either way the received message is then deleted.
 *
 * Publishing twice is harmless: the owner applies a fired timer only while it is pending.
 * A message whose body is not a bundle is reported in `batchItemFailures`, so the queue's
 * redrive policy moves it to the dead-letter queue.
 *
 * @example
 * export const handler = createDelayedDeliveryHandler({
 *   kinesis: new KinesisClient({}),
 *   sqs: new SQSClient({}),
 *   messageStream: 'statefun-messages',
 *   delayQueueUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/statefun-delays',
 * });
 */
export function createDelayedDeliveryHandler(options: DelayedDeliveryOptions): DelayedDeliveryHandler {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? console;
  const metrics = options.metrics ?? NO_METRICS;
  const stream = streamRef(options.messageStream);
  return async (event) => {
    const now = clock.now();
    const failures: string[] = [];
    const due: { messageId: string; partitionKey: string; data: Uint8Array }[] = [];
    const later: { messageId: string; entry: SendMessageBatchRequestEntry }[] = [];
    for (const record of event.Records ?? []) {
      const dueAt = Number(record.messageAttributes?.[DUE_AT_ATTRIBUTE]?.stringValue ?? Number.NaN);
      if (Number.isFinite(dueAt) && dueAt - now >= 1000) {
        later.push({
          messageId: record.messageId,
          entry: {
            Id: String(later.length),
            MessageBody: record.body,
            DelaySeconds: delaySecondsFor(dueAt - now),
            MessageAttributes: Object.fromEntries(
              Object.entries(record.messageAttributes ?? {}).flatMap(([name, value]) =>
                value.stringValue === undefined ? [] : [[name, { DataType: value.dataType ?? 'String', StringValue: value.stringValue }]],
              ),
            ),
          },
        });
        continue;
      }
      try {
        const data = new Uint8Array(Buffer.from(record.body, 'base64'));
        const [first] = decodeMessageBundle(data);
        due.push({ messageId: record.messageId, partitionKey: partitionKeyOf(first!.target), data });
      } catch (error) {
        logger.warn('delay queue message is not a message bundle: leaving it to the redrive policy (dead-letter queue)', {
          messageId: record.messageId,
          timerId: record.messageAttributes?.[TIMER_ID_ATTRIBUTE]?.stringValue,
          error: describeError(error),
        });
        failures.push(record.messageId);
      }
    }

    if (due.length > 0) {
      try {
        const out = await options.kinesis.send(new PutRecordsCommand({ ...stream, Records: due.map((d) => ({ PartitionKey: d.partitionKey, Data: d.data })) }));
        let delivered = 0;
        due.forEach((d, i) => {
          const result = out.Records?.[i];
          if (result?.ErrorCode !== undefined || result?.SequenceNumber === undefined) failures.push(d.messageId);
          else delivered++;
        });
        count(metrics, DELAYED_DELIVERY_METRICS.timersDelivered, delivered);
      } catch (error) {
        logger.warn('PutRecords of due timers failed: they will be received again', { error: describeError(error) });
        failures.push(...due.map((d) => d.messageId));
      }
    }

    for (let start = 0; start < later.length; start += 10) {
      const chunk = later.slice(start, start + 10);
      try {
        await sendBatch(options.sqs, options.delayQueueUrl, chunk.map((c, i) => ({ ...c.entry, Id: String(i) })));
        count(metrics, DELAYED_DELIVERY_METRICS.timersDelayedAgain, chunk.length);
      } catch (error) {
        logger.warn('could not delay timers again: they will be received again', { error: describeError(error) });
        failures.push(...chunk.map((c) => c.messageId));
      }
    }
    count(metrics, DELAYED_DELIVERY_METRICS.timersFailed, failures.length);
    return { batchItemFailures: failures.map((itemIdentifier) => ({ itemIdentifier })) };
  };
}

/**
 * The handler as configured by its Lambda environment:
 *
 * | variable | meaning |
 * | --- | --- |
 * | `STATEFUN_MESSAGE_STREAM` | the message stream, name or ARN (required) |
 * | `STATEFUN_DELAY_QUEUE_URL` | the delay queue this Lambda reads, to delay again what is not due (required) |
 * | `POWERTOOLS_*` | service name, metrics namespace and log level: see {@link lambdaPowertools} |
 *
 * Logs, metrics ({@link DELAYED_DELIVERY_METRICS}) and traces go through Powertools for AWS
 * Lambda (see {@link powertoolsHandler}); the Kinesis and SQS clients are traced.
 */
export function delayedDeliveryHandlerFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): DelayedDeliveryLambdaHandler {
  const messageStream = requiredEnv(env, 'STATEFUN_MESSAGE_STREAM', 'statefun-messages');
  const delayQueueUrl = requiredEnv(env, 'STATEFUN_DELAY_QUEUE_URL', 'https://sqs.us-east-1.amazonaws.com/123456789012/statefun-delays');
  const tools = lambdaPowertools(env, SERVICE_NAMES.delayedDelivery);
  const handler = createDelayedDeliveryHandler({
    kinesis: traced(tools, new KinesisClient({})),
    sqs: traced(tools, new SQSClient({})),
    messageStream,
    delayQueueUrl,
    logger: tools.logger,
    metrics: tools.metrics,
  });
  return powertoolsHandler(tools, handler);
}

/** The Lambda entry point (`index.handler`), configured from the environment at the first invocation. */
export const handler: DelayedDeliveryLambdaHandler = configuredOnFirstInvocation(() => delayedDeliveryHandlerFromEnv());

export default handler;
