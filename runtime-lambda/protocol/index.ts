/**
 * The StateFun request-reply protocol: codec, endpoint and transports.
 *
 * @example
 * import { RequestReplyEndpoint, httpTransport } from './runtime-lambda/protocol';
 * const endpoint = new RequestReplyEndpoint('example/greeter', httpTransport({ url: 'http://localhost:8000/' }));
 */
export {
  decodeFromFunction,
  decodeToFunction,
  encodeFromFunction,
  encodeToFunction,
  fromFunctionMessage,
  readFromFunction,
  readToFunction,
  toFunctionMessage,
} from './codec';
export type { MessageOpts } from './codec';
export { httpTransport } from './HttpTransport';
export type { HttpTransportOpts } from './HttpTransport';
export { RequestReplyEndpoint } from './RequestReplyEndpoint';
export type { InProcessTransport } from './InProcessTransport';
export type { RequestReplyTransport } from './RequestReplyTransport';
