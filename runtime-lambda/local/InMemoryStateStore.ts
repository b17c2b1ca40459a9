import type { Address } from '../core/Address';
import { type AddressState, type DeadLetter, emptyState, isEmptyState, latestTimeMs } from '../core/AddressState';
import { type Effects, NO_EFFECTS, hasEffects } from '../core/Effects';
import { StateConflictError } from '../core/errors';
import { type InboxEntry, type InboxPage, inboxEntriesOf } from '../core/Inbox';
import { commitItems } from '../aws/commitItems';
import type { Commit, StateStore } from '../core/ports/StateStore';

/** Effects committed and not yet relayed, with the token of the commit that wrote them. */
export interface OutboxEntry {
  readonly token: string;
  readonly address: Address;
  readonly effects: Effects;
}

const COMMITTED: Promise<void> = Promise.resolve();
/** As long as the hashed token DynamoStateStore writes, so the sizes match. */
const PLACEHOLDER_TOKEN = '-'.repeat(36);

/**
 * The {@link StateStore} of the local runtime: a map of address states with a version check
 * on every commit, the inboxes of the messages committed and not yet applied, and an outbox
 * of committed effects that the local relay drains. Commits are atomic because they run
 * without an `await` between the check and the writes. A commit DynamoDB would refuse (an
 * item over 400 KB, more than 98 receivers) is refused here the same way ({@link commitItems}).
 */
export class InMemoryStateStore implements StateStore {
  private readonly states = new Map<string, AddressState>();
  /** Receiver key → inbox key → entry. */
  private readonly inboxes = new Map<string, Map<string, InboxEntry>>();
  private pendingOutbox: OutboxEntry[] = [];
  /** Tokens of the dead letters recorded by {@link quarantine}. */
  private readonly quarantined = new Set<string>();

  async load(addresses: readonly Address[]): Promise<Map<string, AddressState>> {
    const loaded = new Map<string, AddressState>();
    for (const address of addresses) loaded.set(address.key, this.states.get(address.key) ?? emptyState(address));
    return loaded;
  }

  // Not `async`: a commit runs once per invocation, and a settled promise is all it needs.
  commit(commit: Commit): Promise<void> {
    try {
      // The items DynamoDB would be sent, built only to be checked: what AWS refuses fails here too.
      commitItems(commit, PLACEHOLDER_TOKEN);
    } catch (error) {
      return Promise.reject(error);
    }
    const current = this.states.get(commit.address.key);
    if ((current?.version ?? 0) !== commit.expectedVersion) {
      return Promise.reject(new StateConflictError(commit.address.key, commit.expectedVersion));
    }
    this.states.set(commit.address.key, commit.state);
    for (const entry of inboxEntriesOf(commit.effects.messages)) this.addToInbox(entry);
    for (const entry of commit.parked ?? []) this.addToInbox(entry);
    if (hasEffects(commit.effects)) {
      this.pendingOutbox.push({ token: commit.token, address: commit.address, effects: commit.effects });
    }
    return COMMITTED;
  }

  async quarantine(address: Address, deadLetters: readonly DeadLetter[], token: string): Promise<void> {
    if (this.quarantined.has(token)) return;
    this.quarantined.add(token);
    this.pendingOutbox.push({ token, address, effects: { ...NO_EFFECTS, deadLetters } });
  }

  async readInbox(addresses: readonly Address[], limit: number): Promise<Map<string, InboxPage>> {
    const pages = new Map<string, InboxPage>();
    for (const address of addresses) {
      const inbox = this.inboxes.get(address.key);
      const keys = inbox === undefined ? [] : inUtf8Order(inbox.keys());
      pages.set(address.key, { entries: keys.slice(0, limit).map((key) => inbox!.get(key)!), truncated: keys.length > limit });
    }
    return pages;
  }

  async clearInbox(address: Address, keys: readonly string[]): Promise<void> {
    const inbox = this.inboxes.get(address.key);
    if (inbox === undefined) return;
    for (const key of keys) inbox.delete(key);
    if (inbox.size === 0) this.inboxes.delete(address.key);
  }

  /** Every inbox entry not yet cleared. */
  allInboxEntries(): InboxEntry[] {
    return [...this.inboxes.values()].flatMap((inbox) => [...inbox.values()]);
  }

  /** Removes and returns the committed effects not yet relayed, oldest first. */
  takeOutbox(): OutboxEntry[] {
    const taken = this.pendingOutbox;
    this.pendingOutbox = [];
    return taken;
  }

  /** Whether committed effects are waiting for the relay. */
  get hasOutbox(): boolean {
    return this.pendingOutbox.length > 0;
  }

  /** The committed effects not yet relayed, oldest first, left in place. */
  get outbox(): readonly OutboxEntry[] {
    return this.pendingOutbox;
  }

  /** The stored state of `address` (version 0 when never written). */
  peek(address: Address): AddressState {
    return this.states.get(address.key) ?? emptyState(address);
  }

  /** Every stored address state. */
  all(): IterableIterator<AddressState> {
    return this.states.values();
  }

  /**
   * Deletes the tombstones of empty addresses (no values, timers or applied inbox entries)
   * whose latest recorded time is `windowMs` or more before `nowMs`: what DynamoDB's TTL
   * does to them on AWS (`DynamoStateStore`'s `duplicateWindowMs`). Answers how many.
   */
  sweepTombstones(nowMs: number, windowMs: number): number {
    let swept = 0;
    this.states.forEach((state, key) => {
      if (isEmptyState(state) && latestTimeMs(state) + windowMs <= nowMs) {
        this.states.delete(key);
        swept++;
      }
    });
    return swept;
  }

  /** Stores `states` and inbox `entries` as they are, as if committed (to restore a snapshot). */
  restore(states: Iterable<AddressState>, entries: Iterable<InboxEntry> = []): void {
    for (const state of states) this.states.set(state.address.key, state);
    for (const entry of entries) this.addToInbox(entry);
  }

  private addToInbox(entry: InboxEntry): void {
    let inbox = this.inboxes.get(entry.target.key);
    if (inbox === undefined) this.inboxes.set(entry.target.key, (inbox = new Map()));
    inbox.set(entry.key, entry);
  }
}

/** `keys` ordered by their UTF-8 bytes, as DynamoDB orders sort keys (each encoded once). */
function inUtf8Order(keys: Iterable<string>): string[] {
  return [...keys]
    .map((key) => ({ key, bytes: Buffer.from(key, 'utf8') }))
    .sort((a, b) => Buffer.compare(a.bytes, b.bytes))
    .map(({ key }) => key);
}
