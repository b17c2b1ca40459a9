import { Match, Template } from 'aws-cdk-lib/assertions';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { FraudDetectionStack, NO_SCORING_SERVICE_URL } from '../../infra/lib/FraudDetectionStack';
import { TEST_ENV, XRAY_STATEMENT, cfn, expectSchedulerRoleScoped, policyStatements, roleLogicalId, testApp } from './helpers';

// One bundled synthesis shared by every assertion (esbuild runs once per Lambda).
let stack: FraudDetectionStack;
let template: Template;
beforeAll(() => {
  stack = new FraudDetectionStack(testApp({ bundle: true }), 'FraudDetection', { env: TEST_ENV });
  template = Template.fromStack(stack);
});

const roleId = (role: iam.IRole | undefined) => roleLogicalId(stack, role);

const SAFE_MAPPING = {
  StartingPosition: 'TRIM_HORIZON',
  FunctionResponseTypes: ['ReportBatchItemFailures'],
  BisectBatchOnFunctionError: true,
  MaximumRetryAttempts: 10000,
  MaximumRecordAgeInSeconds: 86400,
  ParallelizationFactor: 1,
  BatchSize: 100,
};

describe('Stack: FraudDetectionStack (defaults, functions as a Lambda)', () => {
  test('the message stream and both ingress streams are on-demand, KMS-encrypted, 24 h', () => {
    // Assess
    template.resourceCountIs('AWS::Kinesis::Stream', 3);
    template.allResourcesProperties('AWS::Kinesis::Stream', {
      StreamModeDetails: { StreamMode: 'ON_DEMAND' },
      StreamEncryption: { EncryptionType: 'KMS', KeyId: 'alias/aws/kinesis' },
      RetentionPeriodHours: 24,
    });
  });

  test('state table: pk address, on-demand, PITR, encrypted, TTL on "ttl", no stream', () => {
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      KeySchema: [{ AttributeName: 'address', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'address', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
      Replicas: [{ Region: 'us-east-1', PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } }],
      // SSEEnabled false = DynamoDB's own key (always encrypted at rest); a CMK is tested in StatefulFunctions.test.ts.
      SSESpecification: { SSEEnabled: false },
      TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
      StreamSpecification: Match.absent(),
    });
  });

  test('outbox table: pk address (S) + sk version (N), stream NEW_IMAGE, on-demand, PITR, TTL on "ttl"', () => {
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      KeySchema: [
        { AttributeName: 'address', KeyType: 'HASH' },
        { AttributeName: 'version', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: 'address', AttributeType: 'S' },
        { AttributeName: 'version', AttributeType: 'N' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      StreamSpecification: { StreamViewType: 'NEW_IMAGE' },
      Replicas: [{ Region: 'us-east-1', PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } }],
      TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
    });
  });

  test('tables, message stream and queues follow the demo removal policy (Delete)', () => {
    for (const type of ['AWS::DynamoDB::GlobalTable', 'AWS::Kinesis::Stream', 'AWS::SQS::Queue']) {
      template.allResources(type, { DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Delete' });
    }
  });

  test('every Lambda: arm64, nodejs24.x, X-Ray active, its own log group with 30-day retention', () => {
    template.resourceCountIs('AWS::Lambda::Function', 5); // dispatcher, relay, delayed delivery, reconciler, functions
    template.allResourcesProperties('AWS::Lambda::Function', {
      Architectures: ['arm64'],
      Runtime: 'nodejs24.x',
      TracingConfig: { Mode: 'Active' },
      LoggingConfig: { LogGroup: { Ref: Match.anyValue() } },
    });
    template.resourceCountIs('AWS::Logs::LogGroup', 5);
    template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  test('the dispatcher gets tables, the default duplicate window, functions (Lambda ARN) and ingresses by stream name in its environment', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: {
          STATEFUN_STATE_TABLE: cfn(stack, stack.app.stateTable.tableName),
          STATEFUN_OUTBOX_TABLE: cfn(stack, stack.app.outboxTable.tableName),
          STATEFUN_INBOX_TABLE: cfn(stack, stack.app.inboxTable.tableName),
          STATEFUN_DUPLICATE_WINDOW_SECONDS: '604800',
          STATEFUN_FUNCTIONS: cfn(stack, stack.toJsonString({ 'fraud/*': { lambda: stack.functions!.functionArn, timeoutMs: 10000 } })),
          STATEFUN_INGRESSES: cfn(
            stack,
            stack.toJsonString({
              [stack.transactions.streamName]: { functionType: 'fraud/transaction-manager', valueType: 'fraud.types/Transaction' },
              [stack.confirmedFraud.streamName]: { functionType: 'fraud/count', valueType: 'fraud.types/ConfirmedFraud' },
            }),
          ),
        },
      },
    });
  });

  test('the relay gets the message stream ARN, the DLQ URL and the alerts FIFO egress', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: {
          STATEFUN_MESSAGE_STREAM: cfn(stack, stack.app.messageStream.streamArn),
          STATEFUN_DLQ_URL: cfn(stack, stack.app.deadLetterQueue.queueUrl),
          STATEFUN_EGRESSES: cfn(stack, stack.toJsonString({ 'fraud/alerts': { sqsQueueUrl: stack.alerts.queueUrl } })),
        },
      },
    });
  });

  test('the functions Lambda reads its scoring URL (none deployed: the fallback score)', () => {
    template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: { FRAUD_SCORING_URL: NO_SCORING_SERVICE_URL } } });
  });

  test.each([
    ['message stream', () => stack.app.messageStream.streamArn, () => stack.app.dispatcher],
    ['transactions ingress', () => stack.transactions.streamArn, () => stack.app.dispatcher],
    ['confirmed-fraud ingress', () => stack.confirmedFraud.streamArn, () => stack.app.dispatcher],
    ['outbox stream', () => stack.app.outboxTable.tableStreamArn!, () => stack.app.relay],
  ])('%s → Lambda mapping: TRIM_HORIZON, batch item failures, bisect, bounded retries and age, skipped batches kept whole in S3', (_name, source, fn) => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      ...SAFE_MAPPING,
      EventSourceArn: cfn(stack, source()),
      FunctionName: cfn(stack, fn().functionName),
      DestinationConfig: { OnFailure: { Destination: cfn(stack, stack.app.skippedBatchesBucket.bucketArn) } },
    });
  });

  test('delay queue → delayed-delivery Lambda mapping: batches of 10, batch item failures, nothing of the stream settings', () => {
    const mappings = Object.values(template.findResources('AWS::Lambda::EventSourceMapping', { Properties: { EventSourceArn: cfn(stack, stack.app.delayQueue.queueArn) } }));
    expect(mappings).toEqual([
      {
        Type: 'AWS::Lambda::EventSourceMapping',
        Properties: {
          BatchSize: 10,
          FunctionResponseTypes: ['ReportBatchItemFailures'],
          EventSourceArn: cfn(stack, stack.app.delayQueue.queueArn),
          FunctionName: cfn(stack, stack.app.delayedDelivery.functionName),
        },
      },
    ]);
  });

  test('exactly five mappings', () => {
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 5);
  });

  test('the dead-letter queue: SSE, 14 days, TLS only', () => {
    template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true, MessageRetentionPeriod: 1209600, FifoQueue: Match.absent() });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [cfn(stack, stack.app.deadLetterQueue.queueUrl)],
      PolicyDocument: {
        Statement: [{ Action: 'sqs:*', Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } }, Principal: { AWS: '*' }, Resource: cfn(stack, stack.app.deadLetterQueue.queueArn) }],
      },
    });
  });

  test('alerts egress: FIFO, deduplicated by the relay (not by content), SSE, redrive to a FIFO DLQ after 5 receives', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      FifoQueue: true,
      ContentBasedDeduplication: false,
      SqsManagedSseEnabled: true,
      RedrivePolicy: { deadLetterTargetArn: Match.anyValue(), maxReceiveCount: 5 },
    });
  });

  test.each([
    ['IteratorAge', 'AWS/Lambda', 'dispatcher', 300000, 60, 'Maximum'],
    ['IteratorAge', 'AWS/Lambda', 'relay', 300000, 60, 'Maximum'],
    ['Errors', 'AWS/Lambda', 'dispatcher', 1, 300, 'Sum'],
    ['Errors', 'AWS/Lambda', 'relay', 1, 300, 'Sum'],
    ['Throttles', 'AWS/Lambda', 'dispatcher', 1, 300, 'Sum'],
    ['Throttles', 'AWS/Lambda', 'relay', 1, 300, 'Sum'],
    ['Errors', 'AWS/Lambda', 'delayedDelivery', 1, 300, 'Sum'],
    ['Throttles', 'AWS/Lambda', 'delayedDelivery', 1, 300, 'Sum'],
  ] as const)('alarm: %s (%s) of the %s', (metric, namespace, fn, threshold, period, statistic) => {
    const target = stack.app[fn];
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: metric,
      Namespace: namespace,
      Dimensions: [{ Name: 'FunctionName', Value: cfn(stack, target.functionName) }],
      Threshold: threshold,
      Period: period,
      Statistic: statistic,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  test('alarm: a dead letter is visible', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Namespace: 'AWS/SQS',
      Dimensions: [{ Name: 'QueueName', Value: cfn(stack, stack.app.deadLetterQueue.queueName) }],
      Threshold: 1,
    });
    template.resourceCountIs('AWS::CloudWatch::Alarm', 13);
    expect(Object.keys(stack.app.alarms)).toHaveLength(13);
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });

  test('skipped batches: kept whole in a private bucket as long as dead letters, and alarmed on the first one written', () => {
    const bucket = stack.app.skippedBatchesBucket;
    const bucketId = stack.getLogicalId(bucket.node.defaultChild as s3.CfnBucket);
    expect(template.toJSON().Resources[bucketId].Properties).toMatchObject({
      LifecycleConfiguration: { Rules: [{ ExpirationInDays: 14, Status: 'Enabled' }] },
      MetricsConfigurations: [{ Id: 'SkippedBatches' }],
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
    });
    const alarm = template.toJSON().Resources[stack.getLogicalId(stack.app.alarms.skippedBatches.node.defaultChild as cloudwatch.CfnAlarm)].Properties;
    expect(alarm).toMatchObject({
      Namespace: 'AWS/S3',
      MetricName: 'PutRequests',
      Dimensions: expect.arrayContaining([{ Name: 'BucketName', Value: cfn(stack, bucket.bucketName) }, { Name: 'FilterId', Value: 'SkippedBatches' }]),
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    expect(alarm.AlarmDescription).toContain('npx statefun dlq batches redrive --bucket');
  });

  describe('least privilege: each role touches only its own resources', () => {
    const logs = (logGroup: { logGroupArn: string }) => ({ Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Effect: 'Allow', Resource: cfn(stack, logGroup.logGroupArn) });

    /**
     * PutObject of oversized dead letters (under dead-letters/) and of skipped batches (the S3
     * on-failure destination, under Lambda's aws/lambda/), and ListBucket of the latter: no read, no delete.
     */
    const PUT_OBJECT_STATEMENTS = () => [
      { Action: 's3:PutObject', Effect: 'Allow', Resource: [cfn(stack, stack.app.payloadBucket.arnForObjects('dead-letters/*')), cfn(stack, stack.app.skippedBatchesBucket.arnForObjects('aws/lambda/*'))] },
      { Action: 's3:ListBucket', Effect: 'Allow', Resource: cfn(stack, stack.app.skippedBatchesBucket.bucketArn) },
    ];

    test('dispatcher role: read its streams, BatchGetItem/PutItem on state, PutItem on outbox, PutItem/Query/BatchWriteItem on inbox, invoke the functions Lambda, put oversized dead letters and skipped batches', () => {
      const statements = policyStatements(template, stack, roleId(stack.app.dispatcher.role));
      const expected = [
        logs(stack.app.dispatcherLogGroup),
        XRAY_STATEMENT,
        { Action: ['dynamodb:BatchGetItem', 'dynamodb:PutItem'], Effect: 'Allow', Resource: cfn(stack, stack.app.stateTable.tableArn) },
        { Action: 'dynamodb:PutItem', Effect: 'Allow', Resource: cfn(stack, stack.app.outboxTable.tableArn) },
        { Action: ['dynamodb:BatchWriteItem', 'dynamodb:PutItem', 'dynamodb:Query'], Effect: 'Allow', Resource: cfn(stack, stack.app.inboxTable.tableArn) },
        { Action: 'lambda:InvokeFunction', Effect: 'Allow', Resource: cfn(stack, stack.functions!.functionArn) },
        ...PUT_OBJECT_STATEMENTS(),
        {
          Action: [
            'kinesis:DescribeStream',
            'kinesis:DescribeStreamConsumer',
            'kinesis:DescribeStreamSummary',
            'kinesis:GetRecords',
            'kinesis:GetShardIterator',
            'kinesis:ListShards',
            'kinesis:ListStreams',
            'kinesis:SubscribeToShard',
          ],
          Effect: 'Allow',
          Resource: [stack.app.messageStream, stack.confirmedFraud, stack.transactions].map((s) => cfn(stack, s.streamArn)),
        },
      ];
      expect(statements).toHaveLength(expected.length);
      expect(statements).toEqual(expect.arrayContaining(expected));
    });

    test('relay role: read the outbox stream, write the message stream, send to the DLQ, the alerts and the delay queue, manage its group\'s schedules, read and lift egress fences, put oversized dead letters and skipped batches', () => {
      const group = cfn(stack, stack.app.scheduleGroup.scheduleGroupName);
      expect(group).toMatch(/^FraudDetection-App-ScheduleGroup-[0-9A-F]{8}$/); // a plain name, so the ARN below is literal
      const statements = policyStatements(template, stack, roleId(stack.app.relay.role));
      const expected = [
        logs(stack.app.relayLogGroup),
        XRAY_STATEMENT,
        { Action: ['kinesis:ListShards', 'kinesis:PutRecord', 'kinesis:PutRecords'], Effect: 'Allow', Resource: cfn(stack, stack.app.messageStream.streamArn) },
        { Action: ['dynamodb:DeleteItem', 'dynamodb:Query'], Effect: 'Allow', Resource: cfn(stack, stack.app.inboxTable.tableArn) },
        ...PUT_OBJECT_STATEMENTS(),
        {
          Action: ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'],
          Effect: 'Allow',
          Resource: [cfn(stack, stack.alerts.queueArn), cfn(stack, stack.app.deadLetterQueue.queueArn), cfn(stack, stack.app.delayQueue.queueArn)],
        },
        // This group's schedules only (names are timer ids), in this account and region.
        { Action: ['scheduler:CreateSchedule', 'scheduler:DeleteSchedule'], Effect: 'Allow', Resource: `arn:aws:scheduler:us-east-1:123456789012:schedule/${group}/*` },
        // The Scheduler execution role only, and only to Scheduler.
        {
          Action: 'iam:PassRole',
          Effect: 'Allow',
          Resource: cfn(stack, stack.app.schedulerRole.roleArn),
          Condition: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
        },
        {
          Action: ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:ListStreams'],
          Effect: 'Allow',
          Resource: cfn(stack, stack.app.outboxTable.tableStreamArn),
        },
      ];
      expect(statements).toHaveLength(expected.length);
      expect(statements).toEqual(expect.arrayContaining(expected));
    });

    test('delayed-delivery role: PutRecords on the message stream, receive/delete/re-send on the delay queue', () => {
      const statements = policyStatements(template, stack, roleId(stack.app.delayedDelivery.role));
      const expected = [
        logs(stack.app.delayedDeliveryLogGroup),
        XRAY_STATEMENT,
        { Action: 'kinesis:PutRecords', Effect: 'Allow', Resource: cfn(stack, stack.app.messageStream.streamArn) },
        {
          Action: ['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:ReceiveMessage', 'sqs:SendMessage'],
          Effect: 'Allow',
          Resource: cfn(stack, stack.app.delayQueue.queueArn),
        },
      ];
      expect(statements).toHaveLength(expected.length);
      expect(statements).toEqual(expect.arrayContaining(expected));
    });

    test('scheduler role: assumed by Scheduler for this schedule group only, PutRecord on the message stream and SendMessage on the dead-letter queue only', () => {
      expectSchedulerRoleScoped(template, stack, stack.app);
    });

    test('only the relay and the reconciler (which publishes as the relay does) may pass the scheduler role', () => {
      const passers = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) => JSON.stringify(p).includes('iam:PassRole'));
      expect(passers.flatMap((p) => (p as { Properties: { Roles: unknown[] } }).Properties.Roles)).toEqual([{ Ref: roleId(stack.app.relay.role) }, { Ref: roleId(stack.app.reconciler.role) }]);
    });

    test('reconciler role: publish as the relay does, scan the inbox and state tables, read outbox items', () => {
      const statements = policyStatements(template, stack, roleId(stack.app.reconciler.role));
      expect(statements).toEqual(
        expect.arrayContaining([
          { Action: ['dynamodb:DeleteItem', 'dynamodb:Query', 'dynamodb:Scan'], Effect: 'Allow', Resource: cfn(stack, stack.app.inboxTable.tableArn) },
          { Action: 'dynamodb:Scan', Effect: 'Allow', Resource: cfn(stack, stack.app.stateTable.tableArn) },
          { Action: 'dynamodb:GetItem', Effect: 'Allow', Resource: cfn(stack, stack.app.outboxTable.tableArn) },
          { Action: ['kinesis:ListShards', 'kinesis:PutRecord', 'kinesis:PutRecords'], Effect: 'Allow', Resource: cfn(stack, stack.app.messageStream.streamArn) },
        ]),
      );
      expect(JSON.stringify(statements)).not.toMatch(/dynamodb:(PutItem|BatchWriteItem|UpdateItem)|lambda:InvokeFunction/);
    });

    test('functions role: its log group and X-Ray only', () => {
      const statements = policyStatements(template, stack, roleId(stack.functions!.role));
      expect(statements).toEqual([logs({ logGroupArn: (stack.functions!.logGroup as unknown as { logGroupArn: string }).logGroupArn }), XRAY_STATEMENT]);
    });

    test('no managed policies, and no "*" resource but X-Ray\'s', () => {
      template.allResourcesProperties('AWS::IAM::Role', { ManagedPolicyArns: Match.absent(), Policies: Match.absent() });
      for (const policy of Object.values(template.findResources('AWS::IAM::Policy'))) {
        for (const statement of (policy as { Properties: { PolicyDocument: { Statement: { Action: unknown; Resource: unknown }[] } } }).Properties.PolicyDocument.Statement) {
          const resources = ([] as unknown[]).concat(statement.Resource);
          if (resources.includes('*')) expect(statement).toEqual(XRAY_STATEMENT);
        }
      }
    });

    test('only the dispatcher may invoke the functions Lambda', () => {
      const invokers = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) => JSON.stringify(p).includes('lambda:InvokeFunction'));
      expect(invokers).toHaveLength(1);
      expect((invokers[0] as { Properties: { Roles: unknown[] } }).Properties.Roles).toEqual([{ Ref: roleId(stack.app.dispatcher.role) }]);
      // The only resource-based permissions: EventBridge starting the reconciler's two sweeps.
      const permissions = Object.values(template.findResources('AWS::Lambda::Permission')) as { Properties: { Principal: string; FunctionName: unknown } }[];
      expect(permissions.map((p) => [p.Properties.Principal, p.Properties.FunctionName])).toEqual([
        ['events.amazonaws.com', cfn(stack, stack.app.reconciler.functionArn)],
        ['events.amazonaws.com', cfn(stack, stack.app.reconciler.functionArn)],
      ]);
    });
  });

  test('outputs name the streams and queues the deploy guide uses', () => {
    for (const output of ['TransactionsStreamName', 'ConfirmedFraudStreamName', 'AlertsQueueUrl', 'DeadLetterQueueUrl', 'MessageStreamName', 'StateTableName', 'DashboardName']) {
      template.hasOutput(output, {});
    }
  });
});
