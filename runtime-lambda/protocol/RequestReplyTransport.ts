/**
 * Carries one request-reply exchange: `ToFunction` bytes in, `FromFunction` bytes out. The
 * transport of a {@link RequestReplyEndpoint}: in-process (an SDK registry's `handle`), HTTP
 * ({@link httpTransport}) or AWS Lambda Invoke.
 *
 * A transport throws a `RetryableError` for failures worth retrying (timeouts, 5xx,
 * connection errors) and a `TerminalError` for failures that will repeat.
 *
 * @example
 * const inProcess: RequestReplyTransport = (request) => registry.handle(request);
 */
export type RequestReplyTransport = (request: Uint8Array) => Promise<Uint8Array>;
