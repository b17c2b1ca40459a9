import { type KinesisClient, PutRecordCommand } from '@aws-sdk/client-kinesis';
import { DeleteScheduleCommand, GetScheduleCommand, type SchedulerClient, paginateListSchedules } from '@aws-sdk/client-scheduler';
import { KINESIS_PUT_RECORD_TARGET_ARN } from '../../runtime-lambda/aws/SchedulerDelayScheduler';

/**
 * Runs one stored schedule the way EventBridge Scheduler would, for emulators that store
 * schedules but never fire them (moto): reads it (`GetSchedule`), performs its Kinesis
 * target (`PutRecord` of its `Input`: as the record data for the templated target, as the
 * request for the universal one), then deletes it (`ActionAfterCompletion: DELETE`).
 * Answers the schedule's expression.
 */
export async function fireSchedule(scheduler: SchedulerClient, kinesis: KinesisClient, group: string, name: string): Promise<string> {
  const schedule = await scheduler.send(new GetScheduleCommand({ GroupName: group, Name: name }));
  const target = schedule.Target!;
  if (target.Arn === KINESIS_PUT_RECORD_TARGET_ARN) {
    const input = JSON.parse(target.Input!) as { StreamName: string; PartitionKey: string; Data: string };
    await kinesis.send(new PutRecordCommand({ StreamName: input.StreamName, PartitionKey: input.PartitionKey, Data: Buffer.from(input.Data, 'base64') }));
  } else {
    await kinesis.send(new PutRecordCommand({ StreamARN: target.Arn, PartitionKey: target.KinesisParameters!.PartitionKey!, Data: Buffer.from(target.Input!, 'utf8') }));
  }
  await scheduler.send(new DeleteScheduleCommand({ GroupName: group, Name: name }));
  return schedule.ScheduleExpression!;
}

/** A schedule that {@link SchedulerTimeline.fireDue} ran. */
export interface FiredSchedule {
  readonly name: string;
  /** Its `at(...)` time, epoch milliseconds (UTC). */
  readonly atMs: number;
}

/**
 * A test clock for the one-time schedules of a group on an emulator: {@link fireDue} runs,
 * in time order, every schedule whose `at(...)` time has come on the test's timeline,
 * through {@link fireSchedule}.
 */
export class SchedulerTimeline {
  readonly fired: FiredSchedule[] = [];

  constructor(
    private readonly scheduler: SchedulerClient,
    private readonly kinesis: KinesisClient,
    private readonly group: string,
  ) {}

  /** The schedules waiting in the group. */
  async pending(): Promise<string[]> {
    const names: string[] = [];
    for await (const page of paginateListSchedules({ client: this.scheduler }, { GroupName: this.group })) {
      for (const schedule of page.Schedules ?? []) names.push(schedule.Name!);
    }
    return names;
  }

  /** Fires every schedule due at or before `timeMs`, earliest first; answers how many. */
  async fireDue(timeMs: number): Promise<number> {
    const waiting = await Promise.all(
      (await this.pending()).map(async (name) => {
        const schedule = await this.scheduler.send(new GetScheduleCommand({ GroupName: this.group, Name: name }));
        return { name, atMs: atTimeMs(schedule.ScheduleExpression!, schedule.ScheduleExpressionTimezone) };
      }),
    );
    const due = waiting.filter((s) => s.atMs <= timeMs).sort((a, b) => a.atMs - b.atMs || a.name.localeCompare(b.name));
    for (const schedule of due) {
      await fireSchedule(this.scheduler, this.kinesis, this.group, schedule.name);
      this.fired.push(schedule);
    }
    return due.length;
  }
}

/** The time of a one-time expression `at(yyyy-mm-ddThh:mm:ss)` in UTC. */
function atTimeMs(expression: string, timezone: string | undefined): number {
  const match = /^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$/.exec(expression);
  if (!match || (timezone ?? 'UTC') !== 'UTC') throw new Error(`not a one-time UTC schedule: ${expression} (${timezone})`);
  return Date.parse(`${match[1]}Z`);
}
