/**
 * The TypeScript SDK for stateful functions (entry point `.`). Serving: `./lambda` (AWS
 * Lambda) and `./http` (node:http); embedded: {@link StatefulFunctions.resolver}.
 *
 * @example
 * import { Address, defineFunction, message, StatefulFunctions, Types } from './runtime-lambda/sdk';
 */
export { Address } from '../core/Address';
export type { Typename } from '../core/Address';
export { InvalidInputError, RetryableError, StatefunError, TerminalError } from '../core/errors';
export type { Context } from './Context';
export { defineFunction } from './defineFunction';
export { kafkaEgressMessage, kinesisEgressMessage } from './egressBuilders';
export type { KafkaEgressMessageOpts, KinesisEgressMessageOpts, RawEgressValue } from './egressBuilders';
export type { FunctionDefinition, FunctionOpts, StateDecl, StateDecls, StateValue, Storage } from './defineFunction';
export { FunctionFailedError, TypeMismatchError, UnknownFunctionError, UnknownStateError } from './errors';
export { EgressMessage, Message, OutgoingMessage, egressMessage, message } from './Message';
export type { EgressMessageOpts, MessageOpts } from './Message';
export { StatefulFunctions } from './StatefulFunctions';
export { customType, jsonType } from './Type';
export type { Type, ValueOfType } from './Type';
export { Types } from './Types';
export { ValueSpec } from './ValueSpec';
export type { StateOpts, ValueSpecOpts } from './ValueSpec';
