import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Address, typename as validTypename } from '../core/Address';
import { InvalidInputError, describeError } from '../core/errors';
import type { TypedValue } from '../core/TypedValue';
import { Types } from '../sdk/Types';
import { closeServer, listen, serverUrl } from './httpServer';

/** The `Content-Type` prefix naming the value's type: `application/vnd.<namespace/type>`. */
const VND = 'application/vnd.';

/** What {@link PlaygroundIngressOpts.accept} answers to a message it does not take. */
export interface IngressRefusal {
  /** 404: nothing serves the target; 503: try again later. */
  readonly status: 404 | 503;
  readonly message: string;
}

/**
 * Options of {@link PlaygroundIngress.start}.
 *
 * @example
 * const opts: PlaygroundIngressOpts = { port: 8090, accept: (target, value) => runtime.send(target, value) };
 */
export interface PlaygroundIngressOpts {
  /** 0 picks a free port (see {@link PlaygroundIngress.url}). */
  readonly port: number;
  /** Unlike StateFun (every interface), the loopback interface unless told. @default '127.0.0.1' */
  readonly host?: string;
  /** Largest accepted body; a larger one gets 413. @default 1 MiB */
  readonly maxBodyBytes?: number;
  /**
   * Takes a valid message: returns nothing once it has it (the request is answered 200), or
   * the refusal to answer.
   */
  readonly accept: (target: Address, value: TypedValue) => IngressRefusal | undefined;
}

/**
 * StateFun's playground ingress (`io.statefun.playground.v1/ingress`): a request of any
 * method on `/<namespace>/<type>/<id>` sends its body to that address, with the type named by
 * `Content-Type: application/vnd.<namespace/type>`. Answers:
 * - 200 (empty body) once {@link PlaygroundIngressOpts.accept} took the message;
 * - 400, with a body saying what is wrong, for a path that is not `/<namespace>/<type>/<id>`
 *   or a `Content-Type` naming an invalid type (StateFun answers 500 to a bad path);
 * - 413 for a body over `maxBodyBytes` (StateFun has no limit);
 * - 404 or 503 as `accept` refuses, with its message.
 *
 * Without an `application/vnd.` content type the body is taken as UTF-8 text and sent as an
 * `io.statefun.types/string`, as StateFun's default type says; unlike StateFun, which passes
 * the raw bytes under that type (which no SDK reads as a string), the text is encoded as the
 * SDKs encode strings, so `curl -d hello` reaches a function as `"hello"`.
 *
 * @example
 * const ingress = await PlaygroundIngress.start({ port: 8090, accept: (target, value) => void runtime.send(target, value) });
 * // curl -X PUT -H "Content-Type: application/vnd.example/GreetRequest" -d '{"name": "Bob"}' localhost:8090/example/person/Bob
 */
export class PlaygroundIngress {
  private readonly maxBodyBytes: number;

  private constructor(
    private readonly server: Server,
    private readonly opts: PlaygroundIngressOpts,
  ) {
    this.maxBodyBytes = opts.maxBodyBytes ?? 1024 * 1024;
    if (!Number.isSafeInteger(this.maxBodyBytes) || this.maxBodyBytes <= 0) {
      throw new InvalidInputError(`playground ingress: maxBodyBytes must be a positive whole number, got ${String(opts.maxBodyBytes)}`);
    }
    server.on('request', (req: IncomingMessage, res: ServerResponse) => this.serve(req, res));
  }

  /**
   * Starts serving on `opts.host`:`opts.port`.
   *
   * @throws the server's error (e.g. `EADDRINUSE`) when it cannot listen.
   */
  static async start(opts: PlaygroundIngressOpts): Promise<PlaygroundIngress> {
    const ingress = new PlaygroundIngress(createServer({ keepAliveTimeout: 60_000 }), opts);
    await listen(ingress.server, opts.port, opts.host ?? '127.0.0.1');
    return ingress;
  }

  /** Where it serves, e.g. `http://127.0.0.1:8090`. */
  get url(): string {
    return serverUrl(this.server);
  }

  /** Stops accepting requests; resolves once the requests under way are answered. */
  async close(): Promise<void> {
    await closeServer(this.server);
  }

  private serve(req: IncomingMessage, res: ServerResponse): void {
    let target: Address;
    let typename: string | undefined;
    try {
      target = parseTarget(req.url ?? '/');
      typename = parseTypename(req.headers['content-type']);
    } catch (error) {
      req.resume();
      answer(res, 400, (error as Error).message);
      return;
    }
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > this.maxBodyBytes) {
      req.resume();
      answer(res, 413, `the body of ${declared} bytes is over the ingress's limit of ${this.maxBodyBytes} bytes (maxBodyBytes)`, true);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on('data', (chunk: Buffer) => {
      if (refused) return;
      size += chunk.byteLength;
      if (size > this.maxBodyBytes) {
        refused = true;
        answer(res, 413, `the body is over the ingress's limit of ${this.maxBodyBytes} bytes (maxBodyBytes)`, true);
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', () => {
      refused = true;
    });
    req.on('end', () => {
      if (refused) return;
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      let value: TypedValue;
      try {
        value = typename === undefined ? textValue(body) : { typename, value: body };
      } catch (error) {
        answer(res, 400, (error as Error).message);
        return;
      }
      let refusal: IngressRefusal | undefined;
      try {
        refusal = this.opts.accept(target, value);
      } catch (error) {
        answer(res, 500, `the runtime could not take the message: ${describeError(error)}`);
        return;
      }
      if (refusal !== undefined) {
        answer(res, refusal.status, refusal.message);
        return;
      }
      res.writeHead(200, { 'content-length': '0' });
      res.end();
    });
  }
}

/** `/<namespace>/<type>/<id>` (a query string is ignored) to its address, each part URL-decoded. */
function parseTarget(url: string): Address {
  const query = url.indexOf('?');
  const path = query < 0 ? url : url.slice(0, query);
  const parts = path.split('/');
  // StateFun (Java's split) accepts one trailing slash.
  if (parts.length === 5 && parts[4] === '') parts.pop();
  const expected = 'expected /<namespace>/<type>/<id>, e.g. /example/person/Bob';
  if (parts.length !== 4 || parts[0] !== '' || parts.some((part, i) => i > 0 && part === '')) {
    throw new InvalidInputError(`invalid path ${JSON.stringify(path)}: ${expected}`);
  }
  let decoded: string[];
  try {
    decoded = parts.slice(1).map((part) => decodeURIComponent(part));
  } catch {
    throw new InvalidInputError(`invalid path ${JSON.stringify(path)}: a part is not valid URL encoding; ${expected}`);
  }
  try {
    return Address.fromParts(decoded[0]!, decoded[1]!, decoded[2]!);
  } catch (error) {
    throw new InvalidInputError(`invalid path ${JSON.stringify(path)}: ${(error as Error).message}`);
  }
}

/** The type named by `application/vnd.<typename>` (parameters ignored), or `undefined` for any other content type. */
function parseTypename(contentType: string | undefined): string | undefined {
  if (contentType === undefined || !contentType.startsWith(VND)) return undefined;
  const semicolon = contentType.indexOf(';');
  const name = (semicolon < 0 ? contentType.slice(VND.length) : contentType.slice(VND.length, semicolon)).trim();
  try {
    return validTypename(name);
  } catch (error) {
    throw new InvalidInputError(`invalid Content-Type ${JSON.stringify(contentType)}: ${(error as Error).message}; expected application/vnd.<namespace/type>, e.g. application/vnd.example/GreetRequest`);
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function textValue(body: Buffer): TypedValue {
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    throw new InvalidInputError(
      `the body is not UTF-8 text, which a request without an application/vnd.<namespace/type> Content-Type must be (it is sent as ${Types.string.typename}): name its type, e.g. Content-Type: application/vnd.example/Reading`,
    );
  }
  return { typename: Types.string.typename, value: Types.string.serialize(text) };
}

function answer(res: ServerResponse, status: number, message: string, close = false): void {
  if (res.headersSent) return;
  const text = `${message}\n`;
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text), ...(close ? { connection: 'close' } : {}) });
  res.end(text);
}
