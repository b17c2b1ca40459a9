import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { StatefulFunctions, type StatefulFunctionsProps } from '../../infra/lib/StatefulFunctions';
import { cfn, expectSchedulerRoleScoped, policyStatements, roleLogicalId, testStack } from './helpers';

const HTTP = { remoteFunctions: [{ kind: 'http', functionType: 'shop/*', url: 'https://functions.example.com/statefun' }] } satisfies StatefulFunctionsProps;

function build(props: StatefulFunctionsProps = HTTP) {
  const stack = testStack();
  const app = new StatefulFunctions(stack, 'App', props);
  return { stack, app, template: Template.fromStack(stack) };
}


describe('Construct: StatefulFunctions, delayed messages', () => {
  const { stack, app, template } = build({ ...HTTP, scheduleGroupName: 'shop-timers', sqsDelayMaxDuration: Duration.minutes(5) });

  it('creates the schedule group, exposed on the construct', () => {
    template.hasResourceProperties('AWS::Scheduler::ScheduleGroup', { Name: 'shop-timers' });
    expect(cfn(stack, app.scheduleGroup.scheduleGroupName)).toBe('shop-timers');
  });

  it("gives the Scheduler execution role PutRecord on the message stream and SendMessage on the dead-letter queue only, assumable by Scheduler for this group's schedules only", () => {
    expectSchedulerRoleScoped(template, stack, app);
  });

  it("lets the relay create and delete this group's schedules and pass the scheduler role only", () => {
    const statements = policyStatements(template, stack, roleLogicalId(stack, app.relay.role));
    expect(statements).toContainEqual({
      Action: ['scheduler:CreateSchedule', 'scheduler:DeleteSchedule'],
      Effect: 'Allow',
      Resource: 'arn:aws:scheduler:us-east-1:123456789012:schedule/shop-timers/*',
    });
    expect(statements).toContainEqual({
      Action: 'iam:PassRole',
      Effect: 'Allow',
      Resource: cfn(stack, app.schedulerRole.roleArn),
      Condition: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
    });
    expect(statements).toContainEqual(expect.objectContaining({ Action: expect.arrayContaining(['sqs:SendMessage']), Resource: expect.arrayContaining([cfn(stack, app.delayQueue.queueArn)]) }));
  });

  it("configures the relay's delays from its environment", () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('relay'),
      Environment: {
        Variables: Match.objectLike({
          STATEFUN_SCHEDULE_GROUP: cfn(stack, app.scheduleGroup.scheduleGroupName),
          STATEFUN_SCHEDULER_ROLE_ARN: cfn(stack, app.schedulerRole.roleArn),
          STATEFUN_SCHEDULER_DLQ_ARN: cfn(stack, app.deadLetterQueue.queueArn),
          STATEFUN_MESSAGE_STREAM_ARN: cfn(stack, app.messageStream.streamArn),
          STATEFUN_DELAY_QUEUE_URL: cfn(stack, app.delayQueue.queueUrl),
          STATEFUN_SQS_DELAY_MAX_SECONDS: '300',
        }),
      },
    });
  });

  it('creates the delay queue encrypted, TLS only, redriving to the dead-letter queue', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      RedrivePolicy: { deadLetterTargetArn: cfn(stack, app.deadLetterQueue.queueArn), maxReceiveCount: 10 },
    });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [cfn(stack, app.delayQueue.queueUrl)],
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  it('drives the delayed-delivery Lambda from the queue with partial batch responses; it writes the stream and re-delays', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: cfn(stack, app.delayQueue.queueArn),
      FunctionName: cfn(stack, app.delayedDelivery.functionName),
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('delayed delivery'),
      Architectures: ['arm64'],
      Environment: {
        Variables: {
          STATEFUN_MESSAGE_STREAM: cfn(stack, app.messageStream.streamArn),
          STATEFUN_DELAY_QUEUE_URL: cfn(stack, app.delayQueue.queueUrl),
          POWERTOOLS_SERVICE_NAME: 'statefun-delayed-delivery',
          POWERTOOLS_METRICS_NAMESPACE: 'StatefulFunctions/Test',
          POWERTOOLS_LOG_LEVEL: 'INFO',
        },
      },
    });
    // Exactly: its logs, X-Ray, PutRecords (what the handler calls) on the message stream, and the
    // delay queue (the mapping's receive/delete, SendMessage to delay again).
    expect(policyStatements(template, stack, roleLogicalId(stack, app.delayedDelivery.role))).toEqual([
      { Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Effect: 'Allow', Resource: cfn(stack, app.delayedDeliveryLogGroup.logGroupArn) },
      { Action: ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'], Effect: 'Allow', Resource: '*' },
      { Action: 'kinesis:PutRecords', Effect: 'Allow', Resource: cfn(stack, app.messageStream.streamArn) },
      {
        Action: ['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:ReceiveMessage', 'sqs:SendMessage'],
        Effect: 'Allow',
        Resource: cfn(stack, app.delayQueue.queueArn),
      },
    ]);
  });

  it('defaults to a generated group name and 15 minutes through SQS', () => {
    const { template: plain } = build();
    plain.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('relay'),
      Environment: { Variables: Match.objectLike({ STATEFUN_SQS_DELAY_MAX_SECONDS: '900' }) },
    });
    plain.resourceCountIs('AWS::Scheduler::ScheduleGroup', 1);
  });
});
