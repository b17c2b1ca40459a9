import type { InvokeOptions } from '../core/ports/FunctionEndpoint';

/**
 * Carries one request-reply exchange: `ToFunction` bytes in, `FromFunction` bytes out. The
 * transport of a {@link RequestReplyEndpoint}: HTTP ({@link httpTransport}), AWS Lambda
 * Invoke, or an SDK registry's `handle` (embedded functions use an
 * {@link InProcessTransport} instead).
 *
 * A transport throws a `RetryableError` for failures worth retrying (timeouts, 5xx,
 * connection errors) and a `TerminalError` for failures that will repeat. It should give up
 * by `options.deadlineMs` (the caller stops waiting then anyway).
 *
 * @example
 * const throughBytes: RequestReplyTransport = (request) => registry.handle(request);
 */
export type RequestReplyTransport = (request: Uint8Array, options?: InvokeOptions) => Promise<Uint8Array>;
