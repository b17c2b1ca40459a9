/**
 * `statefun dev --aws-local`: run an application on local AWS (DynamoDB Local + moto, or
 * whatever `AWS_ENDPOINT_URL` points at, e.g. LocalStack) through the real dispatcher and
 * relay handlers, driven by the {@link LocalPoller} instead of Lambda's event source mappings.
 *
 *     npx tsx runtime-lambda/local/cli.ts dev --aws-local --app functions/greeter/app.ts \
 *       --ingress names=example/greeter:io.statefun.types/string --egress example/greetings
 *
 * See docs/local-aws.md ("Run your app on local AWS").
 */
import { resolve as resolvePath } from 'node:path';
import { existsSync } from 'node:fs';
import type { FunctionResolver } from '../core/ports/FunctionEndpoint';
import { typename } from '../core/Address';
import { DynamoStateStore } from '../aws/DynamoStateStore';
import { DynamoEgressFence } from '../aws/EgressFence';
import { type LocalAwsEndpoints, type LocalAwsResources, LocalDelayScheduler, localAwsClients, provisionLocalAws } from '../aws/LocalAws';
import { LocalPoller } from '../aws/LocalPoller';
import type { IngressSpec } from '../aws/kinesisRecords';
import { createDispatcherHandler } from '../handlers/dispatcher';
import { createRelayHandler } from '../handlers/relay';
import { egressTargetLabel } from '../aws/OutboxRelay';

export const USAGE = `usage: npx tsx runtime-lambda/local/cli.ts dev --aws-local --app <module> [options]

  --app <module>            module exporting the application: a StatefulFunctions registry
                            (or any object with resolver() or resolve(type)) as "app" or default
  --export <name>           the export to use instead of "app"/default
  --prefix <name>           resource name prefix (default statefun-dev): <prefix>-state,
                            <prefix>-outbox, <prefix>-inbox, <prefix>-messages, <prefix>-dlq
  --ingress <stream>=<fn type>[:<value type>]   an ingress stream (created), repeatable
  --egress <namespace/type> an egress, delivered to a FIFO SQS queue (created), repeatable
  --message-shards <n>      shards of the message stream (default 2)
  --batch-size <n>          records per invocation (default 100)
  --parallelization <n>     batches per shard in flight, 1-10 (default 1)
  --once                    stop when everything is processed (default: run until Ctrl-C)

Endpoints: AWS_ENDPOINT_URL (one endpoint for everything, e.g. LocalStack), else DynamoDB
Local and moto are started for the session.`;

/** A command line that cannot be run: printed with the usage, exit code 2. */
export class UsageError extends Error {}

/** The parsed `dev --aws-local` command. */
export interface DevOptions {
  readonly app: string;
  readonly exportName?: string;
  readonly prefix: string;
  readonly ingresses: Readonly<Record<string, IngressSpec>>;
  readonly egress: readonly string[];
  readonly messageShards: number;
  readonly batchSize: number;
  readonly parallelization: number;
  readonly once: boolean;
}

/** Parses and validates `dev --aws-local ...`; every error names the argument and the fix. */
export function parseDevArgs(argv: readonly string[]): DevOptions {
  const [command, ...rest] = argv;
  if (command !== 'dev') throw new UsageError(command === undefined ? 'no command given: the command is "dev"' : `unknown command ${JSON.stringify(command)}: the command is "dev"`);
  let awsLocal = false;
  let app: string | undefined;
  let exportName: string | undefined;
  let prefix = 'statefun-dev';
  const ingresses: Record<string, IngressSpec> = {};
  const egress: string[] = [];
  const numbers = { messageShards: 2, batchSize: 100, parallelization: 1 };
  let once = false;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    const eq = arg.indexOf('=');
    const flag = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    const value = (): string => {
      const v = arg.startsWith('--') && eq > 0 ? arg.slice(eq + 1) : rest[++i];
      if (v === undefined || v === '' || v.startsWith('--')) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    const count = (name: keyof typeof numbers, min: number, max: number) => {
      const text = value();
      const n = Number(text);
      if (!/^\d+$/.test(text) || n < min || n > max) throw new UsageError(`${flag} must be an integer from ${min} to ${max}, got ${JSON.stringify(text)}`);
      numbers[name] = n;
    };
    switch (flag) {
      case '--aws-local':
        awsLocal = true;
        break;
      case '--once':
        once = true;
        break;
      case '--app':
        app = value();
        break;
      case '--export':
        exportName = value();
        break;
      case '--prefix': {
        prefix = value();
        if (!/^[A-Za-z0-9_-]{1,40}$/.test(prefix)) throw new UsageError(`--prefix must be 1 to 40 letters, digits, "-" or "_" (it names tables, streams and queues), got ${JSON.stringify(prefix)}`);
        break;
      }
      case '--ingress': {
        const text = value();
        const m = /^([A-Za-z0-9_.-]{1,128})=([^:]+)(?::(.+))?$/.exec(text);
        if (!m) throw new UsageError(`--ingress must be <stream>=<namespace/type>[:<value type>], e.g. orders=shop/cart, got ${JSON.stringify(text)}`);
        try {
          typename(m[2]!);
          if (m[3] !== undefined) typename(m[3]);
        } catch (error) {
          throw new UsageError(`--ingress ${text}: ${(error as Error).message}`);
        }
        if (ingresses[m[1]!]) throw new UsageError(`--ingress: stream ${m[1]} is given twice`);
        ingresses[m[1]!] = m[3] === undefined ? { functionType: m[2]! } : { functionType: m[2]!, valueType: m[3] };
        break;
      }
      case '--egress': {
        const text = value();
        try {
          typename(text);
        } catch (error) {
          throw new UsageError(`--egress ${JSON.stringify(text)}: ${(error as Error).message}`);
        }
        egress.push(text);
        break;
      }
      case '--message-shards':
        count('messageShards', 1, 16);
        break;
      case '--batch-size':
        count('batchSize', 1, 10_000);
        break;
      case '--parallelization':
        count('parallelization', 1, 10);
        break;
      default:
        throw new UsageError(`unknown argument ${JSON.stringify(arg)}`);
    }
  }
  if (!awsLocal) throw new UsageError('dev needs --aws-local (the embedded runtime is `npm start`; this command runs on local AWS)');
  if (app === undefined) throw new UsageError('--app <module> is required: the module that exports your StatefulFunctions application');
  return { app, ...(exportName ? { exportName } : {}), prefix, ingresses, egress, ...numbers, once };
}

/** Loads the application module and finds its function resolver. */
export async function loadApp(modulePath: string, exportName?: string): Promise<FunctionResolver> {
  const file = resolvePath(modulePath);
  if (!existsSync(file)) throw new UsageError(`--app ${modulePath}: no such file (${file})`);
  const module = (await import(file)) as Record<string, unknown>;
  const candidates = exportName ? [exportName] : ['app', 'default'];
  for (const name of candidates) {
    let value = module[name] as { resolver?: () => FunctionResolver; resolve?: FunctionResolver['resolve'] } | undefined;
    if (name === 'default' && value && typeof value === 'object' && 'app' in value) value = (value as { app: typeof value }).app;
    if (value && typeof value.resolver === 'function') return value.resolver();
    if (value && typeof value.resolve === 'function') return value as FunctionResolver;
  }
  throw new UsageError(
    `--app ${modulePath}: exports ${Object.keys(module).join(', ') || 'nothing'}; expected ${exportName ? `"${exportName}"` : '"app" or a default export'} to be a StatefulFunctions registry (or an object with resolve(type))`,
  );
}

/** A running dev session. */
export interface DevSession {
  readonly resources: LocalAwsResources;
  readonly poller: LocalPoller;
  stop(): Promise<void>;
}

/** Provisions the resources on `endpoints` and runs the dispatcher and relay under the poller. */
export async function startDev(options: DevOptions, functions: FunctionResolver, endpoints: LocalAwsEndpoints, logger: Pick<Console, 'warn'> = console): Promise<DevSession> {
  const clients = localAwsClients(endpoints);
  const resources = await provisionLocalAws(clients, {
    prefix: options.prefix,
    messageShards: options.messageShards,
    ingressStreams: Object.fromEntries(Object.keys(options.ingresses).map((s) => [s, 1])),
    sqsEgress: options.egress,
  });
  const delays = new LocalDelayScheduler(clients.kinesis, resources.messageStream, logger);
  const dispatcher = createDispatcherHandler({
    store: new DynamoStateStore({ tableName: resources.tableName, outboxTableName: resources.outboxTableName, inboxTableName: resources.inboxTableName, client: clients.dynamo }),
    functions,
    ingresses: options.ingresses,
    logger,
  });
  const relay = createRelayHandler({
    kinesis: clients.kinesis,
    sqs: clients.sqs,
    messageStream: resources.messageStream,
    egress: resources.egress,
    deadLetterQueueUrl: resources.deadLetterQueueUrl,
    delays,
    egressFence: new DynamoEgressFence({ client: clients.dynamo, inboxTableName: resources.inboxTableName }),
    logger,
  });
  const mapping = { batchSize: options.batchSize, parallelizationFactor: options.parallelization, bisectBatchOnFunctionError: true };
  const poller = new LocalPoller({
    sources: [
      ...[resources.messageStream, ...Object.keys(options.ingresses)].map((stream) => ({ kind: 'kinesis' as const, client: clients.kinesis, stream, handler: dispatcher, mapping })),
      { kind: 'dynamodb', api: clients.streams, streamArn: resources.outboxStreamArn, handler: relay, mapping },
    ],
    logger,
  });
  poller.start();
  let stopped = false;
  return {
    resources,
    poller,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await poller.stop();
      delays.stop();
      clients.destroy();
    },
  };
}

/** The command line: answers the exit code. */
export async function main(argv: readonly string[], out: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Promise<number> {
  let options: DevOptions;
  let functions: FunctionResolver;
  try {
    options = parseDevArgs(argv);
    functions = await loadApp(options.app, options.exportName);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`statefun: ${error.message}\n\n${USAGE}\n`);
    return 2;
  }
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  // The emulators of the test support: started unless AWS_ENDPOINT_URL (or the
  // STATEFUN_TEST_* endpoints) name running ones. Loaded only here, never by a Lambda bundle.
  const { startEmulators } = await import('../../test/support/emulators');
  const emulators = await startEmulators();
  const e = emulators.endpoints;
  const endpoints: LocalAwsEndpoints = { dynamodb: e.dynamodb, aws: e.aws, region: e.region, credentials: { accessKeyId: e.accessKeyId, secretAccessKey: e.secretAccessKey } };
  const session = await startDev(options, functions, endpoints);
  const r = session.resources;
  out(`statefun dev: DynamoDB ${endpoints.dynamodb}, Kinesis/SQS ${endpoints.aws} (${emulators.started.length > 0 ? 'emulators started for this session' : 'existing endpoint'})`);
  out(`  tables ${r.tableName}, ${r.outboxTableName}, ${r.inboxTableName}; message stream ${r.messageStream}; DLQ ${r.deadLetterQueueUrl}`);
  for (const stream of Object.keys(options.ingresses)) out(`  ingress stream ${stream} → ${options.ingresses[stream]!.functionType}`);
  for (const [name, target] of Object.entries(r.egress)) out(`  egress ${name} → ${egressTargetLabel(target)}`);
  const done = new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
    if (options.once) session.poller.waitForIdle({ quietMs: 1500, timeoutMs: 10 * 60_000 }).then(resolve, resolve);
  });
  const ticker = options.once ? undefined : setInterval(() => out(`  progress ${JSON.stringify(session.poller.summary())}`), 10_000);
  await done;
  if (ticker) clearInterval(ticker);
  out(`statefun dev: stopping; ${JSON.stringify(session.poller.summary())}`);
  await session.stop();
  await emulators.stop();
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`statefun: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    },
  );
}
