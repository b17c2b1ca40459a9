import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { describeError, InvalidInputError } from '../core/errors';
import { UnknownFunctionError } from './errors';
import type { StatefulFunctions } from './StatefulFunctions';

/**
 * Options of {@link createHttpHandler}.
 *
 * @example
 * const opts: HttpHandlerOpts = { logger: console, maxRequestBytes: 4 * 1024 * 1024 };
 */
export interface HttpHandlerOpts {
  /**
   * Where failures are logged (500s with their error and cause; 4xx as warnings).
   * @default - console
   */
  readonly logger?: Pick<Console, 'error' | 'warn'>;
  /**
   * Largest accepted request body; larger ones get 413.
   * @default - 32 MiB
   */
  readonly maxRequestBytes?: number;
}

/**
 * A node:http request listener serving a registry as a StateFun HTTP function endpoint,
 * exactly like the official SDKs: `POST` with the `ToFunction` bytes as body, reply 200
 * `application/octet-stream` with the `FromFunction` bytes.
 *
 * Errors, with a plain-text body saying what is wrong:
 * - 405 for another method (with `Allow: POST`), 413 for a body over `maxRequestBytes`;
 * - 400 for a body that is not a valid `ToFunction`, 404 for an unregistered function type;
 * - 500 when a handler throws; the error is logged with its cause, never swallowed.
 *
 * @example
 * import { createServer } from 'node:http';
 * createServer(createHttpHandler(registry)).listen(8000);
 */
export function createHttpHandler(
  registry: StatefulFunctions,
  opts: HttpHandlerOpts = {},
): (req: IncomingMessage, res: ServerResponse) => void {
  const logger = opts.logger ?? console;
  const maxRequestBytes = opts.maxRequestBytes ?? 32 * 1024 * 1024;
  if (!Number.isSafeInteger(maxRequestBytes) || maxRequestBytes <= 0) {
    throw new InvalidInputError(`createHttpHandler: maxRequestBytes must be a positive integer, got ${String(maxRequestBytes)}`);
  }

  const reply = (res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}) => {
    if (res.headersSent) return;
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers });
    res.end(`${text}\n`);
  };

  return (req, res) => {
    if (req.method !== 'POST') {
      req.resume();
      reply(res, 405, `method ${req.method} not allowed: a StateFun function endpoint accepts POST with ToFunction bytes`, {
        allow: 'POST',
      });
      return;
    }
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (declared > maxRequestBytes) {
      req.resume();
      reply(res, 413, `request body of ${declared} bytes exceeds maxRequestBytes (${maxRequestBytes})`, { connection: 'close' });
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let aborted = false;
    req.on('data', (chunk: Buffer) => {
      if (aborted) return;
      size += chunk.byteLength;
      if (size > maxRequestBytes) {
        aborted = true;
        reply(res, 413, `request body exceeds maxRequestBytes (${maxRequestBytes})`, { connection: 'close' });
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', (error) => {
      aborted = true;
      logger.warn(`statefun http: request stream failed: ${describeError(error)}`);
    });
    req.on('end', () => {
      if (aborted) return;
      const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
      registry.handle(body).then(
        (out) => {
          res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(out.byteLength) });
          res.end(out);
        },
        (error: unknown) => {
          if (error instanceof InvalidInputError) {
            logger.warn(`statefun http: 400: ${describeError(error)}`);
            reply(res, 400, `bad request: ${error.message}`);
          } else if (error instanceof UnknownFunctionError) {
            logger.warn(`statefun http: 404: ${describeError(error)}`);
            reply(res, 404, error.message);
          } else {
            logger.error(`statefun http: 500: ${describeError(error)}`, error);
            reply(res, 500, `function failed: ${describeError(error)}`);
          }
        },
      );
    });
  };
}

/**
 * A node:http server for {@link createHttpHandler}; call `listen(port)` on it.
 *
 * @example
 * createHttpServer(registry).listen(8000, () => console.log('serving on :8000'));
 */
export function createHttpServer(registry: StatefulFunctions, opts: HttpHandlerOpts = {}): Server {
  return createServer(createHttpHandler(registry, opts));
}
