import type { Address } from '../core/Address';
import type { EgressMessage, OutgoingMessage } from './Message';
import type { StateDecls, Storage } from './defineFunction';

/**
 * What a function can do while handling a message: read and write its state, send
 * messages (now or later), cancel delayed ones, and write to egresses. Effects take place
 * only if the whole batch succeeds, atomically with the state.
 *
 * @example
 * handle(ctx, message) {
 *   ctx.storage.seen = (ctx.storage.seen ?? 0) + 1;
 *   ctx.send(message({ to: Address.of('example/audit', ctx.self.id), value: 'seen', type: Types.string }));
 *   ctx.sendAfter(60_000, reminder, `remind-${ctx.self.id}`);
 * }
 */
export interface Context<S extends StateDecls = StateDecls> {
  /** The address of the function instance handling the message. */
  readonly self: Address;
  /** The function that sent the current message, `null` for an ingress record. */
  readonly caller: Address | null;
  /**
   * The instance's state, one property per declared state value: `null` when absent;
   * assign to write, assign `null` to delete.
   */
  readonly storage: Storage<S>;
  /** Sends a message to a function. */
  send(message: OutgoingMessage): void;
  /**
   * Sends a message after `delayMs` milliseconds. With a `cancellationToken` (unique per
   * sending address), {@link cancelDelayedMessage} can cancel it until it is delivered.
   */
  sendAfter(delayMs: number, message: OutgoingMessage, cancellationToken?: string): void;
  /** Cancels a delayed message by its token; a no-op if it was already delivered. */
  cancelDelayedMessage(cancellationToken: string): void;
  /** Writes a record to an egress: one built with {@link egressMessage}, {@link kafkaEgressMessage} or {@link kinesisEgressMessage}. */
  egress(message: EgressMessage): void;
}
