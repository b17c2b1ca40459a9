import * as fs from 'node:fs';
import * as path from 'node:path';
import { Annotations, Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, KinesisEventSource, SqsEventSource, type StreamEventSourceProps } from 'aws-cdk-lib/aws-lambda-event-sources';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { typename } from '../../runtime-lambda/core/Address';
import { SKIPPED_BATCH_PREFIX } from '../../runtime-lambda/aws/skippedBatches';
import { DELAYED_DELIVERY_METRICS, DISPATCHER_METRICS, RECONCILER_METRICS, RELAY_METRICS, SERVICE_NAMES } from '../../runtime-lambda/handlers/observability/telemetry';
import { StatefulFunctionsPropsError } from './StatefulFunctionsPropsError';
import { type KafkaEgressProps, type KafkaIngressProps, type MskIngressProps, type SelfManagedKafkaIngressProps, KAFKA_GROUP_ID, KAFKA_HOST_PORT, KAFKA_TOPIC_NAME, MSK_CLUSTER_ARN, addKafkaIngress, defaultGroupPrefix, grantKafkaEgress, kafkaEgressTarget, kafkaGroupId } from './kafka';
import { FUNCTION_IN_VPC_ACTIONS, grantNetworkInterfaces } from './networkGrants';
import { type DeployedModule, type StatefunModuleProps, deployModule } from './statefunModule';

/** The repository root: entry points and the lock file are found from here. */
const PROJECT_ROOT = path.resolve(__dirname, '..', '..');
const DISPATCHER_ENTRY = path.join(PROJECT_ROOT, 'runtime-lambda', 'handlers', 'dispatcher.ts');
const EMBEDDED_DISPATCHER_ENTRY = path.join(PROJECT_ROOT, 'infra', 'lambda', 'embeddedDispatcher.ts');
const RELAY_ENTRY = path.join(PROJECT_ROOT, 'runtime-lambda', 'handlers', 'relay.ts');
const RECONCILER_ENTRY = path.join(PROJECT_ROOT, 'runtime-lambda', 'handlers', 'reconciler.ts');
const DELAYED_DELIVERY_ENTRY = path.join(PROJECT_ROOT, 'runtime-lambda', 'handlers', 'delayedDelivery.ts');
/** The module name the embedded dispatcher imports; esbuild aliases it to the user's registry module. */
export const EMBEDDED_FUNCTIONS_MODULE = 'statefun-embedded-functions';

/** Timeout of the delayed-delivery Lambda; the delay queue's visibility timeout is 6 times it (AWS' advice for SQS event sources). */
const DELAYED_DELIVERY_TIMEOUT = Duration.seconds(30);

/** Log levels of Powertools' Logger that the construct accepts (`logLevel`). */
export type StatefulFunctionsLogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

/** The newest Node.js runtime aws-cdk-lib 2.276 offers (checked: NODEJS_24_X). */
export const LAMBDA_RUNTIME = lambda.Runtime.NODEJS_24_X;

/**
 * Functions served inside the dispatcher Lambda: a module exporting a `StatefulFunctions`
 * registry (`runtime-lambda/sdk`), bundled into the dispatcher. No Lambda invoke per call:
 * the cheapest way to run functions.
 */
export interface EmbeddedFunctionsProps {
  /** Path of the TypeScript/JavaScript module, absolute or relative to the working directory. */
  readonly entry: string;
  /**
   * The name under which the module exports its `StatefulFunctions` registry.
   * @default 'functions'
   */
  readonly exportName?: string;
  /**
   * Environment variables the embedded functions read (names starting with `STATEFUN_` are reserved).
   * @default - none
   */
  readonly environment?: Readonly<Record<string, string>>;
}

/** Function types served by a remote endpoint: one type (`namespace/type`) or a namespace (`namespace/*`). */
interface RemoteFunctionsBase {
  /** `namespace/type`, or `namespace/*` for every type of the namespace (as in StateFun's module.yaml). */
  readonly functionType: string;
  /**
   * How long the dispatcher waits for one call.
   * @default - the runtime's default for the transport
   */
  readonly timeout?: Duration;
  /**
   * Attempts of one call before the dispatcher gives up on it (its own retries then apply).
   * @default - the runtime's default for the transport
   */
  readonly maxAttempts?: number;
}

/** Functions served by an AWS Lambda (`runtime-lambda/sdk/lambda`'s `lambdaHandler`). Only the dispatcher may invoke it. */
export interface LambdaFunctionsProps extends RemoteFunctionsBase {
  readonly kind: 'lambda';
  readonly function: lambda.IFunction;
}

/** Functions served over HTTP by the StateFun request-reply protocol (`runtime-lambda/sdk/http`, or any StateFun SDK). */
export interface HttpFunctionsProps extends RemoteFunctionsBase {
  readonly kind: 'http';
  /** `https://...` (or `http://`), the endpoint the protocol posts to. */
  readonly url: string;
}

/** A remote function endpoint. */
export type RemoteFunctionsProps = LambdaFunctionsProps | HttpFunctionsProps;

/** A Kinesis stream of raw records for one function type; the record's partition key is the function id (as in StateFun). */
export interface KinesisIngressProps {
  readonly kind: 'kinesis';
  readonly stream: kinesis.IStream;
  /** The target function type, `namespace/type`; or several (StateFun's `targets`): each record goes to every one. */
  readonly functionType: string | readonly string[];
  /**
   * The type name the function sees on the record's bytes.
   * @default - `statefun.aws/kinesis-record-data`: the record's data as is
   */
  readonly valueType?: string;
  /**
   * Where a new mapping starts reading.
   * @default lambda.StartingPosition.TRIM_HORIZON
   */
  readonly startingPosition?: lambda.StartingPosition;
}

/** A header value kept in AWS Secrets Manager: the secret's string, or one field of its JSON. */
export interface HttpHeaderFromSecret {
  readonly secret: secretsmanager.ISecret;
  /** @default - the whole secret string */
  readonly field?: string;
}

/** An ingress: a Kinesis stream, or topics of an Amazon MSK or self-managed Kafka cluster (see docs/kafka.md, "On Amazon MSK"). */
export type IngressProps = KinesisIngressProps | MskIngressProps | SelfManagedKafkaIngressProps;

/** An egress writing to a Kinesis stream: data = the record's bytes, partition key = the record id. */
export interface KinesisEgressProps {
  readonly kind: 'kinesis';
  readonly stream: kinesis.IStream;
}

/**
 * An egress writing to an SQS queue. A FIFO queue gets `MessageDeduplicationId` = the record
 * id (exactly-once delivery within SQS' 5-minute deduplication window) and `MessageGroupId` =
 * `messageGroupId`; a standard queue delivers at least once: consumers drop duplicates by the
 * `statefun-id` attribute.
 */
export interface SqsEgressProps {
  readonly kind: 'sqs';
  readonly queue: sqs.IQueue;
  /**
   * FIFO only: the message group of every record.
   * @default - the egress name
   */
  readonly messageGroupId?: string;
}

/**
 * An egress putting each record on an EventBridge event bus as one event (detail
 * `{id, type, encoding, value}`); the relay gets `events:PutEvents` on that bus only.
 */
export interface EventBridgeEgressProps {
  readonly kind: 'eventBridge';
  readonly eventBus: events.IEventBus;
  /** The events' `source` (1 to 256 characters, not starting with `aws.`). @default - the egress name */
  readonly source?: string;
  /** The events' `detail-type` (1 to 256 characters). @default - the record value's type name */
  readonly detailType?: string;
}

/** An egress sink. */
export type EgressProps = KinesisEgressProps | SqsEgressProps | KafkaEgressProps | EventBridgeEgressProps;

/** Props of {@link StatefulFunctions}. */
export interface StatefulFunctionsProps {
  /**
   * Functions bundled into the dispatcher. At least one of `embeddedFunctions` and `remoteFunctions` is required.
   * @default - none
   */
  readonly embeddedFunctions?: EmbeddedFunctionsProps;
  /**
   * Functions behind Lambda or HTTP endpoints; an exact type wins over a `namespace/*` pattern.
   * @default - none
   */
  readonly remoteFunctions?: readonly RemoteFunctionsProps[];
  /**
   * Raw records for the dispatcher, besides the message stream: Kinesis streams, and topics
   * of Amazon MSK or self-managed Kafka clusters (docs/kafka.md, "On Amazon MSK").
   * @default - none: records reach functions only through the message stream
   */
  readonly ingresses?: readonly IngressProps[];
  /**
   * Egress sinks by egress name (`namespace/type`, as functions name it in `egressMessage`):
   * a Kinesis stream, an SQS queue, Kafka topics or an EventBridge bus.
   * @default - none: an egress record becomes a dead letter
   */
  readonly egresses?: Readonly<Record<string, EgressProps>>;
  /**
   * A StateFun module.yaml to deploy: its HTTP endpoints (and our Lambda kind) become remote
   * functions, its Kinesis ingresses streams and mappings, its Kinesis egresses streams the
   * relay writes the SDKs' `KinesisEgressRecord`s to, its Kafka ingresses and egresses
   * mappings and egresses on the cluster `module.kafka` describes. Read at synth time; a bad module fails
   * the synth naming the document and field. Its function patterns must not repeat
   * `remoteFunctions`', nor its streams and egress ids the `ingresses`' and `egresses`'.
   * @default - none
   */
  readonly module?: StatefunModuleProps;
  /**
   * Headers on every request to an HTTP function endpoint (the module's and
   * `remoteFunctions`'), e.g. `authorization`, their values read from Secrets Manager when
   * the dispatcher starts: the secret's string, or one `field` of its JSON.
   * @default - none
   */
  readonly httpHeaders?: Readonly<Record<string, HttpHeaderFromSecret>>;
  /**
   * Every call to a function carries the state of its address: an `http://` endpoint would
   * carry it in the clear, so one is refused unless this is true (e.g. inside a VPC, or
   * behind a private load balancer you trust).
   * @default false
   */
  readonly allowInsecureHttp?: boolean;
  /**
   * The VPC the dispatcher runs in, to reach private HTTP endpoints. Its subnets need routes
   * to DynamoDB and S3 (gateway endpoints, free), and, as you use them, to Lambda and Secrets
   * Manager (interface endpoints or a NAT gateway).
   * @default - no VPC
   */
  readonly vpc?: ec2.IVpc;
  /** Where in `vpc` the dispatcher's interfaces go. @default - the VPC's private subnets */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /** The dispatcher's security groups in `vpc`. @default - one created by Lambda, all outbound traffic allowed */
  readonly securityGroups?: readonly ec2.ISecurityGroup[];
  /**
   * The VPC the relay and the reconciler run in, to reach the brokers of a Kafka egress (an MSK
   * cluster is reachable from its VPC only). Their subnets need routes to Kinesis, DynamoDB,
   * SQS, S3, EventBridge Scheduler (and Secrets Manager with a secret): a NAT gateway, or
   * interface and gateway endpoints.
   * @default - no VPC
   */
  readonly relayVpc?: ec2.IVpc;
  /** Where in `relayVpc` the relay's and the reconciler's interfaces go. @default - the VPC's private subnets */
  readonly relayVpcSubnets?: ec2.SubnetSelection;
  /** Their security groups in `relayVpc`: the brokers must accept them. @default - one created by Lambda for each, all outbound traffic allowed */
  readonly relaySecurityGroups?: readonly ec2.ISecurityGroup[];

  /**
   * Capacity mode of the message stream.
   * @default kinesis.StreamMode.ON_DEMAND
   */
  readonly messageStreamMode?: kinesis.StreamMode;
  /**
   * Shards of the message stream; only with `messageStreamMode: PROVISIONED`.
   * @default - 1 when provisioned
   */
  readonly messageStreamShardCount?: number;
  /**
   * How long the message stream keeps records (24 hours to 365 days).
   * @default Duration.hours(24)
   */
  readonly messageStreamRetention?: Duration;
  /**
   * A customer managed key for the message stream, both tables and the dead-letter queue.
   * @default - AWS managed keys: `aws/kinesis` for the stream, DynamoDB's owned key for the
   * tables, SSE-SQS for the queue
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * What `cdk destroy` does with the tables, the message stream and the dead-letter queue.
   * @default RemovalPolicy.RETAIN: state, messages in flight and dead letters survive
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * Records per invocation of the stream mappings (1 to 10,000): the dispatcher's (message
   * stream and ingresses) and the relay's (outbox stream).
   *
   * This and the other mapping settings below (`maxBatchingWindow`, `parallelizationFactor`,
   * `retryAttempts`, `maxRecordAge`) do not apply to the delay queue's SQS mapping of the
   * `delayedDelivery` Lambda: it always takes batches of 10 without a batching window, so a
   * due timer is delivered as soon as SQS releases it (a window would make every timer late),
   * and a failing message is retried by the queue's redrive policy (10 receives, then the
   * dead-letter queue), not by stream retries.
   * @default 100
   */
  readonly batchSize?: number;
  /**
   * How long Lambda gathers records before invoking the stream mappings (bigger batches,
   * fewer commits); not the delay queue's mapping (see `batchSize`).
   * @default - no wait
   */
  readonly maxBatchingWindow?: Duration;
  /**
   * Batches processed at once per shard of the stream mappings (1 to 10). On Kinesis, order
   * per partition key (address) is kept; on the outbox's DynamoDB stream, only per item (one
   * commit), which is enough: receivers apply messages from their inboxes in each sender's
   * order, and egress fences keep each address's egress in commit order (see
   * docs/exactly-once.md). Not the delay queue's mapping (see `batchSize`).
   * @default 1
   */
  readonly parallelizationFactor?: number;
  /**
   * Retries of a failing batch of a stream mapping before Lambda skips it to the
   * skipped-batches bucket (0 to 10,000). Not the delay queue's mapping (see `batchSize`).
   * @default 10000: `maxRecordAge` bounds the retries first
   */
  readonly retryAttempts?: number;
  /**
   * Age past which a stream mapping stops retrying a record and skips it to the
   * skipped-batches bucket (60 s to 7 days). Not the delay queue's mapping (see `batchSize`).
   * @default Duration.hours(24), the message stream's and DynamoDB Streams' retention
   */
  readonly maxRecordAge?: Duration;
  /**
   * The duplicate window: how long the runtime keeps proof that an ingress record was
   * applied (an address's mark for a shard, and an address left empty as a tombstone). An
   * ingress record that arrived on its stream longer ago is dropped if provably a duplicate
   * and dead-lettered otherwise, never applied. From 1 hour to 365 days, and at least the
   * message stream's retention and `maxRecordAge`; keep it above the retention of your
   * ingress streams too (see docs/exactly-once.md).
   * @default Duration.days(7)
   */
  readonly duplicateWindow?: Duration;
  /**
   * How long an address whose function fails transiently (5xx, 408, 429, throttling, a
   * timeout, a connection error) keeps retrying before its messages become dead letters.
   * Meanwhile its messages are parked in order in the inbox table and retried with
   * exponential backoff (1 s doubling up to 10 minutes, with jitter); no other address waits
   * for it. `Duration.seconds(0)` dead-letters at the first transient failure. At most 6 days,
   * so the messages other functions sent it outlive the wait in the outbox table (7 days).
   * @default Duration.hours(24)
   */
  readonly retryBudget?: Duration;
  /**
   * How often the reconciler looks for inbox entries and egress fences older than 15 minutes
   * (what a lost relay leaves behind) and delivers them from the tables. The sweep scans the
   * inbox table, which holds only work not yet done.
   * @default Duration.minutes(15)
   */
  readonly reconcileInterval?: Duration;
  /**
   * How often the reconciler looks for timers overdue by 15 minutes (a delivery lost by the
   * delay queue, a schedule or a skipped batch) and fires them from their owners' state. The
   * sweep scans the state table: a read of every state item, so keep it rare on large tables.
   * @default Duration.hours(6)
   */
  readonly timerSweepInterval?: Duration;
  /**
   * How long an address may back off before the `addressBackingOff` alarm fires.
   * @default Duration.minutes(15)
   */
  readonly backoffAlarmThreshold?: Duration;

  /**
   * Memory of the dispatcher Lambda, in MiB.
   * @default 512
   */
  readonly dispatcherMemorySizeMiB?: number;
  /**
   * Timeout of the dispatcher Lambda.
   * @default Duration.seconds(60)
   */
  readonly dispatcherTimeout?: Duration;
  /**
   * Memory of the relay Lambda, in MiB.
   * @default 256
   */
  readonly relayMemorySizeMiB?: number;
  /**
   * Timeout of the relay Lambda.
   * @default Duration.seconds(60)
   */
  readonly relayTimeout?: Duration;
  /**
   * Retention of the Lambdas' log groups.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * X-Ray active tracing of the runtime's Lambdas (Powertools' Tracer: a subsegment per
   * invocation and per AWS SDK call). Loading the X-Ray SDK installs a process-wide async
   * hook that made the embedded dispatch path 1.4 to 2.4 times slower per message in our
   * benchmarks (docs/performance.md); turn tracing off for CPU-bound embedded functions.
   * Off: `Tracing.DISABLED`, `POWERTOOLS_TRACE_ENABLED=false` (the SDK is not loaded) and no
   * X-Ray permissions.
   * @default true
   */
  readonly tracing?: boolean;
  /**
   * Level of the Lambdas' structured logs (Powertools' Logger, `POWERTOOLS_LOG_LEVEL`).
   * @default 'INFO'
   */
  readonly logLevel?: StatefulFunctionsLogLevel;
  /**
   * CloudWatch namespace of the runtime's metrics (Powertools' Metrics, as embedded metric
   * format in the Lambdas' logs: `POWERTOOLS_METRICS_NAMESPACE`). Each Lambda's metrics carry
   * the dimension `service` = its `POWERTOOLS_SERVICE_NAME`.
   * @default - `StatefulFunctions/<stack name>`
   */
  readonly metricsNamespace?: string;

  /**
   * Iterator age (dispatcher or relay) at which the iterator-age alarms fire.
   * @default Duration.minutes(5)
   */
  readonly iteratorAgeAlarmThreshold?: Duration;
  /**
   * Actions of every alarm (e.g. an SNS topic action).
   * @default - none: the alarms only show on the dashboard and the console
   */
  readonly alarmActions?: readonly cloudwatch.IAlarmAction[];
  /**
   * Name of the EventBridge Scheduler group holding delayed messages longer than
   * `sqsDelayMaxDuration` (one one-time schedule per pending delay).
   * @default - a name CloudFormation generates
   */
  readonly scheduleGroupName?: string;
  /**
   * Delays up to this long go through the SQS delay queue (second precision), longer ones
   * through EventBridge Scheduler (minute precision). Above 15 minutes, SQS messages hop
   * through the queue more than once.
   * @default Duration.minutes(15)
   */
  readonly sqsDelayMaxDuration?: Duration;
}

/** The alarms of a {@link StatefulFunctions}. */
export interface StatefulFunctionsAlarms {
  /** The dispatcher is behind on the message stream or an ingress. */
  readonly dispatcherIteratorAge: cloudwatch.Alarm;
  /** An address has been backing off longer than `backoffAlarmThreshold`: its function keeps failing transiently. */
  readonly addressBackingOff: cloudwatch.Alarm;
  /** The relay is behind on the outbox stream (DynamoDB Streams keep records 24 hours). */
  readonly relayIteratorAge: cloudwatch.Alarm;
  /** The dead-letter queue holds messages. */
  readonly deadLetters: cloudwatch.Alarm;
  /** A stream mapping gave up on a batch: it is in the skipped-batches bucket, to be redriven. */
  readonly skippedBatches: cloudwatch.Alarm;
  readonly dispatcherErrors: cloudwatch.Alarm;
  readonly relayErrors: cloudwatch.Alarm;
  readonly dispatcherThrottles: cloudwatch.Alarm;
  readonly relayThrottles: cloudwatch.Alarm;
  readonly delayedDeliveryErrors: cloudwatch.Alarm;
  readonly delayedDeliveryThrottles: cloudwatch.Alarm;
  /** A reconciler sweep failed (the next one tries again). */
  readonly reconcilerErrors: cloudwatch.Alarm;
  /** The reconciler found overdue timers whose message is gone: they will never fire. */
  readonly timersLost: cloudwatch.Alarm;
}

/** A deployed Stateful Functions application: what producers, operators and tools may be granted and watch. */
export interface IStatefulFunctions {
  /** The message stream: envelopes partitioned by address. */
  readonly messageStream: kinesis.IStream;
  /** One item per address (partition key `address`). */
  readonly stateTable: dynamodb.ITableV2;
  /** One item per commit with effects (`address`, `version`), streamed to the relay. */
  readonly outboxTable: dynamodb.ITableV2;
  /** Messages committed by their senders and not yet applied: one item per receiver and sending commit (`address`, `key`). */
  readonly inboxTable: dynamodb.ITableV2;
  /** Dead letters: messages, egress records and timers given up on, each with its reason. */
  readonly deadLetterQueue: sqs.IQueue;
  /** Batches the event-source mappings gave up on, kept whole (the S3 on-failure destination). */
  readonly skippedBatchesBucket: s3.IBucket;
  readonly dispatcher: lambda.IFunction;
  readonly relay: lambda.IFunction;

  /** Lets `grantee` put records on the message stream (`PutRecord`, `PutRecords`, `ListShards`, and the key). */
  grantSend(grantee: iam.IGrantable): iam.Grant;
  /** Lets `grantee` read the state table (e.g. a query service or `statefun` CLI inspection). */
  grantReadState(grantee: iam.IGrantable): iam.Grant;
  /** Lets `grantee` receive and delete dead letters and read the oversized ones kept whole (`statefun dlq list`, `show`; `redrive` also needs {@link grantSend}). */
  grantConsumeDeadLetters(grantee: iam.IGrantable): iam.Grant;
  /** Lets `grantee` list, read and delete skipped batches and invoke the dispatcher and relay with them (`statefun dlq batches`). */
  grantRedriveSkippedBatches(grantee: iam.IGrantable): iam.Grant;

  /** The dispatcher's iterator age (maximum over its mappings), in milliseconds. @default - maximum over 1 minute */
  metricIteratorAge(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** The relay's iterator age on the outbox stream, in milliseconds. @default - maximum over 1 minute */
  metricRelayIteratorAge(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** Dead letters waiting (`ApproximateNumberOfMessagesVisible`). @default - maximum over 1 minute */
  metricDeadLetters(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** Batches the event-source mappings gave up on (objects written to the skipped-batches bucket). @default - sum over 5 minutes */
  metricSkippedBatches(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** Failed dispatcher invocations. @default - sum over 5 minutes */
  metricDispatcherErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** Failed relay invocations. @default - sum over 5 minutes */
  metricRelayErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** Failed delayed-delivery invocations. @default - sum over 5 minutes */
  metricDelayedDeliveryErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /**
   * Commits that lost the version race to another dispatcher and were re-run (the
   * dispatcher's `CommitConflicts` metric). @default - sum over 5 minutes
   */
  metricCommitConflicts(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /**
   * Seconds the longest-waiting address has been backing off after transient failures of
   * its function (the dispatcher's `BackoffAgeSeconds` metric). @default - maximum over 5 minutes
   */
  metricBackoffAge(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
}

const FUNCTION_PATTERN_HINT = 'use "namespace/type" or "namespace/*", e.g. "fraud/*"';

/**
 * Stateful Functions on AWS: the message stream (Kinesis), the state and outbox tables
 * (DynamoDB), the dispatcher and relay Lambdas with safe event-source mappings, a
 * dead-letter queue, alarms and a dashboard.
 *
 * - Kinesis (message stream and ingresses) → dispatcher; outbox stream → relay: TRIM_HORIZON,
 *   `ReportBatchItemFailures`, bisect on error, bounded retries and record age, skipped
 *   batches kept whole in the skipped-batches bucket (replayed by `statefun dlq batches redrive`).
 * - Each Lambda's role reaches only its own resources; the only `*` resources are X-Ray's,
 *   which has no narrower one.
 *
 * @example
 * const app = new StatefulFunctions(this, 'App', {
 *   remoteFunctions: [{ kind: 'lambda', functionType: 'fraud/*', function: fraudFn }],
 *   ingresses: [{ kind: 'kinesis', stream: transactions, functionType: 'fraud/transaction-manager' }],
 *   egresses: { 'fraud/alerts': { kind: 'sqs', queue: alerts } },
 * });
 * app.grantSend(producerFn);
 */
export class StatefulFunctions extends Construct implements IStatefulFunctions {
  readonly messageStream: kinesis.Stream;
  readonly stateTable: dynamodb.TableV2;
  readonly outboxTable: dynamodb.TableV2;
  readonly inboxTable: dynamodb.TableV2;
  readonly deadLetterQueue: sqs.Queue;
  /**
   * Where a dead letter too large for its commit or for an SQS message is kept whole (the
   * queue gets its stub with an `s3://` `payloadRef`, which `statefun dlq` reads through).
   * Objects expire a day after the dead-letter queue's 14-day retention.
   */
  readonly payloadBucket: s3.Bucket;
  /**
   * The on-failure destination of every stream mapping (message stream, ingresses, outbox
   * stream): a batch a mapping gives up on lands here whole, the event and its records, not
   * just their coordinates, so `statefun dlq batches redrive` can replay it through the
   * function. The `SkippedBatchesAlarm` fires on every object written.
   */
  readonly skippedBatchesBucket: s3.Bucket;
  readonly dispatcher: NodejsFunction;
  readonly relay: NodejsFunction;
  readonly dispatcherLogGroup: logs.LogGroup;
  readonly relayLogGroup: logs.LogGroup;
  /** Delivers from the tables what a lost relay left behind (see `reconcileInterval`, `timerSweepInterval`). */
  readonly reconciler: NodejsFunction;
  readonly reconcilerLogGroup: logs.LogGroup;
  readonly alarms: StatefulFunctionsAlarms;
  readonly dashboard: cloudwatch.Dashboard;
  /** The schedule group of long delays: raise its account's Scheduler quotas as your timers need. */
  readonly scheduleGroup: scheduler.ScheduleGroup;
  /** The role EventBridge Scheduler assumes to put fired timers on the message stream. */
  readonly schedulerRole: iam.Role;
  /** Short delays (up to `sqsDelayMaxDuration`): an SQS queue with per-message delays. */
  readonly delayQueue: sqs.Queue;
  /** Moves due messages from the delay queue onto the message stream. */
  readonly delayedDelivery: NodejsFunction;
  readonly delayedDeliveryLogGroup: logs.LogGroup;
  /** CloudWatch namespace of the runtime's metrics (`metricsNamespace`). */
  readonly metricsNamespace: string;

  constructor(scope: Construct, id: string, props: StatefulFunctionsProps) {
    super(scope, id);
    const check = new PropsChecker(this.node.path, this);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const deployed = props.module
      ? deployModule(this, props.module, { constructPath: this.node.path, removalPolicy, ...(props.encryptionKey ? { encryptionKey: props.encryptionKey } : {}) })
      : undefined;
    check.all(props, deployed);

    const key = props.encryptionKey;
    const provisioned = props.messageStreamMode === kinesis.StreamMode.PROVISIONED;

    this.messageStream = new kinesis.Stream(this, 'MessageStream', {
      streamMode: provisioned ? kinesis.StreamMode.PROVISIONED : kinesis.StreamMode.ON_DEMAND,
      ...(provisioned ? { shardCount: props.messageStreamShardCount ?? 1 } : {}),
      retentionPeriod: props.messageStreamRetention ?? Duration.hours(24),
      ...(key ? { encryption: kinesis.StreamEncryption.KMS, encryptionKey: key } : { encryption: kinesis.StreamEncryption.MANAGED }),
      removalPolicy,
    });

    if (key) {
      Validations.of(this.messageStream).acknowledge({
        id: 'AwsSolutions-KDS3',
        reason: 'The caller chose a customer managed key (encryptionKey) over aws/kinesis, e.g. for key-policy control and CloudTrail audit of every use; without one the stream uses aws/kinesis.',
      });
    }

    const encryption = key ? dynamodb.TableEncryptionV2.customerManagedKey(key) : dynamodb.TableEncryptionV2.dynamoOwnedKey();
    const tableBase = {
      billing: dynamodb.Billing.onDemand(),
      encryption,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy,
    };
    this.stateTable = new dynamodb.TableV2(this, 'StateTable', {
      ...tableBase,
      partitionKey: { name: 'address', type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: 'ttl',
    });
    this.outboxTable = new dynamodb.TableV2(this, 'OutboxTable', {
      ...tableBase,
      partitionKey: { name: 'address', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'version', type: dynamodb.AttributeType.NUMBER },
      dynamoStream: dynamodb.StreamViewType.NEW_IMAGE,
      // DynamoStateStore stamps each outbox item 7 days past its commit (STATEFUN_OUTBOX_TTL_DAYS);
      // TTL deletions reach the stream as REMOVE records, which the relay ignores.
      timeToLiveAttribute: 'ttl',
    });
    // No TTL: an inbox item is a message not yet applied, removed by its receiver's dispatcher.
    this.inboxTable = new dynamodb.TableV2(this, 'InboxTable', {
      ...tableBase,
      partitionKey: { name: 'address', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'key', type: dynamodb.AttributeType.STRING },
    });

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      ...(key ? { encryption: sqs.QueueEncryption.KMS, encryptionMasterKey: key } : { encryption: sqs.QueueEncryption.SQS_MANAGED }),
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy,
    });

    this.payloadBucket = new s3.Bucket(this, 'PayloadBucket', {
      ...(key ? { encryption: s3.BucketEncryption.KMS, encryptionKey: key, bucketKeyEnabled: true } : { encryption: s3.BucketEncryption.S3_MANAGED }),
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      lifecycleRules: [{ expiration: Duration.days(15) }],
      removalPolicy,
    });
    Validations.of(this.payloadBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'The bucket holds only the oversized dead letters of this application, written by its own dispatcher and relay and read by operators through statefun dlq; CloudTrail data events can audit it where needed.',
    });

    this.skippedBatchesBucket = new s3.Bucket(this, 'SkippedBatchesBucket', {
      ...(key ? { encryption: s3.BucketEncryption.KMS, encryptionKey: key, bucketKeyEnabled: true } : { encryption: s3.BucketEncryption.S3_MANAGED }),
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      lifecycleRules: [{ expiration: SKIPPED_BATCH_RETENTION }],
      // Request metrics of the whole bucket: PutRequests counts the batches written, for the alarm.
      metrics: [{ id: SKIPPED_BATCHES_METRICS_FILTER }],
      removalPolicy,
    });
    Validations.of(this.skippedBatchesBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'Only Lambda writes here (the on-failure destination of this application\'s own mappings), and operators read it through statefun dlq batches; CloudTrail data events can audit it where needed.',
    });

    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is a dead-letter queue: where the dispatcher, the relay and Scheduler put dead letters (none is a RedrivePolicy, so the rule cannot see it).',
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'Serverless-SQSRedrivePolicy',
      reason: 'This queue is the dead-letter queue itself; a dead-letter queue for it would only move the messages one queue further. The DeadLettersAlarm fires on its first message.',
    });

    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    this.metricsNamespace = props.metricsNamespace ?? `StatefulFunctions/${Stack.of(this).stackName}`;
    const tracing = props.tracing ?? true;
    const powertoolsEnv = (service: string) => ({
      POWERTOOLS_SERVICE_NAME: service,
      POWERTOOLS_METRICS_NAMESPACE: this.metricsNamespace,
      POWERTOOLS_LOG_LEVEL: props.logLevel ?? 'INFO',
      ...(tracing ? {} : { POWERTOOLS_TRACE_ENABLED: 'false' }),
    });
    this.dispatcherLogGroup = new logs.LogGroup(this, 'DispatcherLogs', { retention: logRetention, removalPolicy: RemovalPolicy.DESTROY });
    this.relayLogGroup = new logs.LogGroup(this, 'RelayLogs', { retention: logRetention, removalPolicy: RemovalPolicy.DESTROY });
    this.reconcilerLogGroup = new logs.LogGroup(this, 'ReconcilerLogs', { retention: logRetention, removalPolicy: RemovalPolicy.DESTROY });

    // --- dispatcher
    const embedded = props.embeddedFunctions;
    const stack = Stack.of(this);
    const dispatcherEnv: Record<string, string> = {
      ...embedded?.environment,
      ...powertoolsEnv(SERVICE_NAMES.dispatcher),
      STATEFUN_STATE_TABLE: this.stateTable.tableName,
      STATEFUN_OUTBOX_TABLE: this.outboxTable.tableName,
      STATEFUN_INBOX_TABLE: this.inboxTable.tableName,
      STATEFUN_DUPLICATE_WINDOW_SECONDS: String((props.duplicateWindow ?? Duration.days(7)).toSeconds()),
      STATEFUN_RETRY_BUDGET_SECONDS: String((props.retryBudget ?? Duration.hours(24)).toSeconds()),
      STATEFUN_PAYLOAD_BUCKET: this.payloadBucket.bucketName,
    };
    if (props.remoteFunctions?.length) dispatcherEnv.STATEFUN_FUNCTIONS = stack.toJsonString(functionsEnv(props.remoteFunctions));
    if (deployed?.endpoints.length) dispatcherEnv.STATEFUN_MODULE_ENDPOINTS = JSON.stringify(deployed.endpoints);
    const ingressStreams = ingressesEnv(props.ingresses ?? [], deployed);
    if (Object.keys(ingressStreams).length > 0) dispatcherEnv.STATEFUN_INGRESSES = stack.toJsonString(ingressStreams);
    const kafkaIngresses = allKafkaIngresses(props, deployed);
    if (kafkaIngresses.length > 0) dispatcherEnv.STATEFUN_KAFKA_INGRESSES = JSON.stringify(kafkaIngressesEnv(kafkaIngresses));
    if (props.httpHeaders && Object.keys(props.httpHeaders).length > 0) {
      dispatcherEnv.STATEFUN_HTTP_HEADER_SECRETS = stack.toJsonString(
        Object.fromEntries(Object.entries(props.httpHeaders).map(([header, value]) => [header, { secretArn: value.secret.secretArn, ...(value.field ? { field: value.field } : {}) }])),
      );
    }
    if (embedded) dispatcherEnv.STATEFUN_EMBEDDED_EXPORT = embedded.exportName ?? 'functions';

    this.dispatcher = new NodejsFunction(this, 'Dispatcher', {
      ...lambdaBase(this, 'DispatcherRole', this.dispatcherLogGroup, key, tracing),
      description: 'Stateful Functions dispatcher: message stream and ingresses -> functions -> state + outbox',
      entry: embedded ? EMBEDDED_DISPATCHER_ENTRY : DISPATCHER_ENTRY,
      memorySize: props.dispatcherMemorySizeMiB ?? 512,
      timeout: props.dispatcherTimeout ?? Duration.seconds(60),
      environment: dispatcherEnv,
      bundling: bundling(embedded ? { '--alias': `${EMBEDDED_FUNCTIONS_MODULE}=${path.resolve(embedded.entry)}` } : undefined),
      ...(props.vpc ? { vpc: props.vpc, ...(props.vpcSubnets ? { vpcSubnets: props.vpcSubnets } : {}), ...(props.securityGroups ? { securityGroups: [...props.securityGroups] } : {}) } : {}),
    });
    if (props.vpc) grantNetworkInterfaces(this.dispatcher, FUNCTION_IN_VPC_ACTIONS);
    for (const value of Object.values(props.httpHeaders ?? {})) value.secret.grantRead(this.dispatcher);
    // Exactly the calls DynamoStateStore makes: BatchGetItem to load, PutItem or TransactWriteItems(Put) to commit,
    // Query to read an inbox, BatchWriteItem(Delete) to clear it.
    this.stateTable.grant(this.dispatcher, 'dynamodb:BatchGetItem', 'dynamodb:PutItem');
    this.outboxTable.grant(this.dispatcher, 'dynamodb:PutItem');
    this.inboxTable.grant(this.dispatcher, 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:BatchWriteItem');
    this.grantPutDeadLetterPayloads(this.dispatcher);
    acknowledgeSynchronousOnly(this.dispatcher, "the event-source mappings' on-failure destination, the skipped-batches bucket");
    key?.grant(this.dispatcher, 'kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey*', 'kms:DescribeKey');
    for (const remote of props.remoteFunctions ?? []) {
      // The function's own ARN only (grantInvoke would add `<arn>:*`, every version and alias).
      if (remote.kind === 'lambda') iam.Grant.addToPrincipal({ grantee: this.dispatcher, actions: ['lambda:InvokeFunction'], resourceArns: [remote.function.functionArn] });
    }
    for (const arn of deployed?.lambdaFunctionArns ?? []) {
      iam.Grant.addToPrincipal({ grantee: this.dispatcher, actions: ['lambda:InvokeFunction'], resourceArns: [arn] });
      if (arn.includes('*') && !Token.isUnresolved(arn)) {
        Validations.of(this.dispatcher.role!).acknowledge({
          id: `AwsSolutions-IAM5[Resource::${arn}]`,
          reason: "The module's Lambda endpoint names its functions by a {function.name} template: the dispatcher may invoke the functions that template can name, no other.",
        });
      }
    }

    const mapping = {
      batchSize: props.batchSize ?? 100,
      ...(props.maxBatchingWindow ? { maxBatchingWindow: props.maxBatchingWindow } : {}),
      parallelizationFactor: props.parallelizationFactor ?? 1,
      retryAttempts: props.retryAttempts ?? 10000,
      maxRecordAge: props.maxRecordAge ?? Duration.hours(24),
      bisectBatchOnError: true,
      reportBatchItemFailures: true,
      onFailure: new SkippedBatchesDestination(this.skippedBatchesBucket),
    } satisfies Omit<StreamEventSourceProps, 'startingPosition'>;
    this.dispatcher.addEventSource(new KinesisEventSource(this.messageStream, { ...mapping, startingPosition: lambda.StartingPosition.TRIM_HORIZON }));
    for (const ingress of props.ingresses ?? []) {
      if (ingress.kind !== 'kinesis') continue;
      this.dispatcher.addEventSource(
        new KinesisEventSource(ingress.stream, { ...mapping, startingPosition: ingress.startingPosition ?? lambda.StartingPosition.TRIM_HORIZON }),
      );
    }
    for (const ingress of deployed?.ingresses ?? []) {
      this.dispatcher.addEventSource(
        new KinesisEventSource(ingress.stream, {
          ...mapping,
          startingPosition: ingress.startingPosition,
          ...(ingress.startingPositionTimestamp !== undefined ? { startingPositionTimestamp: ingress.startingPositionTimestamp } : {}),
        }),
      );
    }
    const groupPrefix = defaultGroupPrefix(this);
    kafkaIngresses.forEach((ingress, i) => addKafkaIngress(this.dispatcher, ingress, i, groupPrefix));

    // --- delayed messages: EventBridge Scheduler (long) and an SQS delay queue (short)
    this.scheduleGroup = new scheduler.ScheduleGroup(this, 'ScheduleGroup', {
      ...(props.scheduleGroupName ? { scheduleGroupName: props.scheduleGroupName } : {}),
      removalPolicy,
    });
    this.schedulerRole = new iam.Role(this, 'SchedulerRole', {
      // Confused-deputy protection as the Scheduler guide recommends: only schedules of this
      // application's group (aws:SourceArn = the group's ARN), not any schedule of the account.
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account, 'aws:SourceArn': this.scheduleGroup.scheduleGroupArn } },
      }),
      description: 'EventBridge Scheduler puts fired Stateful Functions timers on the message stream',
    });
    iam.Grant.addToPrincipal({ grantee: this.schedulerRole, actions: ['kinesis:PutRecord'], resourceArns: [this.messageStream.streamArn] });
    // A timer Scheduler cannot put within its retry policy goes to the dead-letter queue (the schedule's DeadLetterConfig).
    iam.Grant.addToPrincipal({ grantee: this.schedulerRole, actions: ['sqs:SendMessage'], resourceArns: [this.deadLetterQueue.queueArn] });
    if (key) {
      // A data key for the stream's records and the queue's messages; SQS also needs Decrypt from a producer.
      key.grant(this.schedulerRole, 'kms:GenerateDataKey*', 'kms:Decrypt');
      acknowledgeKmsWildcards(this.schedulerRole);
    }
    this.delayQueue = new sqs.Queue(this, 'DelayQueue', {
      ...(key ? { encryption: sqs.QueueEncryption.KMS, encryptionMasterKey: key } : { encryption: sqs.QueueEncryption.SQS_MANAGED }),
      enforceSSL: true,
      retentionPeriod: Duration.days(4),
      // AWS' advice for an SQS event source: at least 6 times the function's timeout, so a
      // message is not received again while a throttled or retried invocation still holds it.
      visibilityTimeout: Duration.seconds(6 * DELAYED_DELIVERY_TIMEOUT.toSeconds()),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: 10 },
      removalPolicy,
    });
    this.delayedDeliveryLogGroup = new logs.LogGroup(this, 'DelayedDeliveryLogs', { retention: logRetention, removalPolicy: RemovalPolicy.DESTROY });
    this.delayedDelivery = new NodejsFunction(this, 'DelayedDelivery', {
      ...lambdaBase(this, 'DelayedDeliveryRole', this.delayedDeliveryLogGroup, key, tracing),
      description: 'Stateful Functions delayed delivery: SQS delay queue -> message stream',
      entry: DELAYED_DELIVERY_ENTRY,
      memorySize: 256,
      timeout: DELAYED_DELIVERY_TIMEOUT,
      environment: {
        ...powertoolsEnv(SERVICE_NAMES.delayedDelivery),
        STATEFUN_MESSAGE_STREAM: this.messageStream.streamArn,
        STATEFUN_DELAY_QUEUE_URL: this.delayQueue.queueUrl,
      },
      bundling: bundling(),
    });
    // Exactly the calls handlers/delayedDelivery.ts makes: PutRecords of due messages, SendMessageBatch
    // (sqs:SendMessage) of messages to delay again; the mapping adds receive/delete on the queue.
    iam.Grant.addToPrincipal({ grantee: this.delayedDelivery, actions: ['kinesis:PutRecords'], resourceArns: [this.messageStream.streamArn] });
    key?.grant(this.delayedDelivery, 'kms:GenerateDataKey*');
    this.delayQueue.grantSendMessages(this.delayedDelivery);
    this.delayedDelivery.addEventSource(new SqsEventSource(this.delayQueue, { batchSize: 10, reportBatchItemFailures: true }));
    acknowledgeSynchronousOnly(this.delayedDelivery, "the delay queue's redrive policy (to the dead-letter queue after 10 receives)");
    Validations.of(this.delayedDelivery).acknowledge({
      id: 'Serverless-LambdaEventSourceMappingDestination',
      reason: 'An SQS event-source mapping takes no on-failure destination; a message that keeps failing moves to the dead-letter queue through the delay queue\'s redrive policy.',
    });

    // --- relay
    const relayEnv: Record<string, string> = {
      ...powertoolsEnv(SERVICE_NAMES.relay),
      STATEFUN_MESSAGE_STREAM: this.messageStream.streamArn,
      STATEFUN_DLQ_URL: this.deadLetterQueue.queueUrl,
      STATEFUN_MESSAGE_STREAM_ARN: this.messageStream.streamArn,
      STATEFUN_SCHEDULE_GROUP: this.scheduleGroup.scheduleGroupName,
      STATEFUN_SCHEDULER_ROLE_ARN: this.schedulerRole.roleArn,
      STATEFUN_SCHEDULER_DLQ_ARN: this.deadLetterQueue.queueArn,
      STATEFUN_DELAY_QUEUE_URL: this.delayQueue.queueUrl,
      STATEFUN_SQS_DELAY_MAX_SECONDS: String((props.sqsDelayMaxDuration ?? Duration.minutes(15)).toSeconds()),
      STATEFUN_INBOX_TABLE: this.inboxTable.tableName,
      STATEFUN_PAYLOAD_BUCKET: this.payloadBucket.bucketName,
    };
    const egressSinks = egressesEnv(props.egresses ?? {}, deployed);
    if (Object.keys(egressSinks).length > 0) relayEnv.STATEFUN_EGRESSES = stack.toJsonString(egressSinks);
    const relayNetwork = props.relayVpc
      ? { vpc: props.relayVpc, ...(props.relayVpcSubnets ? { vpcSubnets: props.relayVpcSubnets } : {}), ...(props.relaySecurityGroups ? { securityGroups: [...props.relaySecurityGroups] } : {}) }
      : {};
    this.relay = new NodejsFunction(this, 'Relay', {
      ...lambdaBase(this, 'RelayRole', this.relayLogGroup, key, tracing),
      description: 'Stateful Functions relay: outbox stream -> message stream, egresses, dead-letter queue',
      entry: RELAY_ENTRY,
      memorySize: props.relayMemorySizeMiB ?? 256,
      timeout: props.relayTimeout ?? Duration.seconds(60),
      environment: relayEnv,
      bundling: bundling(),
      ...relayNetwork,
    });
    if (props.relayVpc) grantNetworkInterfaces(this.relay, FUNCTION_IN_VPC_ACTIONS);
    acknowledgeSynchronousOnly(this.relay, "the outbox mapping's on-failure destination, the skipped-batches bucket");
    this.grantPublish(this.relay, props, deployed);
    // At most DynamoDB Streams' 1,000 records a batch; lanes by item key are safe (inbox, egress fence).
    this.relay.addEventSource(
      new DynamoEventSource(this.outboxTable, { ...mapping, batchSize: Math.min(mapping.batchSize, 1000), startingPosition: lambda.StartingPosition.TRIM_HORIZON }),
    );

    // --- reconciler
    this.reconciler = new NodejsFunction(this, 'Reconciler', {
      ...lambdaBase(this, 'ReconcilerRole', this.reconcilerLogGroup, key, tracing),
      description: 'Stateful Functions reconciler: delivers from the tables what a lost relay left behind',
      entry: RECONCILER_ENTRY,
      memorySize: props.relayMemorySizeMiB ?? 256,
      timeout: Duration.minutes(15),
      environment: {
        ...relayEnv,
        ...powertoolsEnv(SERVICE_NAMES.reconciler),
        STATEFUN_STATE_TABLE: this.stateTable.tableName,
        STATEFUN_OUTBOX_TABLE: this.outboxTable.tableName,
      },
      bundling: bundling(),
      ...relayNetwork,
    });
    if (props.relayVpc) grantNetworkInterfaces(this.reconciler, FUNCTION_IN_VPC_ACTIONS);
    acknowledgeSynchronousOnly(this.reconciler, 'its own schedule: a failed sweep is simply done again by the next one');
    this.grantPublish(this.reconciler, props, deployed);
    this.inboxTable.grant(this.reconciler, 'dynamodb:Scan');
    this.stateTable.grant(this.reconciler, 'dynamodb:Scan');
    this.outboxTable.grant(this.reconciler, 'dynamodb:GetItem');
    for (const [sweep, every] of [['inbox', props.reconcileInterval ?? Duration.minutes(15)], ['timers', props.timerSweepInterval ?? Duration.hours(6)]] as const) {
      const rule = new events.Rule(this, sweep === 'inbox' ? 'ReconcileInboxSchedule' : 'ReconcileTimersSchedule', {
        description: `Stateful Functions reconciler: the ${sweep} sweep`,
        schedule: events.Schedule.rate(every),
        targets: [new targets.LambdaFunction(this.reconciler, { event: events.RuleTargetInput.fromObject({ sweep }), retryAttempts: 0 })],
      });
      Validations.of(rule).acknowledge({
        id: 'Serverless-EventBusDLQ',
        reason: 'A scheduled sweep that fails to start is replaced by the next one, which does the same work; the ReconcilerErrorsAlarm fires on failed sweeps.',
      });
    }

    // --- alarms and dashboard
    const ageThreshold = (props.iteratorAgeAlarmThreshold ?? Duration.minutes(5)).toMilliseconds();
    const alarm = (id: string, metric: cloudwatch.Metric, threshold: number, description: string) => {
      const created = metric.createAlarm(this, id, {
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      for (const action of props.alarmActions ?? []) created.addAlarmAction(action);
      return created;
    };
    this.alarms = {
      dispatcherIteratorAge: alarm('DispatcherIteratorAgeAlarm', this.metricIteratorAge(), ageThreshold, 'The dispatcher is behind on the message stream or an ingress stream: records are older than the threshold.'),
      addressBackingOff: alarm(
        'AddressBackingOffAlarm',
        this.metricBackoffAge(),
        (props.backoffAlarmThreshold ?? Duration.minutes(15)).toSeconds(),
        `An address has been backing off longer than ${(props.backoffAlarmThreshold ?? Duration.minutes(15)).toHumanString()}: its function keeps failing transiently (unavailable, throttled, timing out). Its messages are parked, not lost, and become dead letters when the retry budget (${(props.retryBudget ?? Duration.hours(24)).toHumanString()}) is spent. The dispatcher's "addresses backing off" log line names the address and the last error (docs/operations.md).`,
      ),
      relayIteratorAge: alarm('RelayIteratorAgeAlarm', this.metricRelayIteratorAge(), ageThreshold, 'The relay is behind on the outbox stream (DynamoDB Streams keep records 24 hours).'),
      skippedBatches: alarm(
        'SkippedBatchesAlarm',
        this.metricSkippedBatches(),
        1,
        'An event-source mapping gave up on a batch (its retries or the records\' maximum age spent) and wrote it whole to the skipped-batches bucket: find the cause in the function\'s log, fix it, then `npx statefun dlq batches list --bucket <SkippedBatchesBucketName>` and `npx statefun dlq batches redrive --bucket <SkippedBatchesBucketName>` (docs/operations.md).',
      ),
      deadLetters: alarm('DeadLettersAlarm', this.metricDeadLetters(), 1, 'The dead-letter queue holds messages: list them with `npx statefun dlq list --queue-url <DeadLetterQueueUrl>`, then `show`, `redrive` (after a fix) or `purge` (docs/operations.md).'),
      dispatcherErrors: alarm('DispatcherErrorsAlarm', this.metricDispatcherErrors(), 1, 'Dispatcher invocations failed (the batch is retried).'),
      relayErrors: alarm('RelayErrorsAlarm', this.metricRelayErrors(), 1, 'Relay invocations failed (the batch is retried).'),
      dispatcherThrottles: alarm('DispatcherThrottlesAlarm', this.dispatcher.metricThrottles({ period: Duration.minutes(5), statistic: 'Sum' }), 1, 'Dispatcher invocations were throttled: check the account concurrency.'),
      relayThrottles: alarm('RelayThrottlesAlarm', this.relay.metricThrottles({ period: Duration.minutes(5), statistic: 'Sum' }), 1, 'Relay invocations were throttled: check the account concurrency.'),
      delayedDeliveryErrors: alarm('DelayedDeliveryErrorsAlarm', this.metricDelayedDeliveryErrors(), 1, 'Delayed-delivery invocations failed (the delay queue delivers the messages again, then redrives them to the dead-letter queue).'),
      delayedDeliveryThrottles: alarm('DelayedDeliveryThrottlesAlarm', this.delayedDelivery.metricThrottles({ period: Duration.minutes(5), statistic: 'Sum' }), 1, 'Delayed-delivery invocations were throttled: check the account concurrency.'),
      reconcilerErrors: alarm('ReconcilerErrorsAlarm', this.reconciler.metricErrors({ statistic: 'Sum', period: Duration.minutes(15) }), 1, 'A reconciler sweep failed: the next one tries again; see its log for the error (docs/operations.md).'),
      timersLost: alarm(
        'TimersLostAlarm',
        this.runtimeMetric(SERVICE_NAMES.reconciler, RECONCILER_METRICS.timersLost, { period: Duration.hours(1) }),
        1,
        'The reconciler found overdue timers whose message is no longer in the outbox table: they stay pending and never fire. Its log names the owners; see docs/operations.md.',
      ),
    };
    const lambdas = [this.dispatcher, this.relay, this.delayedDelivery];

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      widgets: [
        [
          new cloudwatch.GraphWidget({ title: 'Iterator age (ms)', left: [this.metricIteratorAge(), this.metricRelayIteratorAge()], width: 12 }),
          new cloudwatch.GraphWidget({ title: 'Dead letters waiting, batches skipped', left: [this.metricDeadLetters()], right: [this.metricSkippedBatches()], width: 12 }),
        ],
        [
          new cloudwatch.GraphWidget({ title: 'Invocations', left: lambdas.map((fn) => fn.metricInvocations()), width: 8 }),
          new cloudwatch.GraphWidget({
            title: 'Errors and throttles',
            left: [this.metricDispatcherErrors(), this.metricRelayErrors(), this.metricDelayedDeliveryErrors(), ...lambdas.map((fn) => fn.metricThrottles())],
            width: 8,
          }),
          new cloudwatch.GraphWidget({ title: 'Duration (p99)', left: lambdas.map((fn) => fn.metricDuration({ statistic: 'p99' })), width: 8 }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'Dispatcher (messages)',
            left: [DISPATCHER_METRICS.messagesApplied, DISPATCHER_METRICS.duplicatesDropped, DISPATCHER_METRICS.deadLetters, DISPATCHER_METRICS.messagesParked].map((name) => this.runtimeMetric(SERVICE_NAMES.dispatcher, name)),
            right: [this.metricCommitConflicts(), this.runtimeMetric(SERVICE_NAMES.dispatcher, DISPATCHER_METRICS.addressesNotCommitted), this.runtimeMetric(SERVICE_NAMES.dispatcher, DISPATCHER_METRICS.addressesBackingOff), this.metricBackoffAge()],
            width: 8,
          }),
          new cloudwatch.GraphWidget({
            title: 'Relay (effects)',
            left: [RELAY_METRICS.messagesRelayed, RELAY_METRICS.egressRecordsRelayed, RELAY_METRICS.deadLetters].map((name) => this.runtimeMetric(SERVICE_NAMES.relay, name)),
            right: [RELAY_METRICS.timersScheduled, RELAY_METRICS.timersCancelled].map((name) => this.runtimeMetric(SERVICE_NAMES.relay, name)),
            width: 8,
          }),
          new cloudwatch.GraphWidget({
            title: 'Delayed delivery (timers)',
            left: Object.values(DELAYED_DELIVERY_METRICS).map((name) => this.runtimeMetric(SERVICE_NAMES.delayedDelivery, name)),
            width: 8,
          }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'Reconciler (what the relay lost)',
            left: Object.values(RECONCILER_METRICS).map((name) => this.runtimeMetric(SERVICE_NAMES.reconciler, name, { period: Duration.hours(1) })),
            width: 24,
          }),
        ],
        [new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: Object.values(this.alarms), width: 24 })],
      ],
    });
  }

  grantSend(grantee: iam.IGrantable): iam.Grant {
    return this.messageStream.grantWrite(grantee);
  }

  grantReadState(grantee: iam.IGrantable): iam.Grant {
    return this.stateTable.grantReadData(grantee);
  }

  /**
   * What publishing committed effects takes (the relay, and the reconciler, which publishes
   * the same way): the message stream, the egress sinks, the dead-letter queue and payload
   * bucket, the delay queue and the schedule group, and the egress fences.
   */
  private grantPublish(fn: lambda.Function, props: StatefulFunctionsProps, deployed: DeployedModule | undefined): void {
    const stack = Stack.of(this);
    this.messageStream.grantWrite(fn);
    this.deadLetterQueue.grantSendMessages(fn);
    this.grantPutDeadLetterPayloads(fn);
    for (const egress of [...Object.values(props.egresses ?? {}), ...Object.values(deployed?.kafkaEgresses ?? {})]) {
      if (egress.kind === 'kinesis') egress.stream.grantWrite(fn);
      else if (egress.kind === 'sqs') egress.queue.grantSendMessages(fn);
      else if (egress.kind === 'kafka') grantKafkaEgress(fn, egress);
      // PutEvents on that bus only.
      else iam.Grant.addToPrincipal({ grantee: fn, actions: ['events:PutEvents'], resourceArns: [egress.eventBus.eventBusArn] });
    }
    for (const streams of Object.values(deployed?.kinesisEgresses ?? {})) for (const stream of streams) stream.grantWrite(fn);
    // Schedules of this group only, and passing the scheduler role only.
    const schedulesArn = stack.formatArn({ service: 'scheduler', resource: 'schedule', resourceName: `${this.scheduleGroup.scheduleGroupName}/*` });
    iam.Grant.addToPrincipal({ grantee: fn, actions: ['scheduler:CreateSchedule', 'scheduler:DeleteSchedule'], resourceArns: [schedulesArn] });
    if (!Token.isUnresolved(schedulesArn)) {
      Validations.of(fn.role!).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${schedulesArn}]`,
        reason: "Schedule names derive from timer ids, unknown at deploy time: the function may create and delete any schedule of the application's own schedule group, no other.",
      });
    }
    iam.Grant.addToPrincipal({ grantee: fn, actions: ['iam:PassRole'], resourceArns: [this.schedulerRole.roleArn], conditions: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } } });
    this.delayQueue.grantSendMessages(fn);
    // The egress fences (EgressFence): look for an earlier one, lift one's own.
    this.inboxTable.grant(fn, 'dynamodb:Query', 'dynamodb:DeleteItem');
  }

  /** PutObject of oversized dead letters only (`grantPut` would add `s3:Abort*` and more), and the key to encrypt them. */
  private grantPutDeadLetterPayloads(fn: lambda.Function): void {
    const objects = this.payloadBucket.arnForObjects('dead-letters/*');
    iam.Grant.addToPrincipal({ grantee: fn, actions: ['s3:PutObject'], resourceArns: [objects] });
    this.payloadBucket.encryptionKey?.grant(fn, 'kms:Encrypt', 'kms:GenerateDataKey*');
    const bucketLogicalId = Stack.of(this).getLogicalId(this.payloadBucket.node.defaultChild as s3.CfnBucket);
    Validations.of(fn.role!).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${bucketLogicalId}.Arn>/dead-letters/*]`,
      reason: 'Object keys derive from dead-letter ids, unknown at deploy time: PutObject under the dead-letters/ prefix of the application\'s own payload bucket, nothing else.',
    });
  }

  grantConsumeDeadLetters(grantee: iam.IGrantable): iam.Grant {
    this.payloadBucket.grantRead(grantee, 'dead-letters/*');
    return this.deadLetterQueue.grantConsumeMessages(grantee);
  }

  grantRedriveSkippedBatches(grantee: iam.IGrantable): iam.Grant {
    this.skippedBatchesBucket.grantRead(grantee);
    this.skippedBatchesBucket.grantDelete(grantee, `${SKIPPED_BATCH_PREFIX}*`);
    // The functions' own ARNs only (grantInvoke would add every version and alias).
    return iam.Grant.addToPrincipal({ grantee, actions: ['lambda:InvokeFunction'], resourceArns: [this.dispatcher.functionArn, this.relay.functionArn] });
  }

  metricIteratorAge(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.dispatcher.metric('IteratorAge', { statistic: 'Maximum', period: Duration.minutes(1), ...props });
  }

  metricRelayIteratorAge(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.relay.metric('IteratorAge', { statistic: 'Maximum', period: Duration.minutes(1), ...props });
  }

  metricDeadLetters(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: Duration.minutes(1), ...props });
  }

  metricSkippedBatches(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'AWS/S3',
      metricName: 'PutRequests',
      dimensionsMap: { BucketName: this.skippedBatchesBucket.bucketName, FilterId: SKIPPED_BATCHES_METRICS_FILTER },
      statistic: 'Sum',
      period: Duration.minutes(5),
      ...props,
    });
  }

  metricDispatcherErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.dispatcher.metricErrors({ statistic: 'Sum', period: Duration.minutes(5), ...props });
  }

  metricRelayErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.relay.metricErrors({ statistic: 'Sum', period: Duration.minutes(5), ...props });
  }

  metricDelayedDeliveryErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.delayedDelivery.metricErrors({ statistic: 'Sum', period: Duration.minutes(5), ...props });
  }

  /** Seconds the longest-waiting address has been backing off (Maximum per 5 minutes). */
  metricBackoffAge(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.runtimeMetric(SERVICE_NAMES.dispatcher, DISPATCHER_METRICS.backoffAgeSeconds, { statistic: 'Maximum', ...props });
  }

  metricCommitConflicts(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.runtimeMetric(SERVICE_NAMES.dispatcher, DISPATCHER_METRICS.commitConflicts, props);
  }

  /** A metric one of the runtime's Lambdas emits through Powertools: `metricsNamespace`, dimension `service`. */
  private runtimeMetric(service: string, metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({ namespace: this.metricsNamespace, metricName, dimensionsMap: { service }, statistic: 'Sum', period: Duration.minutes(5), ...props });
  }
}

/** arm64, the newest Node.js, X-Ray (unless `tracing` is off), its own log group, and a role that can write only to that log group. */
function lambdaBase(scope: Construct, roleId: string, logGroup: logs.LogGroup, encryptionKey: kms.IKey | undefined, tracing: boolean) {
  const role = new iam.Role(scope, roleId, { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  logGroup.grantWrite(role);
  if (tracing) acknowledgeXRay(role);
  if (encryptionKey) acknowledgeKmsWildcards(role);
  return {
    runtime: LAMBDA_RUNTIME,
    architecture: lambda.Architecture.ARM_64,
    handler: 'handler',
    tracing: tracing ? lambda.Tracing.ACTIVE : lambda.Tracing.DISABLED,
    logGroup,
    role,
    projectRoot: PROJECT_ROOT,
    depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
  };
}

/**
 * Acknowledges cdk-nag's wildcard finding for the X-Ray statement that active tracing adds
 * (`xray:PutTraceSegments`, `xray:PutTelemetryRecords`): X-Ray has no resource-level
 * permissions, so `*` is the only resource these actions take.
 */
export function acknowledgeXRay(role: iam.IRole): void {
  Validations.of(role).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason: 'Only the X-Ray statement of active tracing (xray:PutTraceSegments, xray:PutTelemetryRecords) has Resource "*": X-Ray offers no resource-level permissions. Every other statement names its resource.',
  });
}

/**
 * Acknowledges cdk-nag's wildcard-action findings of the customer managed key grants
 * (`kms:GenerateDataKey*`, `kms:ReEncrypt*`, as aws-cdk-lib's Kinesis, SQS and DynamoDB
 * grants write them): the statements name the one key ARN; the wildcards only span the
 * variants of one operation.
 */
function acknowledgeKmsWildcards(role: iam.IRole): void {
  for (const action of ['kms:GenerateDataKey*', 'kms:ReEncrypt*']) {
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Action::${action}]`,
      reason: `${action} is granted on the customer managed key's ARN only (aws-cdk-lib's grants for encrypted streams, tables and queues); the wildcard covers the variants of one KMS operation, not other keys or services.`,
    });
  }
}

/**
 * Acknowledges the Serverless pack's Lambda DLQ rule for a function that is only invoked
 * synchronously (by an event-source mapping or the dispatcher): a function DLQ receives
 * failed asynchronous invocations only, which never happen here.
 */
/** How long the skipped-batches bucket keeps a batch: as long as the dead-letter queue keeps a message. */
const SKIPPED_BATCH_RETENTION = Duration.days(14);
const SKIPPED_BATCHES_METRICS_FILTER = 'SkippedBatches';

/**
 * The S3 on-failure destination of a stream mapping, granting the function only what Lambda
 * needs to write there (`s3:PutObject` under `aws/lambda/`, `s3:ListBucket`, and the key),
 * where CDK's `S3OnFailureDestination` grants read and delete as well.
 */
class SkippedBatchesDestination implements lambda.IEventSourceDlq {
  constructor(private readonly bucket: s3.IBucket) {}

  bind(_target: lambda.IEventSourceMapping, targetHandler: lambda.IFunction): lambda.DlqDestinationConfig {
    iam.Grant.addToPrincipal({ grantee: targetHandler, actions: ['s3:PutObject'], resourceArns: [this.bucket.arnForObjects(`${SKIPPED_BATCH_PREFIX}*`)] });
    iam.Grant.addToPrincipal({ grantee: targetHandler, actions: ['s3:ListBucket'], resourceArns: [this.bucket.bucketArn] });
    this.bucket.encryptionKey?.grant(targetHandler, 'kms:Encrypt', 'kms:GenerateDataKey*');
    if (targetHandler.role) {
      const bucketLogicalId = Stack.of(this.bucket).getLogicalId(this.bucket.node.defaultChild as s3.CfnBucket);
      Validations.of(targetHandler.role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${bucketLogicalId}.Arn>/${SKIPPED_BATCH_PREFIX}*]`,
        reason: 'Lambda names the objects of an S3 on-failure destination itself (mapping UUID, shard, date): PutObject under its aws/lambda/ prefix of the application\'s own skipped-batches bucket, nothing else.',
      });
    }
    return { destination: this.bucket.bucketArn };
  }
}

export function acknowledgeSynchronousOnly(fn: lambda.IFunction, failuresGoTo: string): void {
  Validations.of(fn).acknowledge({
    id: 'Serverless-LambdaDLQ',
    reason: `Invoked synchronously only, so a function dead-letter queue (asynchronous invocations) would never receive anything; failures go to ${failuresGoTo}.`,
  });
}

/** Local esbuild, never Docker; the pinned AWS SDK is bundled rather than taken from the runtime. */
function bundling(esbuildArgs?: Record<string, string>) {
  return {
    forceDockerBundling: false,
    externalModules: [],
    minify: true,
    sourceMap: true,
    ...(esbuildArgs ? { esbuildArgs } : {}),
  };
}

/** `STATEFUN_FUNCTIONS`: pattern → `{url, timeoutMs?, maxAttempts?}` or `{lambda, timeoutMs?, maxAttempts?}`. */
function functionsEnv(remotes: readonly RemoteFunctionsProps[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const remote of remotes) {
    out[remote.functionType] = {
      ...(remote.kind === 'http' ? { url: remote.url } : { lambda: remote.function.functionArn }),
      ...(remote.timeout ? { timeoutMs: remote.timeout.toMilliseconds() } : {}),
      ...(remote.maxAttempts !== undefined ? { maxAttempts: remote.maxAttempts } : {}),
    };
  }
  return out;
}

/** `STATEFUN_INGRESSES`: stream name → `{functionType, valueType?}` (the handler matches the event's stream name). */
function ingressesEnv(ingresses: readonly IngressProps[], deployed: DeployedModule | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const ingress of ingresses) {
    if (ingress.kind !== 'kinesis') continue;
    out[ingress.stream.streamName] = { functionType: ingress.functionType, ...(ingress.valueType ? { valueType: ingress.valueType } : {}) };
  }
  for (const ingress of deployed?.ingresses ?? []) out[ingress.stream.streamName] = { functionType: ingress.functionTypes, valueType: ingress.valueType };
  return out;
}

/** The Kafka ingresses of the props and of the module, in that order. */
function allKafkaIngresses(props: StatefulFunctionsProps, deployed: DeployedModule | undefined): KafkaIngressProps[] {
  return [...(props.ingresses ?? []).filter((ingress): ingress is KafkaIngressProps => ingress.kind !== 'kinesis'), ...(deployed?.kafkaIngresses ?? [])];
}

/** `STATEFUN_KAFKA_INGRESSES`: topic → `{functionType, valueType?}`. */
function kafkaIngressesEnv(ingresses: readonly KafkaIngressProps[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const ingress of ingresses) {
    for (const route of ingress.topics) out[route.topic] = { functionType: route.functionType, ...(route.valueType ? { valueType: route.valueType } : {}) };
  }
  return out;
}

/**
 * `STATEFUN_EGRESSES`: egress name → `{kinesisStream}` (ARN), `{sqsQueueUrl, messageGroupId?}`,
 * `{kafkaProducerRecordTopics, kafkaCluster}` or `{eventBus, source?, detailType?}` (the bus ARN).
 */
function egressesEnv(egresses: Readonly<Record<string, EgressProps>>, deployed: DeployedModule | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, egress] of [...Object.entries(egresses), ...Object.entries(deployed?.kafkaEgresses ?? {})]) {
    if (egress.kind === 'kinesis') out[name] = { kinesisStream: egress.stream.streamArn };
    else if (egress.kind === 'sqs') out[name] = { sqsQueueUrl: egress.queue.queueUrl, ...(egress.messageGroupId ? { messageGroupId: egress.messageGroupId } : {}) };
    else if (egress.kind === 'kafka') out[name] = kafkaEgressTarget(egress);
    else out[name] = { eventBus: egress.eventBus.eventBusArn, ...(egress.source ? { source: egress.source } : {}), ...(egress.detailType ? { detailType: egress.detailType } : {}) };
  }
  // The records name their streams by name, as StateFun's SDKs write them.
  for (const [name, streams] of Object.entries(deployed?.kinesisEgresses ?? {})) out[name] = { kinesisEgressRecordStreams: streams.map((stream) => stream.streamName) };
  return out;
}

/** Validates props up front, each error naming the prop, the value and the fix. */
class PropsChecker {
  constructor(
    private readonly path: string,
    private readonly scope: Construct,
  ) {}

  private fail(prop: string, value: unknown, fix: string): never {
    throw new StatefulFunctionsPropsError(this.path, prop, value, fix);
  }

  all(props: StatefulFunctionsProps, deployed: DeployedModule | undefined): void {
    const remotes = props.remoteFunctions ?? [];
    if (!props.embeddedFunctions && remotes.length === 0 && !deployed?.endpoints.length) {
      this.fail(
        'embeddedFunctions / remoteFunctions / module',
        undefined,
        'the dispatcher needs functions to call: set embeddedFunctions: { entry: "path/to/registry.ts" }, remoteFunctions: [{ kind: "lambda", functionType: "ns/*", function }] or a module with endpoints',
      );
    }
    if (props.embeddedFunctions) this.embedded(props.embeddedFunctions);
    const seen = new Set<string>();
    remotes.forEach((remote, i) => {
      const at = `remoteFunctions[${i}]`;
      this.functionPattern(`${at}.functionType`, remote.functionType);
      if (seen.has(remote.functionType)) this.fail(`${at}.functionType`, remote.functionType, 'another remote endpoint serves this pattern already: keep one');
      seen.add(remote.functionType);
      if (remote.kind === 'http' && !Token.isUnresolved(remote.url) && !/^https?:\/\/[^/\s]+/.test(remote.url)) {
        this.fail(`${at}.url`, remote.url, 'give an absolute http(s) URL, e.g. "https://functions.example.com/statefun"');
      }
      if (remote.kind === 'http' && !Token.isUnresolved(remote.url) && remote.url.startsWith('http://') && !props.allowInsecureHttp) this.insecure(`${at}.url`, remote.url);
      if (remote.maxAttempts !== undefined) this.intRange(`${at}.maxAttempts`, remote.maxAttempts, 1, 100);
      this.callTimeout(at, remote, props.dispatcherTimeout ?? Duration.seconds(60));
    });

    for (const endpoint of deployed?.endpoints ?? []) {
      const pattern = `${endpoint.functions.namespace}/${endpoint.functions.name ?? '*'}`;
      const where = `module.file (${endpoint.source.file}, document ${endpoint.source.document})`;
      if (seen.has(pattern)) this.fail(where, pattern, 'remoteFunctions serves this pattern already: keep one of the two');
      if (endpoint.kind === 'http' && endpoint.urlPathTemplate.startsWith('http://') && !props.allowInsecureHttp) this.insecure(where, endpoint.urlPathTemplate);
      this.moduleCallTimeout(where, endpoint.timeouts.callMs, props.dispatcherTimeout ?? Duration.seconds(60));
    }

    const streams = new Set<string>();
    const ingressStreams: [string, kinesis.IStream][] = [];
    const topics = new Set<string>();
    const kafkaIngresses: [string, KafkaIngressProps][] = [];
    (props.ingresses ?? []).forEach((ingress, i) => {
      const at = `ingresses[${i}]`;
      const kind = (ingress as { kind: unknown }).kind;
      if (kind === 'kinesis') {
        const kinesisIngress = ingress as KinesisIngressProps;
        this.targets(at, kinesisIngress.functionType, kinesisIngress.valueType);
        ingressStreams.push([`${at}.stream`, kinesisIngress.stream]);
      } else if (kind === 'msk' || kind === 'selfManagedKafka') {
        kafkaIngresses.push([at, ingress as KafkaIngressProps]);
      } else {
        this.fail(`${at}.kind`, kind, 'give "kinesis", "msk" or "selfManagedKafka"');
      }
    });
    for (const ingress of deployed?.ingresses ?? []) ingressStreams.push(['module.file', ingress.stream]);
    for (const ingress of deployed?.kafkaIngresses ?? []) kafkaIngresses.push(['module.kafka', ingress]);
    for (const [at, stream] of ingressStreams) {
      const streamKey = stream.node.path;
      if (streams.has(streamKey)) this.fail(at, streamKey, 'this stream is an ingress already: list every target of a stream in one ingress (functionType takes several)');
      streams.add(streamKey);
    }
    for (const [at, ingress] of kafkaIngresses) this.kafkaIngress(at, ingress, topics);
    if (kafkaIngresses.length > 0 && props.dispatcherTimeout && !props.dispatcherTimeout.isUnresolved() && props.dispatcherTimeout.toSeconds() > 14 * 60) {
      this.fail('dispatcherTimeout', props.dispatcherTimeout.toHumanString(), 'Lambda\'s Kafka mappings let a function run at most 14 minutes: lower dispatcherTimeout to 14 minutes or less');
    }

    for (const name of [...Object.keys(deployed?.kinesisEgresses ?? {}), ...Object.keys(deployed?.kafkaEgresses ?? {})]) {
      if (props.egresses?.[name] !== undefined) this.fail(`egresses[${JSON.stringify(name)}]`, name, 'the module has an egress with this id already: keep one of the two');
    }
    for (const [name, egress] of Object.entries(deployed?.kafkaEgresses ?? {})) this.kafkaEgress(`module.kafka (egress ${name})`, egress);
    for (const [header, value] of Object.entries(props.httpHeaders ?? {})) {
      if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(header)) this.fail(`httpHeaders[${JSON.stringify(header)}]`, header, 'give a valid HTTP header name, e.g. "authorization"');
      if (value.field === '') this.fail(`httpHeaders[${JSON.stringify(header)}].field`, value.field, 'name a field of the secret\'s JSON, or leave it out to use the whole secret string');
    }
    if ((props.vpcSubnets || props.securityGroups) && !props.vpc) this.fail('vpc', undefined, 'vpcSubnets and securityGroups place the dispatcher in a VPC: give the vpc as well');

    for (const [name, egress] of Object.entries(props.egresses ?? {})) {
      this.typename(`egresses[${JSON.stringify(name)}]`, name, 'egress names are "namespace/name", as functions pass them to egressMessage, e.g. "fraud/alerts"');
      if (egress.kind === 'sqs' && egress.messageGroupId !== undefined && egress.queue.fifo === false) {
        this.fail(`egresses[${JSON.stringify(name)}].messageGroupId`, egress.messageGroupId, 'message groups exist only on FIFO queues: remove it or use a FIFO queue');
      }
      if (egress.kind === 'kafka') this.kafkaEgress(`egresses[${JSON.stringify(name)}]`, egress);
      if (egress.kind === 'eventBridge') this.eventBridgeEgress(`egresses[${JSON.stringify(name)}]`, egress);
      if (!['kinesis', 'sqs', 'kafka', 'eventBridge'].includes((egress as { kind: string }).kind)) {
        this.fail(`egresses[${JSON.stringify(name)}].kind`, (egress as { kind: string }).kind, 'give "kinesis", "sqs", "kafka" or "eventBridge"');
      }
    }
    if ((props.relayVpcSubnets || props.relaySecurityGroups) && !props.relayVpc) this.fail('relayVpc', undefined, 'relayVpcSubnets and relaySecurityGroups place the relay in a VPC: give the relayVpc as well');

    const provisioned = props.messageStreamMode === kinesis.StreamMode.PROVISIONED;
    if (props.messageStreamShardCount !== undefined) {
      if (!provisioned) this.fail('messageStreamShardCount', props.messageStreamShardCount, 'an on-demand stream scales by itself: remove messageStreamShardCount or set messageStreamMode: kinesis.StreamMode.PROVISIONED');
      this.intRange('messageStreamShardCount', props.messageStreamShardCount, 1, 10000);
    }
    if (props.messageStreamRetention) this.durationRange('messageStreamRetention', props.messageStreamRetention, Duration.hours(24), Duration.days(365));
    if (props.batchSize !== undefined) this.intRange('batchSize', props.batchSize, 1, 10000);
    if (props.parallelizationFactor !== undefined) this.intRange('parallelizationFactor', props.parallelizationFactor, 1, 10);
    if (props.retryAttempts !== undefined) this.intRange('retryAttempts', props.retryAttempts, 0, 10000);
    if (props.maxRecordAge) this.durationRange('maxRecordAge', props.maxRecordAge, Duration.seconds(60), Duration.days(7));
    this.duplicateWindow(props);
    if (props.retryBudget) this.durationRange('retryBudget', props.retryBudget, Duration.seconds(0), Duration.days(6));
    if (props.reconcileInterval) this.durationRange('reconcileInterval', props.reconcileInterval, Duration.minutes(1), Duration.days(1));
    if (props.timerSweepInterval) this.durationRange('timerSweepInterval', props.timerSweepInterval, Duration.minutes(15), Duration.days(7));
    if (props.backoffAlarmThreshold) this.durationRange('backoffAlarmThreshold', props.backoffAlarmThreshold, Duration.minutes(1), Duration.days(6));
    if (props.maxBatchingWindow) this.durationRange('maxBatchingWindow', props.maxBatchingWindow, Duration.seconds(0), Duration.minutes(5));
    if (props.dispatcherMemorySizeMiB !== undefined) this.intRange('dispatcherMemorySizeMiB', props.dispatcherMemorySizeMiB, 128, 10240);
    if (props.relayMemorySizeMiB !== undefined) this.intRange('relayMemorySizeMiB', props.relayMemorySizeMiB, 128, 10240);
    if (props.dispatcherTimeout) this.durationRange('dispatcherTimeout', props.dispatcherTimeout, Duration.seconds(1), Duration.minutes(15));
    if (props.relayTimeout) this.durationRange('relayTimeout', props.relayTimeout, Duration.seconds(1), Duration.minutes(15));
    if (props.logLevel !== undefined && !['DEBUG', 'INFO', 'WARN', 'ERROR'].includes(props.logLevel)) this.fail('logLevel', props.logLevel, 'give "DEBUG", "INFO", "WARN" or "ERROR"');
    if (props.metricsNamespace !== undefined && !Token.isUnresolved(props.metricsNamespace) && (!/^[\w.\-/#: ]{1,255}$/.test(props.metricsNamespace) || props.metricsNamespace.startsWith('AWS/'))) {
      this.fail('metricsNamespace', props.metricsNamespace, 'give 1 to 255 letters, digits or . - _ / # : and spaces, not starting with "AWS/" (reserved for AWS services), e.g. "StatefulFunctions/shop"');
    }
    if (props.iteratorAgeAlarmThreshold) this.durationRange('iteratorAgeAlarmThreshold', props.iteratorAgeAlarmThreshold, Duration.seconds(1), Duration.hours(24));
  }

  /** An ingress' target function types (at least one, no pattern) and value type. */
  private targets(at: string, functionType: string | readonly string[], valueType: string | undefined): void {
    const targets = typeof functionType === 'string' ? [functionType] : functionType;
    if (!Array.isArray(targets) || targets.length === 0) this.fail(`${at}.functionType`, functionType, 'name at least one function type, e.g. "fraud/transaction-manager"');
    for (const target of targets) this.typename(`${at}.functionType`, target, 'name function types, e.g. "fraud/transaction-manager" (no "*")');
    if (valueType !== undefined) this.typename(`${at}.valueType`, valueType, 'name a type, e.g. "fraud.types/Transaction"');
  }

  /** A Kafka ingress: topics (each in one ingress only), cluster, auth, network and mapping settings. */
  private kafkaIngress(at: string, ingress: KafkaIngressProps, topics: Set<string>): void {
    if (!Array.isArray(ingress.topics) || ingress.topics.length === 0) this.fail(`${at}.topics`, ingress.topics, 'list at least one topic, e.g. topics: [{ topic: "transactions", functionType: "fraud/transaction-manager" }]');
    ingress.topics.forEach((route, j) => {
      const where = `${at}.topics[${j}]`;
      this.kafkaTopic(`${where}.topic`, route.topic);
      if (topics.has(route.topic)) this.fail(`${where}.topic`, route.topic, 'this topic is an ingress already: list every target of a topic once (functionType takes several)');
      topics.add(route.topic);
      this.targets(where, route.functionType, route.valueType);
    });
    if (ingress.batchSize !== undefined) this.intRange(`${at}.batchSize`, ingress.batchSize, 1, 10000);
    if (ingress.consumerGroupId === undefined || !Token.isUnresolved(ingress.consumerGroupId)) {
      for (const route of ingress.topics) {
        const group = kafkaGroupId(ingress, route.topic, defaultGroupPrefix(this.scope));
        if (!KAFKA_GROUP_ID.test(group)) {
          const fix = ingress.consumerGroupId === undefined ? 'set a shorter consumerGroupId' : 'shorten or fix it';
          this.fail(`${at}.consumerGroupId`, ingress.consumerGroupId, `each topic's mapping joins "<consumerGroupId>-<topic>" ("${group}" here), which Lambda wants of 1 to 200 letters, digits and - / * : _ + = . @: ${fix}`);
        }
      }
    }
    if ((ingress.startingPositionTimestamp !== undefined) !== (ingress.startingPosition === lambda.StartingPosition.AT_TIMESTAMP)) {
      this.fail(`${at}.startingPositionTimestamp`, ingress.startingPositionTimestamp, 'give startingPositionTimestamp (seconds since the epoch) exactly when startingPosition is AT_TIMESTAMP');
    }
    const pollers = ingress.provisionedPollers;
    if (pollers) {
      this.intRange(`${at}.provisionedPollers.minimum`, pollers.minimum, 1, 200);
      this.intRange(`${at}.provisionedPollers.maximum`, pollers.maximum, 1, 2000);
      if (pollers.minimum > pollers.maximum) this.fail(`${at}.provisionedPollers`, pollers, 'minimum must not exceed maximum');
    }
    if (ingress.kind === 'msk') {
      if (typeof ingress.clusterArn !== 'string' || (!Token.isUnresolved(ingress.clusterArn) && !MSK_CLUSTER_ARN.test(ingress.clusterArn))) {
        this.fail(`${at}.clusterArn`, ingress.clusterArn, 'give the MSK cluster ARN, arn:aws:kafka:<region>:<account>:cluster/<name>/<uuid>, e.g. cfnCluster.attrArn');
      }
      const mechanism = ingress.auth?.mechanism;
      if (mechanism !== undefined && mechanism !== 'AWS_MSK_IAM' && mechanism !== 'SCRAM-SHA-512') {
        this.fail(`${at}.auth.mechanism`, mechanism, 'Amazon MSK takes IAM ({ mechanism: "AWS_MSK_IAM" }, the default) or SASL/SCRAM ({ mechanism: "SCRAM-SHA-512", secret })');
      }
    } else {
      this.bootstrapServers(`${at}.bootstrapServers`, ingress.bootstrapServers);
      if ((ingress.auth?.mechanism as string | undefined) === 'AWS_MSK_IAM') this.fail(`${at}.auth.mechanism`, 'AWS_MSK_IAM', 'IAM access control is Amazon MSK\'s: use kind: "msk" with the cluster ARN, or SASL with a secret');
      if (ingress.vpc && !ingress.securityGroup) this.fail(`${at}.securityGroup`, undefined, 'a mapping into vpc needs the security group its network interfaces use (one the brokers accept): give securityGroup');
      if ((ingress.vpcSubnets || ingress.securityGroup) && !ingress.vpc) this.fail(`${at}.vpc`, undefined, 'vpcSubnets and securityGroup place the mapping in a VPC: give the vpc as well');
      if (!ingress.vpc && !ingress.auth) this.fail(`${at}.auth`, undefined, 'brokers reached over the internet need credentials: give auth: { mechanism: "SCRAM-SHA-512", secret }, or the vpc of private brokers');
    }
  }

  private kafkaEgress(at: string, egress: KafkaEgressProps): void {
    if (!Array.isArray(egress.topics) || egress.topics.length === 0) this.fail(`${at}.topics`, egress.topics, 'list the topics its records may name, e.g. topics: ["greetings"]');
    egress.topics.forEach((topic, j) => this.kafkaTopic(`${at}.topics[${j}]`, topic));
    const servers = typeof egress.bootstrapServers === 'string' ? (Token.isUnresolved(egress.bootstrapServers) ? [] : egress.bootstrapServers.split(',').map((s) => s.trim())) : egress.bootstrapServers;
    if (typeof egress.bootstrapServers !== 'string') this.bootstrapServers(`${at}.bootstrapServers`, servers);
    else if (!Token.isUnresolved(egress.bootstrapServers)) this.bootstrapServers(`${at}.bootstrapServers`, servers, egress.bootstrapServers);
    if (egress.auth?.mechanism === 'AWS_MSK_IAM') {
      if (egress.mskClusterArn === undefined) this.fail(`${at}.mskClusterArn`, undefined, 'IAM access control is granted on the MSK cluster: give its ARN, e.g. mskClusterArn: cfnCluster.attrArn');
      if (!Token.isUnresolved(egress.mskClusterArn) && !MSK_CLUSTER_ARN.test(egress.mskClusterArn)) {
        this.fail(`${at}.mskClusterArn`, egress.mskClusterArn, 'give the MSK cluster ARN, arn:aws:kafka:<region>:<account>:cluster/<name>/<uuid>, e.g. cfnCluster.attrArn');
      }
    } else if (egress.auth !== undefined && !['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'].includes(egress.auth.mechanism)) {
      this.fail(`${at}.auth.mechanism`, (egress.auth as { mechanism: unknown }).mechanism, 'give "AWS_MSK_IAM", "PLAIN", "SCRAM-SHA-256" or "SCRAM-SHA-512"');
    }
  }

  private eventBridgeEgress(at: string, egress: EventBridgeEgressProps): void {
    for (const key of ['source', 'detailType'] as const) {
      const value = egress[key];
      if (value === undefined || Token.isUnresolved(value)) continue;
      if (value.length === 0 || value.length > 256) this.fail(`${at}.${key}`, value, 'give 1 to 256 characters, e.g. "shop"');
    }
    if (egress.source !== undefined && !Token.isUnresolved(egress.source) && egress.source.startsWith('aws.')) this.fail(`${at}.source`, egress.source, 'EventBridge keeps sources starting with "aws." for AWS services: choose another, e.g. "shop"');
  }

  private kafkaTopic(prop: string, topic: string): void {
    if (typeof topic !== 'string' || !KAFKA_TOPIC_NAME.test(topic) || topic === '.' || topic === '..') this.fail(prop, topic, 'a Kafka topic name is 1 to 249 letters, digits, ".", "_" and "-", e.g. "transactions"');
  }

  private bootstrapServers(prop: string, servers: readonly string[], shown: unknown = servers): void {
    if (!Array.isArray(servers) || servers.length === 0 || servers.some((s) => typeof s !== 'string' || (!Token.isUnresolved(s) && !KAFKA_HOST_PORT.test(s)))) {
      this.fail(prop, shown, 'give "host:port" of one or more brokers, e.g. ["b-1.kafka.example.com:9096", "b-2.kafka.example.com:9096"]');
    }
  }

  /**
   * A remote call must fit in one dispatcher invocation, whose last 10 seconds (or quarter)
   * are kept for the commits: a call that cannot end by then never succeeds, and attempts
   * that would run past it are cut (the address then backs off and retries later).
   */
  private callTimeout(at: string, remote: RemoteFunctionsBase, dispatcherTimeout: Duration): void {
    if (dispatcherTimeout.isUnresolved()) return;
    const budgetMs = dispatcherTimeout.toMilliseconds() - Math.min(10_000, dispatcherTimeout.toMilliseconds() / 4);
    const timeoutMs = remote.timeout?.toMilliseconds() ?? 30_000;
    if (timeoutMs >= budgetMs) {
      this.fail(`${at}.timeout`, remote.timeout ?? Duration.seconds(30), `a call must end within the dispatcher's timeout (${dispatcherTimeout.toHumanString()}) less the time kept for commits, ${budgetMs / 1000} s (the timeout is 30 seconds unless set): lower it or raise dispatcherTimeout`);
    }
    const attempts = remote.maxAttempts ?? 3;
    const chosen = remote.timeout !== undefined || remote.maxAttempts !== undefined;
    if (chosen && timeoutMs * attempts > budgetMs) {
      Annotations.of(this.scope).addWarningV2(
        'statefun:callAttemptsExceedInvocation',
        `${at}: ${attempts} attempts of ${timeoutMs / 1000} s can outlast one dispatcher invocation (${budgetMs / 1000} s for calls): attempts past it are cut and the address backs off instead; lower timeout or maxAttempts, or raise dispatcherTimeout, to keep every attempt`,
      );
    }
  }

  private insecure(prop: string, url: string): never {
    return this.fail(prop, url, 'each call carries the state of its address, in the clear over http://: use https://, or set allowInsecureHttp: true if the network is yours (e.g. a private endpoint in the dispatcher\'s vpc)');
  }

  /** A module endpoint's call budget (StateFun's `timeouts.call`) past the invocation is cut at its deadline: said, not refused (StateFun's default is 2 minutes). */
  private moduleCallTimeout(at: string, callMs: number, dispatcherTimeout: Duration): void {
    if (dispatcherTimeout.isUnresolved()) return;
    const budgetMs = dispatcherTimeout.toMilliseconds() - Math.min(10_000, dispatcherTimeout.toMilliseconds() / 4);
    if (callMs > budgetMs) {
      Annotations.of(this.scope).addWarningV2(
        'statefun:moduleCallTimeoutExceedsInvocation',
        `${at}: a call may take ${callMs / 1000} s (timeouts.call), longer than one dispatcher invocation leaves for calls (${budgetMs / 1000} s): a call still running then is cut and its address backs off and retries; lower timeouts.call or raise dispatcherTimeout to keep whole calls`,
      );
    }
  }

  /** The duplicate window must outlast every record the mappings can still deliver. */
  private duplicateWindow(props: StatefulFunctionsProps): void {
    const window = props.duplicateWindow;
    if (window === undefined) {
      const retention = props.messageStreamRetention;
      if (retention && !retention.isUnresolved() && retention.toHours() > 24 * 7) {
        this.fail('duplicateWindow', undefined, `the default of 7 days is shorter than messageStreamRetention (${retention.toHumanString()}): set duplicateWindow to at least ${retention.toHumanString()}, so a record replayed from the stream is recognised as applied`);
      }
      return;
    }
    if (window.isUnresolved()) return;
    this.durationRange('duplicateWindow', window, Duration.hours(1), Duration.days(365));
    const atLeast: [string, Duration][] = [
      ['messageStreamRetention', props.messageStreamRetention ?? Duration.hours(24)],
      ['maxRecordAge', props.maxRecordAge ?? Duration.hours(24)],
    ];
    for (const [prop, value] of atLeast) {
      if (!value.isUnresolved() && window.toSeconds() < value.toSeconds()) {
        this.fail('duplicateWindow', window.toHumanString(), `it must be at least ${prop} (${value.toHumanString()}): a record the mappings can still deliver would be dead-lettered instead of applied; raise duplicateWindow or lower ${prop}`);
      }
    }
  }

  private embedded(embedded: EmbeddedFunctionsProps): void {
    const file = path.resolve(embedded.entry);
    if (!fs.existsSync(file) || !fs.statSync(file).isFile()) {
      this.fail('embeddedFunctions.entry', embedded.entry, `no file at ${file}: give the path of the module that exports the StatefulFunctions registry`);
    }
    if (embedded.exportName !== undefined && !/^[A-Za-z_$][\w$]*$/.test(embedded.exportName)) {
      this.fail('embeddedFunctions.exportName', embedded.exportName, 'give the name of an export, e.g. "functions" or "default"');
    }
    for (const name of Object.keys(embedded.environment ?? {})) {
      if (name.startsWith('STATEFUN_')) this.fail(`embeddedFunctions.environment.${name}`, embedded.environment![name], 'STATEFUN_* variables are set by the construct: rename the variable');
    }
  }

  private functionPattern(prop: string, pattern: string): void {
    if (typeof pattern !== 'string' || pattern.length === 0) this.fail(prop, pattern, FUNCTION_PATTERN_HINT);
    if (pattern.endsWith('/*')) {
      const ns = pattern.slice(0, -2);
      if (ns.length === 0 || ns.includes('/') || ns.includes('*')) this.fail(prop, pattern, FUNCTION_PATTERN_HINT);
      this.typename(prop, `${ns}/any`, FUNCTION_PATTERN_HINT, pattern);
    } else {
      this.typename(prop, pattern, FUNCTION_PATTERN_HINT);
    }
  }

  private typename(prop: string, text: string, fix: string, shown: string = text): void {
    try {
      typename(text);
    } catch (error) {
      this.fail(prop, shown, `${(error as Error).message}; ${fix}`);
    }
  }

  private intRange(prop: string, value: number, min: number, max: number): void {
    if (Token.isUnresolved(value)) return;
    if (!Number.isInteger(value) || value < min || value > max) this.fail(prop, value, `give a whole number from ${min} to ${max}`);
  }

  private durationRange(prop: string, value: Duration, min: Duration, max: Duration): void {
    if (value.isUnresolved()) return;
    const ms = value.toMilliseconds();
    if (ms < min.toMilliseconds() || ms > max.toMilliseconds()) this.fail(prop, value, `give a duration from ${min.toHumanString()} to ${max.toHumanString()}`);
  }
}
