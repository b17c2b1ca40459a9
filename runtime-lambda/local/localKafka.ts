import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Admin } from '@platformatic/kafka';
import { InvalidInputError } from '../core/errors';
import { freePort, startProcess } from './serverProcess';

/**
 * A local Apache Kafka broker: a single KRaft node (broker and controller in one JVM) from the
 * jars `scripts/ensure-kafka.sh` resolves from Maven Central into `.kafka/`, run on the
 * machine's Java on free 127.0.0.1 ports, with a fresh log directory that
 * {@link LocalKafka.stop} deletes. `statefun dev --start-kafka` and the tests start it; see
 * docs/kafka.md, "Running Kafka locally".
 *
 * @example
 * const kafka = await startLocalKafka({ libs: findKafkaLibs() });
 * try {
 *   const admin = new Admin({ clientId: 'me', bootstrapBrokers: [kafka.bootstrap] });
 *   // ...
 * } finally {
 *   await kafka.stop();
 * }
 */

/** A broker started by {@link startLocalKafka}. */
export interface LocalKafka {
  /** `127.0.0.1:<port>`: the bootstrap server, and the only listener clients see. */
  readonly bootstrap: string;
  readonly pid: number | undefined;
  /** Milliseconds from the call until a client got the cluster's metadata. */
  readonly startupMs: number;
  /** Stops the broker (SIGTERM, then SIGKILL after a grace period) and deletes its log directory unless it is a kept `dataDir`. Idempotent. */
  stop(): Promise<void>;
}

/** Options of {@link startLocalKafka}. */
export interface LocalKafkaOptions {
  /** The directory of the broker's jars, as `scripts/ensure-kafka.sh` prints it (see {@link findKafkaLibs}). */
  readonly libs: string;
  /**
   * Whether producing to (or asking metadata for) an unknown topic creates it. Off, as on
   * Amazon MSK by default: topics are created on purpose, and a misspelt one is an error.
   * @default false
   */
  readonly autoCreateTopics?: boolean;
  /** Partitions of a topic created without a count. @default 1 */
  readonly defaultPartitions?: number;
  /** @default - `$STATEFUN_JAVA`, else `java` on the PATH */
  readonly java?: string;
  /**
   * Where the broker keeps its topics and the groups' offsets across starts: formatted on the
   * first start, reused (and kept at stop) after. @default - a fresh temporary directory, deleted at stop
   */
  readonly dataDir?: string;
}

const REPO_ROOT = resolve(__dirname, '..', '..');
const READY_TIMEOUT_MS = Number(process.env.STATEFUN_EMULATOR_TIMEOUT_MS ?? 90_000);
/** The JVM flags: a small heap and a quick start, for a broker that lives for one session. */
const JVM_FLAGS = ['-Xms64m', '-Xmx512m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-Djava.awt.headless=true'];

/**
 * The libs directory `scripts/ensure-kafka.sh` filled (`$STATEFUN_KAFKA_HOME`, default
 * `<repo>/.kafka`, `<version>/libs` beside the script's stamp file), without running Maven.
 *
 * @throws {@link InvalidInputError} telling to run `bash scripts/ensure-kafka.sh` when there is none.
 */
export function findKafkaLibs(env: NodeJS.ProcessEnv = process.env): string {
  const home = env.STATEFUN_KAFKA_HOME ?? join(REPO_ROOT, '.kafka');
  const resolved = (existsSync(home) ? readdirSync(home) : [])
    .filter((version) => existsSync(join(home, version)) && readdirSync(join(home, version)).some((f) => f.startsWith('.statefun-kafka-')))
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const newest = resolved.at(-1);
  if (newest === undefined) {
    throw new InvalidInputError(`no Kafka broker jars in ${home}: run \`bash scripts/ensure-kafka.sh\` once (it resolves Apache Kafka from Maven Central; needs Java 17 and Maven), or give a running broker with --kafka <host:port>`);
  }
  return join(home, newest, 'libs');
}

/**
 * Formats a fresh KRaft log directory and starts `kafka.Kafka` from `libs` on free ports.
 * Resolves once a client gets the cluster's metadata with this broker in it.
 */
export async function startLocalKafka(options: LocalKafkaOptions): Promise<LocalKafka> {
  const begun = Date.now();
  const partitions = options.defaultPartitions ?? 1;
  if (!Number.isInteger(partitions) || partitions < 1) {
    throw new RangeError(`startLocalKafka: defaultPartitions must be a positive integer, got ${JSON.stringify(options.defaultPartitions)}`);
  }
  const java = options.java ?? process.env.STATEFUN_JAVA ?? 'java';
  const kept = options.dataDir !== undefined;
  const home = kept ? resolve(options.dataDir!) : await mkdtemp(join(tmpdir(), 'statefun-kafka-'));
  if (kept) await mkdir(home, { recursive: true });
  const removeHome = () => (kept ? Promise.resolve() : rm(home, { recursive: true, force: true }));
  let attempt = 0;
  try {
    const broker = await startProcess(
      'Kafka',
      (port) => `127.0.0.1:${port}`,
      (bootstrap, exited) => waitForKafka(bootstrap, exited),
      async (port) => {
        const dir = kept ? home : join(home, `attempt-${++attempt}`);
        await mkdir(dir, { recursive: true });
        const properties = join(dir, 'server.properties');
        const log4j = join(dir, 'log4j2.properties');
        const logDir = join(dir, 'data');
        await writeFile(properties, serverProperties({ port, controllerPort: await freePort(), logDir, autoCreateTopics: options.autoCreateTopics ?? false, partitions }));
        await writeFile(log4j, LOG4J2_PROPERTIES);
        const classpath = ['-cp', `${options.libs}/*`, `-Dlog4j2.configurationFile=${log4j}`, `-Dkafka.logs.dir=${dir}`];
        if (!existsSync(join(logDir, 'meta.properties'))) await formatLogDir(java, [...JVM_FLAGS, ...classpath], properties);
        return { command: java, args: [...JVM_FLAGS, ...classpath, 'kafka.Kafka', properties], cwd: dir };
      },
    );
    let stopped: Promise<void> | undefined;
    return {
      bootstrap: broker.endpoint,
      pid: broker.pid,
      startupMs: Date.now() - begun,
      stop: () => (stopped ??= broker.stop().then(removeHome)),
    };
  } catch (error) {
    await removeHome();
    throw error;
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
    // A consumer group forms at once, and a consumer that "crashed" leaves it within a second or two.
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

/**
 * Polls the cluster's metadata with a real client until a broker is in it, for at most
 * `timeoutMs`, or until `exited()` names how the broker's process ended.
 */
export async function waitForKafka(bootstrap: string, exited: () => string | undefined = () => undefined, timeoutMs = READY_TIMEOUT_MS): Promise<void> {
  const admin = new Admin({ clientId: 'statefun-ready', bootstrapBrokers: [bootstrap], retries: false, timeout: 2_000 });
  const deadline = Date.now() + timeoutMs;
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
        throw new Error(`Kafka at ${bootstrap} did not answer Metadata within ${timeoutMs} ms; last error: ${String(lastError)}`);
      }
      await new Promise((r) => setTimeout(r, delayMs));
      delayMs = Math.min(delayMs * 2, 250);
    }
  } finally {
    await admin.close();
  }
}
