import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';

const ROOT = resolve(__dirname, '..', '..');

/**
 * `statefun <args>` as its users run it: `node runtime-lambda/local/bin.cjs <args>` in its own
 * process, its output read line by line, so tests wait on what it prints, never on time.
 */
export class StatefunProcess {
  readonly lines: string[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];

  constructor(args: readonly string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
    this.child = spawn(process.execPath, [resolve(ROOT, 'runtime-lambda/local/bin.cjs'), ...args], { cwd: opts.cwd ?? ROOT, env: { ...process.env, ...opts.env } });
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      this.lines.push(line);
      for (const waiter of [...this.waiters]) {
        if (waiter.pattern.test(line)) {
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          waiter.resolve(line);
        }
      }
    });
    createInterface({ input: this.child.stderr }).on('line', (line) => this.stderr.push(line));
    this.exited = new Promise((done) => this.child.on('exit', (code) => done(code)));
  }

  /** The first line (already printed or to come) matching `pattern`; rejects if the process exits first or after `timeoutMs`. */
  waitForLine(pattern: RegExp, timeoutMs = 60_000): Promise<string> {
    const seen = this.lines.find((line) => pattern.test(line));
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolveLine, reject) => {
      const timer = setTimeout(() => reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms; output:\n${this.output()}`)), timeoutMs);
      const waiter = {
        pattern,
        resolve: (line: string) => {
          clearTimeout(timer);
          resolveLine(line);
        },
      };
      this.waiters.push(waiter);
      void this.exited.then((code) => {
        if (!this.waiters.includes(waiter)) return;
        clearTimeout(timer);
        reject(new Error(`statefun exited (${code}) before printing a line matching ${pattern}; output:\n${this.output()}`));
      });
    });
  }

  /** Sends `signal` and answers the exit code. */
  async stop(signal: NodeJS.Signals = 'SIGINT'): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }

  output(): string {
    return [...this.lines, ...this.stderr.map((l) => `stderr: ${l}`)].join('\n');
  }
}
