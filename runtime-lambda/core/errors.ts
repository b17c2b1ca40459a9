import type { AddressState } from './AddressState';

/**
 * The error family of the runtime. Every error carries a stable `code`, says whether a
 * retry can help (`retryable`), and keeps the underlying `cause`.
 *
 * Messages name the input, the bad value and the fix, so a user reading a dead letter or
 * a log line knows what to change.
 */
export abstract class StatefunError extends Error {
  /** A stable, machine-readable code, e.g. `STATE_CONFLICT`. */
  abstract readonly code: string;
  /** Whether retrying the same operation may succeed. */
  abstract readonly retryable: boolean;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A transient failure (throttling, a timeout, a network error): retry with backoff. */
export class RetryableError extends StatefunError {
  readonly code: string;
  readonly retryable = true;

  constructor(message: string, options?: { cause?: unknown; code?: string }) {
    super(message, options);
    this.code = options?.code ?? 'RETRYABLE';
  }

  /** Wraps anything thrown into a {@link RetryableError}, keeping it as the cause. */
  static from(cause: unknown, context?: string): RetryableError {
    if (cause instanceof RetryableError) return cause;
    const reason = describeError(cause);
    return new RetryableError(context ? `${context}: ${reason}` : reason, { cause });
  }
}

/** A failure that will repeat on retry (bad input, a broken contract): never retried. */
export class TerminalError extends StatefunError {
  readonly code: string;
  readonly retryable = false;

  constructor(message: string, options?: { cause?: unknown; code?: string }) {
    super(message, options);
    this.code = options?.code ?? 'TERMINAL';
  }
}

/** Input that does not match its expected format: a record, a response, a file, an argument. */
export class InvalidInputError extends TerminalError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, { ...options, code: 'INVALID_INPUT' });
  }
}

/**
 * A commit the store can never write because of what it holds (an item or a transaction
 * over the store's size limits). The dispatcher then commits the batch's messages as dead
 * letters instead, so the address moves on rather than failing forever.
 */
export class CommitTooLargeError extends TerminalError {
  constructor(message: string, options?: { cause?: unknown; code?: string }) {
    super(message, { ...options, code: options?.code ?? 'COMMIT_TOO_LARGE' });
  }
}

/**
 * Some of the addresses a store was asked to load have state it cannot read (an item that
 * was edited by hand, or written by an incompatible version). The others loaded fine and
 * are in `readable`: the dispatcher goes on with them, and dead-letters the messages of the
 * unreadable ones (see `StateStore.quarantine`), so one bad item holds back nothing else.
 */
export class UnreadableStateError extends TerminalError {
  constructor(
    /** The states that were read, by address key. */
    readonly readable: ReadonlyMap<string, AddressState>,
    /** Why each unreadable address could not be read, by address key. */
    readonly unreadable: ReadonlyMap<string, Error>,
  ) {
    super(`state of ${[...unreadable.keys()].join(', ')} cannot be read: ${[...unreadable.values()].map((e) => e.message).join('; ')}`, { code: 'UNREADABLE_STATE' });
  }
}

/**
 * Another writer committed the address first: its state version moved on. The dispatcher
 * reloads the state and runs the batch again, so nothing is lost or applied twice.
 */
export class StateConflictError extends StatefunError {
  readonly code = 'STATE_CONFLICT';
  readonly retryable = true;

  constructor(
    readonly address: string,
    readonly expectedVersion: number,
    options?: { cause?: unknown },
  ) {
    super(
      `state of ${address} is no longer at version ${expectedVersion}: another dispatcher committed first; reload and retry`,
      options,
    );
  }
}

/** Normalizes anything thrown into an Error. */
export function ensureError(thrown: unknown): Error {
  if (thrown instanceof Error) return thrown;
  return new Error(typeof thrown === 'string' ? thrown : `non-error thrown: ${safeJson(thrown)}`);
}

/** A one-line description of anything thrown, for dead-letter reasons and logs. */
export function describeError(thrown: unknown): string {
  const error = ensureError(thrown);
  return `${error.name}: ${error.message}`;
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
