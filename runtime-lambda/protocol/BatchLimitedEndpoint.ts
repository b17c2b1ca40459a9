import { InvalidInputError } from '../core/errors';
import type { DelayedInvocation, InvocationRequest, InvocationResponse, InvocationResult, StateMutation } from '../core/Invocation';
import type { FunctionEndpoint, InvokeOptions } from '../core/ports/FunctionEndpoint';
import type { TypedValue } from '../core/TypedValue';

/**
 * A {@link FunctionEndpoint} that sends at most `maxNumBatchRequests` invocations per request
 * (StateFun's endpoint setting of that name): a longer batch goes in order as several
 * requests, each carrying the state the previous one left, and the replies are merged into
 * one result, their effects in order.
 *
 * It wraps the endpoint rather than living in the dispatcher because the cap belongs to the
 * endpoint (module.yaml sets it per endpoint) while the dispatcher keeps its one plan and one
 * conditional commit per address batch: the chunks' effects are committed together, exactly
 * once, as if one request had carried them. Functions are pure request-reply (their effects
 * are only in the reply), so re-running earlier chunks on a retry only costs time.
 *
 * - A chunk that fails: the whole invoke fails with its error (earlier chunks' effects are
 *   dropped); the caller retries or dead-letters the whole batch, as for one request.
 * - A chunk answering "missing state" (the protocol's `IncompleteInvocationContext`): that
 *   answer is returned as is, earlier chunks' effects dropped: the caller registers the specs
 *   and invokes the whole batch again from its original state.
 *
 * @throws {@link InvalidInputError} at construction when `maxNumBatchRequests` is not a
 * positive integer.
 *
 * @example
 * const endpoint = new BatchLimitedEndpoint(
 *   new RequestReplyEndpoint('example/greeter', httpTransport({ url: 'http://localhost:8000/statefun' })),
 *   1000,
 * );
 */
export class BatchLimitedEndpoint implements FunctionEndpoint {
  constructor(
    private readonly inner: FunctionEndpoint,
    /** At most this many invocations per request. */
    readonly maxNumBatchRequests: number,
  ) {
    if (!Number.isSafeInteger(maxNumBatchRequests) || maxNumBatchRequests < 1) {
      throw new InvalidInputError(`BatchLimitedEndpoint: maxNumBatchRequests must be a positive integer, got ${String(maxNumBatchRequests)}`);
    }
  }

  invoke(request: InvocationRequest, options?: InvokeOptions): Promise<InvocationResponse> {
    // No async frame of its own on the usual path: this runs once per invocation.
    if (request.invocations.length <= this.maxNumBatchRequests) return this.inner.invoke(request, options);
    return this.invokeInChunks(request, options);
  }

  private async invokeInChunks(request: InvocationRequest, options?: InvokeOptions): Promise<InvocationResponse> {
    const max = this.maxNumBatchRequests;
    const all = request.invocations;
    const mutations: StateMutation[] = [];
    const messages: InvocationResult['messages'][number][] = [];
    const delayed: DelayedInvocation[] = [];
    const egress: InvocationResult['egress'][number][] = [];
    let state = request.state;
    for (let start = 0; start < all.length; start += max) {
      const response = await this.inner.invoke({ target: request.target, state, invocations: all.slice(start, start + max) }, options);
      if (response.kind === 'incomplete') return response;
      mutations.push(...response.mutations);
      messages.push(...response.messages);
      delayed.push(...response.delayed);
      egress.push(...response.egress);
      state = applyMutations(state, response.mutations);
    }
    return { kind: 'result', mutations, messages, delayed, egress };
  }
}

/** The state the next chunk sees: `state` with `mutations` applied (a delete leaves the name with no value, as the protocol sends it). */
function applyMutations(state: InvocationRequest['state'], mutations: readonly StateMutation[]): InvocationRequest['state'] {
  if (mutations.length === 0) return state;
  const next = new Map<string, TypedValue>(state.map((entry) => [entry.name, entry.value]));
  for (const { name, value } of mutations) {
    const typename = value?.typename ?? next.get(name)?.typename;
    // A delete of a value never sent: nothing to carry.
    if (typename === undefined) continue;
    next.set(name, value ?? { typename, value: null });
  }
  return Array.from(next, ([name, value]) => ({ name, value }));
}
