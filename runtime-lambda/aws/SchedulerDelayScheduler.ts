import { createHash } from 'node:crypto';
import { CreateScheduleCommand, DeleteScheduleCommand, type SchedulerClient, type Target } from '@aws-sdk/client-scheduler';
import { forEachConcurrently } from '../core/concurrency';
import type { CancelledTimer, ScheduledTimer } from '../core/Effects';
import { InvalidInputError, RetryableError, TerminalError, describeError } from '../core/errors';
import { type Clock, systemClock } from '../core/ports/Clock';
import { schedulerFireTimeMs } from '../core/timerDelivery';
import type { DelayScheduler } from './DelayScheduler';
import { encodeMessageBundle, encodeMessageBundleText } from './messageRecords';

/**
 * How a schedule puts its bundle on the message stream:
 * - `templated`: Scheduler's Kinesis templated target (`Arn` = stream ARN,
 *   `KinesisParameters.PartitionKey`). Scheduler puts the target's `Input`, "text, or
 *   well-formed JSON", as the record data, so `Input` is the bundle in its JSON text form
 *   ({@link encodeMessageBundleText}): plain JSON without control characters, read by the
 *   dispatcher as it is, and still the same bundle if the JSON were re-serialized.
 * - `universal`: the universal target `arn:aws:scheduler:::aws-sdk:kinesis:putRecord` whose
 *   `Input` is the PutRecord request as JSON, `Data` in base64 (how JSON carries a blob), the
 *   binary bundle inside. The alternative for accounts that restrict templated targets.
 */
export type SchedulerTargetMode = 'templated' | 'universal';

/** Options of {@link SchedulerDelayScheduler}. */
export interface SchedulerDelaySchedulerOptions {
  readonly client: SchedulerClient;
  /** The schedule group holding the timers (its quotas are the application's). */
  readonly groupName: string;
  /** The role Scheduler assumes to put the record: `kinesis:PutRecord` on the message stream. */
  readonly roleArn: string;
  /** The message stream's ARN (a schedule's target is an ARN, never a name). */
  readonly messageStreamArn: string;
  /** @default - `templated` */
  readonly target?: SchedulerTargetMode;
  /**
   * An SQS queue (ARN) for the timers Scheduler could not put on the stream within its retry
   * policy (24 h, 185 attempts): Scheduler sends it the failed event, with the error in its
   * message attributes, instead of dropping it. The scheduler role needs `sqs:SendMessage`
   * on it. @default - none: such a timer is lost, and only Scheduler's metrics tell
   */
  readonly deadLetterQueueArn?: string;
  /** CreateSchedule / DeleteSchedule calls in flight at once. @default - 8 */
  readonly concurrency?: number;
  /** @default - the system clock */
  readonly clock?: Clock;
}

/** The universal target that calls Kinesis PutRecord. */
export const KINESIS_PUT_RECORD_TARGET_ARN = 'arn:aws:scheduler:::aws-sdk:kinesis:putRecord';
/** Schedule and schedule group names: 1 to 64 of `[0-9a-zA-Z-_.]`. */
const SCHEDULE_NAME = /^[0-9a-zA-Z\-_.]{1,64}$/;

/**
 * A {@link DelayScheduler} on EventBridge Scheduler: one one-time schedule per timer,
 * `at(yyyy-mm-ddThh:mm:ss)` in UTC, flexible time window OFF, deleted after it runs
 * (`ActionAfterCompletion: DELETE`). Its target puts the timer's envelope, as a message
 * bundle keyed by its owner's address, on the message stream.
 *
 * - The schedule's name is derived from the timer id ({@link scheduleNameOf}), so a relay
 *   that runs again cannot schedule a timer twice: `ConflictException` means "already
 *   scheduled" and counts as success.
 * - Cancelling deletes the schedule; `ResourceNotFoundException` (already fired, already
 *   deleted, or never scheduled here because it went through the SQS delay queue) is
 *   success. Cancellation is exact anyway: the owner dropped the timer id in the commit
 *   that cancelled it, so a schedule that fires regardless is discarded on arrival.
 * - Scheduler invokes targets with 60-second precision (a schedule for 10:00:xx runs
 *   between 10:00:00 and 10:00:59), so the time is rounded UP to the next whole minute: a
 *   timer never fires early, and fires up to about two minutes late.
 *
 * @example
 * const delays = new SchedulerDelayScheduler({
 *   client: new SchedulerClient({}),
 *   groupName: 'statefun-timers',
 *   roleArn: 'arn:aws:iam::123456789012:role/statefun-scheduler',
 *   messageStreamArn: 'arn:aws:kinesis:us-east-1:123456789012:stream/statefun-messages',
 * });
 * await delays.schedule(effects.timers);
 */
export class SchedulerDelayScheduler implements DelayScheduler {
  private readonly clock: Clock;
  private readonly mode: SchedulerTargetMode;
  private readonly concurrency: number;

  constructor(private readonly options: SchedulerDelaySchedulerOptions) {
    this.clock = options.clock ?? systemClock;
    this.mode = options.target ?? 'templated';
    this.concurrency = options.concurrency ?? 8;
    if (!/^arn:aws[a-z-]*:kinesis:[^:]*:\d{12}:stream\/.+$/.test(options.messageStreamArn)) {
      throw new InvalidInputError(
        `SchedulerDelayScheduler: messageStreamArn ${JSON.stringify(options.messageStreamArn)} is not a Kinesis stream ARN: give arn:aws:kinesis:<region>:<account>:stream/<name>`,
      );
    }
    if (!/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/.test(options.roleArn)) {
      throw new InvalidInputError(`SchedulerDelayScheduler: roleArn ${JSON.stringify(options.roleArn)} is not an IAM role ARN: give arn:aws:iam::<account>:role/<name>`);
    }
    if (options.deadLetterQueueArn !== undefined && !/^arn:aws[a-z-]*:sqs:[^:]+:\d{12}:[\w-]{1,80}$/.test(options.deadLetterQueueArn)) {
      throw new InvalidInputError(
        `SchedulerDelayScheduler: deadLetterQueueArn ${JSON.stringify(options.deadLetterQueueArn)} is not a standard SQS queue ARN: give arn:aws:sqs:<region>:<account>:<name>`,
      );
    }
    if (!SCHEDULE_NAME.test(options.groupName)) {
      throw new InvalidInputError(`SchedulerDelayScheduler: groupName ${JSON.stringify(options.groupName)} must be 1 to 64 of [0-9a-zA-Z-_.]`);
    }
  }

  async schedule(timers: readonly ScheduledTimer[]): Promise<void> {
    await this.each(timers, async (timer) => {
      const name = scheduleNameOf(timer.timerId);
      try {
        await this.options.client.send(
          new CreateScheduleCommand({
            Name: name,
            GroupName: this.options.groupName,
            ScheduleExpression: atExpression(timer.dueAtMs, this.clock.now()),
            ScheduleExpressionTimezone: 'UTC',
            FlexibleTimeWindow: { Mode: 'OFF' },
            ActionAfterCompletion: 'DELETE',
            Description: `statefun timer ${timer.timerId} of ${timer.envelope.target.key}`.slice(0, 512),
            Target: this.targetOf(timer),
          }),
        );
      } catch (error) {
        if (errorName(error) === 'ConflictException') return; // scheduled by an earlier run of this relay
        throw classify(error, `CreateSchedule ${this.options.groupName}/${name} for timer ${timer.timerId}`);
      }
    });
  }

  async cancel(timers: readonly CancelledTimer[]): Promise<void> {
    await this.each(timers, async ({ timerId }) => {
      const name = scheduleNameOf(timerId);
      try {
        await this.options.client.send(new DeleteScheduleCommand({ Name: name, GroupName: this.options.groupName }));
      } catch (error) {
        if (errorName(error) === 'ResourceNotFoundException') return; // fired, deleted, or delayed through SQS
        throw classify(error, `DeleteSchedule ${this.options.groupName}/${name} for timer ${timerId}`);
      }
    });
  }

  /** The schedule target that puts `timer`'s envelope on the message stream. */
  targetOf(timer: ScheduledTimer): Target {
    const common = {
      RoleArn: this.options.roleArn,
      RetryPolicy: { MaximumEventAgeInSeconds: 86_400, MaximumRetryAttempts: 185 },
      ...(this.options.deadLetterQueueArn ? { DeadLetterConfig: { Arn: this.options.deadLetterQueueArn } } : {}),
    };
    if (this.mode === 'universal') {
      const record = encodeMessageBundle([timer.envelope]);
      return {
        ...common,
        Arn: KINESIS_PUT_RECORD_TARGET_ARN,
        Input: JSON.stringify({
          StreamName: this.options.messageStreamArn.slice(this.options.messageStreamArn.indexOf(':stream/') + ':stream/'.length),
          PartitionKey: record.partitionKey,
          Data: Buffer.from(record.data).toString('base64'),
        }),
      };
    }
    const bundle = encodeMessageBundleText([timer.envelope]);
    return {
      ...common,
      Arn: this.options.messageStreamArn,
      KinesisParameters: { PartitionKey: bundle.partitionKey },
      Input: bundle.text,
    };
  }

  private async each<T>(items: readonly T[], run: (item: T) => Promise<void>): Promise<void> {
    const errors: Error[] = [];
    await forEachConcurrently(items, this.concurrency, async (item) => {
      try {
        await run(item);
      } catch (error) {
        errors.push(error as Error);
      }
    });
    if (errors.length > 0) throw errors.find((e) => e instanceof TerminalError) ?? errors[0]!;
  }
}

/**
 * The schedule name of a timer: its id when it is a valid name (1 to 64 of
 * `[0-9a-zA-Z-_.]`, as the runtime's timer ids are), otherwise `sf.` and a SHA-256 of it in
 * base64url (46 characters). Deterministic: every relay run derives the same name.
 *
 * @example
 * scheduleNameOf('Jx0Y3f0c9V2bWm8nQ1rT5uZa.t0'); // 'Jx0Y3f0c9V2bWm8nQ1rT5uZa.t0'
 * scheduleNameOf('a/b c'); // 'sf.' + 43 base64url characters
 */
export function scheduleNameOf(timerId: string): string {
  if (SCHEDULE_NAME.test(timerId) && !timerId.startsWith('sf.')) return timerId;
  return `sf.${createHash('sha256').update(timerId).digest('base64url')}`;
}

/**
 * The one-time schedule expression for a timer due at `dueAtMs`: `at(yyyy-mm-ddThh:mm:ss)`
 * in UTC, rounded up to a whole minute (Scheduler's precision), and never before the minute
 * after `nowMs`.
 *
 * @example
 * atExpression(Date.parse('2026-01-01T10:00:20Z'), Date.parse('2026-01-01T09:00:00Z')); // 'at(2026-01-01T10:01:00)'
 */
export function atExpression(dueAtMs: number, nowMs: number): string {
  return `at(${new Date(schedulerFireTimeMs(dueAtMs, nowMs)).toISOString().slice(0, 19)})`;
}

function errorName(error: unknown): string | undefined {
  return (error as { name?: string } | null)?.name;
}

/** Validation and access errors repeat on retry; throttling and server errors may not. */
function classify(error: unknown, what: string): Error {
  const name = errorName(error);
  const fault = (error as { $fault?: string } | null)?.$fault;
  const throttled = name === 'ThrottlingException' || name === 'ServiceQuotaExceededException';
  if (fault === 'client' && !throttled) {
    return new TerminalError(`${what} was rejected: ${describeError(error)}; check the schedule group, the role and the relay's scheduler permissions`, {
      cause: error,
      code: 'SCHEDULER_REJECTED',
    });
  }
  return new RetryableError(`${what} failed: ${describeError(error)}`, { cause: error, code: 'RELAY_INCOMPLETE' });
}
