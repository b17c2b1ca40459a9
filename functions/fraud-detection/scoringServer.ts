import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { merchantScoreOf } from './merchantScore';

/** A running {@link startScoringServer}. */
export interface ScoringServer {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  /** Requests served so far. */
  readonly requests: () => number;
  close(): Promise<void>;
}

/** Options of {@link startScoringServer}. */
export interface ScoringServerOpts {
  /** @default 0 (any free port) */
  readonly port?: number;
  /** Wait this long before answering, to exercise client timeouts. @default 0 */
  readonly delayMs?: number;
}

/**
 * A stand-in for the third-party merchant scoring service, on 127.0.0.1:
 * `GET /merchants/{merchantId}/score` answers `200 {"merchantId": "...", "score": 0.123}`
 * with the deterministic {@link merchantScoreOf}; anything else is a 404.
 *
 * @example
 * const server = await startScoringServer();
 * const res = await fetch(`${server.url}/merchants/m-01/score`);
 * await server.close();
 */
export async function startScoringServer(opts: ScoringServerOpts = {}): Promise<ScoringServer> {
  let served = 0;
  const delayMs = opts.delayMs ?? 0;
  const server: Server = createServer((req, res) => {
    served++;
    const match = /^\/merchants\/([^/?]+)\/score$/.exec(req.url ?? '');
    const answer = () => {
      if (req.method !== 'GET' || match === null) {
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: `no route ${req.method} ${req.url}` }));
        return;
      }
      const merchantId = decodeURIComponent(match[1]!);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ merchantId, score: merchantScoreOf(merchantId) }));
    };
    if (delayMs > 0) setTimeout(answer, delayMs).unref();
    else answer();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests: () => served,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
