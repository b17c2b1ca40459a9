import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { type AddressState, latestTimeMs } from '../core/AddressState';
import { NO_EFFECTS, hasEffects } from '../core/Effects';
import { CommitTooLargeError } from '../core/errors';
import { inboxEntriesOf, paddedPosition } from '../core/Inbox';
import { senderPosition } from '../core/positions';
import type { Commit } from '../core/ports/StateStore';
import { MAX_ITEM_BYTES, dynamoItemSize } from './dynamoItemSize';
import { encodeEffects } from './effectsCodec';
import { encodeStateItem } from './stateItem';

type Item = Record<string, AttributeValue>;

/** Attribute names of the outbox item (one item per commit that has effects). */
export const OUTBOX_ATTR = {
  address: 'address',
  version: 'version',
  token: 'token',
  effects: 'effects',
  ttl: 'ttl',
  /** With egress records: the key of the commit's egress fence (see `EgressFence`). */
  egressFence: 'egressFence',
} as const;

/**
 * Attribute names of an inbox item: one per receiver and sending commit, a marker that
 * points at the commit's outbox item, which holds the messages.
 */
export const INBOX_ATTR = {
  /** The receiver's address key: the partition key. */
  address: 'address',
  /** The entry's key ({@link inboxKeyOf}): the sort key. */
  key: 'key',
  /** The sender's address key: the outbox item's partition key. */
  sender: 'sender',
  /** The sender's state version of the commit: the outbox item's sort key. */
  version: 'version',
  /** The commit's hashed token, which the outbox item carries too. */
  token: 'token',
  /** Instead of the four above, in a parked entry (`parkedEntriesOf`): its messages, encoded as outbox effects. */
  parked: 'parked',
  /** When the commit that wrote the item ran (epoch seconds): the reconciler looks at items older than it expects. */
  at: 'at',
} as const;

const NO_ITEMS: readonly never[] = [];

/** TransactWriteItems takes at most 100 items: the state item, the outbox item and the inbox items. */
export const MAX_TRANSACTION_ITEMS = 100;
/** Days an outbox item is kept past its commit by default: well past the 24-hour stream retention. */
export const DEFAULT_OUTBOX_TTL_DAYS = 7;

const DAY_SECONDS = 24 * 60 * 60;

/**
 * The outbox item's `ttl` (epoch seconds): `ttlDays` after the commit's time as the committed
 * state and its dead letters record it ({@link latestTimeMs}), never the clock at send time,
 * so a retried transaction sends an identical item; and at least a day past the latest
 * timer it schedules, whose message the reconciler reads here if its delivery was lost.
 *
 * @example
 * const ttl = outboxTtlEpochSeconds(commit, 7); // seven days after the commit
 */
export function outboxTtlEpochSeconds(commit: Pick<Commit, 'state' | 'effects'>, ttlDays: number): number {
  let committedAtMs = latestTimeMs(commit.state);
  for (const deadLetter of commit.effects.deadLetters) committedAtMs = Math.max(committedAtMs, deadLetter.atMs);
  let ttl = Math.floor(committedAtMs / 1000) + Math.round(ttlDays * DAY_SECONDS);
  for (const timer of commit.effects.timers) ttl = Math.max(ttl, Math.floor(timer.dueAtMs / 1000) + DAY_SECONDS);
  return ttl;
}

/** How the partition keys of egress fences in the inbox table start: `#` starts no address. */
export const FENCE_PARTITION_PREFIX = '#egress ';

/** The partition key of an address's egress fences in the inbox table (`EgressFence`). */
export function fencePartitionOf(sender: string): string {
  return `${FENCE_PARTITION_PREFIX}${sender}`;
}

/** The DynamoDB items one commit writes. */
export interface CommitItems {
  readonly stateItem: Item;
  /** Absent for a commit without effects (then one conditional PutItem of the state item). */
  readonly outboxItem?: Item;
  /** One per receiver of the commit's messages. */
  readonly inboxMarkers: readonly Item[];
  /** The entries the commit parks in its own address's inbox (`Commit.parked`). */
  readonly parkedItems: readonly Item[];
  /** With egress records: the fence that keeps the sender's egress in commit order (`EgressFence`). */
  readonly egressFence?: Item;
}

/** How the items of {@link commitItems} are stamped. */
export interface CommitItemOptions {
  /** The state item's `ttl` (epoch seconds), or none. */
  readonly stateTtlEpochSeconds?: (state: AddressState) => number | undefined;
  /** @default {@link DEFAULT_OUTBOX_TTL_DAYS} */
  readonly outboxTtlDays?: number;
}

/**
 * The items a commit writes to DynamoDB, checked against DynamoDB's limits: every item at
 * most 400 KB (in DynamoDB's size accounting) and at most 100 items in the transaction.
 * `DynamoStateStore` writes these items; the local runtime's store builds them too, only to
 * check them, so a commit AWS would refuse fails locally the same way.
 *
 * @throws {@link CommitTooLargeError} (code `ITEM_TOO_LARGE` or `TOO_MANY_RECEIVERS`) naming
 * the item, its size and the fix.
 *
 * @example
 * const { stateItem, outboxItem, inboxMarkers } = commitItems(commit, token);
 */
export function commitItems(commit: Commit, token: string, options: CommitItemOptions = {}): CommitItems {
  const { address, state } = commit;
  const stateItem = encodeStateItem(state, token, options.stateTtlEpochSeconds?.(state));
  checkItemSize(stateItem, `state item of ${address.key}`, 'keep fewer or smaller state values (or let them expire)');
  // Commits without effects or parked entries (most) write no inbox item: no time to compute.
  const at = !hasEffects(commit.effects) && commit.parked === undefined ? { N: '0' } : { N: String(Math.floor(latestTimeMs(state) / 1000)) };
  const parkedItems = (commit.parked ?? NO_ITEMS).map((entry) => {
    const item: Item = {
      [INBOX_ATTR.address]: { S: address.key },
      [INBOX_ATTR.key]: { S: entry.key },
      [INBOX_ATTR.at]: at,
      [INBOX_ATTR.parked]: { B: encodeEffects({ ...NO_EFFECTS, messages: entry.envelopes }) },
    };
    checkItemSize(item, `parked inbox entry ${entry.key} of ${address.key}`, 'send smaller messages; a message this large cannot wait in the inbox');
    return item;
  });
  if (parkedItems.length + 2 > MAX_TRANSACTION_ITEMS) {
    throw new CommitTooLargeError(
      `batch on ${address.key} parks ${parkedItems.length} inbox entries; one commit writes at most ${MAX_TRANSACTION_ITEMS - 2} (DynamoDB's ${MAX_TRANSACTION_ITEMS} items per transaction): feed the address fewer or smaller records per batch`,
      { code: 'TOO_MANY_PARKED' },
    );
  }
  if (!hasEffects(commit.effects)) return { stateItem, inboxMarkers: [], parkedItems };

  const entries = inboxEntriesOf(commit.effects.messages);
  // Egress keeps its commit order through the fence; dead letters share it, so that the
  // reconciler finds both when the relay of the commit was lost.
  const fenced = commit.effects.egress.length > 0 || commit.effects.deadLetters.length > 0;
  if (entries.length + parkedItems.length + 2 + (fenced ? 1 : 0) > MAX_TRANSACTION_ITEMS) {
    throw new CommitTooLargeError(
      `batch on ${address.key} sent messages to ${entries.length} addresses; one commit reaches at most ${MAX_TRANSACTION_ITEMS - 2 - (fenced ? 1 : 0) - parkedItems.length} (DynamoDB's ${MAX_TRANSACTION_ITEMS} items per transaction${fenced ? ', one of them the egress fence' : ''}${parkedItems.length > 0 ? `, ${parkedItems.length} of them parked entries` : ''}): send to fewer addresses per invocation, e.g. fan out through intermediate functions`,
      { code: 'TOO_MANY_RECEIVERS' },
    );
  }
  const inboxMarkers = entries.map((entry) => ({
    [INBOX_ATTR.address]: { S: entry.target.key },
    [INBOX_ATTR.key]: { S: entry.key },
    [INBOX_ATTR.sender]: { S: address.key },
    [INBOX_ATTR.version]: { N: String(state.version) },
    [INBOX_ATTR.token]: { S: token },
    [INBOX_ATTR.at]: at,
  }));
  const fenceKey = paddedPosition(senderPosition(state.epochMs, state.version, 0));
  const outboxItem: Item = {
    ...(fenced ? { [OUTBOX_ATTR.egressFence]: { S: fenceKey } } : {}),
    [OUTBOX_ATTR.address]: { S: address.key },
    [OUTBOX_ATTR.version]: { N: String(state.version) },
    [OUTBOX_ATTR.token]: { S: token },
    [OUTBOX_ATTR.effects]: { B: encodeEffects(commit.effects) },
    [OUTBOX_ATTR.ttl]: { N: String(outboxTtlEpochSeconds(commit, options.outboxTtlDays ?? DEFAULT_OUTBOX_TTL_DAYS)) },
  };
  checkItemSize(outboxItem, `outbox item of ${address.key}`, 'send, schedule or emit fewer or smaller messages in one batch');
  if (!fenced) return { stateItem, outboxItem, inboxMarkers, parkedItems };
  const egressFence: Item = {
    [INBOX_ATTR.address]: { S: fencePartitionOf(address.key) },
    [INBOX_ATTR.key]: { S: fenceKey },
    [INBOX_ATTR.version]: { N: String(state.version) },
    [INBOX_ATTR.token]: { S: token },
    [INBOX_ATTR.at]: at,
  };
  return { stateItem, outboxItem, inboxMarkers, parkedItems, egressFence };
}

function checkItemSize(item: Item, what: string, fix: string): void {
  const bytes = dynamoItemSize(item);
  if (bytes > MAX_ITEM_BYTES) {
    throw new CommitTooLargeError(`${what} would be ${bytes} bytes, over DynamoDB's item limit of ${MAX_ITEM_BYTES} bytes (400 KB): ${fix}`, { code: 'ITEM_TOO_LARGE' });
  }
}
