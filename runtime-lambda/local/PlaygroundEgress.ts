import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { EgressRecord } from '../core/Effects';
import { InvalidInputError } from '../core/errors';
import { closeServer, listen, serverUrl } from './httpServer';
import type { EgressHandler } from './LocalEffectSink';

/** The type of the records functions write to it: JSON `{"topic": "...", "payload": "..."}`. */
export const PLAYGROUND_EGRESS_RECORD_TYPE = 'io.statefun.playground/EgressRecord';

/**
 * Options of {@link PlaygroundEgress.start}.
 *
 * @example
 * const opts: PlaygroundEgressOpts = { port: 8091, topics: ['greetings'] };
 */
export interface PlaygroundEgressOpts {
  /** 0 picks a free port (see {@link PlaygroundEgress.url}). */
  readonly port: number;
  /** Unlike StateFun (every interface), the loopback interface unless told. @default '127.0.0.1' */
  readonly host?: string;
  /** The topics functions may write to; a record for another one is refused (a dead letter). */
  readonly topics: readonly string[];
  /**
   * Unread records kept per topic; a record past it is refused (StateFun drops it with a log
   * line). @default 1_048_576, as StateFun
   */
  readonly maxRecordsPerTopic?: number;
}

/** A topic's unread records, first in first out. */
class TopicQueue {
  private items: Uint8Array[] = [];
  private head = 0;

  get size(): number {
    return this.items.length - this.head;
  }

  push(item: Uint8Array): void {
    this.items.push(item);
  }

  shift(): Uint8Array | undefined {
    if (this.head === this.items.length) return undefined;
    const item = this.items[this.head++];
    // Drops the read part now and then instead of an O(n) shift per read.
    if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
}

/**
 * StateFun's playground egress (`io.statefun.playground.v1/egress`): functions send
 * `io.statefun.playground/EgressRecord` values (JSON `{"topic": ..., "payload": ...}`) to the
 * egress `io.statefun.playground/egress`, and any HTTP request on `/<topic>` takes the
 * oldest unread record of that topic:
 * - 200 with the payload's UTF-8 bytes as body;
 * - 404 (empty body) when the topic has no unread record;
 * - 405 for a topic the egress does not serve, as StateFun answers, with a body naming the
 *   topics it serves.
 *
 * A record that is not a valid `EgressRecord`, or is for another topic, is refused by
 * {@link handler} (it becomes a dead letter; StateFun fails the job instead). Unread records
 * live in memory only.
 *
 * @example
 * const egress = await PlaygroundEgress.start({ port: 8091, topics: ['greetings'] });
 * const runtime = new LocalRuntime({ functions, egresses: { 'io.statefun.playground/egress': egress.handler } });
 * // curl http://127.0.0.1:8091/greetings
 */
export class PlaygroundEgress {
  /** Delivers a record of the egress to its topic; throws {@link InvalidInputError} to refuse it. */
  readonly handler: EgressHandler;
  private readonly queues: ReadonlyMap<string, TopicQueue>;
  private readonly maxRecordsPerTopic: number;

  private constructor(
    private readonly server: Server,
    opts: PlaygroundEgressOpts,
  ) {
    this.queues = new Map(opts.topics.map((topic) => [topic, new TopicQueue()]));
    this.maxRecordsPerTopic = opts.maxRecordsPerTopic ?? 1 << 20;
    this.handler = (record) => this.deliver(record);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => this.serve(req, res));
  }

  /**
   * Starts serving `opts.topics` on `opts.host`:`opts.port`.
   *
   * @throws {@link InvalidInputError} for a topic that is empty or holds a `/`, and the
   * server's error (e.g. `EADDRINUSE`) when it cannot listen.
   */
  static async start(opts: PlaygroundEgressOpts): Promise<PlaygroundEgress> {
    for (const topic of opts.topics) {
      if (topic.length === 0 || topic.includes('/')) {
        throw new InvalidInputError(`playground egress: invalid topic ${JSON.stringify(topic)}: expected a non-empty name without "/" (it is the path of GET /<topic>)`);
      }
    }
    const egress = new PlaygroundEgress(createServer({ keepAliveTimeout: 60_000 }), opts);
    await listen(egress.server, opts.port, opts.host ?? '127.0.0.1');
    return egress;
  }

  /** Where it serves, e.g. `http://127.0.0.1:8091`. */
  get url(): string {
    return serverUrl(this.server);
  }

  /** Unread records of `topic`. */
  unread(topic: string): number {
    return this.queues.get(topic)?.size ?? 0;
  }

  /** Stops serving; unread records are dropped. */
  async close(): Promise<void> {
    await closeServer(this.server);
  }

  private deliver(record: EgressRecord): void {
    const { typename, value } = record.argument;
    if (typename !== PLAYGROUND_EGRESS_RECORD_TYPE) {
      throw new InvalidInputError(`the playground egress takes ${PLAYGROUND_EGRESS_RECORD_TYPE} values (JSON {"topic": ..., "payload": ...}), got a value of type ${typename}`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(value ?? new Uint8Array(0)).toString('utf8'));
    } catch (cause) {
      throw new InvalidInputError(`the ${PLAYGROUND_EGRESS_RECORD_TYPE} is not JSON: ${(cause as Error).message}`);
    }
    const { topic, payload } = (parsed ?? {}) as { topic?: unknown; payload?: unknown };
    if (typeof parsed !== 'object' || typeof topic !== 'string' || typeof payload !== 'string') {
      throw new InvalidInputError(`the ${PLAYGROUND_EGRESS_RECORD_TYPE} must be a JSON object with a string "topic" and a string "payload", got ${truncate(JSON.stringify(parsed))}`);
    }
    const queue = this.queues.get(topic);
    if (queue === undefined) throw new InvalidInputError(`the playground egress has no topic ${JSON.stringify(topic)}: its topics are ${this.topicList()}`);
    if (queue.size >= this.maxRecordsPerTopic) {
      throw new InvalidInputError(`topic ${JSON.stringify(topic)} of the playground egress already holds ${queue.size} unread records (the most it keeps): read them with GET /${topic}`);
    }
    queue.push(Buffer.from(payload, 'utf8'));
  }

  private serve(req: IncomingMessage, res: ServerResponse): void {
    req.resume();
    const path = (req.url ?? '/').split('?', 1)[0]!;
    let topic: string;
    try {
      topic = decodeURIComponent(path.slice(1));
    } catch {
      topic = path.slice(1);
    }
    const queue = this.queues.get(topic);
    if (queue === undefined) {
      const text = `no topic ${JSON.stringify(topic)} on this playground egress: GET /<topic> with one of ${this.topicList()}\n`;
      res.writeHead(405, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text) });
      res.end(text);
      return;
    }
    const payload = queue.shift();
    if (payload === undefined) {
      res.writeHead(404, { 'content-length': '0' });
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'content-length': payload.byteLength });
    res.end(payload);
  }

  private topicList(): string {
    return [...this.queues.keys()].map((t) => JSON.stringify(t)).join(', ') || 'none';
  }
}

function truncate(text: string | undefined): string {
  if (text === undefined) return 'nothing';
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
