import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Producer as KafkaProducer, ProducerOptions, SASLOptions } from '@platformatic/kafka';
import { RetryableError, TerminalError, describeError } from '../core/errors';

/**
 * How the relay authenticates to a Kafka cluster:
 * - `PLAIN`, `SCRAM-SHA-256`, `SCRAM-SHA-512` with a user and password, given or read from an
 *   AWS Secrets Manager secret holding `{"username": ..., "password": ...}` (the secret
 *   Lambda's Kafka event source mappings take; read when the producer connects);
 * - `AWS_MSK_IAM`: Amazon MSK's IAM access control, SASL/OAUTHBEARER with a token signed
 *   with the relay's role (AWS's signer, the npm package `aws-msk-iam-sasl-signer-js`).
 */
export type KafkaSasl =
  | { readonly mechanism: 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512'; readonly username: string; readonly password: string }
  | { readonly mechanism: 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512'; readonly secretArn: string }
  | {
      readonly mechanism: 'AWS_MSK_IAM';
      /** @default - the Lambda's region (`AWS_REGION`) */
      readonly region?: string;
    };

/** A Kafka cluster the relay produces to. */
export interface KafkaCluster {
  /** `host:port` of one or more brokers. */
  readonly bootstrapServers: readonly string[];
  /**
   * TLS to the brokers: `true` with the system's CAs, or the CA (PEM) and server name to
   * check them with.
   * @default - false, or true with `AWS_MSK_IAM` (MSK serves IAM only over TLS)
   */
  readonly tls?: boolean | { readonly caPem?: string; readonly serverName?: string };
  /** @default - none */
  readonly sasl?: KafkaSasl;
}

/** One record to produce. */
export interface KafkaRecordToProduce {
  readonly topic: string;
  /** UTF-8 key; without one, the producer spreads records over the partitions. */
  readonly key?: string;
  readonly value: Uint8Array;
  /** The egress record's deterministic id: the `statefun-id` header, for consumers to drop duplicates. */
  readonly id: string;
}

/** The header carrying each record's deterministic id. */
export const KAFKA_ID_HEADER = 'statefun-id';

const ID_HEADER_BYTES = Buffer.from(KAFKA_ID_HEADER, 'utf8');

/** Options of {@link KafkaProducers}. */
export interface KafkaProducersOptions {
  /** @default 'statefun-relay' */
  readonly clientId?: string;
  /** Reads `secretArn` credentials. @default - a client with the SDK defaults, created when first needed */
  readonly secretsManager?: Pick<SecretsManagerClient, 'send'>;
  /**
   * An MSK IAM token (SASL/OAUTHBEARER) for `region`.
   * @default - AWS's signer (`aws-msk-iam-sasl-signer-js`) with the default credential chain
   */
  readonly mskIamToken?: (region: string) => Promise<string>;
  /** Per request to a broker, connecting included. @default 10000 */
  readonly timeoutMs?: number;
  /**
   * The client's own retries of a failed request (metadata, produce); at least 2 (the
   * client retries an idempotent producer's requests forever when given fewer).
   * @default 3
   */
  readonly retries?: number;
}

/**
 * Protocol errors that repeat however often the request is sent: the topic does not exist
 * (the producer does not create topics), access is denied, or the record cannot be taken.
 */
const TERMINAL_PROTOCOL_ERRORS = new Set([
  'UNKNOWN_TOPIC_OR_PARTITION',
  'INVALID_TOPIC_EXCEPTION',
  'TOPIC_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
  'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
  'MESSAGE_TOO_LARGE',
  'RECORD_LIST_TOO_LARGE',
  'INVALID_RECORD',
  'POLICY_VIOLATION',
]);

/**
 * Node's codes for a broker certificate the client does not trust (an unknown or self-signed
 * CA, a name it was not issued for, outside its validity): a setting to fix, not a fault that
 * passes, as a failed authentication is.
 */
const TERMINAL_TLS_ERRORS = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/**
 * Idempotent Kafka producers, one per cluster, created and connected when first used and
 * kept for the life of the process (a relay container: Lambda freezes it between
 * invocations, and a frozen connection is re-established by the client when it is stale).
 *
 * Each record is produced with acks from all in-sync replicas by an idempotent producer, so
 * the client's own retries add no duplicates and keep each partition's order; the
 * partitioner is Kafka's Java client's (murmur2 of the key), so a key lands on the partition
 * any Java producer, StateFun's included, would put it on. A relay that retries an outbox
 * item after a failure produces its records again: delivery is at least once, and the
 * `statefun-id` header lets consumers drop the duplicates.
 *
 * @example
 * const producers = new KafkaProducers();
 * await producers.produce({ bootstrapServers: ['b-1.msk.example:9098'], sasl: { mechanism: 'AWS_MSK_IAM' } }, [
 *   { topic: 'greetings', key: 'bob', value: new TextEncoder().encode('Hello, Bob'), id: 'example/greeter/bob/1/0' },
 * ]);
 */
export class KafkaProducers {
  private readonly producers = new Map<string, Promise<KafkaProducer>>();
  /** The last send of each producer, which the next one waits for. */
  private readonly tails = new Map<string, Promise<void>>();
  private secretsManager: Pick<SecretsManagerClient, 'send'> | undefined;

  constructor(private readonly options: KafkaProducersOptions = {}) {
    this.secretsManager = options.secretsManager;
  }

  /**
   * Produces `records` in order (per partition), after the sends to the same cluster already
   * under way, and waits for them to be acknowledged.
   *
   * @throws {@link TerminalError} (code `SINK_REJECTED`) when the cluster refuses them for
   * good: an unknown topic, denied access, failed authentication, a record too large.
   * @throws {@link RetryableError} (code `RELAY_INCOMPLETE`) for anything else (brokers
   * unreachable, leaders moving, timeouts); the producer is then replaced, so the retry
   * starts on fresh connections.
   */
  async produce(cluster: KafkaCluster, records: readonly KafkaRecordToProduce[]): Promise<void> {
    if (records.length === 0) return;
    const key = JSON.stringify(cluster);
    // One send at a time per producer: the client's idempotent producer numbers a partition's
    // batches as it sends them, and concurrent sends reach the broker out of sequence.
    const run = (this.tails.get(key) ?? Promise.resolve()).then(() => this.send(key, cluster, records));
    this.tails.set(key, run.catch(() => undefined));
    return run;
  }

  private async send(key: string, cluster: KafkaCluster, records: readonly KafkaRecordToProduce[]): Promise<void> {
    let pending = this.producers.get(key);
    if (pending === undefined) {
      pending = this.create(cluster).catch((error: unknown) => {
        this.producers.delete(key); // the next call tries again
        throw error;
      });
      this.producers.set(key, pending);
    }
    const topics = [...new Set(records.map((r) => r.topic))].join(', ');
    try {
      const producer = await pending;
      // Metadata first: with no broker answering, the client's idempotent-producer setup never
      // settles, while a metadata request fails after its retries (and names an unknown topic).
      await this.bounded(producer.metadata({ topics: [...new Set(records.map((r) => r.topic))] }));
      await this.bounded(producer.send({
        messages: records.map((r) => ({
          topic: r.topic,
          ...(r.key !== undefined ? { key: Buffer.from(r.key, 'utf8') } : {}),
          value: Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength),
          headers: new Map([[ID_HEADER_BYTES, Buffer.from(r.id, 'utf8')]]),
        })),
      }));
    } catch (error) {
      const reason = describeKafkaError(error);
      if (isTerminalKafkaError(error)) {
        throw new TerminalError(`Kafka (${cluster.bootstrapServers.join(',')}) refused records for ${topics}: ${reason}`, { cause: error, code: 'SINK_REJECTED' });
      }
      this.producers.delete(key);
      void pending.then((p) => p.close()).catch(() => undefined);
      throw new RetryableError(`producing ${records.length} record(s) to ${topics} on Kafka (${cluster.bootstrapServers.join(',')}) failed: ${reason}`, { cause: error, code: 'RELAY_INCOMPLETE' });
    }
  }

  /**
   * `operation`, or a timeout error once every attempt the client may make has had its time:
   * a guard against a client call that never settles, not a wait.
   */
  private async bounded<T>(operation: Promise<T>): Promise<T> {
    const limitMs = (Math.max(2, this.options.retries ?? 3) + 2) * (this.options.timeoutMs ?? 10_000);
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the Kafka client did not answer within ${limitMs} ms`)), limitMs);
    });
    try {
      return await Promise.race([operation, expired]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Closes every producer (tests, `statefun dev`); a relay on Lambda never needs to. */
  async close(): Promise<void> {
    const all = [...this.producers.values()];
    this.producers.clear();
    await Promise.all(all.map((p) => p.then((producer) => producer.close()).catch(() => undefined)));
  }

  private async create(cluster: KafkaCluster): Promise<KafkaProducer> {
    // Loaded when first needed: a relay without Kafka egress never pays for the client.
    const { Producer, compatibilityPartitioner } = await import('@platformatic/kafka');
    const timeout = this.options.timeoutMs ?? 10_000;
    const options: ProducerOptions<Buffer, Buffer, Buffer, Buffer> = {
      clientId: this.options.clientId ?? 'statefun-relay',
      bootstrapBrokers: [...cluster.bootstrapServers],
      idempotent: true,
      partitioner: compatibilityPartitioner,
      autocreateTopics: false,
      connectTimeout: timeout,
      timeout,
      retries: Math.max(2, this.options.retries ?? 3),
      ...connectionOptions(cluster, {
        secret: (arn) => this.secret(arn),
        mskIamToken: this.options.mskIamToken ?? mskIamTokenFromSigner,
      }),
    };
    const producer = new Producer(options);
    try {
      // Once, before any send: concurrent first sends would each set up the idempotent producer.
      await this.bounded(producer.initIdempotentProducer({}));
    } catch (error) {
      void producer.close().catch(() => undefined);
      throw error;
    }
    return producer;
  }

  private secret(arn: string): Promise<{ username: string; password: string }> {
    this.secretsManager ??= new SecretsManagerClient({});
    return readCredentialsSecret(this.secretsManager, arn);
  }
}

/** What {@link connectionOptions} needs to resolve credentials. */
export interface CredentialSources {
  readonly secret: (arn: string) => Promise<{ username: string; password: string }>;
  readonly mskIamToken: (region: string) => Promise<string>;
}

/**
 * The client's TLS and SASL options for `cluster`: credentials are providers, called when a
 * connection authenticates (a secret is read then; an MSK IAM token is signed then, so a
 * reconnection after Lambda thawed the container gets a fresh one).
 *
 * @example
 * const opts = connectionOptions({ bootstrapServers: ['b-1:9096'], sasl: { mechanism: 'SCRAM-SHA-512', secretArn } }, sources);
 */
export function connectionOptions(cluster: KafkaCluster, sources: CredentialSources): Pick<ProducerOptions<Buffer, Buffer, Buffer, Buffer>, 'tls' | 'sasl'> {
  const sasl = cluster.sasl;
  const tlsOn = cluster.tls ?? sasl?.mechanism === 'AWS_MSK_IAM';
  const tls =
    tlsOn === false
      ? {}
      : {
          tls: {
            ...(typeof tlsOn === 'object' && tlsOn.caPem !== undefined ? { ca: tlsOn.caPem } : {}),
            ...(typeof tlsOn === 'object' && tlsOn.serverName !== undefined ? { servername: tlsOn.serverName } : {}),
          },
        };
  if (sasl === undefined) return tls;
  let options: SASLOptions;
  if (sasl.mechanism === 'AWS_MSK_IAM') {
    const region = sasl.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
    if (region === undefined) {
      throw new TerminalError('Kafka AWS_MSK_IAM authentication needs the cluster\'s region: set "region" in the egress\'s kafkaCluster.sasl, or AWS_REGION', { code: 'INVALID_CONFIGURATION' });
    }
    options = { mechanism: 'OAUTHBEARER', token: () => sources.mskIamToken(region) };
  } else if ('secretArn' in sasl) {
    const arn = sasl.secretArn;
    options = { mechanism: sasl.mechanism, username: async () => (await sources.secret(arn)).username, password: async () => (await sources.secret(arn)).password };
  } else {
    options = { mechanism: sasl.mechanism, username: sasl.username, password: sasl.password };
  }
  return { ...tls, sasl: options };
}

/** A Secrets Manager secret holding `{"username", "password"}`, as Lambda's Kafka mappings take it. */
async function readCredentialsSecret(client: Pick<SecretsManagerClient, 'send'>, arn: string): Promise<{ username: string; password: string }> {
  const out = await client.send(new GetSecretValueCommand({ SecretId: arn }));
  const parsed = parseJson(out.SecretString) as { username?: unknown; password?: unknown } | undefined;
  if (typeof parsed?.username !== 'string' || typeof parsed.password !== 'string') {
    throw new TerminalError(`Kafka SASL secret ${arn} must be JSON {"username": "...", "password": "..."}, as Lambda's Kafka event source mappings read it`, { code: 'INVALID_CONFIGURATION' });
  }
  return { username: parsed.username, password: parsed.password };
}

function parseJson(text: string | undefined): unknown {
  try {
    return text === undefined ? undefined : JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The signer's export we use. */
interface MskIamSigner {
  generateAuthToken(opts: { region: string }): Promise<{ token: string; expiryTime: number }>;
}

/**
 * An MSK IAM token (SASL/OAUTHBEARER) for `region`, signed with the default credential chain
 * by AWS's signer (the npm package `aws-msk-iam-sasl-signer-js`, loaded when first needed).
 *
 * @example
 * const token = await mskIamTokenFromSigner('us-east-1');
 */
export async function mskIamTokenFromSigner(region: string): Promise<string> {
  const signer = (await import('aws-msk-iam-sasl-signer-js')) as MskIamSigner;
  return (await signer.generateAuthToken({ region })).token;
}

/** Whether a Kafka client's error says the request will keep failing. */
export function isTerminalKafkaError(error: unknown): boolean {
  return (
    isKafkaAccessError(error) ||
    kafkaErrors(error).some(
      (e) => (typeof e.apiId === 'string' && TERMINAL_PROTOCOL_ERRORS.has(e.apiId)) || e.code === 'PLT_KFK_USER' || e instanceof TerminalError,
    )
  );
}

/**
 * Whether the brokers refused the connection itself: a failed SASL authentication, or a
 * broker certificate the client does not trust. It repeats until the settings change.
 */
export function isKafkaAccessError(error: unknown): boolean {
  return kafkaErrors(error).some(
    (e) =>
      e.apiId === 'SASL_AUTHENTICATION_FAILED' ||
      e.code === 'PLT_KFK_AUTHENTICATION' ||
      (typeof e.code === 'string' && TERMINAL_TLS_ERRORS.has(e.code)),
  );
}

/** The error and everything it wraps (`errors` of an aggregate, `cause`). */
function kafkaErrors(error: unknown, seen = new Set<unknown>()): { apiId?: unknown; code?: unknown; message?: unknown }[] {
  if (error === null || typeof error !== 'object' || seen.has(error)) return [];
  seen.add(error);
  const e = error as { errors?: unknown; cause?: unknown };
  return [error as { apiId?: unknown }, ...(Array.isArray(e.errors) ? e.errors.flatMap((inner) => kafkaErrors(inner, seen)) : []), ...kafkaErrors(e.cause, seen)];
}

/** The client's message with the protocol errors it wraps, e.g. `... (UNKNOWN_TOPIC_OR_PARTITION)`. */
export function describeKafkaError(error: unknown): string {
  const ids = [...new Set(kafkaErrors(error).flatMap((e) => (typeof e.apiId === 'string' ? [e.apiId] : [])))];
  const leaves = kafkaErrors(error)
    .filter((e) => !Array.isArray((e as { errors?: unknown }).errors) && typeof e.message === 'string')
    .map((e) => e.message as string);
  const detail = [...new Set([...ids, ...leaves.filter((m) => m !== (error as Error)?.message)])].slice(0, 4);
  return detail.length > 0 ? `${describeError(error)} (${detail.join('; ')})` : describeError(error);
}
