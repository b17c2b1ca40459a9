import type { Envelope } from '../core/Envelope';

/**
 * The local runtime's message log: partitions keyed by target address, as the Kinesis
 * message stream is, so messages to one address stay in order and different addresses
 * are processed in parallel. Each partition hands out batches in append order.
 */
export class LocalLog {
  private readonly partitions: Envelope[][];
  private readonly offsets: number[];

  /**
   * `startOffsets`: the next offset of each partition, and `pending` the records each still
   * held, to go on from a log that was stopped.
   */
  constructor(
    readonly partitionCount: number,
    startOffsets?: readonly number[],
    pending?: readonly (readonly Envelope[])[],
  ) {
    this.partitions = Array.from({ length: partitionCount }, (_, p) => [...(pending?.[p] ?? [])]);
    this.offsets = Array.from({ length: partitionCount }, (_, p) => startOffsets?.[p] ?? 0);
  }

  /** The offset the next record of each partition gets. */
  get nextOffsets(): readonly number[] {
    return [...this.offsets];
  }

  /** The partition of an address key (FNV-1a). */
  partitionOf(addressKey: string): number {
    let hash = 0x811c9dc5;
    for (let i = 0; i < addressKey.length; i++) {
      hash ^= addressKey.charCodeAt(i);
      hash = Math.imul(hash, 0x01000193);
    }
    return (hash >>> 0) % this.partitionCount;
  }

  /**
   * Appends a record to its target's partition. `build` receives the partition and the
   * record's offset in it, so ingress records can take their source position from the log.
   */
  append(addressKey: string, build: (partition: number, offset: number) => Envelope): void {
    const partition = this.partitionOf(addressKey);
    const offset = this.offsets[partition]!++;
    this.partitions[partition]!.push(build(partition, offset));
  }

  /** The records of each partition not yet taken, in order (copies of the lists). */
  get pendingRecords(): Envelope[][] {
    return this.partitions.map((queue) => [...queue]);
  }

  /** Removes and returns up to `max` records from the head of `partition`. */
  take(partition: number, max: number): Envelope[] {
    const queue = this.partitions[partition]!;
    return queue.splice(0, Math.min(max, queue.length));
  }

  /** Puts records back at the head of their partition, to be delivered again. */
  putBack(partition: number, envelopes: readonly Envelope[]): void {
    this.partitions[partition]!.unshift(...envelopes);
  }

  /** Records waiting in `partition`. */
  pending(partition: number): number {
    return this.partitions[partition]!.length;
  }

  /** Records waiting in all partitions. */
  get size(): number {
    return this.partitions.reduce((sum, queue) => sum + queue.length, 0);
  }
}
