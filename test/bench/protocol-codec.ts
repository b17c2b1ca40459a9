/*
 * Throughput of the request-reply path: the codec (encode ToFunction, decode it, encode
 * FromFunction, decode it), and a full invocation of an embedded function, in process (the
 * protocol's messages, no bytes) and through the bytes as a Lambda or HTTP function would.
 *
 *   npx tsx test/bench/protocol-codec.ts
 */
import { Address } from '../../runtime-lambda/core/Address';
import { decodeFromFunction, decodeToFunction, encodeFromFunction, encodeToFunction } from '../../runtime-lambda/protocol/codec';
import { RequestReplyEndpoint } from '../../runtime-lambda/protocol/RequestReplyEndpoint';
import { defineFunction, message, StatefulFunctions, Types } from '../../runtime-lambda/sdk';

const registry = new StatefulFunctions().withFunction(
  defineFunction({
    typename: 'fraud/count',
    state: { count: Types.int },
    handle(ctx, msg) {
      ctx.storage.count = (ctx.storage.count ?? 0) + msg.as(Types.int);
      ctx.send(message({ to: Address.of('fraud/sink', ctx.self.id), value: 1, type: Types.int }));
    },
  }),
);
const endpoint = registry.endpoint('fraud/count');
const throughBytes = new RequestReplyEndpoint('fraud/count', (bytes) => registry.handle(bytes));
const request = {
  target: Address.of('fraud/count', 'acct-42'),
  state: [{ name: 'count', value: { typename: 'io.statefun.types/int', value: Types.int.serialize(5) } }],
  invocations: [{ caller: Address.of('fraud/ingress', 'x'), argument: { typename: 'com.example/Tx', value: new Uint8Array(200) } }],
};
const result = {
  kind: 'result' as const,
  mutations: [{ name: 'count', value: { typename: 'io.statefun.types/int', value: Types.int.serialize(6) } }],
  messages: [{ target: Address.of('fraud/sink', 'acct-42'), argument: { typename: 'com.example/Tx', value: new Uint8Array(200) } }],
  delayed: [],
  egress: [],
};

async function measure(name: string, n: number, run: () => unknown): Promise<void> {
  for (let round = 0; round < 3; round++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) await run();
    const perSecond = n / (Number(process.hrtime.bigint() - start) / 1e9);
    if (round === 2) console.log(`${name.padEnd(52)} ${Math.round(perSecond).toLocaleString('en-US').padStart(12)} /s`);
  }
}

void (async () => {
  const toFunction = encodeToFunction(request);
  const fromFunction = encodeFromFunction(result);
  await measure('codec: ToFunction + FromFunction round trip', 200_000, () => {
    decodeToFunction(encodeToFunction(request));
    decodeFromFunction(encodeFromFunction(result));
  });
  await measure('codec: decode ToFunction', 200_000, () => decodeToFunction(toFunction));
  await measure('codec: decode FromFunction', 200_000, () => decodeFromFunction(fromFunction));
  const oneIncrement = { ...request, invocations: [{ argument: { typename: 'io.statefun.types/int', value: Types.int.serialize(1) } }] };
  await measure('embedded endpoint: full invocation, in process', 100_000, () => endpoint.invoke(oneIncrement));
  await measure('embedded endpoint: full invocation, through bytes', 100_000, () => throughBytes.invoke(oneIncrement));
})();
