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
 * endpoint (any StateFun SDK's, or ours from `runtime-lambda/sdk/http`) with node's fetch.
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

  async function attempt(request: Uint8Array, timeoutMs: number): Promise<AttemptOutcome> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    try {
      const response = await fetch(url, { method: 'POST', headers, body: request, signal: controller.signal });
      if (response.ok) return await readBody(response, maxResponseBytes, url);
      const snippet = await readSnippet(response);
      const status = `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}${snippet ? `: ${snippet}` : ''}`;
      if (response.status >= 500 || response.status === 408 || response.status === 429) return { retry: status };
      throw new TerminalError(
        `function endpoint ${url} rejected the request with ${status}; not retried: fix the function or its URL`,
        { code: 'FUNCTION_REJECTED' },
      );
    } catch (error) {
      if (error instanceof TerminalError) throw error;
      if (controller.signal.aborted) return { retry: `no response within ${timeoutMs} ms`, cause: error };
      return { retry: `connection failed: ${describeFetchError(error)}`, cause: error };
    } finally {
      clearTimeout(timer);
    }
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

async function readBody(response: Response, maxBytes: number, url: URL): Promise<Uint8Array> {
  const tooLarge = (what: string) =>
    new TerminalError(
      `function endpoint ${url} answered ${what} than maxResponseBytes (${maxBytes}); raise maxResponseBytes or send less from the function`,
      { code: 'RESPONSE_TOO_LARGE' },
    );
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (declared > maxBytes) {
    await response.body?.cancel();
    throw tooLarge(`a Content-Length of ${declared} bytes, more`);
  }
  if (response.body === null) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw tooLarge('a body longer');
    }
    chunks.push(value);
  }
  return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
}

async function readSnippet(response: Response): Promise<string> {
  try {
    const text = await response.text();
    return text.length > 300 ? `${text.slice(0, 300)}…` : text.trim();
  } catch {
    return '';
  }
}

function describeFetchError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } } | undefined)?.cause;
  if (cause?.code) return `${cause.code}${cause.message ? ` (${cause.message})` : ''}`;
  return error instanceof Error ? error.message : String(error);
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

