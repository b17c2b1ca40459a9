import { Address } from '../../runtime-lambda/core/Address';
import type { InvocationRequest, InvocationResult } from '../../runtime-lambda/core/Invocation';
import type { TypedValue } from '../../runtime-lambda/core/TypedValue';

/** UTF-8 bytes of `text`. */
export function utf8(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'utf8'));
}

/** A JSON value of type `typename`. */
export function jsonValue(typename: string, value: unknown): TypedValue {
  return { typename, value: utf8(JSON.stringify(value)) };
}

/** An invocation batch for `example/greeter/<id>` with one absent and one present state value. */
export function invocationRequestFactory(overrides: Partial<InvocationRequest> = {}): InvocationRequest {
  return {
    target: Address.of('example/greeter', 'ada'),
    state: [
      { name: 'seen', value: { typename: 'io.statefun.types/int', value: null } },
      { name: 'profile', value: jsonValue('example/Profile', { name: 'Ada' }) },
    ],
    invocations: [
      { argument: jsonValue('example/Greet', { text: 'hello' }) },
      { caller: Address.of('example/front', 'web-1'), argument: { typename: 'example/Empty', value: new Uint8Array(0) } },
    ],
    ...overrides,
  };
}

/** A reply using every kind of effect. */
export function invocationResultFactory(overrides: Partial<InvocationResult> = {}): InvocationResult {
  return {
    kind: 'result',
    mutations: [
      { name: 'seen', value: { typename: 'io.statefun.types/int', value: new Uint8Array([13, 1, 0, 0, 0]) } },
      { name: 'profile', value: null },
    ],
    messages: [{ target: Address.of('example/audit', 'ada'), argument: jsonValue('example/Seen', { n: 1 }) }],
    delayed: [
      {
        kind: 'send',
        delayMs: 60_000,
        target: Address.of('example/greeter', 'ada'),
        argument: jsonValue('example/Remind', {}),
        cancellationToken: 'remind-ada',
      },
      { kind: 'send', delayMs: 0, target: Address.of('example/greeter', 'bob'), argument: jsonValue('example/Remind', {}) },
      { kind: 'cancel', cancellationToken: 'old-token' },
    ],
    egress: [{ egress: 'example/alerts', argument: jsonValue('example/Alert', { level: 'high' }) }],
    ...overrides,
  };
}
