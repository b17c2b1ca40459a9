import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FunctionResolver } from '../../runtime-lambda/core/ports/FunctionEndpoint';
import type { StatefunModule } from '../../runtime-lambda/module/model';
import { httpTransport } from '../../runtime-lambda/protocol/HttpTransport';
import { RequestReplyEndpoint } from '../../runtime-lambda/protocol/RequestReplyEndpoint';
import { Address, StatefulFunctions, Types, defineFunction, egressMessage, jsonType, message } from '../../runtime-lambda/sdk';
import { createHttpServer } from '../../runtime-lambda/sdk/http';

/*
 * A module for the tests of `statefun dev --module`: StateFun's playground greeter written
 * with our SDK, served over HTTP on a free port, behind a playground ingress and egress.
 */

const GreetRequest = jsonType<{ name: string }>('example/GreetRequest');
const EgressRecord = jsonType<{ topic: string; payload: string }>('io.statefun.playground/EgressRecord');
const toEgress = (topic: string, payload: string) => egressMessage({ egress: 'io.statefun.playground/egress', value: { topic, payload }, type: EgressRecord });

/** The playground greeter, with our SDK: counts visits, greets on the egress; `remind` greets again after 300 ms. */
export const greeterFunctions = new StatefulFunctions()
  .withFunction(
    defineFunction({
      typename: 'example/person',
      state: { visits: Types.int },
      handle(ctx, msg) {
        const { name } = msg.as(GreetRequest);
        const visits = (ctx.storage.visits ?? 0) + 1;
        ctx.storage.visits = visits;
        ctx.send(message({ to: Address.of('example/greeter', name), value: `${name}#${visits}`, type: Types.string }));
      },
    }),
  )
  .withFunction(
    defineFunction({
      typename: 'example/greeter',
      handle(ctx, msg) {
        const text = msg.as(Types.string);
        if (text.startsWith('remind ')) {
          ctx.sendAfter(300, message({ to: ctx.self, value: `again ${text.slice(7)}`, type: Types.string }));
          return;
        }
        const [name, visits] = text.split('#');
        ctx.egress(toEgress(name === 'nobody' ? 'nowhere' : 'greetings', visits === undefined ? text : `Hello ${name}, visit ${visits}`));
      },
    }),
  );

export const source = (document: number, kind: string) => ({ file: 'module.yaml', document, kind });

export function moduleFor(functionsUrl: string): StatefunModule {
  const timeouts = { callMs: 60_000, connectMs: 10_000, readMs: 10_000, writeMs: 10_000 };
  return {
    file: 'module.yaml',
    endpoints: [
      {
        kind: 'http',
        source: source(1, 'io.statefun.endpoints.v2/http'),
        functions: { namespace: 'example' },
        urlPathTemplate: functionsUrl,
        maxNumBatchRequests: 1000,
        timeouts,
        transport: { type: 'io.statefun.transports.v1/async', payloadMaxBytes: 32 * 1024 * 1024 },
      },
    ],
    ingresses: [{ kind: 'playground', source: source(2, 'io.statefun.playground.v1/ingress'), id: 'io.statefun.playground/ingress', port: 0, host: '127.0.0.1', maxBodyBytes: 1024 * 1024 }],
    egresses: [{ kind: 'playground', source: source(3, 'io.statefun.playground.v1/egress'), id: 'io.statefun.playground/egress', port: 0, host: '127.0.0.1', topics: ['greetings'] }],
  };
}

/** The module's HTTP endpoint for every `example/*` type. */
export function resolverFor(url: string): FunctionResolver {
  return { resolve: (fnType) => (fnType.startsWith('example/') ? new RequestReplyEndpoint(fnType, httpTransport({ url })) : undefined) };
}

/** Serves {@link greeterFunctions} over HTTP on a free port: its URL, and how to stop it. */
export async function serveGreeter(): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createHttpServer(greeterFunctions);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/statefun`,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
