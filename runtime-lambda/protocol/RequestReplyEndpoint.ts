import { RetryableError, StatefunError, TerminalError } from '../core/errors';
import type { InvocationRequest, InvocationResponse } from '../core/Invocation';
import type { FunctionEndpoint } from '../core/ports/FunctionEndpoint';
import { decodeFromFunction, encodeToFunction } from './codec';
import type { RequestReplyTransport } from './RequestReplyTransport';

/**
 * A {@link FunctionEndpoint} speaking the StateFun request-reply protocol over a
 * {@link RequestReplyTransport}: it encodes the batch as `ToFunction` bytes, calls the
 * transport and decodes the `FromFunction` reply.
 *
 * Errors: the transport's `StatefunError`s pass through unchanged; anything else it throws
 * becomes a `RetryableError`; a reply that does not decode is a `TerminalError` (code
 * `BAD_FUNCTION_RESPONSE`) naming the function type.
 *
 * @example
 * const endpoint = new RequestReplyEndpoint(
 *   'example/greeter',
 *   httpTransport({ url: 'http://localhost:8000/statefun' }),
 * );
 * const response = await endpoint.invoke(request);
 */
export class RequestReplyEndpoint implements FunctionEndpoint {
  constructor(
    /** The function type served, `namespace/type`, named in errors. */
    readonly fnType: string,
    private readonly transport: RequestReplyTransport,
  ) {}

  async invoke(request: InvocationRequest): Promise<InvocationResponse> {
    const bytes = encodeToFunction(request);
    let reply: Uint8Array;
    try {
      reply = await this.transport(bytes);
    } catch (error) {
      if (error instanceof StatefunError) throw error;
      throw RetryableError.from(error, `calling function ${this.fnType} for ${request.target}`);
    }
    try {
      return decodeFromFunction(reply);
    } catch (cause) {
      const reason = cause instanceof Error ? cause.message : String(cause);
      throw new TerminalError(
        `function ${this.fnType} answered ${request.target} with an invalid response: ${reason}`,
        { cause, code: 'BAD_FUNCTION_RESPONSE' },
      );
    }
  }
}
