import { Agent as HttpAgent, type IncomingMessage, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { InvalidInputError, TerminalError } from '../core/errors';
import type { RequestReplyTransport } from './RequestReplyTransport';
import { type AttemptOutcome, positiveInteger, transportRetrySettings, withTransportRetries } from './transportRetries';

/**
 * Options of {@link httpTransport}.
 *
 * @example
 * const opts: HttpTransportOpts = { url: 'http://greeter.internal:8000/statefun', timeoutMs: 5_000 };
 */
export interface HttpTransportOpts {
  /** The function's request-reply endpoint, e.g. `http://greeter.internal:8000/statefun`. */
  readonly url: string | URL;
  /**
   * Per attempt, for the whole exchange (connect, send, response body).
   * @default - 30 000 ms
   */
  readonly timeoutMs?: number;
  /**
   * Attempts in total, the first included; retried on 5xx, 408, 429, timeouts and
   * connection errors, never on other 4xx. `Infinity` (only with `callTimeoutMs`) retries
   * until the call's budget is spent, as StateFun does.
   * @default - 3
   */
  readonly maxAttempts?: number;
  /**
   * The budget of one call, all attempts and backoffs included (StateFun's `call` timeout).
   * @default - none: `maxAttempts` and the caller's deadline bound the call
   */
  readonly callTimeoutMs?: number;
  /**
   * Backoff before the second attempt; it doubles per attempt up to `maxBackoffMs`, with
   * jitter (a random value between half and all of it).
   * @default - 100 ms
   */
  readonly initialBackoffMs?: number;
  /** @default - 5 000 ms */
  readonly maxBackoffMs?: number;
  /**
   * Largest accepted response body; a larger one is a `TerminalError` (code
   * `RESPONSE_TOO_LARGE`).
   * @default - 16 MiB
   */
  readonly maxResponseBytes?: number;
  /**
   * Largest request body sent; a larger one is a `TerminalError` (code `REQUEST_TOO_LARGE`),
   * not sent (StateFun's `payload_max_bytes` limits both directions).
   * @default - no limit
   */
  readonly maxRequestBytes?: number;
  /** Extra request headers, e.g. an authorization header. */
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * A {@link RequestReplyTransport} POSTing `ToFunction` bytes to a StateFun HTTP function
 * endpoint (any StateFun SDK's, or ours from `runtime-lambda/sdk/http`) over node:http(s),
 * its connections kept alive between calls.
 *
 * - 2xx: the body is the `FromFunction` reply.
 * - 5xx, 408, 429, a timeout or a connection error: retried with exponential backoff and
 *   jitter; when attempts run out, a `RetryableError` (code `FUNCTION_UNAVAILABLE`) saying
 *   how many attempts failed and why the last one did.
 * - any other status: a `TerminalError` (code `FUNCTION_REJECTED`) with the status and the
 *   start of the body, not retried.
 *
 * @throws {@link InvalidInputError} at construction for an invalid URL or option.
 *
 * @example
 * const endpoint = new RequestReplyEndpoint(
 *   'example/greeter',
 *   httpTransport({ url: 'http://localhost:8000/statefun', timeoutMs: 5_000, maxAttempts: 5 }),
 * );
 */
export function httpTransport(opts: HttpTransportOpts): RequestReplyTransport {
  const url = parseUrl(opts.url);
  const retries = transportRetrySettings(opts, 'httpTransport');
  const maxResponseBytes = positiveInteger(opts.maxResponseBytes, 16 * 1024 * 1024, 'maxResponseBytes', 'httpTransport');
  const maxRequestBytes = positiveInteger(opts.maxRequestBytes, Number.MAX_SAFE_INTEGER, 'maxRequestBytes', 'httpTransport');
  const headers = { ...opts.headers, 'content-type': 'application/octet-stream' };

  // One keep-alive pool per endpoint: node's fetch costs about six times the CPU of a
  // node:http request (measured: ~400 µs against ~60 µs per call), which bounds `statefun dev`
  // and the dispatcher. Idle pooled sockets do not keep the process alive.
  const agent = url.protocol === 'https:' ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  // Resolved once, not from the URL on every call.
  const target = { protocol: url.protocol, hostname: url.hostname.replace(/^\[|\]$/g, ''), port: url.port, path: `${url.pathname}${url.search}`, method: 'POST', agent };

  function attempt(request: Uint8Array, timeoutMs: number): Promise<AttemptOutcome> {
    return new Promise<AttemptOutcome>((resolve, reject) => {
      let settled = false;
      const settle = (outcome: AttemptOutcome | Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (outcome instanceof Error) reject(outcome);
        else resolve(outcome);
      };
      // Once a response has begun, reading it decides the outcome (its errors included).
      let responded = false;
      const req = send({ ...target, headers: { ...headers, 'content-length': request.byteLength } }, (res) => {
        responded = true;
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) {
          readBody(res, maxResponseBytes, url).then((body) => settle(body), (error: Error) => settle(error instanceof TerminalError ? error : { retry: `connection failed: ${describeHttpError(error)}`, cause: error }));
          return;
        }
        readSnippet(res).then((snippet) => {
          const text = `HTTP ${status}${res.statusMessage ? ` ${res.statusMessage}` : ''}${snippet ? `: ${snippet}` : ''}`;
          if (status >= 500 || status === 408 || status === 429) return settle({ retry: text });
          settle(new TerminalError(`function endpoint ${url} rejected the request with ${text}; not retried: fix the function or its URL`, { code: 'FUNCTION_REJECTED' }));
        }, () => settle({ retry: `HTTP ${status}` }));
      });
      const timer = setTimeout(() => {
        settle({ retry: `no response within ${timeoutMs} ms` });
        req.destroy();
      }, timeoutMs);
      req.on('error', (error) => {
        if (!responded) settle({ retry: `connection failed: ${describeHttpError(error)}`, cause: error });
      });
      req.end(request);
    });
  }

  return (request, options) => {
    if (request.byteLength > maxRequestBytes) {
      return Promise.reject(
        new TerminalError(
          `request to function endpoint ${url} is ${request.byteLength} bytes, more than maxRequestBytes (${maxRequestBytes}); not sent: send fewer messages per batch (maxNumBatchRequests) or keep less state`,
          { code: 'REQUEST_TOO_LARGE' },
        ),
      );
    }
    return withTransportRetries((timeoutMs) => attempt(request, timeoutMs), retries, `function endpoint ${url}`, options?.deadlineMs);
  };
}

function readBody(res: IncomingMessage, maxBytes: number, url: URL): Promise<Uint8Array> {
  const tooLarge = (what: string) =>
    new TerminalError(
      `function endpoint ${url} answered ${what} than maxResponseBytes (${maxBytes}); raise maxResponseBytes or send less from the function`,
      { code: 'RESPONSE_TOO_LARGE' },
    );
  return new Promise((resolve, reject) => {
    const declared = Number(res.headers['content-length'] ?? NaN);
    if (declared > maxBytes) {
      reject(tooLarge(`a Content-Length of ${declared} bytes, more`));
      res.destroy();
      return;
    }
    const chunks: Buffer[] = [];
    let total = 0;
    res.on('data', (chunk: Buffer) => {
      total += chunk.byteLength;
      if (total > maxBytes) {
        reject(tooLarge('a body longer'));
        res.destroy();
        return;
      }
      chunks.push(chunk);
    });
    res.on('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    res.on('error', reject);
    res.on('aborted', () => reject(new Error('the response was cut off')));
  });
}

/** The start of an error answer's body (at most 300 characters, more is not read). */
function readSnippet(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      if (text.length <= 300) text += chunk;
    });
    res.on('end', () => resolve(text.length > 300 ? `${text.slice(0, 300)}…` : text.trim()));
    res.on('error', reject);
  });
}

function describeHttpError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return code ? `${code} (${message})` : message;
}

function parseUrl(url: string | URL): URL {
  let parsed: URL;
  try {
    parsed = new URL(String(url));
  } catch (cause) {
    throw new InvalidInputError(`httpTransport: invalid url ${JSON.stringify(String(url))}: expected an absolute http(s) URL`, { cause });
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new InvalidInputError(`httpTransport: invalid url ${JSON.stringify(String(url))}: expected http: or https:, got ${parsed.protocol}`);
  }
  return parsed;
}

