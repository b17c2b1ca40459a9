import type { InvocationRequest, InvocationResponse } from '../Invocation';

/**
 * Where a function type runs (port): embedded in the process, behind AWS Lambda, or behind
 * an HTTP request-reply endpoint. All of them speak the StateFun request-reply protocol.
 *
 * Implementations throw a {@link RetryableError} for transient failures (timeouts,
 * throttling, 5xx) and a {@link TerminalError} for failures that will repeat (a function
 * that throws, a garbage response).
 */
export interface FunctionEndpoint {
  invoke(request: InvocationRequest, options?: InvokeOptions): Promise<InvocationResponse>;
}

/** How long one invocation may take, all its attempts included. */
export interface InvokeOptions {
  /**
   * When the caller stops waiting, in wall-clock epoch ms (`Date.now()`, even when the
   * dispatcher runs on a simulated clock): no attempt should start, or run, past it. An
   * endpoint that cannot stop a call in flight may ignore it: the caller stops waiting anyway.
   */
  readonly deadlineMs?: number;
}

/** Finds the endpoint serving a function type, or `undefined` for an unknown type. */
export interface FunctionResolver {
  resolve(fnType: string): FunctionEndpoint | undefined;
}
