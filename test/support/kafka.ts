import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { type LocalKafka, type LocalKafkaOptions, startLocalKafka, waitForKafka } from '../../runtime-lambda/local/localKafka';

/**
 * A real Apache Kafka broker for the tests: `runtime-lambda/local/localKafka.ts`'s
 * {@link startLocalKafka} (the broker `statefun dev --start-kafka` runs), its jars resolved
 * first by `scripts/ensure-kafka.sh`. See docs/kafka.md, "Running Kafka locally".
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
export type RunningKafka = LocalKafka;

/** Options of {@link startKafka}. */
export type StartKafkaOptions = Omit<LocalKafkaOptions, 'libs'>;

const REPO_ROOT = resolve(__dirname, '..', '..');

/**
 * Resolves the broker's jars (`scripts/ensure-kafka.sh`: a stamp check once they are in
 * `.kafka/`), then formats a fresh KRaft log directory and starts `kafka.Kafka` on free ports.
 * Resolves once a client gets the cluster's metadata with this broker in it.
 */
export async function startKafka(options: StartKafkaOptions = {}): Promise<RunningKafka> {
  return startLocalKafka({ ...options, libs: await ensureKafkaLibs() });
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
    await waitForKafka(given);
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
