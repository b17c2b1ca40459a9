/**
 * Source positions are non-negative integers written in decimal: Kinesis sequence numbers
 * (up to 56 digits, beyond DynamoDB's 38-digit numbers and JavaScript's safe integers),
 * Kafka offsets, local log offsets, and per-sender sequence numbers. They are kept as
 * strings and compared numerically.
 */
const DECIMAL = /^(0|[1-9][0-9]*)$/;

/** Whether `text` is a canonical decimal position. */
export function isPosition(text: string): boolean {
  return DECIMAL.test(text);
}

/** Numeric comparison of two canonical decimal positions: negative, zero or positive. */
export function comparePositions(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

const VERSION_BITS = 40n;
const INDEX_BITS = 20n;

/** The most effects one batch may produce: the index field of a sender position. */
export const MAX_EFFECTS_PER_BATCH = 1 << Number(INDEX_BITS);

/**
 * The position of the `index`-th message sent by a commit of an address: ordered by the
 * sender's epoch (when its state was created), then its state version, then the index.
 * It only ever grows for one sender, even if the sender's state is deleted and created
 * again later, which is what keeps inbox keys unique and sorted in send order
 * (`inboxKeyOf`).
 */
export function senderPosition(epochMs: number, version: number, index: number): string {
  return (
    (BigInt(epochMs) << (VERSION_BITS + INDEX_BITS)) |
    (BigInt(version) << INDEX_BITS) |
    BigInt(index)
  ).toString();
}
