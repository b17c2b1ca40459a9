import type { Address } from '../Address';
import type { AddressState, DeadLetter } from '../AddressState';
import type { Effects } from '../Effects';
import type { InboxEntry, InboxPage } from '../Inbox';
import type { UnreadableStateError } from '../errors';

/**
 * One atomic commit for one address: the new state (written only if the stored version is
 * still `expectedVersion`) together with every effect of the batch, and the messages in the
 * effects written to their receivers' inboxes (see {@link InboxEntry}). `token` is derived from
 * the address, the expected version and the consumed messages, so a retried commit is
 * recognisable (DynamoDB's ClientRequestToken).
 */
export interface Commit {
  readonly address: Address;
  readonly expectedVersion: number;
  readonly state: AddressState;
  readonly effects: Effects;
  readonly token: string;
  /**
   * Entries the commit adds to the address's own inbox: messages it parked while backing
   * off (`parkedEntriesOf`), kept whole in the entries themselves.
   */
  readonly parked?: readonly InboxEntry[];
}

/**
 * The durable home of address state (port). Adapters: the in-process store of the local
 * runtime, DynamoDB. Every adapter passes the shared contract suite in `test/contract`.
 */
export interface StateStore {
  /**
   * Loads the state of each address; an address never written comes back as
   * {@link emptyState} (version 0). The map is keyed by `address.key`.
   *
   * @throws {@link UnreadableStateError} when some states cannot be read, with the ones that could.
   */
  load(addresses: readonly Address[]): Promise<Map<string, AddressState>>;

  /**
   * Records `deadLetters` for relay without touching the state of `address`, which cannot be
   * read (see {@link UnreadableStateError}). Idempotent for one `token`: a retried call
   * records them once.
   */
  quarantine(address: Address, deadLetters: readonly DeadLetter[], token: string): Promise<void>;

  /**
   * Writes the state and records the effects for relay, all or nothing.
   *
   * @throws {@link StateConflictError} when the stored version is no longer `expectedVersion`.
   */
  commit(commit: Commit): Promise<void>;

  /**
   * Reads the inbox of each address: the entries committed by senders and not yet cleared,
   * in key order (each sender's in the order sent), at most `limit` per address. Must see
   * every entry whose commit has completed (a strongly consistent read): a message's
   * wake-up is published only after its entry is committed, so an entry not seen has been
   * cleared, which is what lets the dispatcher treat a re-delivered wake-up as a duplicate.
   */
  readInbox(addresses: readonly Address[], limit: number): Promise<Map<string, InboxPage>>;

  /**
   * Removes entries from the inbox of `address` once a commit listing them in
   * `inboxApplied` has landed. Idempotent; a failure only leaves them to be cleared later.
   */
  clearInbox(address: Address, keys: readonly string[]): Promise<void>;
}
