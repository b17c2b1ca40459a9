/**
 * How an address retries a function that fails transiently (unavailable, throttled, timing
 * out): its messages are parked and tried again with exponential backoff and jitter, without
 * holding back any other address, until the retry budget is spent; only then do they become
 * dead letters. See `docs/operations.md`.
 */

/** The default retry budget: 24 hours, counted from an address's first failed attempt. */
export const DEFAULT_RETRY_BUDGET_MS = 24 * 60 * 60 * 1000;

/** The waits between an address's attempts: doubling from `baseDelayMs` up to `maxDelayMs`. */
export interface AddressBackoffPolicy {
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

/** 1 s, doubling up to 10 minutes: about 150 attempts in the default budget. */
export const DEFAULT_ADDRESS_BACKOFF: AddressBackoffPolicy = Object.freeze({ baseDelayMs: 1_000, maxDelayMs: 600_000 });

/**
 * Validates a retry budget: a whole number of milliseconds, 0 or more (0 dead-letters at the
 * first transient failure).
 *
 * @throws TypeError naming `what` and the value.
 */
export function retryBudgetMs(value: number, what = 'retryBudgetMs'): number {
  if (!(Number.isSafeInteger(value) && value >= 0)) {
    throw new TypeError(`${what} must be a whole number of milliseconds, 0 or more, got ${String(value)}`);
  }
  return value;
}

/**
 * The wait before attempt `attempts + 1`: the doubling backoff capped at `maxDelayMs`, with
 * equal jitter (half of it, plus up to half) drawn from `seed` rather than a random source,
 * so that planning the same batch twice plans the same retry.
 */
export function nextRetryDelayMs(policy: AddressBackoffPolicy, attempts: number, seed: string): number {
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(attempts - 1, 40));
  let hash = 2166136261;
  for (let i = 0; i < seed.length; i++) hash = Math.imul(hash ^ seed.charCodeAt(i), 16777619);
  const fraction = (hash >>> 0) / 2 ** 32;
  return Math.ceil(cap / 2 + fraction * (cap / 2));
}
