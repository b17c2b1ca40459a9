import { createHash } from 'node:crypto';
import {
  type AttributeValue,
  BatchGetItemCommand,
  BatchWriteItemCommand,
  DynamoDBClient,
  type DynamoDBClientConfig,
  PutItemCommand,
  QueryCommand,
  TransactWriteItemsCommand,
  type TransactWriteItem,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { Address } from '../core/Address';
import { type AddressState, type DeadLetter, emptyState, isEmptyState, latestTimeMs } from '../core/AddressState';
import { NO_EFFECTS } from '../core/Effects';
import { DEFAULT_DUPLICATE_WINDOW_MS, duplicateWindowMs } from '../core/duplicateWindow';
import type { Envelope } from '../core/Envelope';
import { type InboxEntry, type InboxPage, LOST_INBOX_ENTRY_TYPE, inboxKeyOf, isParkedKey } from '../core/Inbox';
import { CommitTooLargeError, RetryableError, StateConflictError, StatefunError, TerminalError, UnreadableStateError, describeError, ensureError } from '../core/errors';
import type { Commit, StateStore } from '../core/ports/StateStore';
import { decodeEffects, encodeEffects } from './effectsCodec';
import { DEFAULT_OUTBOX_TTL_DAYS, INBOX_ATTR, OUTBOX_ATTR, commitItems } from './commitItems';
import { STATE_ATTR, decodeStateItem } from './stateItem';

/** BatchGetItem takes at most 100 keys. */
const BATCH_GET_MAX_KEYS = 100;
/** BatchWriteItem takes at most 25 requests. */
const BATCH_WRITE_MAX = 25;

interface DynamoStateStoreBaseOptions {
  /** The state table: partition key `address` (S). See `createTables`. */
  readonly tableName: string;
  /** The outbox table: partition key `address` (S), sort key `version` (N), stream NEW_IMAGE. */
  readonly outboxTableName: string;
  /** The inbox table: partition key `address` (S, the receiver), sort key `key` (S). */
  readonly inboxTableName: string;
  /**
   * Hook for the state item's `ttl` attribute (epoch seconds), for a table with TTL enabled
   * on `ttl`; return `undefined` to write none. It must be a pure function of the state
   * (e.g. from its timestamps, not the clock): a retried commit has to send identical
   * items, or DynamoDB answers IdempotentParameterMismatch.
   * @default - no `ttl` attribute
   */
  readonly stateTtlEpochSeconds?: (state: AddressState) => number | undefined;
  /**
   * Days DynamoDB keeps an outbox item past its commit (its `ttl` attribute, epoch seconds;
   * enable TTL on `ttl` on the outbox table). The relay reads the outbox's stream, which keeps
   * records 24 hours; the item outlives that so an operator can still redrive from the table.
   * @default 7
   */
  readonly outboxTtlDays?: number;
  /**
   * The duplicate window (see `DEFAULT_DUPLICATE_WINDOW_MS`): an address left with no values,
   * no pending timers and no applied inbox entries is written as a tombstone whose `ttl`
   * (enable TTL on `ttl` on the state table, as the CDK construct does) lets DynamoDB
   * delete it this long after its latest mark, so its marks outlive any record they guard.
   * @default - 7 days
   */
  readonly duplicateWindowMs?: number;
  /**
   * Attempts of one BatchGetItem chunk while DynamoDB returns `UnprocessedKeys`.
   * @default - 8, with exponential backoff and full jitter from 25 ms up to 2 s
   */
  readonly maxBatchGetAttempts?: number;
}

interface WithClient {
  /** A client you configured; the store never destroys it. */
  readonly client: DynamoDBClient;
  readonly clientConfig?: never;
}

interface WithClientConfig {
  readonly client?: never;
  /** Config for a client the store creates. @default - the SDK defaults (region etc. from the environment) */
  readonly clientConfig?: DynamoDBClientConfig;
}

/** Options of {@link DynamoStateStore}: a `client` or a `clientConfig`, never both. */
export type DynamoStateStoreOptions = DynamoStateStoreBaseOptions & (WithClient | WithClientConfig);

/**
 * The {@link StateStore} on DynamoDB.
 *
 * - `load` reads every address with BatchGetItem, 100 keys a call, retrying
 *   `UnprocessedKeys` with backoff. Reads are eventually consistent (half the read units):
 *   a stale read is safe because every write is conditional on the version, so a batch run
 *   on stale state fails its commit with {@link StateConflictError} and is re-run on fresh
 *   state.
 * - `commit` writes the state item conditionally on `expectedVersion`, together with ONE
 *   outbox item holding every effect of the batch and one inbox marker per receiver of its
 *   messages, in one `TransactWriteItems` whose `ClientRequestToken` is a hash of
 *   `commit.token`. A commit without effects is one conditional `PutItem` (half the write
 *   units of a transaction). An address left empty is written as a tombstone that TTL
 *   deletes one duplicate window later.
 * - `readInbox` queries an address's markers (strongly consistent) and reads the messages
 *   from the outbox items they point at (a parked entry holds its own); `clearInbox`
 *   deletes applied markers.
 * - A commit is applied at most once: a retry of a commit that landed fails the version
 *   condition ({@link StateConflictError}; the dispatcher then finds its messages applied),
 *   or, for an identical transaction within 10 minutes, DynamoDB answers it from its
 *   `ClientRequestToken` without applying it again. A racing dispatcher's commit of the
 *   same batch never overwrites the winner's.
 *
 * Item layout: `docs/dynamodb-layout.md`.
 *
 * @example
 * const store = new DynamoStateStore({
 *   tableName: 'statefun-state',
 *   outboxTableName: 'statefun-outbox',
 *   clientConfig: { region: 'eu-west-1' },
 * });
 * const states = await store.load([Address.of('shop/cart', 'u1')]);
 */
export class DynamoStateStore implements StateStore {
  readonly tableName: string;
  readonly outboxTableName: string;
  readonly inboxTableName: string;
  readonly client: DynamoDBClient;
  private readonly ownsClient: boolean;
  private readonly stateTtl: ((state: AddressState) => number | undefined) | undefined;
  private readonly maxBatchGetAttempts: number;
  private readonly outboxTtlDays: number;
  private readonly duplicateWindowMs: number;

  constructor(options: DynamoStateStoreOptions) {
    if (!options.tableName || !options.outboxTableName || !options.inboxTableName) {
      const given = { tableName: options.tableName, outboxTableName: options.outboxTableName, inboxTableName: options.inboxTableName };
      throw new TypeError(`DynamoStateStore needs tableName, outboxTableName and inboxTableName, got ${JSON.stringify(given)}`);
    }
    if (options.client && options.clientConfig) {
      throw new TypeError('DynamoStateStore takes either client or clientConfig, not both: configure the client you pass');
    }
    this.tableName = options.tableName;
    this.outboxTableName = options.outboxTableName;
    this.inboxTableName = options.inboxTableName;
    this.ownsClient = !options.client;
    this.client = options.client ?? new DynamoDBClient(options.clientConfig ?? {});
    if (options.outboxTtlDays !== undefined && !(Number.isFinite(options.outboxTtlDays) && options.outboxTtlDays > 0)) {
      throw new TypeError(`DynamoStateStore: outboxTtlDays must be a positive number of days, got ${String(options.outboxTtlDays)}`);
    }
    this.stateTtl = options.stateTtlEpochSeconds;
    this.outboxTtlDays = options.outboxTtlDays ?? DEFAULT_OUTBOX_TTL_DAYS;
    this.maxBatchGetAttempts = options.maxBatchGetAttempts ?? 8;
    this.duplicateWindowMs = duplicateWindowMs(options.duplicateWindowMs ?? DEFAULT_DUPLICATE_WINDOW_MS, 'DynamoStateStore: duplicateWindowMs');
  }

  async load(addresses: readonly Address[]): Promise<Map<string, AddressState>> {
    const byKey = new Map<string, Address>();
    for (const address of addresses) byKey.set(address.key, address);
    const keys = [...byKey.keys()];
    const chunks: string[][] = [];
    for (let i = 0; i < keys.length; i += BATCH_GET_MAX_KEYS) chunks.push(keys.slice(i, i + BATCH_GET_MAX_KEYS));
    const items = (
      await Promise.all(chunks.map((chunk) => this.batchGet(this.tableName, chunk.map((key) => ({ [STATE_ATTR.address]: { S: key } })), false, 'addresses')))
    ).flat();

    const loaded = new Map<string, AddressState>();
    const unreadable = new Map<string, Error>();
    for (const item of items) {
      const key = item[STATE_ATTR.address]?.S;
      try {
        const state = decodeStateItem(item, this.tableName);
        if (byKey.has(state.address.key)) loaded.set(state.address.key, state);
      } catch (error) {
        if (key === undefined || !byKey.has(key)) throw error;
        unreadable.set(key, ensureError(error));
      }
    }
    for (const [key, address] of byKey) if (!loaded.has(key) && !unreadable.has(key)) loaded.set(key, emptyState(address));
    if (unreadable.size > 0) throw new UnreadableStateError(loaded, unreadable);
    return loaded;
  }

  async commit(commit: Commit): Promise<void> {
    const { address, expectedVersion, state } = commit;
    if (state.address.key !== address.key || !(state.version > expectedVersion)) {
      throw new TerminalError(
        `commit for ${address.key} carries state of ${state.address.key} at version ${state.version} on top of version ${expectedVersion}: ` +
          'the state must be of the same address and at a version above expectedVersion',
        { code: 'INVALID_COMMIT' },
      );
    }
    const token = requestToken(this.tableName, commit);
    const items = commitItems(commit, token, {
      stateTtlEpochSeconds: (committed) => (isEmptyState(committed) ? this.tombstoneTtlEpochSeconds(committed) : this.stateTtl?.(committed)),
      outboxTtlDays: this.outboxTtlDays,
    });

    const names: Record<string, string> = {};
    const values: Record<string, AttributeValue> = {};
    let expression: string;
    if (expectedVersion === 0) {
      names['#address'] = STATE_ATTR.address;
      expression = 'attribute_not_exists(#address)';
    } else {
      names['#version'] = STATE_ATTR.version;
      values[':expected'] = { N: String(expectedVersion) };
      expression = '#version = :expected';
    }
    // Only the version decides. A second commit carrying the same token is NOT accepted here:
    // two dispatchers running the same batch derive the same token but plan different
    // content (clock readings, a new address's epoch), and the loser must not overwrite the
    // winner (a sender epoch moving backwards would make its next messages look like
    // duplicates). A retry of a commit that did land fails the condition, and the
    // dispatcher reloads and finds its messages already applied.
    const condition = {
      ConditionExpression: expression,
      ExpressionAttributeNames: names,
      ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: values } : {}),
    };

    if (items.outboxItem === undefined && items.parkedItems.length === 0) {
      try {
        await this.client.send(new PutItemCommand({ TableName: this.tableName, Item: items.stateItem, ...condition }));
      } catch (error) {
        if (errorName(error) === 'ConditionalCheckFailedException') {
          throw new StateConflictError(address.key, expectedVersion, { cause: error });
        }
        throw classify(error, `PutItem of the state of ${address.key} into ${this.tableName}`);
      }
      return;
    }

    const transactItems: TransactWriteItem[] = [{ Put: { TableName: this.tableName, Item: items.stateItem, ...condition } }];
    // Markers, parked entries and the egress fence: a key is never written twice (an entry
    // exists until its receiver has applied it, a fence until its egress is out).
    for (const item of [...items.inboxMarkers, ...items.parkedItems, ...(items.egressFence ? [items.egressFence] : [])]) {
      transactItems.push({ Put: { TableName: this.inboxTableName, Item: item, ConditionExpression: 'attribute_not_exists(#address)', ExpressionAttributeNames: { '#address': INBOX_ATTR.address } } });
    }
    if (items.outboxItem !== undefined) transactItems.push({ Put: { TableName: this.outboxTableName, Item: items.outboxItem } });

    try {
      await this.client.send(new TransactWriteItemsCommand({ ClientRequestToken: token, TransactItems: transactItems }));
    } catch (error) {
      const name = errorName(error);
      if (name === 'TransactionCanceledException') {
        const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
        if (reasons[0]?.Code === 'ConditionalCheckFailed') {
          throw new StateConflictError(address.key, expectedVersion, { cause: error });
        }
        const codes = reasons.map((r) => r.Code ?? 'None').join(', ');
        const message = `TransactWriteItems of the state of ${address.key} was cancelled (reasons: ${codes || 'unknown'})`;
        if (reasons.some((r) => r.Code === 'ConditionalCheckFailed')) {
          // Only an inbox item can fail its condition here: its key was written before, which
          // a commit on top of the expected version never does.
          throw new TerminalError(`${message}: an inbox entry of this batch exists already; the sender's state was restored or edited under it`, {
            cause: error,
            code: 'INBOX_ENTRY_EXISTS',
          });
        }
        const terminal = reasons.some((r) => r.Code === 'ValidationError' || r.Code === 'ItemCollectionSizeLimitExceeded');
        throw terminal
          ? new TerminalError(`${message}: the request is invalid for the tables; check the table schemas (see createTables)`, {
              cause: error,
              code: 'COMMIT_REJECTED',
            })
          : new RetryableError(`${message}: a concurrent write or throttling; retry`, { cause: error, code: 'COMMIT_CANCELLED' });
      }
      throw classify(error, `TransactWriteItems of the state of ${address.key} into ${this.tableName}/${this.inboxTableName}/${this.outboxTableName}`);
    }
  }

  /**
   * Writes an outbox item holding only `deadLetters`, under the address's key and a negative
   * version derived from `token` (a committed version is never negative), so the relay
   * dead-letters the messages of an address whose state item cannot be read, and a retried
   * call writes the same item.
   */
  async quarantine(address: Address, deadLetters: readonly DeadLetter[], token: string): Promise<void> {
    const version = -Number.parseInt(createHash('sha256').update(token).digest('hex').slice(0, 12), 16) - 1;
    const effects = { ...NO_EFFECTS, deadLetters };
    const latestMs = deadLetters.reduce((latest, d) => Math.max(latest, d.atMs), 0);
    const item = {
      [OUTBOX_ATTR.address]: { S: address.key },
      [OUTBOX_ATTR.version]: { N: String(version) },
      [OUTBOX_ATTR.token]: { S: token },
      [OUTBOX_ATTR.effects]: { B: encodeEffects(effects) },
      [OUTBOX_ATTR.ttl]: { N: String(Math.floor(latestMs / 1000) + Math.round(this.outboxTtlDays * 86_400)) },
    };
    try {
      await this.client.send(new PutItemCommand({ TableName: this.outboxTableName, Item: item }));
    } catch (error) {
      throw classify(error, `PutItem of the dead letters of unreadable ${address.key} into ${this.outboxTableName}`);
    }
  }

  /**
   * Queries each address's inbox, strongly consistent (an entry committed before is always
   * seen), at most `limit` entries each, in key order, and reads the messages from the
   * outbox items the entries point at. An entry whose outbox item is gone (its TTL passed)
   * or was replaced, by a strongly consistent read, comes back `lost`, to be dead-lettered.
   */
  async readInbox(addresses: readonly Address[], limit: number): Promise<Map<string, InboxPage>> {
    const markers = await Promise.all(addresses.map((address) => this.queryInbox(address, limit)));
    const wanted = new Map<string, InboxMarker>();
    for (const page of markers) for (const m of page.markers) if (!('parked' in m)) wanted.set(outboxKeyOf(m), m);
    // Eventually consistent first (half the read units): an outbox item is written once, so a
    // stale read can only miss it or return an earlier incarnation's; those few are read
    // again, strongly consistent, before anything is decided.
    const outboxItems = await this.readOutboxItems([...wanted.values()], false);
    const unsure = [...wanted.values()].filter((m) => outboxItems.get(outboxKeyOf(m))?.[OUTBOX_ATTR.token]?.S !== m.token);
    if (unsure.length > 0) for (const [key, item] of await this.readOutboxItems(unsure, true)) outboxItems.set(key, item);
    // One commit's outbox item may hold messages to several of these addresses: decoded once.
    const decoded = new Map<Record<string, AttributeValue>, readonly Envelope[]>();
    const messagesIn = (item: Record<string, AttributeValue>, marker: InboxMarker) => {
      let messages = decoded.get(item);
      if (messages === undefined) decoded.set(item, (messages = this.messagesOf(item, marker)));
      return messages;
    };
    return new Map(
      addresses.map((address, i) => {
        const page = markers[i]!;
        const entries = page.markers.map((m) =>
          'parked' in m ? this.parkedEntryOf(address, m) : this.entryOf(address, m, outboxItems.get(outboxKeyOf(m)), messagesIn),
        );
        return [address.key, { entries, truncated: page.truncated }];
      }),
    );
  }

  /** The outbox items the markers point at, by {@link outboxKeyOf}. */
  private async readOutboxItems(markers: readonly InboxMarker[], consistent: boolean): Promise<Map<string, Record<string, AttributeValue>>> {
    const keys = markers.map((m) => ({ [OUTBOX_ATTR.address]: { S: m.sender }, [OUTBOX_ATTR.version]: { N: String(m.version) } }));
    const chunks: Record<string, AttributeValue>[][] = [];
    for (let i = 0; i < keys.length; i += BATCH_GET_MAX_KEYS) chunks.push(keys.slice(i, i + BATCH_GET_MAX_KEYS));
    const items = (await Promise.all(chunks.map((chunk) => this.batchGet(this.outboxTableName, chunk, consistent, 'outbox items')))).flat();
    return new Map(items.map((item) => [`${item[OUTBOX_ATTR.address]?.S}\u0000${item[OUTBOX_ATTR.version]?.N}`, item]));
  }

  /** Deletes inbox entries of `address`, 25 a call, retrying unprocessed ones a few times. */
  async clearInbox(address: Address, keys: readonly string[]): Promise<void> {
    for (let start = 0; start < keys.length; start += BATCH_WRITE_MAX) {
      let pending: WriteRequest[] = keys.slice(start, start + BATCH_WRITE_MAX).map((key) => ({
        DeleteRequest: { Key: { [INBOX_ATTR.address]: { S: address.key }, [INBOX_ATTR.key]: { S: key } } },
      }));
      for (let attempt = 1; pending.length > 0; attempt++) {
        let response;
        try {
          response = await this.client.send(new BatchWriteItemCommand({ RequestItems: { [this.inboxTableName]: pending } }));
        } catch (error) {
          throw classify(error, `BatchWriteItem deleting ${pending.length} inbox entries of ${address.key} from ${this.inboxTableName}`);
        }
        pending = response.UnprocessedItems?.[this.inboxTableName] ?? [];
        if (pending.length > 0 && attempt >= this.maxBatchGetAttempts) {
          throw new RetryableError(`BatchWriteItem left ${pending.length} inbox entries of ${address.key} undeleted after ${attempt} attempts: the table is throttled`, {
            code: 'BATCH_WRITE_UNPROCESSED',
          });
        }
        if (pending.length > 0) await backoff(attempt);
      }
    }
  }

  private async queryInbox(address: Address, limit: number): Promise<{ markers: (InboxMarker | ParkedMarker)[]; truncated: boolean }> {
    let response;
    try {
      response = await this.client.send(
        new QueryCommand({
          TableName: this.inboxTableName,
          KeyConditionExpression: '#address = :address',
          ExpressionAttributeNames: { '#address': INBOX_ATTR.address },
          ExpressionAttributeValues: { ':address': { S: address.key } },
          ConsistentRead: true,
          Limit: limit,
        }),
      );
    } catch (error) {
      throw classify(error, `Query of the inbox of ${address.key} in ${this.inboxTableName}`);
    }
    const markers = (response.Items ?? []).map((item) => decodeInboxMarker(item, address, this.inboxTableName));
    return { markers, truncated: response.LastEvaluatedKey !== undefined };
  }

  /** The inbox entry a marker points at: the commit's messages to `address`, or a lost entry. */
  private entryOf(
    address: Address,
    marker: InboxMarker,
    outboxItem: Record<string, AttributeValue> | undefined,
    messagesIn: (item: Record<string, AttributeValue>, marker: InboxMarker) => readonly Envelope[],
  ): InboxEntry {
    const lost = (why: string): InboxEntry => {
      const reason = `LOST_INBOX_ENTRY: the messages of ${marker.sender} (version ${marker.version}) to ${address.key} cannot be read: ${why}`;
      const value = new TextEncoder().encode(JSON.stringify({ inboxKey: marker.key, sender: marker.sender, version: marker.version, outboxTable: this.outboxTableName }));
      const sender = Address.parse(marker.sender);
      const placeholder: Envelope = { id: `lost/${marker.key}`, target: address, caller: sender, argument: { typename: LOST_INBOX_ENTRY_TYPE, value }, origin: { kind: 'function', source: marker.sender, position: marker.key.slice(marker.key.lastIndexOf(' ') + 1).replace(/^0+(?=\d)/, '') } };
      return { key: marker.key, target: address, envelopes: [placeholder], lost: reason };
    };
    if (outboxItem === undefined) return lost(`the outbox item is gone from ${this.outboxTableName} (its TTL passed before the receiver applied them: keep outboxTtlDays above the longest a receiver may fall behind)`);
    if (outboxItem[OUTBOX_ATTR.token]?.S !== marker.token) return lost(`the outbox item was replaced by a later commit of a new ${marker.sender} (its state had been deleted)`);
    const messages = messagesIn(outboxItem, marker).filter((message) => message.target.equals(address));
    if (messages.length === 0 || inboxKeyOf(messages[0]!) !== marker.key) return lost(`the outbox item holds no messages to ${address.key} under inbox key ${marker.key}`);
    return { key: marker.key, target: address, envelopes: messages };
  }

  /** A parked entry: the messages are in the item itself. */
  private parkedEntryOf(address: Address, marker: ParkedMarker): InboxEntry {
    try {
      return { key: marker.key, target: address, envelopes: decodeEffects(marker.parked).messages };
    } catch (cause) {
      throw new TerminalError(`parked inbox entry ${JSON.stringify(marker.key)} of ${address.key} in table ${this.inboxTableName} is malformed: ${describeError(cause)}; it was not written by DynamoStateStore`, {
        cause,
        code: 'MALFORMED_INBOX_ITEM',
      });
    }
  }

  /** Every message an outbox item holds. */
  private messagesOf(outboxItem: Record<string, AttributeValue>, marker: InboxMarker): readonly Envelope[] {
    const bytes = outboxItem[OUTBOX_ATTR.effects]?.B;
    try {
      if (bytes === undefined) throw new Error(`it has no binary "${OUTBOX_ATTR.effects}"`);
      return decodeEffects(bytes).messages;
    } catch (cause) {
      throw new TerminalError(`outbox item ${marker.sender} v${marker.version} in table ${this.outboxTableName} is malformed: ${describeError(cause)}; it was not written by DynamoStateStore`, {
        cause,
        code: 'MALFORMED_OUTBOX_ITEM',
      });
    }
  }

  /**
   * When DynamoDB may delete an empty address: the duplicate window after the latest time
   * its state records (a pure function of the state: a retried commit sends the same item).
   */
  private tombstoneTtlEpochSeconds(state: AddressState): number {
    return Math.floor((latestTimeMs(state) + this.duplicateWindowMs) / 1000);
  }

  /** Destroys the client if the store created it (from `clientConfig`). */
  destroy(): void {
    if (this.ownsClient) this.client.destroy();
  }

  /** BatchGetItem of `keys` (at most 100) from `tableName`, retrying `UnprocessedKeys` with backoff. */
  private async batchGet(tableName: string, keys: readonly Record<string, AttributeValue>[], consistent: boolean, what: string): Promise<Record<string, AttributeValue>[]> {
    const items: Record<string, AttributeValue>[] = [];
    let pending = [...keys];
    for (let attempt = 1; ; attempt++) {
      let response;
      try {
        response = await this.client.send(new BatchGetItemCommand({ RequestItems: { [tableName]: { Keys: pending, ConsistentRead: consistent } } }));
      } catch (error) {
        throw classify(error, `BatchGetItem of ${pending.length} ${what} from ${tableName}`);
      }
      items.push(...(response.Responses?.[tableName] ?? []));
      pending = response.UnprocessedKeys?.[tableName]?.Keys ?? [];
      if (pending.length === 0) return items;
      if (attempt >= this.maxBatchGetAttempts) {
        throw new RetryableError(
          `BatchGetItem from ${tableName} left ${pending.length} of ${keys.length} ${what} unprocessed after ${attempt} attempts: the table is throttled; retry later or raise its capacity`,
          { code: 'BATCH_GET_UNPROCESSED' },
        );
      }
      await backoff(attempt);
    }
  }
}

/** Exponential backoff with full jitter from 25 ms up to 2 s, for throttled batch calls. */
function backoff(attempt: number): Promise<void> {
  const capMs = Math.min(2_000, 25 * 2 ** (attempt - 1));
  return new Promise((resolve) => setTimeout(resolve, Math.random() * capMs));
}

/** The key of the outbox item a marker points at, as `readOutboxItems` maps them. */
function outboxKeyOf(marker: InboxMarker): string {
  return `${marker.sender}\u0000${marker.version}`;
}

/** An inbox item as stored: where the messages of one commit to its receiver are. */
interface InboxMarker {
  readonly key: string;
  readonly sender: string;
  readonly version: number;
  readonly token: string;
}

/** A parked inbox item as stored: it holds its messages. */
interface ParkedMarker {
  readonly key: string;
  readonly parked: Uint8Array;
}

function decodeInboxMarker(item: Record<string, AttributeValue>, address: Address, tableName: string): InboxMarker | ParkedMarker {
  const key = item[INBOX_ATTR.key]?.S;
  const parked = item[INBOX_ATTR.parked]?.B;
  if (key !== undefined && parked !== undefined && isParkedKey(key)) return { key, parked };
  const sender = item[INBOX_ATTR.sender]?.S;
  const version = Number(item[INBOX_ATTR.version]?.N);
  const token = item[INBOX_ATTR.token]?.S;
  if (key === undefined || sender === undefined || token === undefined || !Number.isSafeInteger(version) || version < 1) {
    throw new TerminalError(
      `inbox item ${JSON.stringify(key ?? '?')} of ${address.key} in table ${tableName} is malformed: it needs strings "${INBOX_ATTR.key}", "${INBOX_ATTR.sender}", "${INBOX_ATTR.token}" and a version number; it was not written by DynamoStateStore: repair or delete it`,
      { code: 'MALFORMED_INBOX_ITEM' },
    );
  }
  return { key, sender, version, token };
}

/**
 * The `ClientRequestToken` for a commit (at most 36 characters): a hash of the table, the
 * address and the commit's token, so a retried commit sends the same one.
 */
function requestToken(tableName: string, commit: Commit): string {
  return createHash('sha256')
    .update(tableName)
    .update('\u0000')
    .update(commit.address.key)
    .update('\u0000')
    .update(commit.token)
    .digest('base64url')
    .slice(0, 36);
}

function errorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}

const RETRYABLE_NAMES = new Set([
  'IdempotentParameterMismatchException',
  'TransactionInProgressException',
  'TransactionConflictException',
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
  'LimitExceededException',
]);

/** Maps an SDK error to the runtime's error family: retryable unless the request itself is wrong. */
function classify(error: unknown, context: string): StatefunError {
  if (error instanceof StatefunError) return error;
  const name = errorName(error) ?? 'Error';
  const fault = (error as { $fault?: string } | undefined)?.$fault;
  if (name === 'ResourceNotFoundException') {
    return new TerminalError(`${context}: ${describeError(error)}; create the tables first (createTables, or the CDK stack)`, {
      cause: error,
      code: 'TABLE_NOT_FOUND',
    });
  }
  if (name === 'ValidationException' && /item size/i.test((error as Error).message)) {
    return new CommitTooLargeError(`${context}: ${describeError(error)}: the item is over DynamoDB's 400 KB limit; keep less state or fewer effects per batch`, {
      cause: error,
      code: 'ITEM_TOO_LARGE',
    });
  }
  if (RETRYABLE_NAMES.has(name) || fault !== 'client') {
    return new RetryableError(`${context}: ${describeError(error)}`, { cause: error, code: 'DYNAMODB_RETRYABLE' });
  }
  return new TerminalError(`${context}: ${describeError(error)}`, { cause: error, code: 'DYNAMODB_REJECTED' });
}
