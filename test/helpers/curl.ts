import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);
/** STATEFUN_TEST_NO_CURL=1 takes the fetch path even where curl is installed (to test it). */
const HAS_CURL = !process.env.STATEFUN_TEST_NO_CURL && spawnSync('curl', ['--version']).status === 0;

/**
 * Runs a tutorial's `curl` line, its arguments as the tutorial writes them (`-X <method>`,
 * `-H <header>`, `-d <body>`, the URL, `localhost:8090/...` without a scheme as curl takes
 * it): with the real curl when it is installed, else the same request with fetch. Answers
 * the status and the body.
 *
 * @example
 * await curl('-X', 'PUT', '-H', 'Content-Type: application/vnd.example/GreetRequest', '-d', '{"name": "Bob"}', 'localhost:8090/example/person/Bob');
 */
export async function curl(...args: string[]): Promise<{ status: number; body: string }> {
  if (HAS_CURL) {
    const { stdout } = await run('curl', ['-s', '-w', '\n%{http_code}', ...args]);
    const cut = stdout.lastIndexOf('\n');
    return { status: Number(stdout.slice(cut + 1)), body: stdout.slice(0, cut) };
  }
  let method: string | undefined;
  let body: string | undefined;
  let url: string | undefined;
  const headers: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '-X') method = args[++i];
    else if (arg === '-H') {
      const header = args[++i]!;
      const colon = header.indexOf(':');
      headers[header.slice(0, colon).trim().toLowerCase()] = header.slice(colon + 1).trim();
    } else if (arg === '-d') body = args[++i];
    else if (arg.startsWith('-')) throw new Error(`curl stand-in: unsupported option ${arg}`);
    else url = /^https?:\/\//.test(arg) ? arg : `http://${arg}`;
  }
  if (url === undefined) throw new Error('curl stand-in: no URL');
  // curl -d sends a form content type unless one is given, and POST unless -X says otherwise.
  if (body !== undefined) headers['content-type'] ??= 'application/x-www-form-urlencoded';
  const response = await fetch(url.replace('//localhost:', '//127.0.0.1:'), { method: method ?? (body === undefined ? 'GET' : 'POST'), headers, ...(body !== undefined ? { body } : {}) });
  return { status: response.status, body: await response.text() };
}
