import type { Address } from './Address';
import type { Envelope } from './Envelope';
import { InvalidInputError } from './errors';
import { senderPosition } from './positions';

/**
 * The messages one committed batch sent to one address, kept in the receiver's inbox until
 * the receiver has applied them. The entry is written in the sender's commit and removed
 * after the receiver's: a message is pending exactly while its entry exists and the
 * receiver's state does not list the entry as applied. That is what makes a re-delivered
 * message provably a duplicate, whatever the number of senders, without per-sender marks.
 */
export interface InboxEntry {
  /**
   * Unique per receiver and sending batch: {@link inboxKeyOf} the first message. Entries of
   * one sender sort in the order it sent them.
   */
  readonly key: string;
  /** The receiver. */
  readonly target: Address;
  /**
   * The messages, in the order sent; all to `target`, all with origin `function`, except in
   * a parked entry ({@link parkedEntriesOf}), which keeps messages of any origin.
   */
  readonly envelopes: readonly Envelope[];
  /**
   * Why the messages can no longer be read, when a store keeps them apart from the entry
   * and they are gone (e.g. expired); `envelopes` then holds one placeholder that the
   * dispatcher dead-letters with this reason instead of applying.
   */
  readonly lost?: string;
}

/** The type of the placeholder message of a lost inbox entry ({@link InboxEntry.lost}). */
export const LOST_INBOX_ENTRY_TYPE = 'statefun.internal/lost-inbox-entry';

/**
 * A message as it travels to its receiver once its inbox entry holds it: a wake-up, the
 * same envelope without its value.
 */
export function asWakeUp(message: Envelope): Envelope {
  return { ...message, argument: { typename: message.argument.typename, value: null } };
}

/** Digits of a zero-padded sender position: positions stay below 2^128 (39 digits). */
const POSITION_DIGITS = 40;

/**
 * A sender position zero-padded to a fixed width, so that positions sort as text (DynamoDB
 * sort keys) as they do as numbers.
 */
export function paddedPosition(position: string): string {
  return position.padStart(POSITION_DIGITS, '0');
}

/**
 * The inbox key of a function message: its sender, a space, then its sender position
 * zero-padded to 40 digits. For one sender the keys sort as its positions do (epoch, then
 * version, then index), so reading an inbox in key order reads each sender's messages in the
 * order they were sent.
 *
 * @throws {@link InvalidInputError} for a message whose origin is not `function`.
 */
export function inboxKeyOf(envelope: Envelope): string {
  const origin = envelope.origin;
  if (origin.kind !== 'function') {
    throw new InvalidInputError(`message ${envelope.id} has origin "${origin.kind}": only messages sent by functions go through an inbox`);
  }
  return `${origin.source} ${paddedPosition(origin.position)}`;
}

/**
 * Groups the messages of one commit into inbox entries: one per target, each holding that
 * target's messages in order.
 *
 * @example
 * const entries = inboxEntriesOf(commit.effects.messages); // one entry per receiver
 */
export function inboxEntriesOf(messages: readonly Envelope[]): InboxEntry[] {
  const byTarget = new Map<string, { target: Address; envelopes: Envelope[] }>();
  for (const message of messages) {
    const group = byTarget.get(message.target.key);
    if (group) group.envelopes.push(message);
    else byTarget.set(message.target.key, { target: message.target, envelopes: [message] });
  }
  const entries: InboxEntry[] = [];
  byTarget.forEach(({ target, envelopes }) => entries.push({ key: inboxKeyOf(envelopes[0]!), target, envelopes }));
  return entries;
}

/**
 * The sender part of the key of a parked entry: the messages an address set aside, in its
 * own inbox, while backing off (see `Backoff`). `#` starts no address key and sorts before
 * every letter and digit, so an address reads its parked entries before any other.
 */
export const PARKED_SENDER = '#parked';

/**
 * Estimated bytes of messages per parked entry: stored encoded (base64 inside JSON, deflated
 * when that helps), an entry of this many value bytes stays well below DynamoDB's 400 KB.
 */
const PARKED_ENTRY_BYTES = 200_000;

/** Whether `key` is the key of a parked entry. */
export function isParkedKey(key: string): boolean {
  return key.startsWith(`${PARKED_SENDER} `);
}

/**
 * Parks `envelopes` in the inbox of `target`, in their order, as entries written by the
 * commit of `target`'s state `version` (created at `epochMs`): keyed after every entry it
 * parked before, each holding as many messages as fit comfortably in one item.
 *
 * @example
 * const entries = parkedEntriesOf(address, fresh, state.epochMs, state.version + 1);
 */
export function parkedEntriesOf(target: Address, envelopes: readonly Envelope[], epochMs: number, version: number): InboxEntry[] {
  const entries: InboxEntry[] = [];
  let current: Envelope[] = [];
  let bytes = 0;
  const close = () => {
    const key = `${PARKED_SENDER} ${paddedPosition(senderPosition(epochMs, version, entries.length))}`;
    entries.push({ key, target, envelopes: current });
    current = [];
    bytes = 0;
  };
  for (const envelope of envelopes) {
    const size = envelope.argument.value?.byteLength ?? 0;
    if (current.length > 0 && bytes + size > PARKED_ENTRY_BYTES) close();
    current.push(envelope);
    bytes += size + 200;
  }
  if (current.length > 0) close();
  return entries;
}

/** Inbox entries of one address as read: in key order, and whether more remain after them. */
export interface InboxPage {
  readonly entries: readonly InboxEntry[];
  /** More entries follow the last one: read again after committing these. */
  readonly truncated: boolean;
}

/** An inbox with nothing in it. */
export const EMPTY_INBOX_PAGE: InboxPage = Object.freeze({ entries: Object.freeze([]) as readonly InboxEntry[], truncated: false });
