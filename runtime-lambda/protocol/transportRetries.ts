import { InvalidInputError, RetryableError } from '../core/errors';

/** The retry settings both remote transports (HTTP, Lambda) take, with the same defaults. */
export interface TransportRetryOpts {
  /** Per attempt. @default 30000 */
  readonly timeoutMs?: number;
  /**
   * Attempts in all, the first included. `Infinity` (only with `callTimeoutMs`) retries until
   * the call's budget is spent, as StateFun does.
   * @default 3
   */
  readonly maxAttempts?: number;
  /**
   * The budget of one call, all its attempts and backoffs included (StateFun's `call`
   * timeout): no attempt starts, and none runs, past it.
   * @default - none: `maxAttempts` and the caller's deadline bound the call
   */
  readonly callTimeoutMs?: number;
  /** @default 100 */
  readonly initialBackoffMs?: number;
  /** @default 5000 */
  readonly maxBackoffMs?: number;
}

/** {@link TransportRetryOpts} validated, defaults filled in. */
export type TransportRetrySettings = Required<Omit<TransportRetryOpts, 'callTimeoutMs'>> & Pick<TransportRetryOpts, 'callTimeoutMs'>;

/** One attempt's outcome: the reply bytes, or why it may be tried again. Terminal failures are thrown. */
export type AttemptOutcome = Uint8Array | { readonly retry: string; readonly cause?: unknown };

/**
 * Validates `opts`, naming `transport` (e.g. `httpTransport`) in the error.
 *
 * @throws {@link InvalidInputError} for a value that is not a positive integer, or unbounded
 * attempts without a `callTimeoutMs`.
 */
export function transportRetrySettings(opts: TransportRetryOpts, transport: string): TransportRetrySettings {
  const callTimeoutMs = opts.callTimeoutMs === undefined ? undefined : positiveInteger(opts.callTimeoutMs, 0, 'callTimeoutMs', transport);
  if (opts.maxAttempts === Number.POSITIVE_INFINITY && callTimeoutMs === undefined) {
    throw new InvalidInputError(`${transport}: maxAttempts may be Infinity only with a callTimeoutMs, which then bounds the call: give one, or a whole number of attempts`);
  }
  return {
    timeoutMs: positiveInteger(opts.timeoutMs, 30_000, 'timeoutMs', transport),
    maxAttempts: opts.maxAttempts === Number.POSITIVE_INFINITY ? opts.maxAttempts : positiveInteger(opts.maxAttempts, 3, 'maxAttempts', transport),
    initialBackoffMs: positiveInteger(opts.initialBackoffMs, 100, 'initialBackoffMs', transport),
    maxBackoffMs: positiveInteger(opts.maxBackoffMs, 5_000, 'maxBackoffMs', transport),
    ...(callTimeoutMs === undefined ? {} : { callTimeoutMs }),
  };
}

/** `value`, or `fallback` when absent; anything but a positive safe integer is an error naming `transport` and `name`. */
export function positiveInteger(value: unknown, fallback: number, name: string, transport: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new InvalidInputError(`${transport}: ${name} must be a positive integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

/**
 * Runs `attempt` until it answers bytes, at most `maxAttempts` times, waiting between
 * attempts with exponential backoff and equal jitter (half the backoff, plus up to half).
 * Each attempt gets `timeoutMs`, or what is left before the deadline when that is less: the
 * earlier of `callerDeadlineMs` (epoch ms) and `callTimeoutMs` after the start. No attempt starts,
 * and no wait ends, past it.
 *
 * @throws {@link RetryableError} (code `FUNCTION_UNAVAILABLE`) naming `target` and the last
 * reason once the attempts or the time are spent; whatever `attempt` throws, as it is.
 */
export async function withTransportRetries(
  attempt: (timeoutMs: number) => Promise<AttemptOutcome>,
  settings: TransportRetrySettings,
  target: string,
  callerDeadlineMs = Number.POSITIVE_INFINITY,
): Promise<Uint8Array> {
  const deadlineMs = settings.callTimeoutMs === undefined ? callerDeadlineMs : Math.min(callerDeadlineMs, Date.now() + settings.callTimeoutMs);
  for (let n = 1; ; n++) {
    const outcome = await attempt(Math.max(1, Math.min(settings.timeoutMs, deadlineMs - Date.now())));
    if (outcome instanceof Uint8Array) return outcome;
    const backoff = Math.min(settings.maxBackoffMs, settings.initialBackoffMs * 2 ** (n - 1));
    const waitMs = backoff / 2 + Math.random() * (backoff / 2);
    const outOfTime = Date.now() + waitMs >= deadlineMs;
    if (n >= settings.maxAttempts || outOfTime) {
      throw new RetryableError(`${target} failed ${n} time${n === 1 ? '' : 's'}${outOfTime ? ' before the deadline' : ''}; last: ${outcome.retry}`, {
        cause: outcome.cause,
        code: 'FUNCTION_UNAVAILABLE',
      });
    }
    await new Promise((resolve) => setTimeout(resolve, waitMs));
  }
}
