import type { Address } from './Address';
import type { TypedValue } from './TypedValue';

/**
 * Where a message comes from, which decides how duplicates are recognised:
 * - `ingress`: a record of an ingress stream/topic; `source` names the ordered source
 *   (stream + shard, or topic + partition) and `position` is the record's place in it;
 *   `arrivedAtMs`, when known, is when it reached the stream (a record older than the
 *   duplicate window is dead-lettered, not applied).
 * - `function`: a message sent by another function; `source` is the sender's address and
 *   `position` the sender's ever-growing sequence ({@link senderPosition}). It reaches its
 *   receiver through an inbox entry (`InboxEntry`, applied once); on the message stream it
 *   is only a wake-up.
 * - `timer`: a delayed message firing at the address that scheduled it; it is applied only
 *   if its timer id is still in that address's pending set (not cancelled, not fired).
 */
export type Origin =
  | { readonly kind: 'ingress'; readonly source: string; readonly position: string; readonly arrivedAtMs?: number }
  | { readonly kind: 'function'; readonly source: string; readonly position: string }
  | { readonly kind: 'timer'; readonly timerId: string };

/**
 * One message on its way to an address. Its `id` is deterministic (derived from the source
 * position, or from the producing batch and the effect's index), so a re-run produces the
 * same ids and a re-delivery is recognisable.
 */
export interface Envelope {
  readonly id: string;
  readonly target: Address;
  /** The sending function, absent for ingress records. */
  readonly caller?: Address;
  readonly argument: TypedValue;
  readonly origin: Origin;
  /**
   * For a fired timer whose message is meant for another address: where the owner (the
   * envelope's `target`) forwards it once it has checked the timer is still pending.
   */
  readonly forwardTo?: Address;
}
