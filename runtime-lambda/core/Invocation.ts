import type { Address } from './Address';
import type { TypedValue } from './TypedValue';
import type { ValueSpec } from './ValueSpec';

/**
 * One invocation batch for one address (the protocol's InvocationBatchRequest): the values
 * of its registered state (absent ones with `value: null`) and its pending messages in order.
 */
export interface InvocationRequest {
  readonly target: Address;
  readonly state: readonly { readonly name: string; readonly value: TypedValue }[];
  readonly invocations: readonly { readonly caller?: Address; readonly argument: TypedValue }[];
}

/** A change to one state value: a new value, or `null` to delete it. */
export interface StateMutation {
  readonly name: string;
  readonly value: TypedValue | null;
}

/** A delayed send, or the cancellation of one by token. */
export type DelayedInvocation =
  | {
      readonly kind: 'send';
      readonly delayMs: number;
      readonly target: Address;
      readonly argument: TypedValue;
      readonly cancellationToken?: string;
    }
  | { readonly kind: 'cancel'; readonly cancellationToken: string };

/** What a function did with a batch (the protocol's InvocationResponse). */
export interface InvocationResult {
  readonly kind: 'result';
  readonly mutations: readonly StateMutation[];
  readonly messages: readonly { readonly target: Address; readonly argument: TypedValue }[];
  readonly delayed: readonly DelayedInvocation[];
  readonly egress: readonly { readonly egress: string; readonly argument: TypedValue }[];
}

/**
 * The function needs state the request did not carry (the protocol's
 * IncompleteInvocationContext): register `missing` and invoke again.
 */
export interface IncompleteInvocation {
  readonly kind: 'incomplete';
  readonly missing: readonly ValueSpec[];
}

/** The reply to an {@link InvocationRequest}. */
export type InvocationResponse = InvocationResult | IncompleteInvocation;
