/**
 * `statefun dev --aws-local`: run an application on local AWS (DynamoDB Local + moto, or
 * whatever `AWS_ENDPOINT_URL` points at, e.g. LocalStack) through the real dispatcher and
 * relay handlers, driven by the {@link LocalPoller} instead of Lambda's event source mappings.
 * The command line is read by the `statefun` program (devCommand.ts):
 *
 *     npx statefun dev --aws-local --app functions/greeter/app.ts \
 *       --ingress names=example/greeter:io.statefun.types/string --egress example/greetings
 *
 * See docs/local-aws.md ("Run your app on local AWS").
 */
import { resolve as resolvePath } from 'node:path';
import { existsSync } from 'node:fs';
import type { FunctionResolver } from '../core/ports/FunctionEndpoint';
import { InvalidInputError } from '../core/errors';
import { DynamoStateStore } from '../aws/DynamoStateStore';
import { DynamoEgressFence } from '../aws/EgressFence';
import { type LocalAwsEndpoints, type LocalAwsResources, LocalDelayScheduler, localAwsClients, provisionLocalAws } from '../aws/LocalAws';
import { LocalPoller } from '../aws/LocalPoller';
import type { IngressSpec } from '../aws/kinesisRecords';
import { createDispatcherHandler } from '../handlers/dispatcher';
import { createRelayHandler } from '../handlers/relay';
import { egressTargetLabel } from '../aws/OutboxRelay';

/** What `statefun dev --aws-local` runs. */
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

/**
 * Loads the application module and finds its function resolver.
 *
 * @throws {@link InvalidInputError} for a file that does not exist or exports no application.
 */
export async function loadApp(modulePath: string, exportName?: string): Promise<FunctionResolver> {
  const file = resolvePath(modulePath);
  if (!existsSync(file)) throw new InvalidInputError(`--app ${modulePath}: no such file (${file})`);
  const module = (await import(file)) as Record<string, unknown>;
  const candidates = exportName ? [exportName] : ['app', 'default'];
  for (const name of candidates) {
    let value = module[name] as { resolver?: () => FunctionResolver; resolve?: FunctionResolver['resolve'] } | undefined;
    if (name === 'default' && value && typeof value === 'object' && 'app' in value) value = (value as { app: typeof value }).app;
    if (value && typeof value.resolver === 'function') return value.resolver();
    if (value && typeof value.resolve === 'function') return value as FunctionResolver;
  }
  throw new InvalidInputError(
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

/**
 * Provisions local AWS (the emulators started unless `AWS_ENDPOINT_URL` names running ones)
 * and runs `functions` there until SIGINT or SIGTERM, or until idle with `options.once`.
 */
export async function runAwsLocal(options: DevOptions, functions: FunctionResolver, out: (line: string) => void): Promise<void> {
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
}
