import type { Address } from '../Address';
import type { StoredValue } from '../AddressState';
import { RetryableError, StatefunError, TerminalError, describeError } from '../errors';
import type { InvocationRequest, InvocationResponse, InvocationResult } from '../Invocation';
import type { Clock } from '../ports/Clock';
import type { FunctionEndpoint, FunctionResolver } from '../ports/FunctionEndpoint';
import type { TypedValue } from '../TypedValue';
import type { ValueSpec } from '../ValueSpec';
import { type BackoffPolicy, type Sleep, backoffDelayMs } from './retry';

/** How many times a function may answer "missing state" for one call before it is a bug. */
const MAX_MISSING_STATE_ROUNDS = 3;

/** One message as the function sees it. */
export interface PendingInvocation {
  readonly caller?: Address;
  readonly argument: TypedValue;
}

/**
 * Calls functions through their endpoints: supplies the registered state, runs the
 * protocol's missing-state round trip (registering the specs a function declares), and
 * retries transient failures with backoff, never past the invocation's deadline.
 *
 * The registered specs are a cache: a cold instance learns them again from the function
 * (or from the values already stored), so no durable state hides here.
 */
export class FunctionInvoker {
  private readonly specsByType = new Map<string, Map<string, ValueSpec>>();

  constructor(
    private readonly functions: FunctionResolver,
    private readonly retry: BackoffPolicy,
    private readonly sleep: Sleep,
    private readonly clock: Clock,
  ) {}

  /** The specs registered for a function type so far, by state name. */
  specsOf(fnType: string): ReadonlyMap<string, ValueSpec> {
    return this.specsByType.get(fnType) ?? new Map();
  }

  /**
   * Invokes `target` with `invocations`, given its current live `values`, giving up at
   * `deadlineMs` (epoch ms on the dispatcher's clock).
   *
   * @throws {@link TerminalError} for an unknown function type, a function that reports a
   * failure that will repeat, or one that keeps declaring missing state: the caller
   * dead-letters the messages.
   * @throws {@link RetryableError} when the function stays unavailable through the attempts
   * (code `FUNCTION_UNAVAILABLE`) or the deadline comes first (code `DEADLINE_REACHED`): the
   * caller parks the messages and backs off.
   */
  async invoke(
    target: Address,
    values: ReadonlyMap<string, StoredValue>,
    invocations: readonly PendingInvocation[],
    deadlineMs = Number.POSITIVE_INFINITY,
  ): Promise<InvocationResult> {
    const endpoint = this.functions.resolve(target.typename);
    if (endpoint === undefined) {
      throw new TerminalError(
        `no function is registered for type "${target.typename}" (message to ${target.key}): register it in the application's function list`,
        { code: 'UNKNOWN_FUNCTION_TYPE' },
      );
    }
    for (let round = 0; round <= MAX_MISSING_STATE_ROUNDS; round++) {
      const request = this.buildRequest(target, values, invocations);
      // The retries are inline rather than in a helper: one async frame less per invocation.
      let response: InvocationResponse;
      for (let attempt = 1; ; attempt++) {
        try {
          response = await (deadlineMs === Number.POSITIVE_INFINITY ? endpoint.invoke(request) : this.invokeBefore(endpoint, request, deadlineMs));
          break;
        } catch (thrown) {
          await this.afterFailedAttempt(request, thrown, attempt, deadlineMs);
        }
      }
      if (response.kind === 'result') return response;
      this.register(target.typename, response.missing);
    }
    throw new TerminalError(
      `function "${target.typename}" still reports missing state after ${MAX_MISSING_STATE_ROUNDS} rounds: its declared state specs are inconsistent`,
      { code: 'MISSING_STATE_LOOP' },
    );
  }

  private buildRequest(
    target: Address,
    values: ReadonlyMap<string, StoredValue>,
    invocations: readonly PendingInvocation[],
  ): InvocationRequest {
    const specs = this.specsOf(target.typename);
    const state: { name: string; value: TypedValue }[] = [];
    // forEach rather than for...of: no iterator or entry arrays on this per-invocation path.
    specs.forEach((spec) => {
      const stored = values.get(spec.name);
      state.push({
        name: spec.name,
        value: stored ? { typename: stored.typename, value: stored.value } : { typename: spec.typename, value: null },
      });
    });
    values.forEach((stored, name) => {
      if (!specs.has(name)) state.push({ name, value: { typename: stored.typename, value: stored.value } });
    });
    return { target, state, invocations };
  }

  private register(fnType: string, missing: readonly ValueSpec[]): void {
    let specs = this.specsByType.get(fnType);
    if (specs === undefined) {
      specs = new Map();
      this.specsByType.set(fnType, specs);
    }
    for (const spec of missing) specs.set(spec.name, spec);
  }

  /**
   * One attempt that ends by `deadlineMs`: the endpoint is told the deadline, and if it does
   * not answer by then the attempt fails with `DEADLINE_REACHED` (a call in flight is left
   * behind; its answer is ignored).
   */
  private async invokeBefore(endpoint: FunctionEndpoint, request: InvocationRequest, deadlineMs: number): Promise<InvocationResponse> {
    const remainingMs = deadlineMs - this.clock.now();
    if (remainingMs <= 0) throw deadlineReached(request, 'before the attempt started');
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(deadlineReached(request, `after ${remainingMs} ms without an answer`)), remainingMs);
    });
    try {
      // Endpoints keep real time: the deadline as a wall-clock instant, whatever the dispatcher's clock.
      return await Promise.race([endpoint.invoke(request, { deadlineMs: Date.now() + remainingMs }), expired]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Waits out the backoff after failed attempt `attempt`, or throws when there is no retry left. */
  private async afterFailedAttempt(request: InvocationRequest, thrown: unknown, attempt: number, deadlineMs: number): Promise<void> {
    // Anything but a declared terminal failure may be transient (a user function's own
    // network call, say): it is retried, then the caller parks the messages and backs off.
    const retryable = thrown instanceof StatefunError ? thrown.retryable : true;
    const what = `function "${request.target.typename}" failed on ${request.target.key}`;
    if (!retryable) throw new TerminalError(`${what}: ${describeError(thrown)}`, { cause: thrown, code: 'FUNCTION_FAILED' });
    if (thrown instanceof RetryableError && thrown.code === 'DEADLINE_REACHED') throw thrown;
    if (attempt >= this.retry.maxAttempts) {
      throw new RetryableError(`${what} after ${attempt} attempts: ${describeError(thrown)}`, { cause: thrown, code: 'FUNCTION_UNAVAILABLE' });
    }
    const delayMs = backoffDelayMs(this.retry, attempt);
    if (this.clock.now() + delayMs >= deadlineMs) {
      throw new RetryableError(`${what} and no time is left for another attempt before the deadline: ${describeError(thrown)}`, {
        cause: thrown,
        code: 'DEADLINE_REACHED',
      });
    }
    await this.sleep(delayMs);
  }
}

function deadlineReached(request: InvocationRequest, when: string): RetryableError {
  return new RetryableError(`function "${request.target.typename}" on ${request.target.key} ran into the invocation's deadline ${when}`, {
    code: 'DEADLINE_REACHED',
  });
}
