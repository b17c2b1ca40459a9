import { Admin, Consumer, type Message, type MessagesStream } from '@platformatic/kafka';
import { decodeKafkaRecord } from '../aws/kafkaRecords';
import type { IngressMap } from '../aws/kinesisRecords';
import { KafkaProducers } from '../aws/KafkaProducers';
import { readKafkaProducerRecord } from '../aws/statefunEgressRecords';
import { InvalidInputError, RetryableError, describeError } from '../core/errors';
import type { FunctionResolver } from '../core/ports/FunctionEndpoint';
import type { KafkaEgressSpec, KafkaIngressSpec, StartupPosition } from '../module/model';
import type { EgressHandler } from './LocalEffectSink';
import type { LocalRuntime } from './LocalRuntime';
import { valuePreview } from './valuePreview';

/**
 * Where the Kafka ingresses and egresses of a module run under `statefun dev`.
 *
 * @example
 * const kafka: DevKafkaOpts = { bootstrap: '127.0.0.1:9092', createTopics: false };
 */
export interface DevKafkaOpts {
  /**
   * The broker every Kafka ingress and egress uses instead of its `address` (`--kafka`, or
   * the broker `--start-kafka` started). @default - each one's own `address`
   */
  readonly bootstrap?: string;
  /** Creates the topics that do not exist (a broker `statefun dev` started itself). @default false */
  readonly createTopics?: boolean;
  /** How long a broker may take to answer before it counts as unreachable. @default 10000 ms */
  readonly timeoutMs?: number;
  /**
   * How long an egress keeps producing a record the broker did not take for a reason that
   * passes (unreachable, timing out, a leader moving) before the record becomes a dead letter;
   * the runtime's egress waits meanwhile, as the relay holds back its outbox. @default 60000 ms
   */
  readonly egressRetryMs?: number;
}

const CLIENT_ID = 'statefun-dev';

/** The flags that name another broker, for error messages. */
const BROKER_FLAGS = 'give a running broker with --kafka <host:port>, or let statefun dev start one with --start-kafka';

/**
 * The consumer of one Kafka ingress of a module under `statefun dev`: each record of its
 * topics is routed as StateFun's Kafka ingress routes it (the topic's targets, the key as the
 * function id, the value of the topic's value type) onto the embedded runtime, its position
 * (`<topic>/<partition>`, offset) making a redelivered record a duplicate. A record that
 * cannot become a message (no key, a value that does not decode) is a dead letter.
 *
 * Offsets are committed only once the records are durable ({@link commitDelivered}: after the
 * state file that holds them is written, or after the round that applied them without one).
 */
export class DevKafkaIngress {
  private readonly delivered = new Map<string, Message>();
  private commits: Promise<void> = Promise.resolve();

  private constructor(
    readonly spec: KafkaIngressSpec,
    readonly bootstrap: string,
    private readonly consumer: Consumer,
    private readonly stream: MessagesStream<Buffer, Buffer, Buffer, Buffer>,
  ) {}

  /**
   * Connects, checks (or creates) the topics, joins the consumer group and starts consuming.
   *
   * @throws {@link InvalidInputError} for a start position dev cannot take, a target no
   * endpoint serves, an unreachable broker or a missing topic, each naming the fix.
   */
  static async start(
    spec: KafkaIngressSpec,
    opts: DevKafkaOpts & {
      readonly runtime: LocalRuntime;
      readonly functions: FunctionResolver;
      /** Whether the runtime resumed from a state file: then the group's committed offsets are where to go on. */
      readonly resumed: boolean;
      readonly kick: () => void;
      readonly out: (line: string) => void;
      readonly quiet: boolean;
      /** Records the runtime may hold not yet dispatched; past it the consumer pauses until {@link resume}. */
      readonly maxPendingMessages: number;
    },
  ): Promise<DevKafkaIngress> {
    const where = `${spec.source.file}, document ${spec.source.document} (${spec.source.kind} ${spec.id})`;
    const position = consumePosition(spec, opts.resumed, where);
    for (const topic of spec.topics) {
      for (const target of topic.targets) {
        if (opts.functions.resolve(target) === undefined) {
          throw new InvalidInputError(`${where}: topic "${topic.name}" targets function type ${target}, which no endpoint of ${spec.source.file} serves: add an endpoint for it or remove the target`);
        }
      }
    }
    const bootstrap = opts.bootstrap ?? spec.address;
    await ensureTopics(bootstrap, spec.topics.map((t) => t.name), opts, `${where}, topics`);
    const routes: IngressMap = Object.fromEntries(spec.topics.map((t) => [t.name, { functionType: t.targets, valueType: t.valueType }]));
    const consumer = new Consumer<Buffer, Buffer, Buffer, Buffer>({
      clientId: CLIENT_ID,
      groupId: spec.consumerGroupId,
      bootstrapBrokers: bootstrap.split(','),
      autocommit: false,
      timeout: opts.timeoutMs ?? 10_000,
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
    });
    let stream: MessagesStream<Buffer, Buffer, Buffer, Buffer>;
    try {
      stream = await consumer.consume({ topics: spec.topics.map((t) => t.name), autocommit: false, maxWaitTime: 500, ...position });
    } catch (error) {
      await Promise.resolve(consumer.close(true)).catch(() => undefined);
      throw new InvalidInputError(`${where}: joining consumer group "${spec.consumerGroupId}" on Kafka ${bootstrap} failed: ${describeError(error)}`, { cause: error });
    }
    const ingress = new DevKafkaIngress(spec, bootstrap, consumer, stream);
    stream.on('data', (message: Message<Buffer, Buffer, Buffer, Buffer>) => {
      const decoded = decodeKafkaRecord(
        {
          topic: message.topic,
          partition: message.partition,
          offset: message.offset.toString(),
          timestamp: Number(message.timestamp),
          key: message.key === undefined || message.key === null ? null : message.key.toString('base64'),
          value: message.value === undefined || message.value === null ? null : message.value.toString('base64'),
        },
        routes,
      );
      for (const envelope of decoded.envelopes) opts.runtime.deliver(envelope);
      ingress.delivered.set(`${message.topic}/${message.partition}`, message);
      if (!opts.quiet && decoded.undecodable === undefined) {
        const argument = decoded.envelopes[0]!.argument;
        opts.out(`${lineTime()}  kafka ${message.topic}/${message.partition}/${message.offset} → ${decoded.envelopes.map((e) => e.target.key).join(', ')} ${valuePreview(argument)}`);
      }
      if (opts.runtime.pendingMessages >= opts.maxPendingMessages) stream.pause();
      opts.kick();
    });
    stream.on('error', (error: unknown) => opts.out(`${lineTime()}  kafka ingress ${spec.id}: ${describeError(error)}`));
    return ingress;
  }

  /** Whether records were handed to the runtime whose offsets are not committed yet. */
  get hasUncommitted(): boolean {
    return this.delivered.size > 0;
  }

  /**
   * Commits the offsets of every record handed to the runtime so far; call it once they are
   * durable. A failed commit is told on `out` (its records come again and are dropped as duplicates).
   */
  commitDelivered(out: (line: string) => void): Promise<void> {
    const last = [...this.delivered.values()];
    this.delivered.clear();
    if (last.length === 0) return this.commits;
    this.commits = this.commits.then(async () => {
      try {
        await Promise.all(last.map((message) => message.commit()));
      } catch (error) {
        out(`${lineTime()}  kafka ingress ${this.spec.id}: committing offsets failed (the records come again after a restart and are dropped as duplicates): ${describeError(error)}`);
      }
    });
    return this.commits;
  }

  /** Takes records again after a pause for the runtime to catch up (see `maxPendingMessages`). */
  resume(): void {
    if (this.stream.isPaused() && !this.stream.closed) this.stream.resume();
  }

  /** Stops fetching; records already handed to the runtime stay delivered. */
  async pause(): Promise<void> {
    await this.stream.close();
  }

  /** Waits for the commits under way, then leaves the group and closes the connections. */
  async close(): Promise<void> {
    await this.commits;
    await this.consumer.close(true);
  }
}

/**
 * The handler of a Kafka egress under `statefun dev`: each `KafkaProducerRecord` produced to
 * the topic it names (any topic, as StateFun's Kafka egress) by `producers`, with the record's
 * id in the `statefun-id` header. A record that is not one, or that the broker refuses for
 * good (an unknown topic, denied access), is a dead letter with the reason; one the broker did
 * not take for a reason that passes is produced again, a line printed each time, for
 * {@link DevKafkaOpts.egressRetryMs}, then dead-lettered.
 */
export function devKafkaEgress(spec: KafkaEgressSpec, producers: KafkaProducers, opts: DevKafkaOpts & { readonly out: (line: string) => void; readonly quiet: boolean }): EgressHandler {
  const bootstrap = opts.bootstrap ?? spec.address;
  const created = new Set<string>();
  return async (record) => {
    const produce = readKafkaProducerRecord(record);
    if (typeof produce === 'string') throw new InvalidInputError(produce);
    if (opts.createTopics && !created.has(produce.topic)) {
      await ensureTopics(bootstrap, [produce.topic], opts, `egress ${spec.id}`);
      created.add(produce.topic);
    }
    const retryMs = opts.egressRetryMs ?? 60_000;
    const giveUpAt = Date.now() + retryMs;
    for (let delayMs = 250; ; delayMs = Math.min(delayMs * 2, 5_000)) {
      try {
        await producers.produce({ bootstrapServers: bootstrap.split(',') }, [{ ...produce, id: record.id }]);
        break;
      } catch (error) {
        if (!(error instanceof RetryableError)) throw error;
        if (Date.now() + delayMs > giveUpAt) throw new Error(`Kafka at ${bootstrap} did not take it within ${retryMs} ms (egressRetryMs): ${error.message}`, { cause: error });
        // Printed even with --quiet: the runtime's egress waits meanwhile.
        opts.out(`${lineTime()}  egress ${spec.id}: Kafka at ${bootstrap} did not take record ${record.id}, trying again in ${delayMs} ms: ${error.message}`);
        await new Promise((resolve) => setTimeout(resolve, delayMs));
      }
    }
    if (!opts.quiet) {
      opts.out(`${lineTime()}  egress ${spec.id} → kafka ${produce.topic}${produce.key === undefined ? '' : ` key ${produce.key}`} ${valuePreview({ typename: '', value: produce.value })}`);
    }
  };
}

/** A producer per broker for the Kafka egresses of `statefun dev`. */
export function devKafkaProducers(opts: DevKafkaOpts): KafkaProducers {
  return new KafkaProducers({ clientId: CLIENT_ID, timeoutMs: opts.timeoutMs ?? 10_000, retries: 2 });
}

/**
 * Checks that the broker answers and `topics` exist on it, creating the missing ones when
 * `createTopics`.
 *
 * @throws {@link InvalidInputError} naming the broker and the flags when it does not answer,
 * or the missing topics and how to create them.
 */
export async function ensureTopics(bootstrap: string, topics: readonly string[], opts: DevKafkaOpts, what: string): Promise<void> {
  const admin = new Admin({ clientId: CLIENT_ID, bootstrapBrokers: bootstrap.split(','), retries: 1, timeout: opts.timeoutMs ?? 10_000 });
  try {
    let existing: string[];
    try {
      existing = await admin.listTopics();
    } catch (error) {
      throw new InvalidInputError(`cannot reach Kafka at ${bootstrap} (${what}): ${describeError(error)}; is a broker running there? ${BROKER_FLAGS}`, { cause: error });
    }
    const missing = topics.filter((t) => !existing.includes(t));
    if (missing.length === 0) return;
    if (!opts.createTopics) {
      throw new InvalidInputError(
        `Kafka at ${bootstrap} has no topic ${missing.map((t) => `"${t}"`).join(', ')} (${what}): create it, e.g. kafka-topics.sh --bootstrap-server ${bootstrap} --create --topic ${missing[0]}, or run with --start-kafka (statefun dev creates the topics on the broker it starts)`,
      );
    }
    try {
      await admin.createTopics({ topics: [...missing], partitions: 1, replicas: 1 });
    } catch (error) {
      // Another writer may have created them meanwhile: fine if they are all there now.
      const now = await admin.listTopics();
      if (missing.some((t) => !now.includes(t))) throw new InvalidInputError(`creating topic(s) ${missing.map((t) => `"${t}"`).join(', ')} on Kafka ${bootstrap} failed (${what}): ${describeError(error)}`, { cause: error });
    }
  } finally {
    await admin.close();
  }
}

/**
 * The consumer's start: StateFun's `startupPosition` when the runtime starts afresh (no state
 * file, the counterpart of a job without a checkpoint); the group's committed offsets when
 * it resumed from its state file (as StateFun resumes from its checkpoint), the start
 * position applying to partitions the group has none for.
 *
 * @throws {@link InvalidInputError} for `date` and `specific-offsets`, which dev does not take.
 *
 * @example
 * consumePosition(spec, false, 'module.yaml, document 2'); // { mode: 'earliest', fallbackMode: 'earliest' } for startupPosition earliest
 */
export function consumePosition(spec: KafkaIngressSpec, resumed: boolean, where: string): { mode: 'latest' | 'earliest' | 'committed'; fallbackMode: 'latest' | 'earliest' } {
  const start = startOf(spec.startupPosition, spec.autoOffsetResetPosition, where);
  if (resumed || spec.startupPosition.type === 'group-offsets') return { mode: 'committed', fallbackMode: start };
  return { mode: start, fallbackMode: start };
}

function startOf(position: StartupPosition, reset: 'earliest' | 'latest', where: string): 'earliest' | 'latest' {
  switch (position.type) {
    case 'earliest':
    case 'latest':
      return position.type;
    case 'group-offsets':
      return reset;
    default:
      throw new InvalidInputError(
        `${where}: startupPosition type ${position.type} does not run under statefun dev: use earliest, latest or group-offsets (with autoOffsetResetPosition), or deploy the module (cdk deploy)`,
      );
  }
}

/** The time of day a `statefun dev` line starts with, `HH:mm:ss.SSS` (UTC). */
export function lineTime(): string {
  return new Date().toISOString().slice(11, 23);
}
