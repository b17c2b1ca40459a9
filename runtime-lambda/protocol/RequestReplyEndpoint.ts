import { RetryableError, StatefunError, TerminalError } from '../core/errors';
import type { InvocationRequest, InvocationResponse } from '../core/Invocation';
import type { FunctionEndpoint } from '../core/ports/FunctionEndpoint';
import { decodeFromFunction, encodeToFunction, readFromFunction, toFunctionMessage } from './codec';
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

  async invoke(request: InvocationRequest): Promise<InvocationResponse> {
    const transport = this.transport;
    if (typeof transport === 'function') {
      const bytes = encodeToFunction(request);
      const reply = await this.carry(request, () => transport(bytes));
      return this.read(request, () => decodeFromFunction(reply));
    }
    const message = toFunctionMessage(request, { copyValues: true });
    const reply = await this.carry(request, () => transport.exchangeMessages(message));
    return this.read(request, () => readFromFunction(reply, 'in process'));
  }

  private async carry<Reply>(request: InvocationRequest, exchange: () => Promise<Reply>): Promise<Reply> {
    try {
      return await exchange();
    } catch (error) {
      if (error instanceof StatefunError) throw error;
      throw RetryableError.from(error, `calling function ${this.fnType} for ${request.target}`);
    }
  }

  private read(request: InvocationRequest, decode: () => InvocationResponse): InvocationResponse {
    try {
      return decode();
    } catch (cause) {
      const reason = cause instanceof Error ? cause.message : String(cause);
      throw new TerminalError(
        `function ${this.fnType} answered ${request.target} with an invalid response: ${reason}`,
        { cause, code: 'BAD_FUNCTION_RESPONSE' },
      );
    }
  }
}
