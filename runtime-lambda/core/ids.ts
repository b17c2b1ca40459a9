import { createHash } from 'node:crypto';

/**
 * A deterministic id for a batch of messages applied to an address: the same address,
 * starting version and consumed message ids always give the same id, so a re-run after a
 * crash produces the same effect ids and the same commit token.
 */
export function batchId(addressKey: string, version: number, messageIds: readonly string[]): string {
  const hash = createHash('sha256');
  hash.update(addressKey);
  hash.update('\u0000');
  hash.update(String(version));
  for (const id of messageIds) {
    hash.update('\u0000');
    hash.update(id);
  }
  return hash.digest('base64url').slice(0, 24);
}
