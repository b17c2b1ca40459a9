import { RetryableError, StatefunError, TerminalError } from '../core/errors';
import type { InvocationRequest, InvocationResponse } from '../core/Invocation';
import type { FunctionEndpoint, InvokeOptions } from '../core/ports/FunctionEndpoint';
import { decodeFromFunction, encodeToFunction, readFromFunction, toFunctionMessage } from './codec';
import type * as pb from './generated/request-reply_pb';
import type { InProcessTransport } from './InProcessTransport';
import type { RequestReplyTransport } from './RequestReplyTransport';

/**
 * A {@link FunctionEndpoint} speaking the StateFun request-reply protocol: it turns the
 * batch into a `ToFunction`, has the transport carry it and reads the `FromFunction` reply.
 * Over a {@link RequestReplyTransport} (HTTP, Lambda) both travel as bytes; over an
 * {@link InProcessTransport} (an embedded function) as the same protobuf-es messages,
 * without their bytes.
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
    private readonly transport: RequestReplyTransport | InProcessTransport,
  ) {}

  async invoke(request: InvocationRequest, options?: InvokeOptions): Promise<InvocationResponse> {
    // Each branch awaits the transport itself (no closure, no extra async frame): this runs
    // once per invocation.
    const transport = this.transport;
    if (typeof transport === 'function') {
      const bytes = encodeToFunction(request);
      let reply: Uint8Array;
      try {
        reply = await transport(bytes, options);
      } catch (error) {
        throw this.transportError(request, error);
      }
      try {
        return decodeFromFunction(reply);
      } catch (cause) {
        throw this.invalidReply(request, cause);
      }
    }
    const message = toFunctionMessage(request, { copyValues: true });
    let reply: pb.FromFunction;
    try {
      reply = await transport.exchangeMessages(message);
    } catch (error) {
      throw this.transportError(request, error);
    }
    try {
      return readFromFunction(reply);
    } catch (cause) {
      throw this.invalidReply(request, cause);
    }
  }

  private transportError(request: InvocationRequest, error: unknown): Error {
    if (error instanceof StatefunError) return error;
    return RetryableError.from(error, `calling function ${this.fnType} for ${request.target}`);
  }

  private invalidReply(request: InvocationRequest, cause: unknown): TerminalError {
    const reason = cause instanceof Error ? cause.message : String(cause);
    return new TerminalError(
      `function ${this.fnType} answered ${request.target} with an invalid response: ${reason}`,
      { cause, code: 'BAD_FUNCTION_RESPONSE' },
    );
  }
}
