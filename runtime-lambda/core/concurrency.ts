/**
 * Runs `work` on every item, at most `limit` at a time, taking the items in order (a
 * worker takes the next one when it is done with its last). Rejects with the first error
 * `work` throws; catch inside `work` to go on after failures.
 *
 * @example
 * await forEachConcurrently(addresses, 64, (address) => dispatchOne(address));
 */
export async function forEachConcurrently<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
