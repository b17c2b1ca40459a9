import type { Address } from '../../runtime-lambda/core/Address';
import type { DelayedInvocation, InvocationRequest, InvocationResponse, StateMutation } from '../../runtime-lambda/core/Invocation';
import type { FunctionEndpoint, FunctionResolver } from '../../runtime-lambda/core/ports/FunctionEndpoint';
import type { TypedValue } from '../../runtime-lambda/core/TypedValue';
import type { ValueSpec } from '../../runtime-lambda/core/ValueSpec';
import type { FraudContext, FraudFunction } from './functions';
import { jsonValue, readJson } from './messages';

/** Type name of the functions' JSON state values. */
const STATE_TYPE = 'fraud.types/JsonState';

/**
 * Serves a {@link FraudFunction} as an embedded endpoint speaking the core's invocation
 * types: declares its state specs (the protocol's missing-state round trip), runs each
 * message of the batch in order against the state, and returns mutations and effects.
 *
 * Stand-in for our SDK (runtime-lambda/sdk), which will replace it.
 */
export function coreEndpoint(fn: FraudFunction): FunctionEndpoint {
  const specs: ValueSpec[] = fn.state.map((s) => ({
    name: s.name,
    typename: STATE_TYPE,
    ...(s.expireAfterWriteMs !== undefined ? { expiration: { mode: 'after-write', afterMs: s.expireAfterWriteMs } } : {}),
  }));
  return {
    async invoke(request: InvocationRequest): Promise<InvocationResponse> {
      const supplied = new Map(request.state.map((s) => [s.name, s.value]));
      const missing = specs.filter((spec) => !supplied.has(spec.name));
      if (missing.length > 0) return { kind: 'incomplete', missing };

      const values = new Map<string, unknown>();
      for (const spec of specs) {
        const value = supplied.get(spec.name)!;
        if (value.value !== null) values.set(spec.name, readJson(STATE_TYPE, value));
      }
      const changed = new Set<string>();
      const messages: { target: Address; argument: TypedValue }[] = [];
      const delayed: DelayedInvocation[] = [];
      const egress: { egress: string; argument: TypedValue }[] = [];

      for (const invocation of request.invocations) {
        const ctx: FraudContext = {
          self: request.target,
          caller: invocation.caller,
          get: <T>(name: string) => values.get(name) as T | undefined,
          set: (name, value) => {
            if (!specs.some((s) => s.name === name)) throw new TypeError(`${fn.typename} has no state named "${name}"`);
            if (value === undefined) values.delete(name);
            else values.set(name, value);
            changed.add(name);
          },
          send: (to, typename, value) => void messages.push({ target: to, argument: jsonValue(typename, value) }),
          sendAfter: (delayMs, to, typename, value) =>
            void delayed.push({ kind: 'send', delayMs, target: to, argument: jsonValue(typename, value) }),
          egress: (name, typename, value) => void egress.push({ egress: name, argument: jsonValue(typename, value) }),
        };
        await fn.handle(ctx, invocation.argument);
      }
      const mutations: StateMutation[] = [...changed].map((name) => ({
        name,
        value: values.has(name) ? jsonValue(STATE_TYPE, values.get(name)) : null,
      }));
      return { kind: 'result', mutations, messages, delayed, egress };
    },
  };
}

/** A resolver serving each function by its type name. */
export function coreResolver(functions: readonly FraudFunction[]): FunctionResolver {
  const endpoints = new Map(functions.map((fn) => [fn.typename, coreEndpoint(fn)]));
  return { resolve: (fnType) => endpoints.get(fnType) };
}
