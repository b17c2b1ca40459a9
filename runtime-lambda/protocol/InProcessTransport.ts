import type * as pb from './generated/request-reply_pb';

/**
 * Carries one request-reply exchange to a function in this process: the `ToFunction`
 * message in, the `FromFunction` message out. These are the protocol's generated
 * protobuf-es messages, exactly what the bytes of the other transports decode to; only the
 * bytes are skipped. Each side gets its own copy of every value (`copyValues`), as it
 * would over bytes. See {@link StatefulFunctions.resolver}.
 *
 * @example
 * const transport: InProcessTransport = { exchangeMessages: (toFunction) => serve(toFunction) };
 */
export interface InProcessTransport {
  exchangeMessages(toFunction: pb.ToFunction): Promise<pb.FromFunction>;
}
