import { Address } from '../../runtime-lambda/core/Address';
import { RetryableError, TerminalError } from '../../runtime-lambda/core/errors';
import type { InvocationRequest, InvocationResponse, InvocationResult } from '../../runtime-lambda/core/Invocation';
import type { FunctionEndpoint, FunctionResolver } from '../../runtime-lambda/core/ports/FunctionEndpoint';
import type { ValueSpec } from '../../runtime-lambda/core/ValueSpec';
import { readText, textValue } from './factories';

type Mutable<T> = { -readonly [K in keyof T]: T[K] extends readonly (infer E)[] ? E[] : T[K] };

/**
 * A core-level test function speaking the core's invocation types directly (no SDK): it
 * declares one state value, `journal`, and appends every message's text to it. A text may
 * carry a command:
 * - `send <address> <text>`, `after <ms> <token|-> <address> <text>`, `cancel <token>`,
 *   `egress <text>`: the matching effect;
 * - `throw`: fails the whole call for good (a `TerminalError`: the function reports its
 *   failure as final);
 * - `unavailable`: fails the whole call transiently (a `RetryableError`, as an endpoint that
 *   answers 503), as long as {@link JournalFunction.unavailable} is true.
 * It records every request it receives, for assertions on batching and state supply.
 */
export class JournalFunction implements FunctionEndpoint {
  readonly requests: InvocationRequest[] = [];
  /** Whether `unavailable` messages fail (transiently); set false to let them through. */
  unavailable = true;

  constructor(private readonly spec: ValueSpec = { name: 'journal', typename: 'test/text' }) {}

  async invoke(request: InvocationRequest): Promise<InvocationResponse> {
    this.requests.push(request);
    const supplied = request.state.find((s) => s.name === this.spec.name);
    if (supplied === undefined) return { kind: 'incomplete', missing: [this.spec] };
    let journal = readText(supplied.value) ?? '';
    const result: Mutable<InvocationResult> = { kind: 'result', mutations: [], messages: [], delayed: [], egress: [] };
    for (const invocation of request.invocations) {
      const text = readText(invocation.argument) ?? '';
      const [command, ...rest] = text.split(' ');
      if (command === 'throw') throw new TerminalError(`journal function told to throw on ${request.target.key}`);
      if (command === 'unavailable' && this.unavailable) throw new RetryableError(`journal function unavailable on ${request.target.key}`, { code: 'FUNCTION_UNAVAILABLE' });
      if (command === 'send') result.messages.push({ target: Address.parse(rest[0]!), argument: textValue(rest.slice(1).join(' ')) });
      if (command === 'after') {
        const [ms, token, target, ...words] = rest;
        result.delayed.push({
          kind: 'send',
          delayMs: Number(ms),
          target: Address.parse(target!),
          argument: textValue(words.join(' ')),
          ...(token !== '-' ? { cancellationToken: token! } : {}),
        });
      }
      if (command === 'cancel') result.delayed.push({ kind: 'cancel', cancellationToken: rest[0]! });
      if (command === 'egress') result.egress.push({ egress: 'test/out', argument: textValue(rest.join(' ')) });
      journal = journal === '' ? text : `${journal}|${text}`;
    }
    result.mutations.push({ name: this.spec.name, value: textValue(journal) });
    return result;
  }
}

/** A resolver serving `fn` for every type in `types`. */
export function resolverOf(entries: Record<string, FunctionEndpoint>): FunctionResolver {
  return { resolve: (fnType) => entries[fnType] };
}
