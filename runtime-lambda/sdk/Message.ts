import { Address } from '../core/Address';
import { InvalidInputError } from '../core/errors';
import type { TypedValue } from '../core/TypedValue';
import { TypeMismatchError } from './errors';
import { checkTypename, isType, type Type } from './Type';

/**
 * A message a function receives: its typed value, the address it was sent to, and the
 * sending function (`null` for an ingress record).
 *
 * @example
 * handle(ctx, message) {
 *   if (message.is(Types.string)) console.log(`hello ${message.as(Types.string)}`);
 * }
 */
export class Message {
  /** @internal built by the SDK for each invocation. */
  constructor(
    /** The address the message was sent to (the function instance handling it). */
    readonly target: Address,
    /** The sending function, or `null` for an ingress record. */
    readonly caller: Address | null,
    /** The value as it came on the wire. */
    readonly typedValue: TypedValue,
  ) {}

  /** The type name of the value, e.g. `io.statefun.types/string`. */
  get typename(): string {
    return this.typedValue.typename;
  }

  /** The raw bytes of the value, `null` if the message carries no value. */
  get rawValue(): Uint8Array | null {
    return this.typedValue.value;
  }

  /** Whether the value has type `type`. */
  is<T>(type: Type<T>): boolean {
    return type.typename === this.typedValue.typename;
  }

  /**
   * The value, read as `type`.
   *
   * @throws {@link TypeMismatchError} when the value has another type;
   * {@link InvalidInputError} when the message carries no value or its bytes do not decode.
   */
  as<T>(type: Type<T>): T {
    if (!isType(type)) {
      throw new InvalidInputError(`message.as(type): expected a StateFun type (e.g. Types.int), got ${typeof type}`);
    }
    const { typename, value } = this.typedValue;
    if (typename !== type.typename) {
      throw new TypeMismatchError(type.typename, typename, `the message to ${this.target}`);
    }
    if (value === null) {
      throw new InvalidInputError(`the message to ${this.target} of type ${typename} carries no value`);
    }
    return type.deserialize(value);
  }
}

/**
 * A message to send to a function, built by {@link message}.
 *
 * @example
 * ctx.send(message({ to: Address.of('example/greeter', 'ada'), value: 'hi', type: Types.string }));
 */
export class OutgoingMessage {
  /** @internal use {@link message}. */
  constructor(
    readonly target: Address,
    readonly argument: TypedValue,
  ) {}
}

/**
 * A record for an egress, built by {@link egressMessage}.
 *
 * @example
 * ctx.egress(egressMessage({ egress: 'example/alerts', value: { level: 'high' }, type: AlertType }));
 */
export class EgressMessage {
  /** @internal use {@link egressMessage}. */
  constructor(
    /** The egress, `namespace/name`. */
    readonly egress: string,
    readonly argument: TypedValue,
  ) {}
}

/**
 * Options of {@link message}.
 *
 * @example
 * const opts: MessageOpts<number> = { to: Address.of('example/counter', 'c1'), value: 1, type: Types.int };
 */
export interface MessageOpts<T> {
  /** The target function instance. */
  readonly to: Address;
  /** The value; its TypeScript type must match `type`. */
  readonly value: NoInfer<T>;
  readonly type: Type<T>;
}

/**
 * Options of {@link egressMessage}.
 *
 * @example
 * const opts: EgressMessageOpts<string> = { egress: 'example/greetings', value: 'hi', type: Types.string };
 */
export interface EgressMessageOpts<T> {
  /** The egress, `namespace/name`, as declared in the app definition. */
  readonly egress: string;
  readonly value: NoInfer<T>;
  readonly type: Type<T>;
}

/**
 * Builds a message to a function: `value` serialized with `type` now, so a bad value fails
 * here, where it was built.
 *
 * @throws {@link InvalidInputError} for a missing target, type or value.
 *
 * @example
 * ctx.send(message({ to: Address.of('example/counter', 'ada'), value: 1, type: Types.int }));
 */
export function message<T>(opts: MessageOpts<T>): OutgoingMessage {
  const { to, value, type } = opts ?? ({} as MessageOpts<T>);
  if (!(to instanceof Address)) {
    throw new InvalidInputError(`message(): "to" must be an Address (e.g. Address.of('example/greeter', id)), got ${typeof to}`);
  }
  return new OutgoingMessage(to, serialize(value, type, `message() to ${to}`));
}

/**
 * Builds a record for an egress.
 *
 * @throws {@link InvalidInputError} for an invalid egress name, or a missing type or value.
 *
 * @example
 * ctx.egress(egressMessage({ egress: 'example/greetings', value: 'hello ada', type: Types.string }));
 */
export function egressMessage<T>(opts: EgressMessageOpts<T>): EgressMessage {
  const { egress, value, type } = opts ?? ({} as EgressMessageOpts<T>);
  const name = checkTypename(egress, 'egressMessage()');
  return new EgressMessage(name, serialize(value, type, `egressMessage() to ${name}`));
}

function serialize<T>(value: T, type: Type<T>, what: string): TypedValue {
  if (!isType(type)) {
    throw new InvalidInputError(`${what}: "type" must be a StateFun type (e.g. Types.string), got ${typeof type}`);
  }
  if (value === undefined || value === null) {
    throw new InvalidInputError(`${what}: "value" is ${String(value)}; a message needs a value of type ${type.typename}`);
  }
  return { typename: type.typename, value: type.serialize(value) };
}
