import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A small emulator of the AWS Lambda Invoke API (`POST /2015-03-31/functions/{name}/invocations`,
 * synchronous `RequestResponse` only) that runs handlers registered in this process.
 *
 * Why it exists: the runtime's Lambda transport must be tested through the real
 * `@aws-sdk/client-lambda` (serialization, error deserialization, abort), but no emulator
 * available here runs Node.js Lambdas without Docker: LocalStack and SAM run function code in
 * containers, and moto's Lambda needs Docker too. The Invoke API itself is tiny, so this
 * server speaks it on `127.0.0.1:<free port>` and calls in-process handlers such as
 * `lambdaHandler(registry)`.
 *
 * What it does as Lambda does: a handler that throws gives 200 with `X-Amz-Function-Error:
 * Unhandled` and `{"errorType","errorMessage","trace"}`; an unknown function is 404
 * `ResourceNotFoundException`; an event over 6 MB is 413 `RequestTooLargeException`; an
 * event that is not JSON is 400 `InvalidRequestContentException`. Function names may be
 * given as names or ARNs, with a qualifier. Faults can be injected: throttling (429),
 * service errors (500), slow answers, function timeouts (`Sandbox.Timedout`).
 *
 * @example
 * const lambda = await startLambdaInvokeEmulator();
 * lambda.register('shop', lambdaHandler(registry));
 * const transport = lambdaTransport({ functionName: 'shop', clientConfig: lambda.clientConfig() });
 * await lambda.close();
 */
export interface LambdaInvokeEmulator {
  /** `http://127.0.0.1:<port>`. */
  readonly endpoint: string;
  /** Every invoke received, faults included, in arrival order. */
  readonly invocations: readonly InvokeRecord[];
  /** Serves `functionName` (a plain name) with `handler`, which gets the parsed JSON event. */
  register(functionName: string, handler: (event: unknown) => unknown): void;
  /** The next invokes (of any function) meet these faults, one each, in order. */
  failNext(...faults: InvokeFault[]): void;
  /** Config for a `LambdaClient` talking to this emulator (fake credentials, one attempt: the transport retries). */
  clientConfig(): { endpoint: string; region: string; credentials: { accessKeyId: string; secretAccessKey: string }; maxAttempts: number };
  close(): Promise<void>;
}

/** One invoke as the emulator saw it. */
export interface InvokeRecord {
  readonly functionName: string;
  readonly qualifier: string | undefined;
  readonly payloadBytes: number;
  /** The injected fault it met, if any. */
  readonly fault: InvokeFault['kind'] | undefined;
}

/** A fault for one invoke. */
export type InvokeFault =
  | { readonly kind: 'throttle' }
  | { readonly kind: 'serviceError' }
  /** Answer normally, but only after `ms`. */
  | { readonly kind: 'slow'; readonly ms: number }
  /** The function ran out of time: a `Sandbox.Timedout` function error. */
  | { readonly kind: 'functionTimeout' };

/** Lambda's synchronous invoke payload limit. */
const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;
const PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;

/** Starts the emulator on a free port of 127.0.0.1. */
export async function startLambdaInvokeEmulator(): Promise<LambdaInvokeEmulator> {
  const handlers = new Map<string, (event: unknown) => unknown>();
  const faults: InvokeFault[] = [];
  const invocations: InvokeRecord[] = [];

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent && !res.destroyed) sendError(res, 500, 'ServiceException', `emulator failure: ${String(error)}`);
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const match = PATH.exec(url.pathname);
    if (req.method !== 'POST' || !match) {
      sendError(res, 404, 'UnknownOperationException', `${req.method} ${url.pathname} is not an operation of this emulator`);
      return;
    }
    const body = await readBody(req);
    const { name, qualifier } = parseFunctionName(decodeURIComponent(match[1]!), url.searchParams.get('Qualifier') ?? undefined);
    const fault = faults.shift();
    invocations.push({ functionName: name, qualifier, payloadBytes: body.byteLength, fault: fault?.kind });

    if (body.byteLength > MAX_PAYLOAD_BYTES) {
      sendError(res, 413, 'RequestTooLargeException', `Request must be smaller than ${MAX_PAYLOAD_BYTES} bytes for the InvokeFunction operation`);
      return;
    }
    if (req.headers['x-amz-invocation-type'] !== undefined && req.headers['x-amz-invocation-type'] !== 'RequestResponse') {
      sendError(res, 400, 'InvalidParameterValueException', 'this emulator serves RequestResponse invocations only');
      return;
    }
    const handler = handlers.get(name);
    if (handler === undefined) {
      sendError(res, 404, 'ResourceNotFoundException', `Function not found: arn:aws:lambda:us-east-1:123456789012:function:${name}`);
      return;
    }
    if (fault?.kind === 'throttle') return sendError(res, 429, 'TooManyRequestsException', 'Rate Exceeded.');
    if (fault?.kind === 'serviceError') return sendError(res, 500, 'ServiceException', 'The Lambda service encountered an internal error.');
    if (fault?.kind === 'functionTimeout') {
      return sendFunctionError(res, { errorType: 'Sandbox.Timedout', errorMessage: 'RequestId: 0 Error: Task timed out after 3.00 seconds' });
    }

    let event: unknown;
    try {
      event = body.byteLength === 0 ? {} : JSON.parse(body.toString('utf8'));
    } catch {
      sendError(res, 400, 'InvalidRequestContentException', 'Could not parse request body into json');
      return;
    }
    if (fault?.kind === 'slow') await new Promise((resolve) => setTimeout(resolve, fault.ms));
    let result: unknown;
    try {
      result = await handler(event);
    } catch (thrown) {
      const error = thrown instanceof Error ? thrown : new Error(String(thrown));
      sendFunctionError(res, { errorType: error.name, errorMessage: error.message, trace: (error.stack ?? '').split('\n') });
      return;
    }
    if (res.destroyed) return; // the caller gave up (aborted)
    const out = Buffer.from(JSON.stringify(result ?? null));
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': out.byteLength, 'x-amz-executed-version': '$LATEST' });
    res.end(out);
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;

  return {
    endpoint,
    invocations,
    register: (functionName, handler) => {
      handlers.set(functionName, handler);
    },
    failNext: (...next) => {
      faults.push(...next);
    },
    clientConfig: () => ({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'emulator', secretAccessKey: 'emulator' }, maxAttempts: 1 }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** `name`, `name:qualifier`, `123456789012:function:name[:q]` or `arn:aws:lambda:region:acct:function:name[:q]`. */
function parseFunctionName(raw: string, queryQualifier: string | undefined): { name: string; qualifier: string | undefined } {
  const parts = raw.split(':');
  const at = parts.indexOf('function');
  const rest = at >= 0 ? parts.slice(at + 1) : parts;
  return { name: rest[0] ?? raw, qualifier: rest[1] ?? queryQualifier };
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function sendError(res: ServerResponse, status: number, type: string, message: string): void {
  if (res.destroyed) return;
  const body = Buffer.from(JSON.stringify({ Type: status >= 500 ? 'Service' : 'User', message }));
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': body.byteLength, 'x-amzn-errortype': type });
  res.end(body);
}

function sendFunctionError(res: ServerResponse, error: { errorType: string; errorMessage: string; trace?: string[] }): void {
  if (res.destroyed) return;
  const body = Buffer.from(JSON.stringify(error));
  res.writeHead(200, {
    'content-type': 'application/json',
    'content-length': body.byteLength,
    'x-amz-function-error': 'Unhandled',
    'x-amz-executed-version': '$LATEST',
  });
  res.end(body);
}
