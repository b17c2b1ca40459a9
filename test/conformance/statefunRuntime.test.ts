/*
 * Conformance with what StateFun 3.3's own runtime and Python SDK put on the wire where the
 * request-reply schema leaves a choice (apache/flink-statefun, tag release-3.3.0):
 * - the runtime sends a registered state that has no value as a PersistedValue with its
 *   state_name and no state_value (statefun-flink/statefun-flink-core/.../reqreply/
 *   PersistedRemoteFunctionValues.java, attachStateValues); our SDK's HTTP endpoint must
 *   serve such a request;
 * - the Python SDK answers a batch without effects with zero bytes: a FromFunction whose
 *   invocation_result is read but never set, so its response oneof is unset
 *   (statefun-sdk-python/statefun/request_reply_v3.py, collect_success), which the runtime
 *   reads as "no side effects" (.../reqreply/RequestReplyFunction.java, unpackResponse); our
 *   runtime must apply it, not dead-letter it.
 * Messages are built with the generated types the way that code builds them, and read with
 * the generated types where the real runtime would read them, not with our codec.
 */
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Address } from '../../runtime-lambda/core/Address';
import { LocalRuntime } from '../../runtime-lambda/local/LocalRuntime';
import * as pb from '../../runtime-lambda/protocol/generated/request-reply_pb';
import { httpTransport } from '../../runtime-lambda/protocol/HttpTransport';
import { RequestReplyEndpoint } from '../../runtime-lambda/protocol/RequestReplyEndpoint';
import { defineFunction, egressMessage, StatefulFunctions, Types } from '../../runtime-lambda/sdk';
import { createHttpServer } from '../../runtime-lambda/sdk/http';

const { MODIFY } = pb.FromFunction_PersistedValueMutation_MutationType;

/** Servers opened by a test, closed after it even when it fails. */
const opened: Server[] = [];

afterEach(async () => {
  await Promise.all(
    opened.splice(0).map(async (server) => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }),
  );
});

async function listen(server: Server): Promise<string> {
  opened.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/statefun`;
}

async function body(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe("Conformance: StateFun 3.3's runtime calls our SDK over HTTP", () => {
  const registry = new StatefulFunctions().withFunction(
    defineFunction({
      typename: 'example/greeter',
      state: { seen: Types.int, name: Types.string },
      handle(ctx) {
        ctx.egress(egressMessage({ egress: 'example/seen', value: `seen=${ctx.storage.seen} name=${ctx.storage.name}`, type: Types.string }));
        ctx.storage.seen = (ctx.storage.seen ?? 0) + 1;
      },
    }),
  );

  /**
   * The batch as the runtime builds it for example/greeter/ada with "seen" = 41 and "name"
   * registered but never written: a state with bytes gets a state_value with its registered
   * typename and has_value; the other gets its state_name only. The values are IntWrapper
   * { value: 41 } (0d 29000000) and StringWrapper { value: "ada" } (0a 03 616461).
   */
  function runtimeRequest(): Uint8Array {
    return toBinary(
      pb.ToFunctionSchema,
      create(pb.ToFunctionSchema, {
        request: {
          case: 'invocation',
          value: create(pb.ToFunction_InvocationBatchRequestSchema, {
            target: { namespace: 'example', type: 'greeter', id: 'ada' },
            state: [
              { stateName: 'seen', stateValue: { typename: 'io.statefun.types/int', hasValue: true, value: Buffer.from('0d29000000', 'hex') } },
              { stateName: 'name' },
            ],
            invocations: [{ argument: { typename: 'io.statefun.types/string', hasValue: true, value: Buffer.from('0a03616461', 'hex') } }],
          }),
        },
      }),
    );
  }

  it('answers 200 with an InvocationResponse, the state without state_value read as absent', async () => {
    // Prepare
    const url = await listen(createHttpServer(registry, { logger: { error: jest.fn(), warn: jest.fn() } }));

    // Act: the headers of the runtime's Netty client (core/nettyclient/NettyHeaders.java)
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream', accept: 'application/octet-stream', 'user-agent': 'statefun' },
      body: runtimeRequest(),
    });

    // Assess: what the runtime checks (2xx, octet-stream) and reads
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    const reply = fromBinary(pb.FromFunctionSchema, new Uint8Array(await res.arrayBuffer()));
    expect(reply.response.case).toBe('invocationResult');
    const result = reply.response.value as pb.FromFunction_InvocationResponse;
    expect(result.stateMutations.map((m) => [m.mutationType, m.stateName, m.stateValue?.typename, Buffer.from(m.stateValue?.value ?? []).toString('hex')])).toEqual([
      [MODIFY, 'seen', 'io.statefun.types/int', '0d2a000000'],
    ]);
    expect(result.outgoingEgresses.map((e) => [e.egressNamespace, e.egressType, Types.string.deserialize(e.argument!.value)])).toEqual([
      ['example', 'seen', 'seen=41 name=null'],
    ]);
  });
});

describe('Conformance: our runtime calls a function that answers as the Python SDK does', () => {
  /**
   * A function endpoint answering every batch as the Python SDK's RequestReplyHandler does
   * for a stateless function that has no effects, served as its aiohttp example serves it
   * (docs/content/docs/sdk/python.md: `web.Response(body=res, content_type="application/octet-stream")`):
   * the body is `FromFunction()` serialized, zero bytes. It keeps the batches it got.
   */
  function pythonSdkWithoutEffects(): { server: Server; batches: pb.ToFunction_InvocationBatchRequest[] } {
    const batches: pb.ToFunction_InvocationBatchRequest[] = [];
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      body(req)
        .then((bytes) => {
          const toFunction = fromBinary(pb.ToFunctionSchema, bytes);
          if (toFunction.request.case === 'invocation') batches.push(toFunction.request.value);
          const reply = toBinary(pb.FromFunctionSchema, create(pb.FromFunctionSchema));
          res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(reply.byteLength) });
          res.end(reply);
        })
        .catch((error: unknown) => res.writeHead(500).end(String(error)));
    });
    return { server, batches };
  }

  function runtimeCalling(url: string): LocalRuntime {
    const endpoint = new RequestReplyEndpoint('example/reader', httpTransport({ url }));
    return new LocalRuntime({ functions: { resolve: (fnType) => (fnType === 'example/reader' ? endpoint : undefined) } });
  }

  it('applies the messages of a batch answered with zero bytes, and dead-letters none', async () => {
    // Prepare
    const { server, batches } = pythonSdkWithoutEffects();
    const runtime = runtimeCalling(await listen(server));
    runtime.send(Address.of('example/reader', 'ada'), { typename: Types.string.typename, value: Types.string.serialize('read only') });

    // Act
    await runtime.runUntilIdle();

    // Assess
    expect(batches.map((b) => [b.target?.id, b.invocations.map((i) => Types.string.deserialize(i.argument!.value))])).toEqual([['ada', ['read only']]]);
    expect(runtime.deadLetters).toEqual([]);
    expect([runtime.stats.applied, runtime.stats.deadLettered]).toEqual([1, 0]);
  });

  it('still dead-letters a reply that is not protobuf, with the reason', async () => {
    // Prepare: a length-delimited invocation_result of 5 bytes with none of them sent
    const server = createServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(Buffer.from('a20605', 'hex'));
    });
    const runtime = runtimeCalling(await listen(server));
    runtime.send(Address.of('example/reader', 'ada'), { typename: Types.string.typename, value: Types.string.serialize('read only') });

    // Act
    await runtime.runUntilIdle();

    // Assess
    expect(runtime.deadLetters.map((d) => [d.address, d.reason])).toEqual([
      [
        'example/reader/ada',
        'TerminalError: function "example/reader" failed on example/reader/ada: TerminalError: function example/reader answered example/reader/ada with an invalid response: malformed FromFunction (3 bytes): premature EOF',
      ],
    ]);
  });
});
