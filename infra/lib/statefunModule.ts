import { ArnFormat, type RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import type { EndpointSpec, StartupPosition, StatefunModule } from '../../runtime-lambda/module/model';
import { readModuleFile } from '../../runtime-lambda/module/parseModule';
import { StatefulFunctionsPropsError } from './StatefulFunctionsPropsError';

/**
 * A StateFun module.yaml deployed by the `StatefulFunctions` construct: its endpoints become
 * remote functions, its Kinesis ingresses streams and mappings, its Kinesis egresses
 * streams the relay writes the SDKs' `KinesisEgressRecord`s to. See
 * docs/statefun-compatibility.md ("Deploying a module with CDK").
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
 *   kind the construct cannot deploy; `module.kinesisEgressStreams` for an egress without streams.
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
    if (part.kind === 'kafka') fail('module.file', props.file, `${where}: Kafka ingresses and egresses are not deployed by the construct yet: use a Kinesis ingress and egress on AWS`);
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
  return { module, endpoints: module.endpoints, lambdaFunctionArns, httpUrls, ingresses, kinesisEgresses };
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
