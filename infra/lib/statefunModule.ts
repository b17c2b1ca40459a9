import { ArnFormat, type RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type { Construct } from 'constructs';
import type { EndpointSpec, KafkaIngressSpec, StartupPosition, StatefunModule } from '../../runtime-lambda/module/model';
import { readModuleFile } from '../../runtime-lambda/module/parseModule';
import { StatefulFunctionsPropsError } from './StatefulFunctionsPropsError';
import type { KafkaAuth, KafkaEgressProps, KafkaIngressProps } from './kafka';

/**
 * A StateFun module.yaml deployed by the `StatefulFunctions` construct: its endpoints become
 * remote functions, its Kinesis ingresses streams and mappings, its Kinesis egresses
 * streams the relay writes the SDKs' `KinesisEgressRecord`s to, its Kafka ingresses and
 * egresses mappings and egresses on the cluster `kafka` describes. See
 * docs/statefun-compatibility.md ("Deploying a module with CDK") and docs/kafka.md ("On Amazon MSK").
 *
 * @example
 * const props: StatefunModuleProps = { file: 'module.yaml', kinesisEgressStreams: { 'example/out': ['greetings'] } };
 */
export interface StatefunModuleProps {
  /** Path of the module.yaml, in either of StateFun's formats. */
  readonly file: string;
  /**
   * Kinesis streams the module names (ingress streams, and the streams its Kinesis egresses
   * write to), by stream name. A stream not given here is created with that name (on demand,
   * encrypted, with the construct's removal policy).
   * @default - every stream is created
   */
  readonly streams?: Readonly<Record<string, kinesis.IStream>>;
  /**
   * For each Kinesis egress of the module (by its id, `namespace/name`): the streams its
   * records may name. StateFun's egress spec lists none (each record names its stream), but
   * the relay's role may write only to streams known at deploy time; a record naming another
   * stream becomes a dead letter.
   * @default - none: a module with a Kinesis egress must list its streams
   */
  readonly kinesisEgressStreams?: Readonly<Record<string, readonly string[]>>;
  /**
   * The Kafka cluster behind the module's `io.statefun.kafka.v1/ingress` and `/egress`
   * documents (a module's `address` says neither whether it is MSK nor how to sign in).
   * @default - none: a module with a Kafka ingress or egress fails the synth
   */
  readonly kafka?: StatefunModuleKafkaProps;
}

/**
 * The Kafka cluster of a module's Kafka ingresses and egresses. With `mskClusterArn`, its
 * ingresses become MSK mappings (IAM unless `auth` says otherwise); without, self-managed
 * ones at the module's `address`.
 *
 * @example
 * const kafka: StatefunModuleKafkaProps = {
 *   mskClusterArn: cluster.attrArn,
 *   bootstrapServers: 'b-1.shop.abc123.c2.kafka.us-east-1.amazonaws.com:9098',
 *   egressTopics: { 'example/out': ['greetings'] },
 * };
 */
export interface StatefunModuleKafkaProps {
  /** @default - a self-managed cluster */
  readonly mskClusterArn?: string;
  /**
   * Replaces every Kafka `address` of the module, e.g. the MSK cluster's
   * `aws kafka get-bootstrap-brokers` output for the egresses.
   * @default - each document's `address`
   */
  readonly bootstrapServers?: string;
  /** @default - `AWS_MSK_IAM` with `mskClusterArn`, none without */
  readonly auth?: KafkaAuth;
  /** TLS from the relay to the brokers. @default - true with auth, false without */
  readonly tls?: boolean;
  /** Self-managed brokers in a VPC: the ingress mappings reach them from its subnets. @default - none */
  readonly vpc?: ec2.IVpc;
  /** @default - the VPC's private subnets */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /** The ingress mappings' security group; required with `vpc`. @default - none */
  readonly securityGroup?: ec2.ISecurityGroup;
  /**
   * For each Kafka egress of the module (by id): the topics its records may name. As for
   * Kinesis, StateFun lists none, but the relay's grants and checks need them.
   * @default - none: a module with a Kafka egress must list its topics
   */
  readonly egressTopics?: Readonly<Record<string, readonly string[]>>;
}

/** An ingress stream of the module, with its mapping settings. */
export interface ModuleIngressStream {
  readonly stream: kinesis.IStream;
  readonly functionTypes: readonly string[];
  readonly valueType: string;
  readonly startingPosition: lambda.StartingPosition;
  /** Seconds since the epoch, for `AT_TIMESTAMP`. */
  readonly startingPositionTimestamp?: number;
}

/** What the construct deploys of a module. */
export interface DeployedModule {
  readonly module: StatefunModule;
  readonly endpoints: readonly EndpointSpec[];
  /** Function ARNs (with `*` for `{function.name}`) the dispatcher may invoke for the module's Lambda endpoints. */
  readonly lambdaFunctionArns: readonly string[];
  /** URLs of the module's HTTP endpoints (their templates). */
  readonly httpUrls: readonly string[];
  readonly ingresses: readonly ModuleIngressStream[];
  /** Egress id → the streams its records may name. */
  readonly kinesisEgresses: Readonly<Record<string, readonly kinesis.IStream[]>>;
  /** The module's Kafka ingresses, as the construct's props. */
  readonly kafkaIngresses: readonly KafkaIngressProps[];
  /** The module's Kafka egresses by id, as the construct's props. */
  readonly kafkaEgresses: Readonly<Record<string, KafkaEgressProps>>;
}

/** Settings of the construct the module's resources follow. */
export interface ModuleDeploymentOptions {
  readonly constructPath: string;
  readonly encryptionKey?: kms.IKey;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * Reads the module (at synth time) and creates the streams it needs under `scope`.
 *
 * @throws {@link StatefulFunctionsPropsError} naming `module.file` for a module that cannot
 *   be read or parsed (the parser's message names the document and field), or that uses a
 *   kind the construct cannot deploy; `module.kinesisEgressStreams` for an egress without streams;
 *   `module.kafka` for Kafka documents without it, `module.kafka.egressTopics` for a Kafka egress without topics.
 */
export function deployModule(scope: Construct, props: StatefunModuleProps, options: ModuleDeploymentOptions): DeployedModule {
  const fail = (prop: string, value: unknown, fix: string): never => {
    throw new StatefulFunctionsPropsError(options.constructPath, prop, value, fix);
  };
  let module: StatefunModule;
  try {
    module = readModuleFile(props.file);
  } catch (error) {
    return fail('module.file', props.file, (error as Error).message);
  }
  for (const part of [...module.ingresses, ...module.egresses]) {
    const where = `${part.source.file}, document ${part.source.document} (${part.source.kind})`;
    if (part.kind === 'playground') fail('module.file', props.file, `${where}: the playground ingress and egress run under \`statefun dev\` only; on AWS, feed functions through a Kinesis ingress and write to a Kinesis egress (or the construct's egresses)`);
    if (part.kind === 'kafka' && props.kafka === undefined) {
      fail('module.kafka', undefined, `${where}: a module's Kafka address says neither whether the cluster is Amazon MSK nor how to sign in: give kafka: { mskClusterArn, egressTopics } (MSK, IAM) or kafka: { auth: { mechanism: "SCRAM-SHA-512", secret } } (self-managed), see docs/kafka.md`);
    }
  }

  const region = Stack.of(scope).region;
  const streams = new Map<string, kinesis.IStream>(Object.entries(props.streams ?? {}));
  const streamNamed = (name: string): kinesis.IStream => {
    let stream = streams.get(name);
    if (stream === undefined) {
      stream = new kinesis.Stream(scope, `ModuleStream-${name}`, {
        streamName: name,
        streamMode: kinesis.StreamMode.ON_DEMAND,
        ...(options.encryptionKey ? { encryption: kinesis.StreamEncryption.KMS, encryptionKey: options.encryptionKey } : { encryption: kinesis.StreamEncryption.MANAGED }),
        removalPolicy: options.removalPolicy,
      });
      if (options.encryptionKey) {
        Validations.of(stream).acknowledge({ id: 'AwsSolutions-KDS3', reason: 'The caller chose a customer managed key (encryptionKey) for every stream of the application.' });
      }
      streams.set(name, stream);
    }
    return stream;
  };

  const ingresses: ModuleIngressStream[] = [];
  for (const ingress of module.ingresses) {
    if (ingress.kind !== 'kinesis') continue;
    if (ingress.awsRegion !== undefined && !Token.isUnresolved(region) && ingress.awsRegion !== region) {
      fail('module.file', props.file, `ingress ${ingress.id} reads streams in ${ingress.awsRegion}, but the stack deploys to ${region}: Lambda's mappings read streams of their own region; deploy the stack there`);
    }
    for (const route of ingress.streams) {
      ingresses.push({ stream: streamNamed(route.name), functionTypes: route.targets, valueType: route.valueType, ...startingPositionOf(ingress.startupPosition) });
    }
  }

  const kinesisEgresses: Record<string, kinesis.IStream[]> = {};
  for (const egress of module.egresses) {
    if (egress.kind !== 'kinesis') continue;
    const names = props.kinesisEgressStreams?.[egress.id];
    if (names === undefined || names.length === 0) {
      fail(`module.kinesisEgressStreams[${JSON.stringify(egress.id)}]`, names, `list the streams the records of egress ${egress.id} may name, e.g. kinesisEgressStreams: { ${JSON.stringify(egress.id)}: ["greetings"] }`);
    }
    kinesisEgresses[egress.id] = names!.map(streamNamed);
  }
  const kafka = props.kafka;
  const kafkaIngresses = module.ingresses.flatMap((ingress) => (ingress.kind === 'kafka' ? [kafkaIngressOf(ingress, kafka!, (fix) => fail('module.file', props.file, fix))] : []));
  const kafkaEgresses: Record<string, KafkaEgressProps> = {};
  for (const egress of module.egresses) {
    if (egress.kind !== 'kafka') continue;
    const topics = kafka!.egressTopics?.[egress.id];
    if (topics === undefined || topics.length === 0) {
      fail(`module.kafka.egressTopics[${JSON.stringify(egress.id)}]`, topics, `list the topics the records of egress ${egress.id} may name, e.g. egressTopics: { ${JSON.stringify(egress.id)}: ["greetings"] }`);
    }
    const auth = kafka!.auth ?? (kafka!.mskClusterArn ? ({ mechanism: 'AWS_MSK_IAM' } as const) : undefined);
    kafkaEgresses[egress.id] = {
      kind: 'kafka',
      topics: topics!,
      bootstrapServers: kafka!.bootstrapServers ?? egress.address,
      ...(kafka!.mskClusterArn ? { mskClusterArn: kafka!.mskClusterArn } : {}),
      ...(auth ? { auth } : {}),
      ...(kafka!.tls !== undefined ? { tls: kafka!.tls } : {}),
    };
  }
  for (const id of Object.keys(kafka?.egressTopics ?? {})) {
    if (kafkaEgresses[id] === undefined) fail(`module.kafka.egressTopics[${JSON.stringify(id)}]`, kafka!.egressTopics![id], `the module has no Kafka egress ${id}: its Kafka egresses are ${Object.keys(kafkaEgresses).join(', ') || 'none'}`);
  }
  for (const id of Object.keys(props.kinesisEgressStreams ?? {})) {
    if (kinesisEgresses[id] === undefined) fail(`module.kinesisEgressStreams[${JSON.stringify(id)}]`, props.kinesisEgressStreams![id], `the module has no Kinesis egress ${id}: its Kinesis egresses are ${Object.keys(kinesisEgresses).join(', ') || 'none'}`);
  }

  const stack = Stack.of(scope);
  const lambdaFunctionArns = module.endpoints
    .filter((e) => e.kind === 'lambda')
    .map((e) => {
      const name = e.functionNameTemplate.replaceAll('{function.name}', '*');
      return name.startsWith('arn:') ? name : stack.formatArn({ service: 'lambda', resource: 'function', resourceName: name, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    });
  const httpUrls = module.endpoints.flatMap((e) => (e.kind === 'http' ? [e.urlPathTemplate] : []));
  return { module, endpoints: module.endpoints, lambdaFunctionArns, httpUrls, ingresses, kinesisEgresses, kafkaIngresses, kafkaEgresses };
}

/** A module's Kafka ingress as the construct's props: MSK with `mskClusterArn`, else self-managed at its address. */
function kafkaIngressOf(ingress: KafkaIngressSpec, kafka: StatefunModuleKafkaProps, fail: (fix: string) => never): KafkaIngressProps {
  const base = {
    topics: ingress.topics.map((route) => ({ topic: route.name, functionType: route.targets, valueType: route.valueType })),
    consumerGroupId: ingress.consumerGroupId,
    ...kafkaStartingPosition(ingress, fail),
  };
  if (kafka.mskClusterArn) return { kind: 'msk', clusterArn: kafka.mskClusterArn, ...(kafka.auth ? { auth: kafka.auth } : {}), ...base };
  return {
    kind: 'selfManagedKafka',
    bootstrapServers: (kafka.bootstrapServers ?? ingress.address).split(',').map((s) => s.trim()),
    // An IAM auth here is refused by the construct's checks, naming it.
    ...(kafka.auth ? { auth: kafka.auth as Extract<KafkaAuth, { secret: unknown }> } : {}),
    ...(kafka.vpc ? { vpc: kafka.vpc } : {}),
    ...(kafka.vpcSubnets ? { vpcSubnets: kafka.vpcSubnets } : {}),
    ...(kafka.securityGroup ? { securityGroup: kafka.securityGroup } : {}),
    ...base,
  };
}

/**
 * StateFun's `startupPosition` as a Kafka mapping's: `group-offsets` is what a mapping with a
 * consumer group does anyway (its committed offsets, else `autoOffsetResetPosition`).
 */
function kafkaStartingPosition(ingress: KafkaIngressSpec, fail: (fix: string) => never): { startingPosition: lambda.StartingPosition; startingPositionTimestamp?: number } {
  const position = ingress.startupPosition;
  if (position.type === 'specific-offsets') {
    return fail(`ingress ${ingress.id}: startupPosition "specific-offsets" has no equivalent in Lambda's Kafka mappings (they start at the group's offsets, the earliest, the latest or a date): use "group-offsets", "earliest", "latest" or "date"`);
  }
  if (position.type === 'group-offsets') return { startingPosition: ingress.autoOffsetResetPosition === 'earliest' ? lambda.StartingPosition.TRIM_HORIZON : lambda.StartingPosition.LATEST };
  return startingPositionOf(position);
}

function startingPositionOf(position: StartupPosition): { startingPosition: lambda.StartingPosition; startingPositionTimestamp?: number } {
  switch (position.type) {
    case 'earliest':
      return { startingPosition: lambda.StartingPosition.TRIM_HORIZON };
    case 'date':
      return { startingPosition: lambda.StartingPosition.AT_TIMESTAMP, startingPositionTimestamp: Math.floor(position.date.getTime() / 1000) };
    default:
      // `latest`, StateFun's default; Kafka's own positions never reach a Kinesis ingress.
      return { startingPosition: lambda.StartingPosition.LATEST };
  }
}
