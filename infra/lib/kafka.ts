import { Fn, Names, Token, Validations } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { IConstruct } from 'constructs';
import { KAFKA_MAPPING_ACTIONS, grantNetworkInterfaces } from './networkGrants';

/**
 * How a Kafka client of the application (an ingress' event source mapping, the relay)
 * authenticates: IAM (Amazon MSK only), or SASL with a Secrets Manager secret holding
 * `{"username": ..., "password": ...}`.
 */
export type KafkaAuth = KafkaIamAuth | KafkaSaslAuth;

/** MSK's IAM access control: the function's role signs in; the construct grants it the cluster, topic and group actions it needs. */
export interface KafkaIamAuth {
  readonly mechanism: 'AWS_MSK_IAM';
}

/**
 * SASL with the user and password in a Secrets Manager secret (`{"username", "password"}`),
 * as Lambda's Kafka mappings take it. Amazon MSK offers `SCRAM-SHA-512` only.
 */
export interface KafkaSaslAuth {
  readonly mechanism: 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512';
  readonly secret: secretsmanager.ISecret;
}

/** One topic of a Kafka ingress: its records go to every target, the record's key (UTF-8) being the function id. */
export interface KafkaTopicProps {
  readonly topic: string;
  /** The target function type, `namespace/type`; or several: each record goes to every one. */
  readonly functionType: string | readonly string[];
  /**
   * The type name the function sees on the record's value.
   * @default - `statefun.aws/kafka-record-value`: the value's bytes as they are
   */
  readonly valueType?: string;
}

/** Settings shared by both Kafka ingress kinds. */
export interface KafkaIngressCommonProps {
  /** The topics and where their records go: one event source mapping per topic (Lambda's Kafka mappings read one topic each). */
  readonly topics: readonly KafkaTopicProps[];
  /**
   * Where a new mapping starts when its consumer group has no committed offset.
   * @default lambda.StartingPosition.TRIM_HORIZON
   */
  readonly startingPosition?: lambda.StartingPosition;
  /** Seconds since the epoch; only with `startingPosition: AT_TIMESTAMP`. @default - none */
  readonly startingPositionTimestamp?: number;
  /**
   * Records per dispatcher invocation (1 to 10,000).
   * @default 100
   */
  readonly batchSize?: number;
  /**
   * The consumer group: Lambda wants a group of its own for each mapping, so each topic's
   * mapping joins `<consumerGroupId>-<topic>`. Set only at creation (changing it replaces
   * the mappings, which start over from `startingPosition`).
   * @default - the construct's unique name, e.g. `Stack-App-1A2B3C4D`
   */
  readonly consumerGroupId?: string;
  /**
   * Provisioned mode: event pollers kept for each mapping (each about 5 MB/s), billed per
   * hour; lowers latency under bursts.
   * @default - on-demand pollers, no poller charge
   */
  readonly provisionedPollers?: { readonly minimum: number; readonly maximum: number };
}

/**
 * Topics of an Amazon MSK cluster. The mapping reaches the brokers through the cluster's own
 * subnets and security groups (see docs/kafka.md, "On Amazon MSK"): the dispatcher needs no VPC.
 */
export interface MskIngressProps extends KafkaIngressCommonProps {
  readonly kind: 'msk';
  /** `arn:aws:kafka:<region>:<account>:cluster/<name>/<uuid>`, e.g. `cfnCluster.attrArn`. */
  readonly clusterArn: string;
  /**
   * IAM (the dispatcher's role gets `kafka-cluster:Connect`, `DescribeClusterDynamicConfiguration`
   * on the cluster, `DescribeTopic`, `ReadData` on the topics and `DescribeGroup`, `AlterGroup`
   * on the groups), or SASL/SCRAM-SHA-512 with a secret.
   * @default { mechanism: 'AWS_MSK_IAM' }
   */
  readonly auth?: KafkaAuth;
}

/** Topics of a Kafka cluster you run (or a Kafka service other than MSK). */
export interface SelfManagedKafkaIngressProps extends KafkaIngressCommonProps {
  readonly kind: 'selfManagedKafka';
  /** `host:port` of one or more brokers. */
  readonly bootstrapServers: readonly string[];
  /**
   * SASL over TLS with a secret (Lambda takes no SASL over plaintext).
   * @default - none: the brokers must then be in `vpc`
   */
  readonly auth?: KafkaSaslAuth;
  /**
   * A secret holding the PEM of the private CA that signed the brokers' certificates
   * (`{"certificate": "-----BEGIN CERTIFICATE-----..."}`).
   * @default - the brokers' certificates are checked against public CAs
   */
  readonly rootCaCertificate?: secretsmanager.ISecret;
  /** The VPC of private brokers: the mapping reaches them from `vpcSubnets` with `securityGroup`. @default - the brokers are reached over the internet */
  readonly vpc?: ec2.IVpc;
  /** @default - the VPC's private subnets */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /** The mapping's security group: the brokers must accept it. Required with `vpc`. @default - none */
  readonly securityGroup?: ec2.ISecurityGroup;
}

/** A Kafka ingress. */
export type KafkaIngressProps = MskIngressProps | SelfManagedKafkaIngressProps;

/**
 * An egress producing the SDKs' Kafka records (`kafkaEgressMessage`) to the topic each names,
 * one of `topics`. The relay (and the reconciler) produce; with brokers in a VPC, place them
 * there with `relayVpc`.
 */
export interface KafkaEgressProps {
  readonly kind: 'kafka';
  /** The topics records may name; a record naming another is a dead letter. The relay never creates topics. */
  readonly topics: readonly string[];
  /**
   * `host:port` of the brokers: for MSK, the output of `aws kafka get-bootstrap-brokers`
   * (`BootstrapBrokerStringSaslIam` with IAM, `BootstrapBrokerStringSaslScram` with SCRAM).
   */
  readonly bootstrapServers: string | readonly string[];
  /**
   * The MSK cluster, for IAM: the relay's role gets `kafka-cluster:Connect` and
   * `WriteDataIdempotently` on it, `DescribeTopic` and `WriteData` on the topics.
   * @default - none; required with `AWS_MSK_IAM`
   */
  readonly mskClusterArn?: string;
  /** @default - none */
  readonly auth?: KafkaAuth;
  /**
   * TLS to the brokers: `true` with the system's CAs, or the CA's PEM and the server name to check.
   * @default - true with `auth`, false without
   */
  readonly tls?: boolean | { readonly caPem?: string; readonly serverName?: string };
}

/** Kafka's rule for topic names. */
export const KAFKA_TOPIC_NAME = /^[A-Za-z0-9._-]{1,249}$/;
/** `host:port`, as Kafka's bootstrap.servers takes it. */
export const KAFKA_HOST_PORT = /^[A-Za-z0-9._-]+:[0-9]{1,5}$/;
/** Lambda's rule for consumer group ids. */
export const KAFKA_GROUP_ID = /^[a-zA-Z0-9\-/*:_+=.@]{1,200}$/;
/** An MSK cluster ARN: `arn:<partition>:kafka:<region>:<account>:cluster/<name>/<uuid>`. */
export const MSK_CLUSTER_ARN = /^arn:aws[a-z-]*:kafka:[a-z0-9-]+:\d{12}:cluster\/[^/\s]+\/[^/\s]+$/;

/** The consumer group of one topic's mapping. */
export function kafkaGroupId(ingress: KafkaIngressProps, topic: string, defaultPrefix: string): string {
  return `${ingress.consumerGroupId ?? defaultPrefix}-${topic}`;
}

/** The default consumer group prefix of the construct `scope`'s ingresses: its path, unique in the account. */
export function defaultGroupPrefix(scope: IConstruct): string {
  return Names.uniqueResourceName(scope, { maxLength: 80, separator: '-' });
}

/**
 * The ARN of a topic or group of the MSK cluster `clusterArn`
 * (`arn:aws:kafka:r:a:topic/<cluster name>/<uuid>/<topic>`), also for a cluster ARN that is a token.
 */
export function mskResourceArn(clusterArn: string, kind: 'topic' | 'group', name: string): string {
  if (!Token.isUnresolved(clusterArn)) return clusterArn.replace(':cluster/', `:${kind}/`) + `/${name}`;
  const parts = Fn.split(':cluster/', clusterArn);
  return Fn.join('', [Fn.select(0, parts), `:${kind}/`, Fn.select(1, parts), `/${name}`]);
}

/**
 * Adds one event source mapping per topic of `ingress` to `fn`, and grants its role what the
 * mappings need. No retry limit, record age or on-failure destination: Lambda's Kafka
 * mappings then retry a failed batch until it succeeds (an on-failure destination would cap
 * retries at 10), and the dispatcher dead-letters what it cannot apply itself.
 */
export function addKafkaIngress(fn: lambda.Function, ingress: KafkaIngressProps, index: number, groupPrefix: string): void {
  const access: lambda.SourceAccessConfiguration[] = [];
  if (ingress.auth && ingress.auth.mechanism !== 'AWS_MSK_IAM') {
    access.push({ type: SASL_ACCESS[ingress.auth.mechanism], uri: ingress.auth.secret.secretArn });
    grantSecretValue(fn, ingress.auth.secret);
  }
  if (ingress.kind === 'selfManagedKafka') {
    if (ingress.rootCaCertificate) {
      access.push({ type: lambda.SourceAccessConfigurationType.SERVER_ROOT_CA_CERTIFICATE, uri: ingress.rootCaCertificate.secretArn });
      grantSecretValue(fn, ingress.rootCaCertificate);
    }
    if (ingress.vpc) {
      for (const subnetId of ingress.vpc.selectSubnets(ingress.vpcSubnets).subnetIds) access.push({ type: lambda.SourceAccessConfigurationType.VPC_SUBNET, uri: `subnet:${subnetId}` });
      access.push({ type: lambda.SourceAccessConfigurationType.VPC_SECURITY_GROUP, uri: `security_group:${ingress.securityGroup!.securityGroupId}` });
      grantNetworkInterfaces(fn, KAFKA_MAPPING_ACTIONS);
    }
  } else {
    // Lambda's mapping creates its network interfaces in the cluster's subnets.
    grantNetworkInterfaces(fn, KAFKA_MAPPING_ACTIONS);
    iam.Grant.addToPrincipal({ grantee: fn, actions: ['kafka:DescribeClusterV2', 'kafka:GetBootstrapBrokers'], resourceArns: [ingress.clusterArn] });
    if ((ingress.auth?.mechanism ?? 'AWS_MSK_IAM') === 'AWS_MSK_IAM') {
      const topics = ingress.topics.map((t) => t.topic);
      iam.Grant.addToPrincipal({ grantee: fn, actions: ['kafka-cluster:Connect', 'kafka-cluster:DescribeClusterDynamicConfiguration'], resourceArns: [ingress.clusterArn] });
      iam.Grant.addToPrincipal({ grantee: fn, actions: ['kafka-cluster:DescribeTopic', 'kafka-cluster:ReadData'], resourceArns: topics.map((t) => mskResourceArn(ingress.clusterArn, 'topic', t)) });
      iam.Grant.addToPrincipal({
        grantee: fn,
        actions: ['kafka-cluster:DescribeGroup', 'kafka-cluster:AlterGroup'],
        resourceArns: topics.map((t) => mskResourceArn(ingress.clusterArn, 'group', kafkaGroupId(ingress, t, groupPrefix))),
      });
    }
  }
  for (const route of ingress.topics) {
    const mapping = fn.addEventSourceMapping(`KafkaIngress${index}-${route.topic}`, {
      ...(ingress.kind === 'msk' ? { eventSourceArn: ingress.clusterArn } : { kafkaBootstrapServers: [...ingress.bootstrapServers] }),
      kafkaTopic: route.topic,
      kafkaConsumerGroupId: kafkaGroupId(ingress, route.topic, groupPrefix),
      startingPosition: ingress.startingPosition ?? lambda.StartingPosition.TRIM_HORIZON,
      ...(ingress.startingPositionTimestamp !== undefined ? { startingPositionTimestamp: ingress.startingPositionTimestamp } : {}),
      batchSize: ingress.batchSize ?? 100,
      ...(access.length > 0 ? { sourceAccessConfigurations: access } : {}),
      ...(ingress.provisionedPollers ? { provisionedPollerConfig: { minimumPollers: ingress.provisionedPollers.minimum, maximumPollers: ingress.provisionedPollers.maximum } } : {}),
    });
    Validations.of(mapping).acknowledge({
      id: 'Serverless-LambdaEventSourceMappingDestination',
      reason: "No on-failure destination on purpose: with one, Lambda caps a Kafka mapping's retries at 10 and then skips the batch; without, a failed batch is retried until it succeeds, and the dispatcher itself dead-letters the records it cannot apply.",
    });
  }
}

const SASL_ACCESS: Record<KafkaSaslAuth['mechanism'], lambda.SourceAccessConfigurationType> = {
  PLAIN: lambda.SourceAccessConfigurationType.BASIC_AUTH,
  'SCRAM-SHA-256': lambda.SourceAccessConfigurationType.SASL_SCRAM_256_AUTH,
  'SCRAM-SHA-512': lambda.SourceAccessConfigurationType.SASL_SCRAM_512_AUTH,
};

/** `STATEFUN_EGRESSES`' form of a Kafka egress: `{kafkaProducerRecordTopics, kafkaCluster: {bootstrapServers, tls?, sasl?}}`. */
export function kafkaEgressTarget(egress: KafkaEgressProps): Record<string, unknown> {
  // A token (e.g. a custom resource's output) stays one string: the relay splits it at run time.
  const servers =
    typeof egress.bootstrapServers !== 'string' ? [...egress.bootstrapServers] : Token.isUnresolved(egress.bootstrapServers) ? egress.bootstrapServers : egress.bootstrapServers.split(',').map((s) => s.trim());
  const sasl = egress.auth === undefined ? undefined : egress.auth.mechanism === 'AWS_MSK_IAM' ? { mechanism: 'AWS_MSK_IAM' } : { mechanism: egress.auth.mechanism, secretArn: egress.auth.secret.secretArn };
  const tls = egress.tls ?? egress.auth !== undefined;
  return { kafkaProducerRecordTopics: [...egress.topics], kafkaCluster: { bootstrapServers: servers, tls, ...(sasl ? { sasl } : {}) } };
}

/** What producing to a Kafka egress takes: the MSK IAM actions on its cluster and topics, or its secret. */
export function grantKafkaEgress(fn: lambda.Function, egress: KafkaEgressProps): void {
  if (egress.auth?.mechanism === 'AWS_MSK_IAM') {
    const cluster = egress.mskClusterArn!;
    // WriteDataIdempotently: the relay's producer is idempotent.
    iam.Grant.addToPrincipal({ grantee: fn, actions: ['kafka-cluster:Connect', 'kafka-cluster:WriteDataIdempotently'], resourceArns: [cluster] });
    iam.Grant.addToPrincipal({ grantee: fn, actions: ['kafka-cluster:DescribeTopic', 'kafka-cluster:WriteData'], resourceArns: egress.topics.map((t) => mskResourceArn(cluster, 'topic', t)) });
  } else if (egress.auth) {
    grantSecretValue(fn, egress.auth.secret);
  }
}

/** `secretsmanager:GetSecretValue` on that secret only, and decryption with its key. */
function grantSecretValue(fn: lambda.Function, secret: secretsmanager.ISecret): void {
  iam.Grant.addToPrincipal({ grantee: fn, actions: ['secretsmanager:GetSecretValue'], resourceArns: [secret.secretFullArn ?? `${secret.secretArn}-??????`] });
  secret.encryptionKey?.grantDecrypt(fn);
}

