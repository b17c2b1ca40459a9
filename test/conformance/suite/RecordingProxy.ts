import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { InvocationRequest, InvocationResponse } from '../../../runtime-lambda/core/Invocation';
import { decodeFromFunction, decodeToFunction } from '../../../runtime-lambda/protocol/codec';

/** One HTTP call of a function as it went over the wire, decoded. */
export interface Exchange {
  /** The function type the request was for, `namespace/type`. */
  readonly fnType: string;
  /** The request path, e.g. `/store`. */
  readonly path: string;
  readonly request: InvocationRequest;
  readonly status: number;
  /** The reply's body length in bytes. */
  readonly replyBytes: number;
  /** The decoded reply of a 2xx answer. */
  readonly response?: InvocationResponse;
}

/**
 * An HTTP proxy on 127.0.0.1 between the runtime and an SDK's server: it forwards every
 * request as is and records it with the answer, decoded, so a behaviour can check what
 * crossed the wire (the requests after the batch cap, the paths the template produced,
 * the bytes of a reply).
 */
export class RecordingProxy {
  private constructor(
    private readonly server: Server,
    readonly port: number,
    /** Every call, in the order the answers came. */
    readonly exchanges: readonly Exchange[],
  ) {}

  static async start(targetPort: number): Promise<RecordingProxy> {
    const exchanges: Exchange[] = [];
    const server = createServer((req, res) => {
      forward(req, targetPort)
        .then(({ status, contentType, body, requestBody }) => {
          const request = decodeToFunction(requestBody);
          const fnType = `${request.target.namespace}/${request.target.type}`;
          const response = status >= 200 && status < 300 ? decodeFromFunction(body) : undefined;
          exchanges.push({ fnType, path: req.url ?? '', request, status, replyBytes: body.byteLength, ...(response ? { response } : {}) });
          res.writeHead(status, contentType ? { 'content-type': contentType } : {}).end(body);
        })
        .catch((error: Error) => {
          // The runtime sees a 502 (and retries): the behaviour fails with this reason.
          res.writeHead(502, { 'content-type': 'text/plain' }).end(`conformance proxy: ${error.message}\n`);
        });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new RecordingProxy(server, (server.address() as AddressInfo).port, exchanges);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

async function forward(req: IncomingMessage, targetPort: number) {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const requestBody = new Uint8Array(Buffer.concat(chunks));
  const answer = await fetch(`http://127.0.0.1:${targetPort}${req.url}`, {
    method: req.method ?? 'POST',
    headers: { 'content-type': req.headers['content-type'] ?? 'application/octet-stream' },
    body: requestBody,
  });
  const body = new Uint8Array(await answer.arrayBuffer());
  return { status: answer.status, contentType: answer.headers.get('content-type'), body, requestBody };
}
