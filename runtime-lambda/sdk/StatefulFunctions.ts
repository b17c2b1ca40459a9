import { describeError, InvalidInputError } from '../core/errors';
import type { InvocationRequest, InvocationResponse } from '../core/Invocation';
import type { FunctionEndpoint, FunctionResolver } from '../core/ports/FunctionEndpoint';
import type { TypedValue } from '../core/TypedValue';
import { decodeToFunction, encodeFromFunction, fromFunctionMessage, readToFunction } from '../protocol/codec';
import type * as pb from '../protocol/generated/request-reply_pb';
import { RequestReplyEndpoint } from '../protocol/RequestReplyEndpoint';
import { ContextImpl } from './context_impl';
import type { FunctionDefinition, StateDecls, Storage } from './defineFunction';
import { FunctionFailedError, UnknownFunctionError } from './errors';
import { Message } from './Message';
import { Cell, StorageFactory } from './storage_impl';

interface Registered {
  readonly definition: FunctionDefinition<StateDecls>;
  readonly storage: StorageFactory;
}

/**
 * The functions a process serves, and the StateFun request-reply handler for them: give it
 * `ToFunction` bytes, get `FromFunction` bytes. Serve it embedded ({@link resolver}), as an
 * AWS Lambda (`lambdaHandler` in `sdk/lambda`) or over HTTP (`createHttpHandler` in
 * `sdk/http`).
 *
 * @example
 * const registry = new StatefulFunctions().withFunction(greeter).withFunction(counter);
 * const reply: Uint8Array = await registry.handle(toFunctionBytes);
 */
export class StatefulFunctions {
  private readonly functions = new Map<string, Registered>();
  private readonly endpoints = new Map<string, FunctionEndpoint>();

  /**
   * Registers a function definition (from {@link defineFunction}).
   *
   * @throws {@link InvalidInputError} when its type is already registered or it is not a
   * definition.
   */
  withFunction<S extends StateDecls>(definition: FunctionDefinition<S>): this {
    if (typeof definition?.typename !== 'string' || typeof definition.handle !== 'function' || !Array.isArray(definition.specs)) {
      throw new InvalidInputError('withFunction: expected a definition built with defineFunction({ typename, state, handle })');
    }
    if (this.functions.has(definition.typename)) {
      throw new InvalidInputError(`withFunction: function ${definition.typename} is already registered`);
    }
    this.functions.set(definition.typename, {
      definition: definition as unknown as FunctionDefinition<StateDecls>,
      storage: new StorageFactory(definition.typename, definition.specs),
    });
    return this;
  }

  /** The registered function types. */
  get functionTypes(): readonly string[] {
    return [...this.functions.keys()];
  }

  /**
   * Handles one request-reply exchange: decodes `ToFunction` bytes, runs the batch and
   * encodes the `FromFunction` reply. Replies IncompleteInvocationContext (listing every
   * missing spec with its expiration) when the request lacks declared state, as StateFun
   * does; otherwise runs the messages in order and replies the effects and the mutated
   * state only.
   *
   * @throws {@link InvalidInputError} for bytes that are not a valid `ToFunction`;
   * {@link UnknownFunctionError} for an unregistered type; {@link FunctionFailedError} when
   * the handler throws.
   *
   * @example
   * const reply = await registry.handle(new Uint8Array(await request.arrayBuffer()));
   */
  async handle(toFunction: Uint8Array): Promise<Uint8Array> {
    const request = decodeToFunction(toFunction);
    return encodeFromFunction(await this.invoke(request));
  }

  /** {@link handle} on the protocol's messages: the embedded endpoint's transport. */
  private exchangeMessages(toFunction: pb.ToFunction): Promise<pb.FromFunction> {
    // No async frames here: a batch of synchronous handlers is answered without awaiting.
    try {
      const response = this.run(readToFunction(toFunction, 'in process'));
      return response instanceof Promise ? response.then(replyMessage) : Promise.resolve(replyMessage(response));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * {@link handle} on decoded values: runs one invocation batch.
   *
   * @example
   * const response = await registry.invoke({ target: Address.of('example/greeter', 'ada'), state: [...], invocations: [...] });
   */
  async invoke(request: InvocationRequest): Promise<InvocationResponse> {
    return this.run(request);
  }

  /**
   * {@link invoke}, synchronous until a handler returns a promise: from there on the rest of
   * the batch runs in {@link finishAsync}.
   */
  private run(request: InvocationRequest): InvocationResponse | Promise<InvocationResponse> {
    const fnType = request.target.typename;
    const registered = this.functions.get(fnType);
    if (registered === undefined) throw new UnknownFunctionError(fnType, this.functionTypes);
    const { definition, storage } = registered;

    const cells: Cell[] = new Array(definition.specs.length);
    let missing: typeof definition.specs[number][] | undefined;
    for (let i = 0; i < definition.specs.length; i++) {
      const spec = definition.specs[i];
      const value = findState(request.state, spec.name);
      if (value === undefined) (missing ??= []).push(spec);
      else cells[i] = new Cell(spec, value, fnType);
    }
    if (missing !== undefined) return { kind: 'incomplete', missing: missing.map((s) => s.toCore()) };

    const ctx = new ContextImpl(request.target, storage.create(cells) as Storage<StateDecls>);
    for (let i = 0; i < request.invocations.length; i++) {
      const done = handleOne(definition, ctx, request, i);
      if (done !== undefined) return finishAsync(definition, ctx, request, i, done, cells);
    }
    return result(ctx, cells);
  }

  /**
   * An embedded endpoint for one registered type: a {@link RequestReplyEndpoint} over an
   * in-process transport. The request-reply exchange is {@link handle}'s, on the protocol's
   * messages instead of their bytes: the dispatcher builds the `ToFunction` message, the
   * SDK reads it with the checks of `decodeToFunction`, runs the batch through
   * {@link invoke} and builds the `FromFunction` message, which the dispatcher reads with
   * the checks of `decodeFromFunction`. Values are copied each way, as the bytes would be.
   *
   * @throws {@link UnknownFunctionError} when `fnType` is not registered.
   *
   * @example
   * const endpoint = registry.endpoint('example/greeter');
   * const response = await endpoint.invoke(request);
   */
  endpoint(fnType: string): FunctionEndpoint {
    const endpoint = this.resolver().resolve(fnType);
    if (endpoint === undefined) throw new UnknownFunctionError(fnType, this.functionTypes);
    return endpoint;
  }

  /**
   * A {@link FunctionResolver} serving every registered type embedded (see {@link endpoint});
   * `undefined` for other types.
   *
   * @example
   * const functions: FunctionResolver = registry.resolver();
   * const response = await functions.resolve('example/greeter')?.invoke(request);
   */
  resolver(): FunctionResolver {
    return {
      resolve: (fnType: string) => {
        if (!this.functions.has(fnType)) return undefined;
        let endpoint = this.endpoints.get(fnType);
        if (endpoint === undefined) {
          endpoint = new RequestReplyEndpoint(fnType, { exchangeMessages: (toFunction) => this.exchangeMessages(toFunction) });
          this.endpoints.set(fnType, endpoint);
        }
        return endpoint;
      },
    };
  }
}

/** Runs the handler on message `i`; a promise when the handler returned one. */
function handleOne(
  definition: FunctionDefinition<StateDecls>,
  ctx: ContextImpl,
  request: InvocationRequest,
  i: number,
): Promise<void> | undefined {
  const invocation = request.invocations[i];
  const caller = invocation.caller ?? null;
  ctx.caller = caller;
  try {
    const done = definition.handle(ctx, new Message(request.target, caller, invocation.argument));
    if (done !== undefined && typeof (done as Promise<void>).then === 'function') {
      return Promise.resolve(done).catch((cause: unknown) => {
        throw handlerFailure(definition.typename, request, i, cause);
      });
    }
  } catch (cause) {
    throw handlerFailure(definition.typename, request, i, cause);
  }
  return undefined;
}

/** The rest of a batch once message `i`'s handler returned `pending`. */
async function finishAsync(
  definition: FunctionDefinition<StateDecls>,
  ctx: ContextImpl,
  request: InvocationRequest,
  i: number,
  pending: Promise<void>,
  cells: readonly Cell[],
): Promise<InvocationResponse> {
  await pending;
  for (let next = i + 1; next < request.invocations.length; next++) {
    const done = handleOne(definition, ctx, request, next);
    if (done !== undefined) await done;
  }
  return result(ctx, cells);
}

function handlerFailure(fnType: string, request: InvocationRequest, i: number, cause: unknown): FunctionFailedError {
  const invocation = request.invocations[i];
  const caller = invocation.caller;
  return new FunctionFailedError(
    fnType,
    request.target.key,
    `function ${fnType} failed at ${request.target} on message ${i + 1} of ${request.invocations.length} (type ${invocation.argument.typename}${
      caller ? `, from ${caller}` : ''
    }): ${describeError(cause)}`,
    { cause },
  );
}

function result(ctx: ContextImpl, cells: readonly Cell[]): InvocationResponse {
  const mutations = [];
  for (const cell of cells) if (cell.mutated) mutations.push(cell.mutation());
  return { kind: 'result', mutations, messages: ctx.messages, delayed: ctx.delayed, egress: ctx.egresses };
}

function replyMessage(response: InvocationResponse): pb.FromFunction {
  return fromFunctionMessage(response, { copyValues: true });
}

function findState(state: InvocationRequest['state'], name: string): TypedValue | undefined {
  for (let i = 0; i < state.length; i++) if (state[i].name === name) return state[i].value;
  return undefined;
}
