import * as path from 'node:path';
import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { FraudIngresses, FraudTypes, MessageTypes } from '../../functions/fraud-detection/messages';
import { LAMBDA_RUNTIME, StatefulFunctions, type StatefulFunctionsProps, acknowledgeSynchronousOnly, acknowledgeXRay } from './StatefulFunctions';

const PROJECT_ROOT = path.resolve(__dirname, '..', '..');
const FUNCTIONS_ENTRY = path.join(PROJECT_ROOT, 'functions', 'fraud-detection', 'lambda.ts');

/**
 * No scoring service is deployed: Merchant Scorer's calls to this address are refused at
 * once and it answers the fallback score (0.5). Set `scoringUrl` to a real service.
 */
export const NO_SCORING_SERVICE_URL = 'http://127.0.0.1:9';

/** Props of {@link FraudDetectionStack}. */
export interface FraudDetectionStackProps extends StackProps {
  /**
   * How the four functions run: one Lambda invoked by the dispatcher, or bundled into the dispatcher.
   * @default 'lambda'
   */
  readonly functionsMode?: 'lambda' | 'embedded';
  /**
   * Base URL of the merchant scoring service (`GET {url}/merchants/{id}/score`).
   * @default - {@link NO_SCORING_SERVICE_URL}: every merchant gets the fallback score
   */
  readonly scoringUrl?: string;
  /**
   * What `cdk destroy` does with the streams, tables and queues.
   * @default RemovalPolicy.DESTROY: this is a demo; use RETAIN for data you keep
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The fraud-detection application (`functions/fraud-detection`) on AWS: the
 * `transactions` (→ `fraud/transaction-manager`, key = transaction id) and `confirmed-fraud`
 * (→ `fraud/count`, key = account id) Kinesis ingress streams, the four functions as a
 * Lambda, and the `fraud/alerts` egress as an SQS FIFO queue (deduplicated by alert record id).
 *
 * @example
 * new FraudDetectionStack(app, 'FraudDetection', { scoringUrl: 'https://scoring.example.com' });
 */
export class FraudDetectionStack extends Stack {
  readonly transactions: kinesis.Stream;
  readonly confirmedFraud: kinesis.Stream;
  readonly alerts: sqs.Queue;
  readonly functions?: NodejsFunction;
  readonly app: StatefulFunctions;

  constructor(scope: Construct, id: string, props: FraudDetectionStackProps = {}) {
    super(scope, id, props);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.DESTROY;
    const functionsEnv = { FRAUD_SCORING_URL: props.scoringUrl ?? NO_SCORING_SERVICE_URL };

    const ingressStream = (streamId: string) =>
      new kinesis.Stream(this, streamId, {
        streamMode: kinesis.StreamMode.ON_DEMAND,
        encryption: kinesis.StreamEncryption.MANAGED,
        retentionPeriod: Duration.hours(24),
        removalPolicy,
      });
    this.transactions = ingressStream('Transactions');
    this.confirmedFraud = ingressStream('ConfirmedFraud');

    const alertsDeadLetters = new sqs.Queue(this, 'AlertsDeadLetters', {
      fifo: true,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy,
    });
    Validations.of(alertsDeadLetters).acknowledge({
      id: 'Serverless-SQSRedrivePolicy',
      reason: 'This queue is the dead-letter queue of the alerts queue (maxReceiveCount 5); it needs no dead-letter queue of its own.',
    });
    this.alerts = new sqs.Queue(this, 'Alerts', {
      fifo: true,
      // The relay sets MessageDeduplicationId = the alert record's deterministic id.
      contentBasedDeduplication: false,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: alertsDeadLetters, maxReceiveCount: 5 },
      removalPolicy,
    });

    let functions: Pick<StatefulFunctionsProps, 'embeddedFunctions' | 'remoteFunctions'>;
    if (props.functionsMode === 'embedded') {
      functions = { embeddedFunctions: { entry: FUNCTIONS_ENTRY, exportName: 'functions', environment: functionsEnv } };
    } else {
      const logGroup = new logs.LogGroup(this, 'FunctionsLogs', { retention: logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY });
      const role = new iam.Role(this, 'FunctionsRole', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
      logGroup.grantWrite(role);
      acknowledgeXRay(role);
      this.functions = new NodejsFunction(this, 'Functions', {
        description: 'fraud-detection functions (fraud/*) over the StateFun request-reply protocol',
        entry: FUNCTIONS_ENTRY,
        handler: 'handler',
        runtime: LAMBDA_RUNTIME,
        architecture: lambda.Architecture.ARM_64,
        memorySize: 256,
        timeout: Duration.seconds(10),
        tracing: lambda.Tracing.ACTIVE,
        logGroup,
        role,
        environment: functionsEnv,
        projectRoot: PROJECT_ROOT,
        depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
        bundling: { forceDockerBundling: false, externalModules: [], minify: true, sourceMap: true },
      });
      acknowledgeSynchronousOnly(this.functions, 'the dispatcher, which retries and then dead-letters the messages');
      functions = { remoteFunctions: [{ kind: 'lambda', functionType: 'fraud/*', function: this.functions, timeout: Duration.seconds(10) }] };
    }

    this.app = new StatefulFunctions(this, 'App', {
      ...functions,
      ingresses: [
        // Records are the JSON of a Transaction / ConfirmedFraud; valueType tags them as the functions expect.
        { kind: 'kinesis', stream: this.transactions, functionType: FraudTypes.transactionManager, valueType: MessageTypes.transaction.typename },
        { kind: 'kinesis', stream: this.confirmedFraud, functionType: FraudTypes.count, valueType: MessageTypes.confirmedFraud.typename },
      ],
      egresses: { [FraudTypes.alerts]: { kind: 'sqs', queue: this.alerts } },
      removalPolicy,
    });

    new CfnOutput(this, 'TransactionsStreamName', { value: this.transactions.streamName, description: `ingress "${FraudIngresses.transactions}": partition key = transaction id` });
    new CfnOutput(this, 'ConfirmedFraudStreamName', { value: this.confirmedFraud.streamName, description: `ingress "${FraudIngresses.confirmedFraud}": partition key = account id` });
    new CfnOutput(this, 'AlertsQueueUrl', { value: this.alerts.queueUrl, description: 'fraud/alerts egress (FIFO)' });
    new CfnOutput(this, 'DeadLetterQueueUrl', { value: this.app.deadLetterQueue.queueUrl });
    new CfnOutput(this, 'SkippedBatchesBucketName', { value: this.app.skippedBatchesBucket.bucketName, description: 'batches the stream mappings gave up on: npx statefun dlq batches list --bucket <this>' });
    new CfnOutput(this, 'MessageStreamName', { value: this.app.messageStream.streamName });
    new CfnOutput(this, 'StateTableName', { value: this.app.stateTable.tableName });
    new CfnOutput(this, 'DashboardName', { value: this.app.dashboard.dashboardName });
  }
}
