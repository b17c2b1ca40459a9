import { InvokeCommand, LambdaClient, type LambdaClientConfig } from '@aws-sdk/client-lambda';
import { InvalidInputError, TerminalError } from '../core/errors';
import { type AttemptOutcome, transportRetrySettings, withTransportRetries } from '../protocol/transportRetries';
import type { RequestReplyTransport } from '../protocol/RequestReplyTransport';
import { isStandardBase64 } from '../protocol/base64';

/**
 * Lambda's limit on a synchronous (`RequestResponse`) invoke payload: 6 MB, counted in bytes
 * of the JSON event (`{"request": "<base64>"}`, so about 4.5 MiB of `ToFunction` bytes).
 */
export const LAMBDA_SYNC_PAYLOAD_LIMIT_BYTES = 6 * 1024 * 1024;

/**
 * What `FunctionName` accepts: a name, a partial ARN (`123456789012:function:name`) or a full
 * ARN, each with an optional `:version` or `:alias` qualifier (the Invoke API's pattern).
 */
export const LAMBDA_FUNCTION_NAME =
  /^(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_.]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?$/;

interface LambdaTransportBaseOpts {
  /** The function: name, ARN or partial ARN, optionally with `:alias` or `:version`. */
  readonly functionName: string;
  /**
   * Per attempt: how long to wait for the invoke's answer before aborting it and trying again.
   * The function itself may still run to its end; request-reply calls are pure, so that is harmless.
   * @default - 30 000 ms
   */
  readonly timeoutMs?: number;
  /**
   * Attempts in total, the first included; retried on throttling (429), Lambda service errors
   * (5xx), a function that timed out, our own timeout and network errors; never on a function
   * error or another 4xx. `Infinity` (only with `callTimeoutMs`) retries until the call's
   * budget is spent.
   * @default - 3
   */
  readonly maxAttempts?: number;
  /**
   * The budget of one call, all attempts and backoffs included.
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
}

interface WithClient {
  /**
   * A client you configured, shared by every transport you give it to. Its own retries
   * multiply this transport's: create it with `maxAttempts: 1`.
   */
  readonly client: LambdaClient;
  readonly clientConfig?: never;
}

interface WithClientConfig {
  readonly client?: never;
  /**
   * Config of a client the transport creates (with `maxAttempts: 1` unless you set it: the
   * transport does the retrying).
   * @default - the SDK defaults (region, credentials from the environment)
   */
  readonly clientConfig?: LambdaClientConfig;
}

/**
 * Options of {@link lambdaTransport}: a `client` or a `clientConfig`, never both.
 *
 * @example
 * const opts: LambdaTransportOpts = { functionName: 'arn:aws:lambda:eu-west-1:123456789012:function:shop', timeoutMs: 10_000 };
 */
export type LambdaTransportOpts = LambdaTransportBaseOpts & (WithClient | WithClientConfig);

/**
 * A {@link RequestReplyTransport} calling a function served by an AWS Lambda
 * (`runtime-lambda/sdk/lambda`'s `lambdaHandler`) with a synchronous `Invoke`: event
 * `{"request": "<base64 ToFunction>"}`, result `{"response": "<base64 FromFunction>"}`.
 *
 * - A request whose event would exceed Lambda's 6 MB synchronous limit: a `TerminalError`
 *   (code `REQUEST_TOO_LARGE`), checked before sending.
 * - A function error (the handler threw: Lambda answers 200 with `FunctionError` and the
 *   error as payload): a `TerminalError` (code `FUNCTION_ERROR`) naming the function, the
 *   error type and message. Not retried, except a function that timed out (`Sandbox.Timedout`).
 * - Throttling, Lambda 5xx, a function timeout, no answer within `timeoutMs` or a network
 *   error: retried with exponential backoff and jitter; when attempts run out, a
 *   `RetryableError` (code `FUNCTION_UNAVAILABLE`) saying how many failed and why the last did.
 * - Any other rejection (function not found, access denied, invalid request): a
 *   `TerminalError` (code `FUNCTION_REJECTED`); a result that is not `{"response": "<base64>"}`:
 *   a `TerminalError` (code `BAD_FUNCTION_RESPONSE`).
 *
 * @throws {@link InvalidInputError} at construction for an invalid function name or option,
 * or both `client` and `clientConfig`.
 *
 * @example
 * const endpoint = new RequestReplyEndpoint(
 *   'shop/cart',
 *   lambdaTransport({ functionName: 'arn:aws:lambda:eu-west-1:123456789012:function:shop', timeoutMs: 10_000 }),
 * );
 */
export function lambdaTransport(opts: LambdaTransportOpts): RequestReplyTransport {
  const functionName = checkFunctionName(opts.functionName);
  const retries = transportRetrySettings(opts, 'lambdaTransport');
  if (opts.client && opts.clientConfig) {
    throw new InvalidInputError('lambdaTransport takes either client or clientConfig, not both: configure the client you pass');
  }
  const client = opts.client ?? new LambdaClient({ maxAttempts: 1, ...opts.clientConfig });
  const fn = `Lambda function ${functionName}`;

  async function attempt(payload: Uint8Array, timeoutMs: number): Promise<AttemptOutcome> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    let output;
    try {
      output = await client.send(
        new InvokeCommand({ FunctionName: functionName, InvocationType: 'RequestResponse', Payload: payload }),
        { abortSignal: controller.signal },
      );
    } catch (error) {
      if (controller.signal.aborted) return { retry: `no answer within ${timeoutMs} ms`, cause: error };
      const failure = describeSdkError(error);
      if (isRetryable(error)) return { retry: failure, cause: error };
      throw new TerminalError(`${fn} rejected the invoke: ${failure}; not retried: check the function's name, its existence and the caller's lambda:InvokeFunction permission`, {
        cause: error,
        code: 'FUNCTION_REJECTED',
      });
    } finally {
      clearTimeout(timer);
    }
    const body = output.Payload ?? new Uint8Array(0);
    if (output.FunctionError !== undefined) {
      const { errorType, errorMessage } = parseFunctionError(body);
      const what = `${errorType}: ${errorMessage}`;
      if (errorType === 'Sandbox.Timedout' || /Task timed out after/.test(errorMessage)) {
        return { retry: `the function timed out (${what})` };
      }
      throw new TerminalError(
        `${fn} failed (FunctionError ${output.FunctionError}): ${what}; not retried: fix the function (see its CloudWatch logs)`,
        { code: 'FUNCTION_ERROR' },
      );
    }
    return decodeResult(body, fn);
  }

  return async (request, options) => {
    const payload = Buffer.from(JSON.stringify({ request: Buffer.from(request.buffer, request.byteOffset, request.byteLength).toString('base64') }));
    if (payload.byteLength > LAMBDA_SYNC_PAYLOAD_LIMIT_BYTES) {
      throw new TerminalError(
        `request to ${fn} would be an invoke payload of ${payload.byteLength} bytes (${request.byteLength} protocol bytes, base64 in JSON), ` +
          `over Lambda's ${LAMBDA_SYNC_PAYLOAD_LIMIT_BYTES}-byte limit for synchronous invocations: send fewer or smaller messages per batch, keep less state, ` +
          'or serve the function over HTTP or embedded',
        { code: 'REQUEST_TOO_LARGE' },
      );
    }
    return withTransportRetries((timeoutMs) => attempt(payload, timeoutMs), retries, fn, options?.deadlineMs);
  };
}

function decodeResult(body: Uint8Array, fn: string): Uint8Array {
  const bad = (what: string) =>
    new TerminalError(`${fn} answered ${what}, not {"response": "<base64 of the FromFunction bytes>"}: serve it with lambdaHandler (runtime-lambda/sdk/lambda)`, {
      code: 'BAD_FUNCTION_RESPONSE',
    });
  const text = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw bad(`${body.byteLength} bytes that are not JSON (${JSON.stringify(text.slice(0, 60))})`);
  }
  const response = (parsed as { response?: unknown } | null)?.response;
  if (typeof response !== 'string' || !isStandardBase64(response)) {
    throw bad(typeof response === 'string' ? 'a "response" that is not standard base64' : `${text.length > 80 ? `${text.slice(0, 77)}...` : text}`);
  }
  return new Uint8Array(Buffer.from(response, 'base64'));
}

/** `errorType` and `errorMessage` of a function error payload (Lambda's `{"errorType", "errorMessage", "trace"}`). */
function parseFunctionError(body: Uint8Array): { errorType: string; errorMessage: string } {
  const text = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  try {
    const parsed = JSON.parse(text) as { errorType?: unknown; errorMessage?: unknown };
    return {
      errorType: typeof parsed.errorType === 'string' ? parsed.errorType : 'Error',
      errorMessage: typeof parsed.errorMessage === 'string' ? parsed.errorMessage : text.slice(0, 300),
    };
  } catch {
    return { errorType: 'Error', errorMessage: text.slice(0, 300) };
  }
}

/** Lambda's own errors that a later attempt may not meet (the function is being updated, throttling, capacity). */
const RETRYABLE_NAMES = new Set([
  'TooManyRequestsException',
  'ResourceConflictException',
  'ResourceNotReadyException',
  'ServiceException',
  'EC2ThrottledException',
  'SnapStartNotReadyException',
  'SnapStartTimeoutException',
  'TimeoutError',
]);

/** Client faults (4xx) are terminal except throttling and 408; server faults and network errors (no fault) are retried. */
function isRetryable(error: unknown): boolean {
  const e = error as { name?: string; $fault?: string; $metadata?: { httpStatusCode?: number } } | undefined;
  if (e?.name !== undefined && RETRYABLE_NAMES.has(e.name)) return true;
  const status = e?.$metadata?.httpStatusCode;
  if (status === 429 || status === 408 || (status !== undefined && status >= 500)) return true;
  return e?.$fault !== 'client';
}

function describeSdkError(error: unknown): string {
  const e = error as { name?: string; message?: string; code?: string; $metadata?: { httpStatusCode?: number } } | undefined;
  const status = e?.$metadata?.httpStatusCode;
  const name = e?.name ?? 'Error';
  const detail = e?.code && e.code !== name ? ` (${e.code})` : '';
  return `${status ? `HTTP ${status} ` : ''}${name}${detail}: ${e?.message ?? String(error)}`;
}

function checkFunctionName(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0 || name.length > 170 || !LAMBDA_FUNCTION_NAME.test(name)) {
    throw new InvalidInputError(
      `lambdaTransport: invalid functionName ${JSON.stringify(name)}: expected a Lambda function name or ARN, e.g. "shop-functions" or "arn:aws:lambda:eu-west-1:123456789012:function:shop-functions"`,
    );
  }
  return name;
}

