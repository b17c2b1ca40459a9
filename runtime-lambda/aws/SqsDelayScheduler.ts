import { type SQSClient, SendMessageBatchCommand, type SendMessageBatchRequestEntry } from '@aws-sdk/client-sqs';
import type { CancelledTimer, ScheduledTimer } from '../core/Effects';
import { InvalidInputError, RetryableError, TerminalError, describeError } from '../core/errors';
import { type Clock, systemClock } from '../core/ports/Clock';
import { sqsDelaySeconds } from '../core/timerDelivery';
import type { DelayScheduler } from './DelayScheduler';
import { encodeMessageBundle } from './messageRecords';

/** The longest delay SQS takes on one message (15 minutes). */
export const SQS_MAX_DELAY_SECONDS = 900;
/** Message attribute: when the timer is due, in epoch milliseconds. */
export const DUE_AT_ATTRIBUTE = 'statefun-due-at-ms';
/** Message attribute: the timer id. */
export const TIMER_ID_ATTRIBUTE = 'statefun-timer-id';
const SQS_BATCH_MAX = 10;

/** Options of {@link SqsDelayScheduler}. */
export interface SqsDelaySchedulerOptions {
  readonly sqs: SQSClient;
  /** A standard (not FIFO: FIFO queues take no per-message delay) SQS queue. */
  readonly queueUrl: string;
  /** @default - the system clock */
  readonly clock?: Clock;
}

/**
 * The SQS `DelaySeconds` for a timer due in `remainingMs`: 0 when it is due, otherwise the
 * whole seconds rounded up (never early), at most {@link SQS_MAX_DELAY_SECONDS}. A longer
 * wait is finished by the delivery handler, which sends the message again.
 *
 * @example
 * delaySecondsFor(400); // 1
 * delaySecondsFor(1_500); // 2
 * delaySecondsFor(3_600_000); // 900
 */
export function delaySecondsFor(remainingMs: number): number {
  return Math.min(SQS_MAX_DELAY_SECONDS, sqsDelaySeconds(remainingMs));
}

/**
 * A {@link DelayScheduler} for short delays on an SQS delay queue: each timer is one message
 * whose body is the message bundle in base64 and whose `DelaySeconds` is the time left
 * (second precision, at most 15 minutes per hop). The delayed-delivery Lambda
 * (`handlers/delayedDelivery.ts`) moves due messages onto the message stream.
 *
 * Cancelling does nothing here, on purpose: the owner's commit that cancelled the timer
 * also dropped it from its pending set, so the message is discarded when it arrives.
 *
 * @example
 * const delays = new SqsDelayScheduler({ sqs: new SQSClient({}), queueUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/statefun-delays' });
 * await delays.schedule(effects.timers);
 */
export class SqsDelayScheduler implements DelayScheduler {
  private readonly clock: Clock;

  constructor(private readonly options: SqsDelaySchedulerOptions) {
    this.clock = options.clock ?? systemClock;
    if (options.queueUrl.endsWith('.fifo')) {
      throw new InvalidInputError(`SqsDelayScheduler: queue ${options.queueUrl} is a FIFO queue, which takes no per-message DelaySeconds: use a standard queue`);
    }
  }

  async schedule(timers: readonly ScheduledTimer[]): Promise<void> {
    const now = this.clock.now();
    for (let start = 0; start < timers.length; start += SQS_BATCH_MAX) {
      const entries: SendMessageBatchRequestEntry[] = timers.slice(start, start + SQS_BATCH_MAX).map((timer, i) => delayedMessage(String(i), timer, now));
      await sendBatch(this.options.sqs, this.options.queueUrl, entries);
    }
  }

  /** Nothing to do: the owner's pending set drops a cancelled timer when it arrives. */
  async cancel(_timers: readonly CancelledTimer[]): Promise<void> {}
}

/** The SQS message of a timer, delayed by what is left until it is due. */
export function delayedMessage(id: string, timer: ScheduledTimer, nowMs: number): SendMessageBatchRequestEntry {
  const record = encodeMessageBundle([timer.envelope]);
  return {
    Id: id,
    MessageBody: Buffer.from(record.data).toString('base64'),
    DelaySeconds: delaySecondsFor(timer.dueAtMs - nowMs),
    MessageAttributes: {
      [DUE_AT_ATTRIBUTE]: { DataType: 'Number', StringValue: String(timer.dueAtMs) },
      [TIMER_ID_ATTRIBUTE]: { DataType: 'String', StringValue: timer.timerId },
    },
  };
}

/** SendMessageBatch, retrying failed entries a few times; a sender fault is terminal. */
export async function sendBatch(sqs: SQSClient, queueUrl: string, entries: SendMessageBatchRequestEntry[]): Promise<void> {
  let pending = entries;
  for (let attempt = 1; pending.length > 0; attempt++) {
    let last = '';
    try {
      const out = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: pending }));
      const terminal = (out.Failed ?? []).find((f) => f.SenderFault);
      if (terminal) throw new TerminalError(`SQS rejected a delayed message for ${queueUrl}: ${terminal.Code}: ${terminal.Message}`, { code: 'SQS_REJECTED' });
      const failed = new Set((out.Failed ?? []).map((f) => f.Id));
      last = (out.Failed ?? []).map((f) => `${f.Code}: ${f.Message}`).join('; ');
      pending = pending.filter((entry) => failed.has(entry.Id));
    } catch (error) {
      if (error instanceof TerminalError) throw error;
      last = describeError(error);
    }
    if (pending.length > 0 && attempt >= 3) {
      throw new RetryableError(`SendMessageBatch to delay queue ${queueUrl} kept failing ${pending.length} message(s) (last: ${last})`, { code: 'RELAY_INCOMPLETE' });
    }
  }
}
