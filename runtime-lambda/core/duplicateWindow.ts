import type { Envelope } from './Envelope';
import { InvalidInputError } from './errors';

/**
 * How long the runtime keeps proof that an ingress record was applied: an address's mark
 * for a shard stays this long after its last advance, and an address left empty stays as
 * a tombstone of its marks this long. An ingress record older than the window (by its
 * arrival on the stream) cannot be proved new or duplicate, so it is dead-lettered, never
 * applied. Keep it above the retention of every stream feeding the application and above
 * the event source mappings' `maxRecordAge`; see `docs/exactly-once.md`.
 */
export const DEFAULT_DUPLICATE_WINDOW_MS = 7 * 24 * 60 * 60 * 1000;

/** The shortest window: an hour, longer than any one Lambda invocation and its retries. */
export const MIN_DUPLICATE_WINDOW_MS = 60 * 60 * 1000;

/**
 * Validates a duplicate window in milliseconds.
 *
 * @throws {@link InvalidInputError} naming the value and the range, for anything but a whole
 * number of milliseconds from an hour up.
 */
export function duplicateWindowMs(value: number, origin = 'duplicateWindowMs'): number {
  if (!Number.isSafeInteger(value) || value < MIN_DUPLICATE_WINDOW_MS) {
    throw new InvalidInputError(
      `${origin} must be a whole number of milliseconds of at least ${MIN_DUPLICATE_WINDOW_MS} (an hour), got ${String(value)}: ` +
        `keep it above the retention of the streams that feed the application (default ${DEFAULT_DUPLICATE_WINDOW_MS}, 7 days)`,
    );
  }
  return value;
}

/**
 * Whether `envelope` is an ingress record that reached its stream before `windowStartMs`
 * (now less the duplicate window): one whose application can no longer be proved or
 * disproved once its mark is pruned.
 */
export function arrivedBeforeWindow(envelope: Envelope, windowStartMs: number): boolean {
  const origin = envelope.origin;
  return origin.kind === 'ingress' && origin.arrivedAtMs !== undefined && origin.arrivedAtMs < windowStartMs;
}
