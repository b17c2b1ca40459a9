import { Address } from '../../runtime-lambda/core/Address';
import { StatefunError } from '../../runtime-lambda/core/errors';
import type { InvocationRequest, InvocationResult } from '../../runtime-lambda/core/Invocation';
import type { FunctionEndpoint } from '../../runtime-lambda/core/ports/FunctionEndpoint';
import { StatefulFunctions, Types, defineFunction, egressMessage, message } from '../../runtime-lambda/sdk';

/** The functions every endpoint under contract serves. */
export function contractFunctions(): StatefulFunctions {
  const echo = defineFunction({
    typename: 'contract/echo',
    state: { seen: Types.int, note: { type: Types.string, expireAfterWrite: 60_000 } },
    handle(ctx, msg) {
      const text = msg.as(Types.string);
      if (text === 'throw') throw new Error('echo was told to throw');
      ctx.storage.seen = (ctx.storage.seen ?? 0) + 1;
      ctx.storage.note = text.length > 100 ? `${text.length} chars` : text;
      ctx.send(message({ to: Address.of('contract/echo', 'peer'), value: text, type: Types.string }));
      ctx.sendAfter(5000, message({ to: ctx.self, value: 'later', type: Types.string }), 'tok');
      ctx.cancelDelayedMessage('old-tok');
      ctx.egress(egressMessage({ egress: 'contract/out', value: `echo ${text.slice(0, 10)}`, type: Types.string }));
    },
  });
  return new StatefulFunctions().withFunction(echo);
}

export interface EndpointUnderTest {
  /** The endpoint serving `fnType` of {@link contractFunctions}. */
  endpoint(fnType: string): FunctionEndpoint;
  close?(): Promise<void>;
}

const target = Address.of('contract/echo', 'e1');
const str = (text: string) => ({ typename: Types.string.typename, value: Types.string.serialize(text) });

function request(text: string, withState: boolean): InvocationRequest {
  return {
    target,
    state: withState
      ? [
          { name: 'seen', value: { typename: Types.int.typename, value: Types.int.serialize(41) } },
          { name: 'note', value: { typename: Types.string.typename, value: null } },
        ]
      : [],
    invocations: [{ caller: Address.of('contract/caller', 'c'), argument: str(text) }],
  };
}

/**
 * The contract every {@link FunctionEndpoint} passes, embedded, AWS Lambda or HTTP alike:
 * the same request gives the same answer, and failures come back as {@link StatefunError}s
 * naming the function.
 */
export function describeFunctionEndpointContract(name: string, make: () => Promise<EndpointUnderTest>): void {
  describe(`FunctionEndpoint contract: ${name}`, () => {
    let underTest: EndpointUnderTest;

    beforeAll(async () => {
      underTest = await make();
    });
    afterAll(async () => {
      await underTest?.close?.();
    });

    it('answers a request without the declared state with the missing specs, expiry included', async () => {
      // Act
      const response = await underTest.endpoint('contract/echo').invoke(request('hi', false));

      // Assess
      expect(response).toEqual({
        kind: 'incomplete',
        missing: [
          { name: 'seen', typename: 'io.statefun.types/int' },
          { name: 'note', typename: 'io.statefun.types/string', expiration: { mode: 'after-write', afterMs: 60_000 } },
        ],
      });
    });

    it('answers a complete request with state mutations, messages, delayed messages, cancellations and egress', async () => {
      // Act
      const response = (await underTest.endpoint('contract/echo').invoke(request('hi', true))) as InvocationResult;

      // Assess
      expect(response.kind).toBe('result');
      const text = (v: { value: Uint8Array | null } | null) => (v?.value ? Buffer.from(v.value).toString('hex') : null);
      expect(response.mutations.map((m) => [m.name, m.value?.typename, text(m.value)])).toEqual([
        ['seen', 'io.statefun.types/int', Buffer.from(Types.int.serialize(42)).toString('hex')],
        ['note', 'io.statefun.types/string', Buffer.from(Types.string.serialize('hi')).toString('hex')],
      ]);
      expect(response.messages.map((m) => [m.target.key, Types.string.deserialize(m.argument.value!)])).toEqual([['contract/echo/peer', 'hi']]);
      expect(response.delayed.map((d) => (d.kind === 'send' ? [d.kind, d.delayMs, d.target.key, d.cancellationToken] : [d.kind, d.cancellationToken]))).toEqual([
        ['send', 5000, target.key, 'tok'],
        ['cancel', 'old-tok'],
      ]);
      expect(response.egress.map((e) => [e.egress, Types.string.deserialize(e.argument.value!)])).toEqual([['contract/out', 'echo hi']]);
    });

    it('carries a 1 MiB argument intact', async () => {
      // Prepare
      const big = 'x'.repeat(1024 * 1024);

      // Act
      const response = (await underTest.endpoint('contract/echo').invoke(request(big, true))) as InvocationResult;

      // Assess
      expect(Types.string.deserialize(response.messages[0]!.argument.value!)).toBe(big);
    });

    it('fails with a StatefunError naming the function when the function throws', async () => {
      // Act
      const failure = await underTest.endpoint('contract/echo').invoke(request('throw', true)).then(
        () => undefined,
        (error: unknown) => error,
      );

      // Assess
      expect(failure).toBeInstanceOf(StatefunError);
      expect((failure as Error).message).toContain('contract/echo');
    });
  });
}
