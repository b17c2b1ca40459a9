import { TerminalError } from '../core/errors';

/**
 * A value was read as a type it does not have: `message.as(type)` on a message of another
 * type, or stored state whose type differs from its declared spec.
 *
 * @example
 * try {
 *   message.as(Types.int);
 * } catch (e) {
 *   if (e instanceof TypeMismatchError) console.log(e.expected, e.actual);
 * }
 */
export class TypeMismatchError extends TerminalError {
  constructor(
    readonly expected: string,
    readonly actual: string,
    what: string,
  ) {
    super(`${what} has type ${actual}, not ${expected}`, { code: 'TYPE_MISMATCH' });
  }
}

/**
 * A function read or wrote a state name it did not declare.
 *
 * @example
 * // thrown by: ctx.storage.typo = 1 (in plain JavaScript; TypeScript rejects it at compile time)
 */
export class UnknownStateError extends TerminalError {
  constructor(
    readonly fnType: string,
    readonly stateName: string,
    readonly declared: readonly string[],
  ) {
    super(
      `function ${fnType} has no state named ${JSON.stringify(stateName)}; declared: ${
        declared.length === 0 ? '(none)' : declared.join(', ')
      }. Declare it in defineFunction({ state: { ... } })`,
      { code: 'UNKNOWN_STATE' },
    );
  }
}

/**
 * A request for a function type this registry does not serve.
 *
 * @example
 * // thrown by registry.handle(bytes) when bytes target an unregistered type
 */
export class UnknownFunctionError extends TerminalError {
  constructor(
    readonly fnType: string,
    readonly registered: readonly string[],
  ) {
    super(
      `no function ${fnType} is registered here; registered: ${
        registered.length === 0 ? '(none)' : registered.join(', ')
      }. Register it with new StatefulFunctions().withFunction(...)`,
      { code: 'UNKNOWN_FUNCTION' },
    );
  }
}

/**
 * A function's handler threw (or returned a rejected promise) while handling a message;
 * the original error is the `cause`. The batch's effects are discarded.
 *
 * @example
 * // registry.handle(bytes) rejects with it; the dispatcher turns it into a dead letter
 */
export class FunctionFailedError extends TerminalError {
  constructor(
    readonly fnType: string,
    readonly address: string,
    message: string,
    options: { cause: unknown },
  ) {
    super(message, { ...options, code: 'FUNCTION_FAILED' });
  }
}
