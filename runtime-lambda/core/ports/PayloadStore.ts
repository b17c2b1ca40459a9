/**
 * Where a dead letter too large for the item or queue that carries it is kept whole (port):
 * S3 on AWS (`S3PayloadStore`), memory in the local runtime. The carrier then holds a stub
 * with the reference (`DeadLetter.payloadRef`), so a dead letter is always writable.
 */
export interface PayloadStore {
  /**
   * Stores `bytes` under `key` (the same key always gets the same bytes: a retried put is
   * harmless) and answers the reference to read them back with.
   */
  put(key: string, bytes: Uint8Array): Promise<string>;
  /** The bytes at `ref`, as {@link put} answered it. */
  get(ref: string): Promise<Uint8Array>;
}
