import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SQSClient } from '@aws-sdk/client-sqs';
import { ConfigurationError } from '../../../runtime-lambda/aws/envConfig';
import { RoutingDelayScheduler } from '../../../runtime-lambda/aws/RoutingDelayScheduler';
import { SchedulerDelayScheduler, atExpression, scheduleNameOf } from '../../../runtime-lambda/aws/SchedulerDelayScheduler';
import { delaySecondsFor } from '../../../runtime-lambda/aws/SqsDelayScheduler';
import { decodeMessageBundle, encodeMessageBundle } from '../../../runtime-lambda/aws/messageRecords';
import { delaySchedulerFromEnv } from '../../../runtime-lambda/handlers/relay';
import { Address } from '../../../runtime-lambda/core/Address';
import { textValue } from '../../helpers/factories';

const GROUP = { STATEFUN_SCHEDULE_GROUP: 'statefun-timers' };
const ROLE = { STATEFUN_SCHEDULER_ROLE_ARN: 'arn:aws:iam::123456789012:role/statefun-scheduler' };
const STREAM = { STATEFUN_MESSAGE_STREAM_ARN: 'arn:aws:kinesis:us-east-1:123456789012:stream/statefun-messages' };
const QUEUE = { STATEFUN_DELAY_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/statefun-delays' };
const clients = { scheduler: new SchedulerClient({ region: 'us-east-1' }), sqs: new SQSClient({ region: 'us-east-1' }) };

describe('Time on AWS: configuration and naming', () => {
  afterAll(() => {
    clients.scheduler.destroy();
    clients.sqs.destroy();
  });

  it('configures nothing without a group or a queue, and a router with either or both', () => {
    expect(delaySchedulerFromEnv({}, clients)).toBeUndefined();
    expect(delaySchedulerFromEnv({ ...QUEUE }, clients)).toBeInstanceOf(RoutingDelayScheduler);
    expect(delaySchedulerFromEnv({ ...GROUP, ...ROLE, ...STREAM, ...QUEUE, STATEFUN_SQS_DELAY_MAX_SECONDS: '300' }, clients)).toBeInstanceOf(RoutingDelayScheduler);
    expect(delaySchedulerFromEnv({ ...GROUP, ...ROLE, STATEFUN_MESSAGE_STREAM: STREAM.STATEFUN_MESSAGE_STREAM_ARN }, clients)).toBeInstanceOf(RoutingDelayScheduler);
  });

  it.each([
    [{ ...GROUP, ...ROLE }, /STATEFUN_MESSAGE_STREAM_ARN, e\.g\. STATEFUN_MESSAGE_STREAM_ARN=arn:aws:kinesis/],
    [{ ...GROUP, ...STREAM }, /STATEFUN_SCHEDULER_ROLE_ARN is not set/],
    [{ ...ROLE }, /STATEFUN_SCHEDULER_ROLE_ARN is set .* but STATEFUN_SCHEDULE_GROUP is not/],
    [{ ...GROUP, ...STREAM, STATEFUN_SCHEDULER_ROLE_ARN: 'statefun-scheduler' }, /roleArn "statefun-scheduler" is not an IAM role ARN/],
    [{ ...GROUP, ...ROLE, STATEFUN_MESSAGE_STREAM_ARN: 'statefun-messages' }, /"statefun-messages" is not a Kinesis stream ARN/],
    [{ ...GROUP, ...ROLE, ...STREAM, STATEFUN_SCHEDULER_TARGET: 'lambda' }, /STATEFUN_SCHEDULER_TARGET="lambda": expected "templated"/],
    [{ ...GROUP, ...ROLE, ...STREAM, STATEFUN_SCHEDULER_DLQ_ARN: QUEUE.STATEFUN_DELAY_QUEUE_URL }, /STATEFUN_SCHEDULER_DLQ_ARN\): .*deadLetterQueueArn "https:.*" is not a standard SQS queue ARN/],
    [{ ...QUEUE, STATEFUN_SQS_DELAY_MAX_SECONDS: '1.5' }, /STATEFUN_SQS_DELAY_MAX_SECONDS="1.5" is not a positive whole number/],
    [{ STATEFUN_DELAY_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/delays.fifo' }, /FIFO queue, which takes no per-message DelaySeconds/],
  ])('rejects %j with a ConfigurationError naming the fix', (env, message) => {
    const attempt = () => delaySchedulerFromEnv(env as Record<string, string>, clients);
    expect(attempt).toThrow(ConfigurationError);
    expect(attempt).toThrow(message);
  });

  it('names schedules deterministically within 64 of [0-9a-zA-Z-_.]', () => {
    expect(scheduleNameOf('Jx0Y3f0c9V2bWm8nQ1rT5uZa.t0')).toBe('Jx0Y3f0c9V2bWm8nQ1rT5uZa.t0');
    const hashed = scheduleNameOf('a/b c'.repeat(20));
    expect(hashed).toMatch(/^sf\.[0-9a-zA-Z\-_]{43}$/);
    expect(scheduleNameOf('a/b c'.repeat(20))).toBe(hashed);
    expect(scheduleNameOf('x'.repeat(65))).toMatch(/^sf\./);
  });

  it('rounds at() up to the minute, never before now; SQS delays to whole seconds up to 900', () => {
    expect(atExpression(Date.UTC(2026, 0, 1, 10, 0, 20), Date.UTC(2026, 0, 1, 9))).toBe('at(2026-01-01T10:01:00)');
    expect(atExpression(Date.UTC(2026, 0, 1, 10), Date.UTC(2026, 0, 1, 9))).toBe('at(2026-01-01T10:00:00)');
    expect(atExpression(Date.UTC(2026, 0, 1, 8), Date.UTC(2026, 0, 1, 9))).toBe('at(2026-01-01T09:01:00)');
    expect([delaySecondsFor(-5), delaySecondsFor(999), delaySecondsFor(1000), delaySecondsFor(1001), delaySecondsFor(10 * 3_600_000)]).toEqual([0, 1, 1, 2, 900]);
  });

  it('rejects a dead-letter queue that is not an SQS queue ARN, naming the option', () => {
    const options = { client: clients.scheduler, groupName: 'g', roleArn: ROLE.STATEFUN_SCHEDULER_ROLE_ARN, messageStreamArn: STREAM.STATEFUN_MESSAGE_STREAM_ARN };
    for (const bad of [QUEUE.STATEFUN_DELAY_QUEUE_URL, 'arn:aws:sns:us-east-1:123456789012:topic', 'arn:aws:sqs:us-east-1:123456789012:dlq.fifo']) {
      expect(() => new SchedulerDelayScheduler({ ...options, deadLetterQueueArn: bad })).toThrow(/deadLetterQueueArn .* is not a standard SQS queue ARN/);
    }
    expect(new SchedulerDelayScheduler({ ...options, deadLetterQueueArn: 'arn:aws:sqs:us-east-1:123456789012:statefun-dlq' }).targetOf({
      timerId: 't',
      dueAtMs: 0,
      envelope: { id: 't', target: Address.of('test/journal', 'a'), argument: textValue('x'), origin: { kind: 'timer', timerId: 't' } },
    }).DeadLetterConfig).toEqual({ Arn: 'arn:aws:sqs:us-east-1:123456789012:statefun-dlq' });
  });

  it('gives a templated schedule the bundle as JSON text without control characters, even when the binary form is deflated', () => {
    const envelope = { id: 't', target: Address.of('test/journal', 'a'), argument: textValue('x'.repeat(2000)), origin: { kind: 'timer', timerId: 't' } } as const;
    expect(encodeMessageBundle([envelope]).data[5]).toBe(2);
    const delays = new SchedulerDelayScheduler({ client: clients.scheduler, groupName: 'g', roleArn: ROLE.STATEFUN_SCHEDULER_ROLE_ARN, messageStreamArn: STREAM.STATEFUN_MESSAGE_STREAM_ARN });

    const target = delays.targetOf({ timerId: 't', dueAtMs: Date.UTC(2026, 0, 2), envelope });

    expect(target.Input).toMatch(/^\{"sfb":1,/);
    expect(target.Input).not.toMatch(/[\u0000-\u001f]/);
    expect(target.KinesisParameters).toEqual({ PartitionKey: 'test/journal/a' });
    expect(decodeMessageBundle(Buffer.from(target.Input!, 'utf8'), 'test/journal/a')).toEqual([envelope]);
  });
});
