/**
 * The third-party scoring service's deterministic answer for a merchant: an FNV-1a hash of
 * the merchant id mapped onto [0.05, 0.95] with three decimals. The local scoring server
 * serves exactly this, and the reference computation of expected alerts uses it directly.
 *
 * @example
 * merchantScoreOf('m-07'); // always the same number in [0.05, 0.95]
 */
export function merchantScoreOf(merchantId: string): number {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(merchantId)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return Math.round(50 + (hash % 901)) / 1000;
}
