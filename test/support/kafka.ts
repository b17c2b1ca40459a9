import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Admin } from '@platformatic/kafka';
import { freePort, startProcess } from './emulators';

/**
 * A real Apache Kafka broker for the tests: a single KRaft node (broker and controller in one
 * JVM) from the jars `scripts/ensure-kafka.sh` resolves from Maven Central into `.kafka/`,
 * run on the machine's Java on free 127.0.0.1 ports, with a fresh log directory that
 * {@link RunningKafka.stop} deletes. See docs/kafka.md, "Running Kafka locally".
 *
 * The integration project's global setup starts one per run and hands its address to the
 * test files in {@link KAFKA_ENV}; read it with {@link kafkaBootstrap}.
 *
 * @example
 * const kafka = await startKafka();
 * try {
 *   const admin = new Admin({ clientId: 'test', bootstrapBrokers: [kafka.bootstrap] });
 *   // ...
 * } finally {
 *   await kafka.stop();
 * }
 */

/** The environment variable that carries the broker's `host:port` to the tests. Set it yourself to use a running broker. */
export const KAFKA_ENV = 'STATEFUN_TEST_KAFKA';

/** A broker started by {@link startKafka}. */
export interface RunningKafka {
  /** `127.0.0.1:<port>`: the bootstrap server, and the only listener clients see. */
  readonly bootstrap: string;
  readonly pid: number | undefined;
  /** Milliseconds from the call until a client got the cluster's metadata (jars resolved before). */
  readonly startupMs: number;
  /** Stops the broker (SIGTERM, then SIGKILL after a grace period) and deletes its log directory. Idempotent. */
  stop(): Promise<void>;
}

/** Options of {@link startKafka}. */
export interface StartKafkaOptions {
  /**
   * Whether producing to (or asking metadata for) an unknown topic creates it. Off, as on
   * Amazon MSK by default: a test creates its topics, and a misspelt one is an error.
   * @default false
   */
  readonly autoCreateTopics?: boolean;
  /** Partitions of a topic created without a count. @default 1 */
  readonly defaultPartitions?: number;
  /** @default - `$STATEFUN_JAVA`, else `java` on the PATH */
  readonly java?: string;
}

const REPO_ROOT = resolve(__dirname, '..', '..');
const READY_TIMEOUT_MS = Number(process.env.STATEFUN_EMULATOR_TIMEOUT_MS ?? 90_000);
/** The JVM flags: a small heap and a quick start, for a broker that lives for one test run. */
const JVM_FLAGS = ['-Xms64m', '-Xmx512m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-Djava.awt.headless=true'];

/**
 * Resolves the broker's jars (`scripts/ensure-kafka.sh`: a stamp check once they are in
 * `.kafka/`), then formats a fresh KRaft log directory and starts `kafka.Kafka` on free ports.
 * Resolves once a client gets the cluster's metadata with this broker in it.
 */
export async function startKafka(options: StartKafkaOptions = {}): Promise<RunningKafka> {
  const begun = Date.now();
  const partitions = options.defaultPartitions ?? 1;
  if (!Number.isInteger(partitions) || partitions < 1) {
    throw new RangeError(`startKafka: defaultPartitions must be a positive integer, got ${JSON.stringify(options.defaultPartitions)}`);
  }
  const java = options.java ?? process.env.STATEFUN_JAVA ?? 'java';
  const libs = await ensureKafkaLibs();
  const home = await mkdtemp(join(tmpdir(), 'statefun-kafka-'));
  let attempt = 0;
  try {
    const broker = await startProcess(
      'Kafka',
      (port) => `127.0.0.1:${port}`,
      brokerReady,
      async (port) => {
        const dir = join(home, `attempt-${++attempt}`);
        await mkdir(dir);
        const properties = join(dir, 'server.properties');
        const log4j = join(dir, 'log4j2.properties');
        await writeFile(properties, serverProperties({ port, controllerPort: await freePort(), logDir: join(dir, 'data'), autoCreateTopics: options.autoCreateTopics ?? false, partitions }));
        await writeFile(log4j, LOG4J2_PROPERTIES);
        const classpath = ['-cp', `${libs}/*`, `-Dlog4j2.configurationFile=${log4j}`, `-Dkafka.logs.dir=${dir}`];
        await formatLogDir(java, [...JVM_FLAGS, ...classpath], properties);
        return { command: java, args: [...JVM_FLAGS, ...classpath, 'kafka.Kafka', properties], cwd: dir };
      },
    );
    let stopped: Promise<void> | undefined;
    return {
      bootstrap: broker.endpoint,
      pid: broker.pid,
      startupMs: Date.now() - begun,
      stop: () => (stopped ??= broker.stop().then(() => rm(home, { recursive: true, force: true }))),
    };
  } catch (error) {
    await rm(home, { recursive: true, force: true });
    throw error;
  }
}

/**
 * The broker the test run started (or the one {@link KAFKA_ENV} names).
 * @throws when there is none: the test does not run under the integration project's setup.
 */
export function kafkaBootstrap(env: NodeJS.ProcessEnv = process.env): string {
  const bootstrap = env[KAFKA_ENV];
  if (!bootstrap) {
    throw new Error(
      `${KAFKA_ENV} is not set: run the test in jest's "integration" project (its global setup starts a broker), or set ${KAFKA_ENV}=host:port to a running broker`,
    );
  }
  return bootstrap;
}

/**
 * For the integration project's global setup: a broker for the whole run, its address
 * exported in {@link KAFKA_ENV}. Starts none when {@link KAFKA_ENV} already names one (it
 * must answer) or when `STATEFUN_EMULATORS` is set without `kafka` in it.
 */
export async function startKafkaForRun(env: NodeJS.ProcessEnv = process.env): Promise<RunningKafka | undefined> {
  const given = env[KAFKA_ENV];
  if (given) {
    await brokerReady(given, () => undefined);
    return undefined;
  }
  const wanted = (env.STATEFUN_EMULATORS ?? 'kafka').split(',').map((s) => s.trim());
  if (!wanted.includes('kafka')) return undefined;
  const kafka = await startKafka();
  env[KAFKA_ENV] = kafka.bootstrap;
  return kafka;
}

/** Runs `scripts/ensure-kafka.sh` (a stamp check once resolved) and answers the libs directory it prints. */
export async function ensureKafkaLibs(): Promise<string> {
  try {
    const { stdout } = await promisify(execFile)('bash', [join(REPO_ROOT, 'scripts', 'ensure-kafka.sh')], { cwd: REPO_ROOT, maxBuffer: 1 << 20 });
    const libs = stdout.trim().split('\n').at(-1) ?? '';
    if (!libs) throw new Error('it printed no libs directory');
    return libs;
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`scripts/ensure-kafka.sh failed: ${(error as Error).message}${stderr ? `\n--- its output ---\n${stderr.slice(-4000)}` : ''}`, { cause: error });
  }
}

interface BrokerConfig {
  readonly port: number;
  readonly controllerPort: number;
  readonly logDir: string;
  readonly autoCreateTopics: boolean;
  readonly partitions: number;
}

/** A combined broker and controller, with the replication of internal topics a single node can serve, and short waits. */
function serverProperties(c: BrokerConfig): string {
  return `${Object.entries({
    'process.roles': 'broker,controller',
    'node.id': 1,
    'controller.quorum.voters': `1@127.0.0.1:${c.controllerPort}`,
    listeners: `PLAINTEXT://127.0.0.1:${c.port},CONTROLLER://127.0.0.1:${c.controllerPort}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${c.port}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'log.dirs': c.logDir,
    'num.partitions': c.partitions,
    'auto.create.topics.enable': c.autoCreateTopics,
    'default.replication.factor': 1,
    'min.insync.replicas': 1,
    'offsets.topic.replication.factor': 1,
    'offsets.topic.num.partitions': 1,
    'transaction.state.log.replication.factor': 1,
    'transaction.state.log.min.isr': 1,
    'transaction.state.log.num.partitions': 1,
    'share.coordinator.state.topic.replication.factor': 1,
    'share.coordinator.state.topic.min.isr': 1,
    // A test's consumer group forms at once, and a consumer that "crashed" leaves it within a second or two.
    'group.initial.rebalance.delay.ms': 0,
    'group.min.session.timeout.ms': 1000,
  })
    .map(([key, value]) => `${key}=${value}`)
    .join('\n')}\n`;
}

/** Warnings and errors to stdout, where {@link startProcess} keeps the tail for a failed start. */
const LOG4J2_PROPERTIES = `status = warn
appender.out.type = Console
appender.out.name = OUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.out.ref = OUT
`;

/** `kafka-storage.sh format`: KRaft refuses to start on a log directory without a cluster id and bootstrap metadata. */
async function formatLogDir(java: string, jvmArgs: readonly string[], properties: string): Promise<void> {
  const clusterId = randomBytes(16).toString('base64url');
  try {
    await promisify(execFile)(java, [...jvmArgs, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', properties], { timeout: 60_000, maxBuffer: 1 << 20 });
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`formatting the Kafka log directory failed: ${(error as Error).message}\n--- its output ---\n${`${stdout}${stderr}`.slice(-4000)}`, { cause: error });
  }
}

/** Polls the cluster's metadata with a real client until this broker is in it. */
async function brokerReady(bootstrap: string, exited: () => string | undefined): Promise<void> {
  const admin = new Admin({ clientId: 'statefun-test-ready', bootstrapBrokers: [bootstrap], retries: false, timeout: 2_000 });
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let delayMs = 25;
  let lastError: unknown;
  try {
    for (;;) {
      const gone = exited();
      if (gone !== undefined) throw new Error(`Kafka exited early (${gone})`);
      try {
        const metadata = await admin.metadata({ topics: [], forceUpdate: true });
        if (metadata.brokers.size > 0) return;
        lastError = new Error('the metadata lists no broker yet');
      } catch (error) {
        lastError = error;
      }
      if (Date.now() > deadline) {
        throw new Error(`Kafka at ${bootstrap} did not answer Metadata within ${READY_TIMEOUT_MS} ms (STATEFUN_EMULATOR_TIMEOUT_MS); last error: ${String(lastError)}`);
      }
      await new Promise((r) => setTimeout(r, delayMs));
      delayMs = Math.min(delayMs * 2, 250);
    }
  } finally {
    await admin.close();
  }
}
