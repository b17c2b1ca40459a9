import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Address } from '../../../runtime-lambda/core/Address';
import { FunctionInvoker } from '../../../runtime-lambda/core/dispatch/FunctionInvoker';
import { InvalidInputError, RetryableError } from '../../../runtime-lambda/core/errors';
import type { InvocationRequest, InvocationResponse, InvocationResult } from '../../../runtime-lambda/core/Invocation';
import type { FunctionEndpoint, InvokeOptions } from '../../../runtime-lambda/core/ports/FunctionEndpoint';
import { systemClock } from '../../../runtime-lambda/core/ports/Clock';
import type { TypedValue } from '../../../runtime-lambda/core/TypedValue';
import { BatchLimitedEndpoint } from '../../../runtime-lambda/protocol/BatchLimitedEndpoint';
import { httpTransport } from '../../../runtime-lambda/protocol/HttpTransport';
import { RequestReplyEndpoint } from '../../../runtime-lambda/protocol/RequestReplyEndpoint';
import { defineFunction, egressMessage, jsonType, message, StatefulFunctions, Types } from '../../../runtime-lambda/sdk';
import { createHttpServer } from '../../../runtime-lambda/sdk/http';
import { rejection } from '../../helpers/rejection';

const Entries = jsonType<string[]>('example/Entries');

/** Appends each message's text to `entries`, sends it on and writes it to an egress; `boom` throws. */
const journal = defineFunction({
  typename: 'example/journal',
  state: { entries: Entries },
  handle(ctx, msg) {
    const text = msg.as(Types.string);
    if (text === 'boom') throw new Error('told to fail on boom');
    ctx.storage.entries = [...(ctx.storage.entries ?? []), text];
    ctx.send(message({ to: Address.of('example/audit', text), value: text, type: Types.string }));
    ctx.egress(egressMessage({ egress: 'example/log', value: text, type: Types.string }));
  },
});

/** Passes every request to `inner`, keeping them for assertions. */
class Recording implements FunctionEndpoint {
  readonly requests: InvocationRequest[] = [];
  constructor(private readonly inner: FunctionEndpoint) {}
  invoke(request: InvocationRequest, options?: InvokeOptions): Promise<InvocationResponse> {
    this.requests.push(request);
    return this.inner.invoke(request, options);
  }
}

const target = Address.of('example/journal', 'ada');
const text = (value: string) => ({ argument: { typename: 'io.statefun.types/string', value: Types.string.serialize(value) } });
const entriesOf = (value: TypedValue | null | undefined) => (value?.value ? Entries.deserialize(value.value) : null);
const stateOf = (request: InvocationRequest) => entriesOf(request.state.find((s) => s.name === 'entries')?.value);
const absentEntries = { name: 'entries', value: { typename: 'example/Entries', value: null } };

describe('Class: BatchLimitedEndpoint', () => {
  const server: Server = createHttpServer(new StatefulFunctions().withFunction(journal), { logger: { error: () => {}, warn: () => {} } });
  let url = '';
  const overHttp = () => new Recording(new RequestReplyEndpoint('example/journal', httpTransport({ url, maxAttempts: 1 })));

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/statefun`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('sends a batch no longer than the limit as it is, in one request', async () => {
    // Prepare
    const inner = overHttp();
    const request: InvocationRequest = { target, state: [absentEntries], invocations: [text('a'), text('b')] };

    // Act
    const response = await new BatchLimitedEndpoint(inner, 2).invoke(request);

    // Assess
    expect(inner.requests).toEqual([request]);
    expect(response.kind === 'result' && entriesOf(response.mutations[0].value)).toEqual(['a', 'b']);
  });

  it('sends a longer batch in order, in requests of at most the limit, each seeing the state the previous left, and merges the effects in order', async () => {
    // Prepare
    const inner = overHttp();
    const texts = ['a', 'b', 'c', 'd', 'e'];

    // Act
    const response = (await new BatchLimitedEndpoint(inner, 2).invoke({ target, state: [absentEntries], invocations: texts.map(text) })) as InvocationResult;

    // Assess
    expect(inner.requests.map((r) => r.invocations.map((i) => Types.string.deserialize(i.argument.value!)))).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
    expect(inner.requests.map(stateOf)).toEqual([null, ['a', 'b'], ['a', 'b', 'c', 'd']]);
    expect(response.mutations.map((m) => entriesOf(m.value))).toEqual([
      ['a', 'b'],
      ['a', 'b', 'c', 'd'],
      ['a', 'b', 'c', 'd', 'e'],
    ]);
    expect(response.messages.map((m) => m.target.id)).toEqual(texts);
    expect(response.egress.map((e) => Types.string.deserialize(e.argument.value!))).toEqual(texts);
  });

  it('fails the whole batch when a later request fails, and sends nothing after it', async () => {
    // Prepare
    const inner = overHttp();

    // Act
    const error = await rejection(new BatchLimitedEndpoint(inner, 2).invoke({ target, state: [absentEntries], invocations: ['a', 'b', 'boom', 'd', 'e'].map(text) }));

    // Assess
    expect(error).toBeInstanceOf(RetryableError);
    expect(error.message).toMatch(/^function endpoint http:\/\/127\.0\.0\.1:\d+\/statefun failed 1 time; last: HTTP 500 Internal Server Error/);
    expect(inner.requests.map((r) => r.invocations.length)).toEqual([2, 2]);
  });

  it('runs the missing-state round trip of the first request through the invoker, then the whole batch from the original state', async () => {
    // Prepare
    const inner = overHttp();
    const endpoint = new BatchLimitedEndpoint(inner, 2);
    const invoker = new FunctionInvoker({ resolve: () => endpoint }, { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 }, async () => {}, systemClock);

    // Act
    const result = await invoker.invoke(target, new Map(), ['a', 'b', 'c'].map(text));

    // Assess
    expect(inner.requests.map((r) => [r.invocations.length, r.state.map((s) => s.name), stateOf(r)])).toEqual([
      [2, [], null],
      [2, ['entries'], null],
      [1, ['entries'], ['a', 'b']],
    ]);
    expect(entriesOf(result.mutations[result.mutations.length - 1].value)).toEqual(['a', 'b', 'c']);
  });

  it('returns a later request\'s missing-state answer as it is, dropping the earlier effects, and carries a deleted value as absent', async () => {
    // Prepare
    const missing: InvocationResponse = { kind: 'incomplete', missing: [{ name: 'other', typename: 'example/Other' }] };
    const deleted: InvocationResult = { kind: 'result', mutations: [{ name: 'entries', value: null }], messages: [], delayed: [], egress: [] };
    const answers = [deleted, missing];
    const inner = new Recording({ invoke: async () => answers.shift()! });
    const present = { name: 'entries', value: { typename: 'example/Entries', value: Entries.serialize(['x']) } };

    // Act
    const response = await new BatchLimitedEndpoint(inner, 1).invoke({ target, state: [present], invocations: ['a', 'b', 'c'].map(text) });

    // Assess
    expect(response).toBe(missing);
    expect(inner.requests.map((r) => r.state)).toEqual([[present], [absentEntries]]);
  });

  it.each([[0], [1.5], [Number.NaN]])('refuses a limit of %p', (limit) => {
    expect(() => new BatchLimitedEndpoint(overHttp(), limit)).toThrow(
      new InvalidInputError(`BatchLimitedEndpoint: maxNumBatchRequests must be a positive integer, got ${String(limit)}`),
    );
  });
});
