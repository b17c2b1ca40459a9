import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Admin } from '@platformatic/kafka';
import { InvalidInputError } from '../core/errors';
import { READY_TIMEOUT_MS, freePort, pollUntilReady, startProcess } from './serverProcess';

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
  /** `127.0.0.1:<port>`: the bootstrap server of the plaintext, unauthenticated listener. */
  readonly bootstrap: string;
  /** The TLS and SCRAM listener, when {@link LocalKafkaOptions.secured} asked for one. */
  readonly secured?: SecuredListener;
  readonly pid: number | undefined;
  /** Milliseconds from the call until a client got the cluster's metadata. */
  readonly startupMs: number;
  /** Stops the broker (SIGTERM, then SIGKILL after a grace period) and deletes its log directory unless it is a kept `dataDir`. Idempotent. */
  stop(): Promise<void>;
}

/** The `SASL_SSL` listener of a broker started with {@link LocalKafkaOptions.secured}. */
export interface SecuredListener {
  /** `127.0.0.1:<port>`: TLS, then SASL with SCRAM-SHA-256 or SCRAM-SHA-512. */
  readonly bootstrap: string;
  /** The broker's self-signed certificate (PEM, for `127.0.0.1` and `localhost`): the CA a client must trust. */
  readonly caPem: string;
}

/** A TLS listener with SCRAM users, as Amazon MSK's SASL/SCRAM brokers (port 9096) serve. */
export interface SecuredListenerOptions {
  /** Username to password: each user may authenticate with SCRAM-SHA-256 and with SCRAM-SHA-512. */
  readonly scramUsers: Readonly<Record<string, string>>;
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
  /**
   * A second listener with TLS (a self-signed certificate made at start with the JDK's
   * `keytool`) and SASL/SCRAM authentication, beside the plaintext one, to try a client's
   * security settings against. Not with `dataDir`: SCRAM users are written when the log
   * directory is formatted. @default - none
   */
  readonly secured?: SecuredListenerOptions;
}

const REPO_ROOT = resolve(__dirname, '..', '..');
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
  const secured = options.secured;
  if (secured !== undefined) checkScramUsers(secured, kept);
  const home = kept ? resolve(options.dataDir!) : await mkdtemp(join(tmpdir(), 'statefun-kafka-'));
  if (kept) await mkdir(home, { recursive: true });
  const removeHome = () => (kept ? Promise.resolve() : rm(home, { recursive: true, force: true }));
  let attempt = 0;
  let securedListener: SecuredListener | undefined;
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
        let tls: SecuredConfig | undefined;
        if (secured !== undefined) {
          const keystore = await makeKeystore(java, dir);
          tls = { port: await freePort(), ...keystore };
          securedListener = { bootstrap: `127.0.0.1:${tls.port}`, caPem: keystore.certificatePem };
        }
        await writeFile(properties, serverProperties({ port, controllerPort: await freePort(), logDir, autoCreateTopics: options.autoCreateTopics ?? false, partitions, secured: tls }));
        await writeFile(log4j, LOG4J2_PROPERTIES);
        const classpath = ['-cp', `${options.libs}/*`, `-Dlog4j2.configurationFile=${log4j}`, `-Dkafka.logs.dir=${dir}`];
        if (!existsSync(join(logDir, 'meta.properties'))) await formatLogDir(java, [...JVM_FLAGS, ...classpath], properties, secured?.scramUsers ?? {});
        return { command: java, args: [...JVM_FLAGS, ...classpath, 'kafka.Kafka', properties], cwd: dir };
      },
    );
    let stopped: Promise<void> | undefined;
    return {
      bootstrap: broker.endpoint,
      ...(securedListener !== undefined ? { secured: securedListener } : {}),
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
  readonly secured: SecuredConfig | undefined;
}

/** The `SASL_SSL` listener's port and the keystore that holds its key and certificate. */
interface SecuredConfig {
  readonly port: number;
  readonly keystorePath: string;
  readonly keystorePassword: string;
}

/** The SCRAM mechanisms the secured listener offers. */
const SCRAM_MECHANISMS = ['SCRAM-SHA-256', 'SCRAM-SHA-512'] as const;

/**
 * Usernames and passwords StorageTool's `--add-scram` can carry: its value is
 * `[name=<user>,password=<password>]`, so a comma, a bracket or `=` would be read as syntax.
 */
function checkScramUsers(secured: SecuredListenerOptions, kept: boolean): void {
  if (kept) {
    throw new RangeError('startLocalKafka: secured cannot be combined with dataDir (SCRAM users are written when a fresh log directory is formatted)');
  }
  const entries = Object.entries(secured.scramUsers);
  if (entries.length === 0) throw new RangeError('startLocalKafka: secured.scramUsers names no user');
  for (const [name, password] of entries) {
    for (const [what, value] of [['username', name], ['password', password]] as const) {
      if (typeof value !== 'string' || !/^[^\s,=[\]"]+$/.test(value)) {
        throw new RangeError(`startLocalKafka: SCRAM ${what} ${JSON.stringify(value)} must be non-empty, without spaces, commas, '=', brackets or quotes`);
      }
    }
  }
}

/**
 * A PKCS12 keystore with a fresh RSA key and a self-signed certificate valid for
 * `127.0.0.1` and `localhost`, made by the JDK's `keytool` beside `java`; answers its path,
 * password and the certificate as PEM.
 */
async function makeKeystore(java: string, dir: string): Promise<{ keystorePath: string; keystorePassword: string; certificatePem: string }> {
  const beside = join(dirname(java), 'keytool');
  const keytool = java.includes('/') && existsSync(beside) ? beside : 'keytool';
  const keystorePath = join(dir, 'broker.p12');
  const keystorePassword = randomBytes(12).toString('hex');
  const common = ['-keystore', keystorePath, '-storetype', 'PKCS12', '-storepass', keystorePassword, '-alias', 'broker'];
  const failure = `making the Kafka broker's TLS certificate with ${keytool}`;
  await rm(keystorePath, { force: true });
  await runTool(keytool, ['-genkeypair', ...common, '-keyalg', 'RSA', '-keysize', '2048', '-validity', '30', '-dname', 'CN=localhost', '-ext', 'SAN=IP:127.0.0.1,DNS:localhost'], failure);
  const certificatePem = await runTool(keytool, ['-exportcert', '-rfc', ...common], failure);
  return { keystorePath, keystorePassword, certificatePem };
}

/** Runs a JDK tool to its end and answers its stdout; on failure, an error starting `<doing> failed` with the tail of its output. */
async function runTool(command: string, args: readonly string[], doing: string): Promise<string> {
  try {
    return (await promisify(execFile)(command, [...args], { timeout: 60_000, maxBuffer: 1 << 20 })).stdout;
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`${doing} failed: ${(error as Error).message}\n--- its output ---\n${`${stdout}${stderr}`.slice(-4000)}`, { cause: error });
  }
}

/** A combined broker and controller, with the replication of internal topics a single node can serve, and short waits. */
function serverProperties(c: BrokerConfig): string {
  const secured = c.secured;
  const securedListener = secured !== undefined ? `,SASL_SSL://127.0.0.1:${secured.port}` : '';
  return `${Object.entries({
    'process.roles': 'broker,controller',
    'node.id': 1,
    'controller.quorum.voters': `1@127.0.0.1:${c.controllerPort}`,
    listeners: `PLAINTEXT://127.0.0.1:${c.port},CONTROLLER://127.0.0.1:${c.controllerPort}${securedListener}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${c.port}${securedListener}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL',
    ...(secured !== undefined ? securedProperties(secured) : {}),
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

/** TLS with the keystore, and the SCRAM mechanisms, on the `SASL_SSL` listener only. */
function securedProperties(secured: SecuredConfig): Record<string, string> {
  const scram = Object.fromEntries(
    SCRAM_MECHANISMS.map((m) => [`listener.name.sasl_ssl.${m.toLowerCase()}.sasl.jaas.config`, 'org.apache.kafka.common.security.scram.ScramLoginModule required;']),
  );
  return {
    'sasl.enabled.mechanisms': SCRAM_MECHANISMS.join(','),
    ...scram,
    'listener.name.sasl_ssl.ssl.keystore.type': 'PKCS12',
    'listener.name.sasl_ssl.ssl.keystore.location': secured.keystorePath,
    'listener.name.sasl_ssl.ssl.keystore.password': secured.keystorePassword,
  };
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

/**
 * `kafka-storage.sh format`: KRaft refuses to start on a log directory without a cluster id
 * and bootstrap metadata. SCRAM credentials go into that metadata here, for both mechanisms.
 */
async function formatLogDir(java: string, jvmArgs: readonly string[], properties: string, scramUsers: Readonly<Record<string, string>>): Promise<void> {
  const clusterId = randomBytes(16).toString('base64url');
  const addScram = Object.entries(scramUsers).flatMap(([name, password]) => SCRAM_MECHANISMS.flatMap((m) => ['--add-scram', `${m}=[name=${name},password=${password}]`]));
  await runTool(java, [...jvmArgs, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', properties, ...addScram], 'formatting the Kafka log directory');
}

/**
 * Polls the cluster's metadata with a real client until a broker is in it, for at most
 * `timeoutMs`, or until `exited()` names how the broker's process ended.
 */
export async function waitForKafka(bootstrap: string, exited: () => string | undefined = () => undefined, timeoutMs = READY_TIMEOUT_MS): Promise<void> {
  const admin = new Admin({ clientId: 'statefun-ready', bootstrapBrokers: [bootstrap], retries: false, timeout: 2_000 });
  try {
    await pollUntilReady({
      name: 'Kafka',
      what: `Kafka at ${bootstrap} did not answer Metadata`,
      exited,
      timeoutMs,
      check: async () => {
        try {
          const metadata = await admin.metadata({ topics: [], forceUpdate: true });
          return metadata.brokers.size > 0 ? undefined : 'the metadata lists no broker yet';
        } catch (error) {
          return String(error);
        }
      },
    });
  } finally {
    await admin.close();
  }
}
