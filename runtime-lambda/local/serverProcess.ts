import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';

/**
 * Runs a server as a child process on a free port until it answers: the local Kafka broker of
 * `statefun dev --start-kafka` and of the tests, and the tests' AWS emulators.
 */

/** A server started by {@link startProcess}. */
export interface ServerProcess {
  readonly name: string;
  /** How clients reach it, e.g. `127.0.0.1:<port>` or `http://127.0.0.1:<port>`. */
  readonly endpoint: string;
  readonly pid: number | undefined;
  /** Stops the process (SIGTERM, then SIGKILL after a grace period). Idempotent. */
  stop(): Promise<void>;
}

const STOP_GRACE_MS = 3_000;

/** How {@link startProcess} runs a server listening on `port`. */
export interface Launch {
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd: string;
}

/** Children still alive, killed synchronously if this process exits without stopping them. */
const alive = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of alive) killTree(child, 'SIGKILL');
  });
}

/**
 * Spawns the server under `setpriv --pdeathsig SIGKILL` where available (Linux), so the
 * kernel kills it when this process dies in any way, even `kill -9`. An exit hook and
 * the global teardown cover the ordinary cases. `ready` polls the endpoint until it serves
 * (it throws once `exited()` names how the process ended); a port taken by someone else
 * between the choice and the bind is retried on another.
 */
export async function startProcess(
  name: string,
  endpointOf: (port: number) => string,
  ready: (endpoint: string, exited: () => string | undefined) => Promise<void>,
  launch: (port: number) => Launch | Promise<Launch>,
): Promise<ServerProcess> {
  installExitHook();
  let lastError: unknown;
  for (let attempt = 1; attempt <= 3; attempt++) {
    const port = await freePort();
    const { command, args, cwd } = await launch(port);
    const endpoint = endpointOf(port);
    const usePdeathsig = process.platform === 'linux' && existsSync('/usr/bin/setpriv');
    const child = usePdeathsig
      ? spawn('/usr/bin/setpriv', ['--pdeathsig', 'KILL', command, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn(command, [...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    alive.add(child);
    const output: string[] = [];
    const keep = (chunk: Buffer): void => {
      output.push(chunk.toString());
      if (output.length > 50) output.shift();
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    let exited: string | undefined;
    const exit = new Promise<void>((done) => {
      child.on('exit', (code, signal) => {
        exited = signal ?? `exit code ${code}`;
        alive.delete(child);
        done();
      });
      child.on('error', (error) => {
        exited = error.message;
        alive.delete(child);
        done();
      });
    });
    const emulator: ServerProcess = {
      name,
      endpoint,
      pid: child.pid,
      stop: async () => {
        if (exited !== undefined) return;
        killTree(child, 'SIGTERM');
        const timer = setTimeout(() => killTree(child, 'SIGKILL'), STOP_GRACE_MS);
        await exit;
        clearTimeout(timer);
      },
    };
    try {
      await ready(endpoint, () => exited);
      child.stdout?.removeListener('data', keep);
      child.stderr?.removeListener('data', keep);
      child.stdout?.resume();
      child.stderr?.resume();
      // Do not keep the test process alive for the emulator's sake.
      child.unref();
      (child.stdout as { unref?: () => void } | null)?.unref?.();
      (child.stderr as { unref?: () => void } | null)?.unref?.();
      return emulator;
    } catch (error) {
      await emulator.stop();
      lastError = new Error(
        `${name} (${command}) did not become ready on ${endpoint}: ${(error as Error).message}\n--- its output ---\n${output.join('').slice(-4000)}`,
        { cause: error },
      );
      // A port taken between freePort() and the bind makes the process exit: try another.
      if (exited === undefined || !/address already in use|BindException|port/i.test(output.join(''))) break;
    }
  }
  throw lastError;
}

function killTree(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    child.kill(signal);
  } catch {
    // already gone
  }
}

/** How long a started server may take to answer: `$STATEFUN_EMULATOR_TIMEOUT_MS`, default 90 s. */
export const READY_TIMEOUT_MS = Number(process.env.STATEFUN_EMULATOR_TIMEOUT_MS ?? 90_000);

/** What {@link pollUntilReady} asks of a server. */
export interface ReadinessProbe {
  /** Names the wait in the timeout's message, e.g. `Kafka at 127.0.0.1:9092 did not answer Metadata`. */
  readonly what: string;
  /** Undefined once the server serves, else why not yet (an error caught, a partial answer); throws when waiting cannot help. */
  readonly check: () => Promise<string | undefined>;
  /** Names how the server's process ended, if it did. */
  readonly exited?: () => string | undefined;
  readonly name: string;
  /** @default {@link READY_TIMEOUT_MS} */
  readonly timeoutMs?: number;
}

/**
 * Runs `probe.check` until it answers ready, backing off from 25 ms to 250 ms between tries;
 * fails once the process exited or `timeoutMs` passed, with the last reason it was not ready.
 */
export async function pollUntilReady(probe: ReadinessProbe): Promise<void> {
  const timeoutMs = probe.timeoutMs ?? READY_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  let delayMs = 25;
  for (;;) {
    const gone = probe.exited?.();
    if (gone !== undefined) throw new Error(`${probe.name} exited early (${gone})`);
    const notYet = await probe.check();
    if (notYet === undefined) return;
    if (Date.now() > deadline) throw new Error(`${probe.what} within ${timeoutMs} ms (STATEFUN_EMULATOR_TIMEOUT_MS); last error: ${notYet}`);
    await new Promise((r) => setTimeout(r, delayMs));
    delayMs = Math.min(delayMs * 2, 250);
  }
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.unref();
    server.on('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => done(port));
    });
  });
}
