import * as path from 'node:path';
import { Duration, RemovalPolicy, type Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { StatefulFunctions, type StatefulFunctionsProps } from '../../infra/lib/StatefulFunctions';
import { parseFunctionEndpoints } from '../../runtime-lambda/aws/envConfig';
import { cfn, policyStatements, roleLogicalId, testStack } from './helpers';

const HTTP = { remoteFunctions: [{ kind: 'http', functionType: 'shop/*', url: 'https://functions.example.com/statefun' }] } satisfies StatefulFunctionsProps;

function build(props: (stack: Stack) => StatefulFunctionsProps) {
  const stack = testStack();
  const app = new StatefulFunctions(stack, 'App', props(stack));
  return { stack, app, template: Template.fromStack(stack) };
}

const roleOf = (stack: Stack, fn: { role?: iam.IRole }) => roleLogicalId(stack, fn.role);

describe('Construct: StatefulFunctions', () => {
  describe('with a customer managed key, a provisioned stream and tuned mappings', () => {
    let built: ReturnType<typeof build>;
    let key: kms.Key;
    beforeAll(() => {
      built = build((stack) => {
        key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
        return {
          ...HTTP,
          encryptionKey: key,
          messageStreamMode: kinesis.StreamMode.PROVISIONED,
          messageStreamShardCount: 2,
          messageStreamRetention: Duration.hours(48),
          batchSize: 50,
          maxBatchingWindow: Duration.seconds(2),
          parallelizationFactor: 4,
          retryAttempts: 20,
          maxRecordAge: Duration.hours(1),
          dispatcherMemorySizeMiB: 1024,
          dispatcherTimeout: Duration.seconds(90),
          iteratorAgeAlarmThreshold: Duration.minutes(1),
        };
      });
    });

    test('the message stream is provisioned with 2 shards, 48 h, encrypted with the key', () => {
      built.template.hasResourceProperties('AWS::Kinesis::Stream', {
        ShardCount: 2,
        StreamModeDetails: { StreamMode: 'PROVISIONED' },
        RetentionPeriodHours: 48,
        StreamEncryption: { EncryptionType: 'KMS', KeyId: cfn(built.stack, key.keyArn) },
      });
    });

    test('the state, outbox and inbox tables and the DLQ use the key', () => {
      const tables = built.template.findResources('AWS::DynamoDB::GlobalTable');
      expect(Object.keys(tables)).toHaveLength(3);
      built.template.allResourcesProperties('AWS::DynamoDB::GlobalTable', {
        SSESpecification: { SSEEnabled: true, SSEType: 'KMS' },
        Replicas: [Match.objectLike({ SSESpecification: { KMSMasterKeyId: cfn(built.stack, key.keyArn) } })],
      });
      built.template.hasResourceProperties('AWS::SQS::Queue', { KmsMasterKeyId: cfn(built.stack, key.keyArn) });
    });

    test('the stream mappings take the tuned settings; the delay queue mapping keeps its own', () => {
      const { stack, app, template } = built;
      const mappings = Object.values(template.findResources('AWS::Lambda::EventSourceMapping')).map((m) => (m as { Properties: unknown }).Properties);
      const tuned = {
        BatchSize: 50,
        MaximumBatchingWindowInSeconds: 2,
        ParallelizationFactor: 4,
        MaximumRetryAttempts: 20,
        MaximumRecordAgeInSeconds: 3600,
        BisectBatchOnFunctionError: true,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        StartingPosition: 'TRIM_HORIZON',
        DestinationConfig: { OnFailure: { Destination: cfn(stack, app.skippedBatchesBucket.bucketArn) } },
      };
      expect(mappings).toHaveLength(3);
      expect(mappings).toEqual(
        expect.arrayContaining([
          { ...tuned, EventSourceArn: cfn(stack, app.messageStream.streamArn), FunctionName: cfn(stack, app.dispatcher.functionName) },
          { ...tuned, EventSourceArn: cfn(stack, app.outboxTable.tableStreamArn), FunctionName: cfn(stack, app.relay.functionName) },
          // Not tuned (see the batchSize TSDoc): a batching window would delay every due timer, and
          // retries are the queue's redrive policy (10 receives), not stream retries.
          {
            BatchSize: 10,
            FunctionResponseTypes: ['ReportBatchItemFailures'],
            EventSourceArn: cfn(stack, app.delayQueue.queueArn),
            FunctionName: cfn(stack, app.delayedDelivery.functionName),
          },
        ]),
      );
    });

    test('the dispatcher: memory, timeout, the HTTP endpoint in STATEFUN_FUNCTIONS', () => {
      built.template.hasResourceProperties('AWS::Lambda::Function', {
        MemorySize: 1024,
        Timeout: 90,
        Environment: { Variables: Match.objectLike({ STATEFUN_FUNCTIONS: '{"shop/*":{"url":"https://functions.example.com/statefun"}}', STATEFUN_INGRESSES: Match.absent() }) },
      });
    });

    test('iterator-age alarms use the threshold', () => {
      const ageAlarms = built.template.findResources('AWS::CloudWatch::Alarm', { Properties: { MetricName: 'IteratorAge', Threshold: 60000 } });
      expect(Object.keys(ageAlarms)).toHaveLength(2);
    });

    test('each role may use the key (dispatcher: read streams, write tables and skipped batches), on the key only', () => {
      const { stack, app, template } = built;
      const keyArn = cfn(stack, key.keyArn);
      const dispatcherKms = policyStatements(template, stack, roleOf(stack, app.dispatcher)).filter((s) => JSON.stringify(s).includes('kms:'));
      expect(dispatcherKms).toEqual(
        expect.arrayContaining([{ Action: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey*'], Effect: 'Allow', Resource: keyArn }]),
      );
      const otherKms = [app.relay, app.delayedDelivery].flatMap((fn) => policyStatements(template, stack, roleOf(stack, fn)).filter((s) => JSON.stringify(s).includes('kms:')));
      expect(otherKms.length).toBeGreaterThan(0);
      for (const s of [...dispatcherKms, ...otherKms]) {
        expect((s as { Resource: unknown }).Resource).toEqual(keyArn);
      }
      // Scheduler puts records on the encrypted stream and dead letters on the encrypted queue: a data key and Decrypt, nothing else of the key.
      expect(policyStatements(template, stack, roleLogicalId(stack, app.schedulerRole))).toEqual([
        { Action: 'kinesis:PutRecord', Effect: 'Allow', Resource: cfn(stack, app.messageStream.streamArn) },
        { Action: 'sqs:SendMessage', Effect: 'Allow', Resource: cfn(stack, app.deadLetterQueue.queueArn) },
        { Action: ['kms:Decrypt', 'kms:GenerateDataKey*'], Effect: 'Allow', Resource: keyArn },
      ]);
    });

    test('no role has a statement on "*" but X-Ray', () => {
      for (const policy of Object.values(built.template.findResources('AWS::IAM::Policy'))) {
        for (const s of (policy as { Properties: { PolicyDocument: { Statement: { Action: string[]; Resource: unknown }[] } } }).Properties.PolicyDocument.Statement) {
          if (([] as unknown[]).concat(s.Resource).includes('*')) expect(s.Action).toEqual(['xray:PutTelemetryRecords', 'xray:PutTraceSegments']);
        }
      }
    });
  });

  test('default removal policy is RETAIN for tables, message stream and DLQ', () => {
    const { template } = build(() => HTTP);
    for (const type of ['AWS::DynamoDB::GlobalTable', 'AWS::Kinesis::Stream', 'AWS::SQS::Queue']) {
      template.allResources(type, { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    }
  });

  test('a duplicate window as long as the message stream keeps records reaches the dispatcher in seconds', () => {
    const { template } = build(() => ({ ...HTTP, duplicateWindow: Duration.days(30), messageStreamRetention: Duration.days(30) }));
    template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: { STATEFUN_DUPLICATE_WINDOW_SECONDS: '2592000' } } });
  });

  test('the retry budget reaches the dispatcher in seconds, and an alarm watches the longest backoff', () => {
    const { template } = build(() => ({ ...HTTP, retryBudget: Duration.hours(6), backoffAlarmThreshold: Duration.minutes(30) }));
    template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ STATEFUN_RETRY_BUDGET_SECONDS: '21600' }) } });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'BackoffAgeSeconds',
      Statistic: 'Maximum',
      Threshold: 1800,
      Dimensions: [{ Name: 'service', Value: 'statefun-dispatcher' }],
      AlarmDescription: Match.stringLikeRegexp('An address has been backing off longer than 30 minutes.*retry budget \\(6 hours\\)'),
    });
  });

  test('by default the retry budget is 24 hours', () => {
    const { template } = build(() => HTTP);
    template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ STATEFUN_RETRY_BUDGET_SECONDS: '86400' }) } });
  });

  test('removalPolicy DESTROY applies to all of them', () => {
    const { template } = build(() => ({ ...HTTP, removalPolicy: RemovalPolicy.DESTROY }));
    template.allResources('AWS::DynamoDB::GlobalTable', { DeletionPolicy: 'Delete' });
  });

  test('a Kinesis egress: the relay may write to it (nothing more) and gets its ARN', () => {
    let out!: kinesis.Stream;
    const { stack, app, template } = build((s) => {
      out = new kinesis.Stream(s, 'Out', { streamMode: kinesis.StreamMode.ON_DEMAND });
      return { ...HTTP, egresses: { 'shop/orders': { kind: 'kinesis', stream: out } } };
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ STATEFUN_EGRESSES: cfn(stack, stack.toJsonString({ 'shop/orders': { kinesisStream: out.streamArn } })) }) },
    });
    expect(policyStatements(template, stack, roleOf(stack, app.relay))).toContainEqual({
      Action: ['kinesis:ListShards', 'kinesis:PutRecord', 'kinesis:PutRecords'],
      Effect: 'Allow',
      Resource: [cfn(stack, app.messageStream.streamArn), cfn(stack, out.streamArn)],
    });
  });

  test('an SQS FIFO egress with a message group', () => {
    let queue!: sqs.Queue;
    const { stack, template } = build((s) => {
      queue = new sqs.Queue(s, 'Out', { fifo: true });
      return { ...HTTP, egresses: { 'shop/mail': { kind: 'sqs', queue, messageGroupId: 'mail' } } };
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ STATEFUN_EGRESSES: cfn(stack, stack.toJsonString({ 'shop/mail': { sqsQueueUrl: queue.queueUrl, messageGroupId: 'mail' } })) }) },
    });
  });

  test('an ingress with a value type and LATEST start', () => {
    let input!: kinesis.Stream;
    const { stack, template } = build((s) => {
      input = new kinesis.Stream(s, 'Clicks');
      return { ...HTTP, ingresses: [{ kind: 'kinesis', stream: input, functionType: 'shop/session', valueType: 'shop/Click', startingPosition: 'LATEST' as never }] };
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { EventSourceArn: cfn(stack, input.streamArn), StartingPosition: 'LATEST' });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ STATEFUN_INGRESSES: cfn(stack, stack.toJsonString({ [input.streamName]: { functionType: 'shop/session', valueType: 'shop/Click' } })) }) },
    });
  });

  test('grant and metric methods', () => {
    const stack = testStack();
    const app = new StatefulFunctions(stack, 'App', HTTP);
    const producer = new iam.Role(stack, 'Producer', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    const operator = new iam.Role(stack, 'Operator', { assumedBy: new iam.AccountRootPrincipal() });
    app.grantSend(producer);
    app.grantReadState(operator);
    app.grantConsumeDeadLetters(operator);
    app.grantRedriveSkippedBatches(operator);
    const t = Template.fromStack(stack);
    expect(policyStatements(t, stack, stack.getLogicalId(producer.node.defaultChild as iam.CfnRole))).toEqual([
      { Action: ['kinesis:ListShards', 'kinesis:PutRecord', 'kinesis:PutRecords'], Effect: 'Allow', Resource: cfn(stack, app.messageStream.streamArn) },
    ]);
    const operatorStatements = JSON.stringify(policyStatements(t, stack, stack.getLogicalId(operator.node.defaultChild as iam.CfnRole)));
    expect(operatorStatements).toContain('dynamodb:BatchGetItem');
    expect(operatorStatements).toContain('sqs:ReceiveMessage');
    expect(operatorStatements).not.toContain('dynamodb:PutItem');
    expect(policyStatements(t, stack, stack.getLogicalId(operator.node.defaultChild as iam.CfnRole))).toEqual(
      expect.arrayContaining([
        { Action: 's3:DeleteObject*', Effect: 'Allow', Resource: cfn(stack, app.skippedBatchesBucket.arnForObjects('aws/lambda/*')) },
        { Action: 'lambda:InvokeFunction', Effect: 'Allow', Resource: [cfn(stack, app.dispatcher.functionArn), cfn(stack, app.relay.functionArn)] },
      ]),
    );
    expect(operatorStatements).toContain(JSON.stringify(cfn(stack, app.skippedBatchesBucket.bucketArn)));

    expect(cfn(stack, app.metricIteratorAge().dimensions)).toEqual({ FunctionName: cfn(stack, app.dispatcher.functionName) });
    expect(app.metricIteratorAge()).toMatchObject({ metricName: 'IteratorAge', namespace: 'AWS/Lambda', statistic: 'Maximum' });
    expect(app.metricRelayIteratorAge({ period: Duration.minutes(5) }).period.toMinutes()).toBe(5);
    expect(app.metricDeadLetters()).toMatchObject({ metricName: 'ApproximateNumberOfMessagesVisible', namespace: 'AWS/SQS' });
    expect(app.metricDispatcherErrors()).toMatchObject({ metricName: 'Errors', statistic: 'Sum' });
    expect(app.metricRelayErrors()).toMatchObject({ metricName: 'Errors' });
  });

  test('alarm actions go on every alarm', () => {
    const { stack, template } = build((s) => {
      const action = { bind: () => ({ alarmActionArn: `arn:aws:sns:us-east-1:${s.account}:ops` }) };
      return { ...HTTP, alarmActions: [action] };
    });
    void stack;
    template.allResourcesProperties('AWS::CloudWatch::Alarm', { AlarmActions: [Match.anyValue()] });
  });

  test('Lambda-hosted functions: STATEFUN_FUNCTIONS holds {lambda, timeoutMs, maxAttempts}, which the dispatcher parses into a Lambda endpoint', () => {
    // Prepare
    const arn = 'arn:aws:lambda:us-east-1:123456789012:function:shop';
    const { stack, app, template } = build((s) => ({
      remoteFunctions: [{ kind: 'lambda', functionType: 'shop/*', function: lambda.Function.fromFunctionArn(s, 'Shop', arn), timeout: Duration.seconds(5), maxAttempts: 4 }],
    }));

    // Act
    const dispatcher = Object.values(template.findResources('AWS::Lambda::Function', { Properties: { Description: Match.stringLikeRegexp('dispatcher') } }))[0] as {
      Properties: { Environment: { Variables: Record<string, string> } };
    };
    const value = dispatcher.Properties.Environment.Variables.STATEFUN_FUNCTIONS!;

    // Assess
    expect(JSON.parse(value)).toEqual({ 'shop/*': { lambda: arn, timeoutMs: 5000, maxAttempts: 4 } });
    const resolved = parseFunctionEndpoints({ STATEFUN_FUNCTIONS: value }, { lambdaClientConfig: { region: 'us-east-1' } }).resolve('shop/cart');
    expect(resolved).toMatchObject({ fnType: 'shop/*' });
    expect(policyStatements(template, stack, roleOf(stack, app.dispatcher))).toContainEqual({ Action: 'lambda:InvokeFunction', Effect: 'Allow', Resource: arn });
  });

  test('embedded functions: the dispatcher bundles the registry module; no invoke permission, no STATEFUN_FUNCTIONS', () => {
    const { stack, app, template } = build(() => ({
      embeddedFunctions: { entry: path.join(__dirname, '..', '..', 'functions', 'fraud-detection', 'lambda.ts'), environment: { FRAUD_SCORING_URL: 'http://127.0.0.1:9' } },
    }));
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ STATEFUN_EMBEDDED_EXPORT: 'functions', FRAUD_SCORING_URL: 'http://127.0.0.1:9', STATEFUN_FUNCTIONS: Match.absent() }) },
    });
    expect(JSON.stringify(policyStatements(template, stack, roleOf(stack, app.dispatcher)))).not.toContain('lambda:InvokeFunction');
  });
});
