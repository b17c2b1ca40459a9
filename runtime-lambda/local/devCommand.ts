import { mkdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import type { IngressSpec } from '../aws/kinesisRecords';
import { typename } from '../core/Address';
import { InvalidInputError } from '../core/errors';
import type { FunctionResolver } from '../core/ports/FunctionEndpoint';
import { moduleResolver } from '../module/moduleResolver';
import { readModuleFile } from '../module/parseModule';
import { type DevOptions, loadApp, runAwsLocal } from './cli';
import type { CommandContext } from './commandContext';
import type { DevKafkaOpts } from './DevKafka';
import { startDevModule } from './devModule';
import { type LocalKafka, findKafkaLibs, startLocalKafka } from './localKafka';

interface DevOpts {
  readonly module?: string;
  readonly stateFile?: string;
  readonly inMemory?: boolean;
  readonly quiet?: boolean;
  readonly kafka?: string;
  readonly startKafka?: boolean;
  readonly awsLocal?: boolean;
  readonly app?: string;
  readonly export?: string;
  readonly prefix: string;
  readonly ingress: Readonly<Record<string, IngressSpec>>;
  readonly egress: readonly string[];
  readonly messageShards: number;
  readonly batchSize: number;
  readonly parallelization: number;
  readonly once?: boolean;
}

/** The options of `--aws-local` only. */
const AWS_LOCAL_ONLY = ['app', 'export', 'prefix', 'ingress', 'egress', 'messageShards', 'batchSize', 'parallelization', 'once'] as const;

/** Where the state of `statefun dev --module <file>` is kept unless told: beside the module. */
export function defaultStateFile(moduleFile: string): string {
  return join(dirname(resolve(moduleFile)), '.statefun', 'dev-state.json');
}

/**
 * Adds `statefun dev` to `program`, in two modes:
 * - `--module module.yaml`: runs a StateFun module on the embedded runtime (docs/local-dev.md);
 * - `--aws-local --app <module>`: runs an application on local AWS through the real handlers
 *   (docs/local-aws.md).
 *
 * Either runs until SIGINT or SIGTERM (a second one exits at once, code 130), then stops
 * cleanly and answers 0; `--aws-local --once` stops by itself once everything is processed.
 *
 * @example
 * statefun dev --module module.yaml --quiet
 */
export function addDevCommand(program: Command, ctx: CommandContext, stopSignal: () => Promise<string> = nextSignal): void {
  const command: Command = program
    .command('dev')
    .description('run an application locally: a StateFun module.yaml on the embedded runtime (--module), or an app on local AWS (--aws-local)')
    .addOption(new Option('--module <file>', 'the StateFun module.yaml to run on the embedded runtime').conflicts(['awsLocal', ...AWS_LOCAL_ONLY]))
    .addOption(new Option('--state-file <path>', 'with --module: where the state is kept across restarts (default: .statefun/dev-state.json beside the module)').conflicts(['inMemory', 'awsLocal']))
    .addOption(new Option('--in-memory', 'with --module: keep no state across restarts').conflicts('awsLocal'))
    .addOption(new Option('--quiet', 'with --module: no line per message handled (dead letters and errors are still printed)').conflicts('awsLocal'))
    .addOption(new Option('--kafka <host:port>', "with --module: the Kafka broker every Kafka ingress and egress of the module uses, instead of its address").argParser(parseBootstrap).conflicts(['startKafka', 'awsLocal']))
    .addOption(new Option('--start-kafka', 'with --module: start a local Kafka broker (jars from scripts/ensure-kafka.sh) for the Kafka ingresses and egresses, create their topics, stop it at exit').conflicts(['kafka', 'awsLocal']))
    .option('--aws-local', 'run on local AWS (DynamoDB Local and moto, or AWS_ENDPOINT_URL) through the real handlers')
    .option('--app <module>', 'with --aws-local: the module exporting the application (a StatefulFunctions registry, or any object with resolver() or resolve(type)) as "app" or default')
    .option('--export <name>', 'with --aws-local: the export to use instead of "app"/default')
    .option('--prefix <name>', 'with --aws-local: resource name prefix: <prefix>-state, -outbox, -inbox, -messages, -dlq', parsePrefix, 'statefun-dev')
    .addOption(new Option('--ingress <stream=type[:valueType]>', 'with --aws-local: an ingress stream (created) to a function type, repeatable').argParser(parseIngress).default({}, 'none'))
    .addOption(new Option('--egress <namespace/type>', 'with --aws-local: an egress delivered to a FIFO SQS queue (created), repeatable').argParser(parseEgress).default([], 'none'))
    .option('--message-shards <n>', 'with --aws-local: shards of the message stream', count('--message-shards', 1, 16), 2)
    .option('--batch-size <n>', 'with --aws-local: records per invocation', count('--batch-size', 1, 10_000), 100)
    .option('--parallelization <n>', 'with --aws-local: batches per shard in flight', count('--parallelization', 1, 10), 1)
    .option('--once', 'with --aws-local: stop when everything is processed (default: run until Ctrl-C)')
    .action(async (opts: DevOpts) => {
      if (opts.awsLocal) {
        if (opts.app === undefined) command.error('error: --aws-local needs --app <module>: the module that exports your StatefulFunctions application');
        await devAwsLocal(opts, ctx, command);
        return;
      }
      if (opts.module === undefined) {
        const given = AWS_LOCAL_ONLY.filter((name) => command.getOptionValueSource(name) === 'cli');
        command.error(
          given.length > 0
            ? `error: ${given.map(flagOf).join(', ')} go with --aws-local: give --aws-local, or run a module.yaml with --module <file>`
            : 'error: give --module <file> (a StateFun module.yaml, run on the embedded runtime) or --aws-local --app <module> (an app on local AWS)',
        );
      }
      await devModule(opts.module!, opts, ctx, stopSignal);
    });
}

async function devModule(moduleFile: string, opts: DevOpts, ctx: CommandContext, stopSignal: () => Promise<string>): Promise<void> {
  const module = readModuleFile(moduleFile);
  const kafkaParts = [...module.ingresses, ...module.egresses].filter((part) => part.kind === 'kafka');
  if ((opts.kafka !== undefined || opts.startKafka) && kafkaParts.length === 0) {
    throw new InvalidInputError(`${opts.startKafka ? '--start-kafka' : '--kafka'}: ${module.file} has no Kafka ingress or egress (kind io.statefun.kafka.v1/ingress or /egress): leave the flag out`);
  }
  const stateFile = opts.inMemory ? undefined : resolve(opts.stateFile ?? defaultStateFile(moduleFile));
  if (stateFile !== undefined) mkdirSync(dirname(stateFile), { recursive: true });
  let broker: LocalKafka | undefined;
  if (opts.startKafka) {
    const libs = findKafkaLibs();
    ctx.output.out('statefun dev: starting a Kafka broker (--start-kafka)');
    // Beside the state file, the broker's topics and offsets last as long as the state's marks of them.
    broker = await startLocalKafka({ libs, ...(stateFile !== undefined ? { dataDir: join(dirname(stateFile), 'kafka') } : {}) });
  }
  const kafka: DevKafkaOpts = broker ? { bootstrap: broker.bootstrap, createTopics: true } : opts.kafka !== undefined ? { bootstrap: opts.kafka } : {};
  let session;
  try {
    session = await startDevModule(module, {
      functions: moduleResolver(module),
      ...(stateFile !== undefined ? { stateFile } : {}),
      quiet: opts.quiet ?? false,
      out: (line) => ctx.output.out(line),
      kafka,
    });
  } catch (error) {
    await broker?.stop();
    throw error;
  }
  const addresses = [...session.runtime.store.all()].length;
  ctx.output.out(`statefun dev: running ${module.file}`);
  for (const endpoint of module.endpoints) {
    const served = `${endpoint.functions.namespace}/${endpoint.functions.name ?? '*'}`;
    ctx.output.out(`  functions ${served} → ${endpoint.kind === 'http' ? endpoint.urlPathTemplate : endpoint.functionNameTemplate}`);
  }
  if (session.ingressUrl) ctx.output.out(`  playground ingress ${session.ingressUrl}/<namespace>/<type>/<id>`);
  if (session.egressUrl) ctx.output.out(`  playground egress ${session.egressUrl}/<topic>`);
  if (broker) {
    const kept = stateFile === undefined ? 'its data deleted at exit' : `its data in ${relative(process.cwd(), join(dirname(stateFile), 'kafka'))}, kept with the state`;
    ctx.output.out(`  Kafka broker ${broker.bootstrap} started (--start-kafka, in ${broker.startupMs} ms; stopped at exit, ${kept}): every Kafka ingress and egress uses it instead of its address`);
  }
  else if (opts.kafka !== undefined) ctx.output.out(`  Kafka broker ${opts.kafka} (--kafka): every Kafka ingress and egress uses it instead of its address (${[...new Set(kafkaParts.map((p) => p.address))].join(', ')})`);
  for (const { spec, bootstrap } of session.kafkaIngresses) {
    ctx.output.out(`  kafka ingress ${spec.id} on ${bootstrap}, group ${spec.consumerGroupId}: ${spec.topics.map((t) => `${t.name} → ${t.targets.join(', ')}`).join('; ')}`);
  }
  for (const spec of module.egresses) if (spec.kind === 'kafka') ctx.output.out(`  kafka egress ${spec.id} → ${kafka.bootstrap ?? spec.address}`);
  ctx.output.out(stateFile === undefined ? '  state in memory only (--in-memory)' : `  state ${relative(process.cwd(), stateFile) || stateFile} (${addresses} addresses restored)`);
  ctx.output.out('statefun dev: ready (Ctrl-C to stop)');
  const signal = await stopSignal();
  ctx.output.out(`statefun dev: ${signal}: stopping: finishing the calls under way (Ctrl-C again to quit at once)`);
  await session.stop();
  await broker?.stop();
  ctx.output.out(`statefun dev: stopped${stateFile === undefined ? '' : `; state written to ${relative(process.cwd(), stateFile) || stateFile}`}${broker ? '; Kafka broker stopped' : ''}`);
}

async function devAwsLocal(opts: DevOpts, ctx: CommandContext, command: Command): Promise<void> {
  let functions: FunctionResolver;
  try {
    functions = await loadApp(opts.app!, opts.export);
  } catch (error) {
    if (!(error instanceof InvalidInputError)) throw error;
    command.error(`error: ${error.message}`);
  }
  const options: DevOptions = {
    app: opts.app!,
    ...(opts.export !== undefined ? { exportName: opts.export } : {}),
    prefix: opts.prefix,
    ingresses: opts.ingress,
    egress: opts.egress,
    messageShards: opts.messageShards,
    batchSize: opts.batchSize,
    parallelization: opts.parallelization,
    once: opts.once ?? false,
  };
  await runAwsLocal(options, functions, (line) => ctx.output.out(line));
}

function flagOf(name: string): string {
  return `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

function parseBootstrap(text: string): string {
  const servers = text.split(',');
  for (const server of servers) {
    const m = /^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:]+\]):(\d{1,5})$/.exec(server);
    if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) {
      throw new InvalidArgumentError(`--kafka must be a broker's <host>:<port> (several separated by commas), e.g. 127.0.0.1:9092, got ${JSON.stringify(text)}`);
    }
  }
  return text;
}

function parsePrefix(text: string): string {
  if (!/^[A-Za-z0-9_-]{1,40}$/.test(text)) throw new InvalidArgumentError(`--prefix must be 1 to 40 letters, digits, "-" or "_" (it names tables, streams and queues), got ${JSON.stringify(text)}`);
  return text;
}

function parseIngress(text: string, previous: Readonly<Record<string, IngressSpec>>): Record<string, IngressSpec> {
  const m = /^([A-Za-z0-9_.-]{1,128})=([^:]+)(?::(.+))?$/.exec(text);
  if (!m) throw new InvalidArgumentError(`--ingress must be <stream>=<namespace/type>[:<value type>], e.g. orders=shop/cart, got ${JSON.stringify(text)}`);
  try {
    typename(m[2]!);
    if (m[3] !== undefined) typename(m[3]);
  } catch (error) {
    throw new InvalidArgumentError(`--ingress ${text}: ${(error as Error).message}`);
  }
  if (previous[m[1]!]) throw new InvalidArgumentError(`--ingress: stream ${m[1]} is given twice`);
  return { ...previous, [m[1]!]: m[3] === undefined ? { functionType: m[2]! } : { functionType: m[2]!, valueType: m[3] } };
}

function parseEgress(text: string, previous: readonly string[]): string[] {
  try {
    typename(text);
  } catch (error) {
    throw new InvalidArgumentError(`--egress ${JSON.stringify(text)}: ${(error as Error).message}`);
  }
  return [...previous, text];
}

function count(flag: string, min: number, max: number): (text: string) => number {
  return (text) => {
    const n = Number(text);
    if (!/^\d+$/.test(text) || n < min || n > max) throw new InvalidArgumentError(`${flag} must be an integer from ${min} to ${max}, got ${JSON.stringify(text)}`);
    return n;
  };
}

/** The next SIGINT or SIGTERM; a second one exits at once. */
function nextSignal(): Promise<string> {
  return new Promise((resolveSignal) => {
    const first = (signal: NodeJS.Signals) => {
      process.off('SIGINT', first);
      process.off('SIGTERM', first);
      process.once('SIGINT', () => process.exit(130));
      process.once('SIGTERM', () => process.exit(130));
      resolveSignal(signal);
    };
    process.on('SIGINT', first);
    process.on('SIGTERM', first);
  });
}
