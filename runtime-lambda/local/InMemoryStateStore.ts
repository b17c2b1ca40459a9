import type { Address } from '../core/Address';
import { type AddressState, emptyState } from '../core/AddressState';
import { type Effects, hasEffects } from '../core/Effects';
import { StateConflictError } from '../core/errors';
import type { Commit, StateStore } from '../core/ports/StateStore';

/** Effects committed and not yet relayed, with the token of the commit that wrote them. */
export interface OutboxEntry {
  readonly token: string;
  readonly address: Address;
  readonly effects: Effects;
}

const COMMITTED: Promise<void> = Promise.resolve();

/**
 * The {@link StateStore} of the local runtime: a map of address states with a version check
 * on every commit, and an outbox of committed effects that the local relay drains. Commits
 * are atomic because they run without an `await` between the check and the write.
 */
export class InMemoryStateStore implements StateStore {
  private readonly states = new Map<string, AddressState>();
  private pendingOutbox: OutboxEntry[] = [];

  async load(addresses: readonly Address[]): Promise<Map<string, AddressState>> {
    const loaded = new Map<string, AddressState>();
    for (const address of addresses) loaded.set(address.key, this.states.get(address.key) ?? emptyState(address));
    return loaded;
  }

  // Not `async`: a commit runs once per invocation, and a settled promise is all it needs.
  commit(commit: Commit): Promise<void> {
    const current = this.states.get(commit.address.key);
    if ((current?.version ?? 0) !== commit.expectedVersion) {
      return Promise.reject(new StateConflictError(commit.address.key, commit.expectedVersion));
    }
    this.states.set(commit.address.key, commit.state);
    if (hasEffects(commit.effects)) {
      this.pendingOutbox.push({ token: commit.token, address: commit.address, effects: commit.effects });
    }
    return COMMITTED;
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

  /** Stores `states` as they are, as if committed (to restore a snapshot). */
  restore(states: Iterable<AddressState>): void {
    for (const state of states) this.states.set(state.address.key, state);
  }
}
