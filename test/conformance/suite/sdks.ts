import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { delimiter, join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { ensureMoto } from '../../support/emulators';
import type { SdkName } from './behaviours';

const REPO_ROOT = join(__dirname, '..', '..', '..');
const SDKS_DIR = join(__dirname, '..', 'sdks');
/** Built servers, one directory per SDK and source hash (gitignored). */
const BUILD_DIR = join(__dirname, '..', '.build');

/** How one SDK's conformance functions are built (once, cached) and served. */
export interface ConformanceSdk {
  readonly name: SdkName;
  readonly title: string;
  /** Installs or builds what the server needs (fast when cached); returns the server's command line. */
  prepare(log: (line: string) => void): Promise<readonly string[]>;
}

export const SDKS: readonly ConformanceSdk[] = [
  {
    name: 'ts',
    title: 'our TypeScript SDK (runtime-lambda/sdk), node:http',
    prepare: async () => [join(REPO_ROOT, 'node_modules', '.bin', 'tsx'), join(SDKS_DIR, 'ts', 'server.ts')],
  },
  {
    name: 'js',
    title: 'official JavaScript SDK (npm apache-flink-statefun 3.3.0), node:http',
    prepare: async () => [process.execPath, join(SDKS_DIR, 'js', 'server.js')],
  },
  {
    name: 'python',
    title: 'official Python SDK (PyPI apache-flink-statefun 3.3.0), aiohttp',
    async prepare() {
      await ensureMoto(); // scripts/ensure-venv.sh: the venv has the SDK and aiohttp too
      return [join(REPO_ROOT, '.venv', 'bin', 'python'), join(SDKS_DIR, 'python', 'server.py')];
    },
  },
  {
    name: 'go',
    title: 'official Go SDK (github.com/apache/flink-statefun/statefun-sdk-go/v3 v3.3.0), net/http',
    async prepare(log) {
      const source = join(SDKS_DIR, 'go');
      const binary = join(cachedBuildDir('go', source), 'conformance-server');
      if (!existsSync(binary)) {
        await runBuild(log, 'go build (first run: the SDK module from the Go module proxy)', ['go', 'build', '-mod=readonly', '-o', binary, '.'], source);
      }
      return [binary];
    },
  },
  {
    name: 'java',
    // The JDK's HTTP server, not Undertow (StateFun's examples): no dependency beyond the SDK,
    // and the part under test, the SDK's RequestReplyHandler, is the same under either.
    title: 'official Java SDK (org.apache.flink:statefun-sdk-java 3.3.0), JDK HttpServer',
    async prepare(log) {
      const source = join(SDKS_DIR, 'java');
      const dir = cachedBuildDir('java', source);
      const built = join(dir, 'built');
      if (!existsSync(built)) {
        await runBuild(
          log,
          'mvn compile (first run: the SDK and the Maven plugins from Maven Central)',
          ['mvn', '-q', '-B', '-ntp', 'compile', 'dependency:copy-dependencies', `-DbuildDir=${dir}`],
          source,
        );
        writeFileSync(built, '');
      }
      return ['java', '-cp', [join(dir, 'classes'), join(dir, 'lib', '*')].join(delimiter), 'conformance.ConformanceServer'];
    },
  },
];

/** Names of the SDKs, in the suite's order. */
export const SDK_NAMES: readonly SdkName[] = SDKS.map((s) => s.name);

/** A started SDK server. */
export interface RunningSdk {
  readonly port: number;
  /** Stops the server and waits for its process to end. */
  stop(): Promise<void>;
}

const READY = /^listening on 127\.0\.0\.1:(\d+)$/;

/** Starts a server from its command line and waits for its `listening on 127.0.0.1:<port>` line. */
export async function startServer(name: string, command: readonly string[], readyTimeoutMs = 120_000): Promise<RunningSdk> {
  const child = spawn(command[0], command.slice(1), { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const errors: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => {
    errors.push(line);
    if (errors.length > 40) errors.shift();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => fail(`did not print "listening on 127.0.0.1:<port>" within ${readyTimeoutMs} ms`), readyTimeoutMs);
    const fail = (why: string) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${name} server (${command.join(' ')}) ${why}${errors.length ? `; its stderr ends with:\n${errors.join('\n')}` : ''}`));
    };
    const early = (code: number | null, signal: NodeJS.Signals | null) => fail(`exited (${signal ?? `code ${code}`}) before it was ready`);
    child.once('error', (error) => fail(`could not start: ${error.message}`));
    child.once('exit', early);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const ready = READY.exec(line.trim());
      if (!ready) return;
      clearTimeout(timer);
      child.off('exit', early);
      resolve(Number(ready[1]));
    });
  });
  return { port, stop: () => stopProcess(child, exited) };
}

async function stopProcess(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(killer);
}

/**
 * The build directory of an SDK's server for the current sources of `source` (their hash
 * names it), older builds of that SDK removed: a second run with unchanged sources builds
 * nothing.
 */
function cachedBuildDir(sdk: string, source: string): string {
  const hash = createHash('sha256');
  for (const file of sourceFiles(source)) hash.update(relative(source, file)).update('\0').update(readFileSync(file)).update('\0');
  const dir = join(BUILD_DIR, `${sdk}-${hash.digest('hex').slice(0, 16)}`);
  if (existsSync(BUILD_DIR)) {
    for (const old of readdirSync(BUILD_DIR)) if (old.startsWith(`${sdk}-`) && join(BUILD_DIR, old) !== dir) rmSync(join(BUILD_DIR, old), { recursive: true, force: true });
  }
  mkdirSync(dir, { recursive: true });
  return dir;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => name !== 'target') // Maven's output when built by hand
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? sourceFiles(path) : [path];
    });
}

/** Runs a build command, its output kept and shown only when it fails; `what` starts with the tool's name. */
export async function runBuild(log: (line: string) => void, what: string, command: readonly string[], cwd: string): Promise<void> {
  log(`building: ${what} ...`);
  const started = Date.now();
  const child = spawn(command[0], command.slice(1), { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  for (const stream of [child.stdout!, child.stderr!]) createInterface({ input: stream }).on('line', (line) => output.push(line));
  const outcome = await new Promise<string | undefined>((resolve) => {
    child.once('error', (error) =>
      resolve(
        (error as NodeJS.ErrnoException).code === 'ENOENT'
          ? `${command[0]} is not installed: the ${what.split(' ')[0]} build needs it (.ci/run installs it: see docs/statefun-compatibility.md, "Conformance")`
          : `could not run ${command[0]}: ${error.message}`,
      ),
    );
    child.once('exit', (code, signal) => resolve(code === 0 ? undefined : `${command.join(' ')} failed (${signal ?? `exit ${code}`})`));
  });
  if (outcome !== undefined) throw new Error(`${outcome}${output.length ? `; its output ends with:\n${output.slice(-30).join('\n')}` : ''}`);
  log(`built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
