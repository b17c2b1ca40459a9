import type { Address } from '../Address';
import type { AddressState } from '../AddressState';
import type { Effects } from '../Effects';

/**
 * One atomic commit for one address: the new state (written only if the stored version is
 * still `expectedVersion`) together with every effect of the batch. `token` is derived from
 * the address, the expected version and the consumed messages, so a retried commit is
 * recognisable (DynamoDB's ClientRequestToken).
 */
export interface Commit {
  readonly address: Address;
  readonly expectedVersion: number;
  readonly state: AddressState;
  readonly effects: Effects;
  readonly token: string;
}

/**
 * The durable home of address state (port). Adapters: the in-process store of the local
 * runtime, DynamoDB. Every adapter passes the shared contract suite in `test/contract`.
 */
export interface StateStore {
  /**
   * Loads the state of each address; an address never written comes back as
   * {@link emptyState} (version 0). The map is keyed by `address.key`.
   */
  load(addresses: readonly Address[]): Promise<Map<string, AddressState>>;

  /**
   * Writes the state and records the effects for relay, all or nothing.
   *
   * @throws {@link StateConflictError} when the stored version is no longer `expectedVersion`.
   */
  commit(commit: Commit): Promise<void>;
}
