import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

const ROOT = resolve(__dirname, '..', '..');
/** The project venv's Python (official StateFun SDK and aiohttp; scripts/ensure-venv.sh). */
const PYTHON = join(process.env.STATEFUN_VENV ?? join(ROOT, '.venv'), 'bin', 'python');

/** A Python functions server started by {@link startPythonFunctions}. */
export interface PythonFunctions {
  /** `http://127.0.0.1:<port>/statefun` */
  readonly url: string;
  readonly child: ChildProcessWithoutNullStreams;
}

/**
 * Runs `script` (a functions server taking its port as first argument, printing
 * `listening <port>` once it accepts requests) under the venv's Python on a free port.
 *
 * @example
 * const functions = await startPythonFunctions(join(__dirname, 'tutorial', 'functions.py'));
 */
export async function startPythonFunctions(script: string): Promise<PythonFunctions> {
  const child = spawn(PYTHON, [script, '0'], { env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const port = await new Promise<number>((done, fail) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const m = /^listening (\d+)$/.exec(line);
      if (m) done(Number(m[1]));
    });
    child.on('exit', (code) => fail(new Error(`${script} exited (${code}) before listening: ${stderr}`)));
  });
  return { url: `http://127.0.0.1:${port}/statefun`, child };
}
