import { createHash } from 'node:crypto';

/**
 * A deterministic id for a batch of messages applied to an address: the same address,
 * starting version and consumed message ids always give the same id, so a re-run after a
 * crash produces the same effect ids and the same commit token.
 */
export function batchId(addressKey: string, version: number, messageIds: readonly string[]): string {
  // One string, one native call: hashing is on the path of every invocation.
  const identity = `${addressKey}\u0000${version}\u0000${messageIds.join('\u0000')}`;
  return createHash('sha256').update(identity).digest('base64url').slice(0, 24);
}
