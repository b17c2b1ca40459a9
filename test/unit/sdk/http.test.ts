import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Address } from '../../../runtime-lambda/core/Address';
import { InvalidInputError, RetryableError, TerminalError } from '../../../runtime-lambda/core/errors';
import type { InvocationRequest } from '../../../runtime-lambda/core/Invocation';
import { decodeFromFunction, encodeToFunction } from '../../../runtime-lambda/protocol/codec';
import { httpTransport } from '../../../runtime-lambda/protocol/HttpTransport';
import { RequestReplyEndpoint } from '../../../runtime-lambda/protocol/RequestReplyEndpoint';
import { defineFunction, egressMessage, StatefulFunctions, Types } from '../../../runtime-lambda/sdk';
import { createHttpServer } from '../../../runtime-lambda/sdk/http';
import { rejection } from '../../helpers/rejection';

const registry = new StatefulFunctions()
  .withFunction(
    defineFunction({
      typename: 'example/greeter',
      state: { seen: Types.int },
      handle(ctx, msg) {
        ctx.storage.seen = (ctx.storage.seen ?? 0) + 1;
        ctx.egress(egressMessage({ egress: 'example/greetings', value: `Hello ${msg.as(Types.string)}`, type: Types.string }));
      },
    }),
  )
  .withFunction(
    defineFunction({
      typename: 'example/failing',
      handle() {
        throw new Error('boom');
      },
    }),
  );

const request = (fnType = 'example/greeter'): InvocationRequest => ({
  target: Address.of(fnType, 'ada'),
  state: [{ name: 'seen', value: { typename: 'io.statefun.types/int', value: null } }],
  invocations: [{ argument: { typename: 'io.statefun.types/string', value: Types.string.serialize('ada') } }],
});

/** Servers opened by a test, closed after it even when it fails. */
const opened: Server[] = [];

async function listen(server: Server): Promise<string> {
  opened.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/statefun`;
}

async function close(server: Server): Promise<void> {
  if (!server.listening) return;
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}


describe('Function: createHttpHandler', () => {
  const logger = { error: jest.fn(), warn: jest.fn() };
  const server = createHttpServer(registry, { logger });
  let url = '';

  beforeAll(async () => {
    url = await listen(server);
  });
  afterAll(() => close(server));
  beforeEach(() => {
    logger.error.mockClear();
    logger.warn.mockClear();
  });

  it('answers a POSTed ToFunction with FromFunction bytes', async () => {
    // Act
    const res = await fetch(url, { method: 'POST', body: encodeToFunction(request()) });

    // Assess
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    const response = decodeFromFunction(new Uint8Array(await res.arrayBuffer()));
    expect(response.kind === 'result' && response.egress[0].egress).toBe('example/greetings');
  });

  it('answers another method with 405 and Allow: POST', async () => {
    // Act
    const res = await fetch(url, { method: 'GET' });

    // Assess
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
    expect(await res.text()).toBe('method GET not allowed: a StateFun function endpoint accepts POST with ToFunction bytes\n');
  });

  it('answers a garbage body with 400 and the reason', async () => {
    // Act
    const res = await fetch(url, { method: 'POST', body: 'hello, world' });

    // Assess
    expect(res.status).toBe(400);
    expect(await res.text()).toBe('bad request: malformed ToFunction (12 bytes): cant skip wire type 4\n');
  });

  it('answers an unknown function type with 404', async () => {
    // Act
    const res = await fetch(url, { method: 'POST', body: encodeToFunction(request('example/nope')) });

    // Assess
    expect(res.status).toBe(404);
    expect(await res.text()).toBe(
      'no function example/nope is registered here; registered: example/greeter, example/failing. Register it with new StatefulFunctions().withFunction(...)\n',
    );
  });

  it('answers a failing handler with 500 and logs the error', async () => {
    // Act
    const res = await fetch(url, { method: 'POST', body: encodeToFunction({ ...request('example/failing'), state: [] }) });

    // Assess
    expect(res.status).toBe(500);
    const expected =
      'FunctionFailedError: function example/failing failed at example/failing/ada on message 1 of 1 (type io.statefun.types/string): Error: boom';
    expect(await res.text()).toBe(`function failed: ${expected}\n`);
    expect(logger.error).toHaveBeenCalledTimes(1);
    expect(logger.error.mock.calls[0][0]).toBe(`statefun http: 500: ${expected}`);
    expect((logger.error.mock.calls[0][1] as Error).cause).toEqual(new Error('boom'));
  });

  it('answers a body over maxRequestBytes with 413', async () => {
    // Prepare
    const small = createHttpServer(registry, { logger, maxRequestBytes: 10 });
    const smallUrl = await listen(small);

    // Act
    const res = await fetch(smallUrl, { method: 'POST', body: new Uint8Array(100) });

    // Assess
    expect(res.status).toBe(413);
    expect(await res.text()).toBe('request body of 100 bytes exceeds maxRequestBytes (10)\n');
    await close(small);
  });

  it('serves a RequestReplyEndpoint over httpTransport end to end', async () => {
    // Prepare
    const endpoint = new RequestReplyEndpoint('example/greeter', httpTransport({ url }));

    // Act
    const response = await endpoint.invoke(request());

    // Assess
    expect(response).toEqual({
      kind: 'result',
      mutations: [{ name: 'seen', value: { typename: 'io.statefun.types/int', value: Types.int.serialize(1) } }],
      messages: [],
      delayed: [],
      egress: [{ egress: 'example/greetings', argument: { typename: 'io.statefun.types/string', value: Types.string.serialize('Hello ada') } }],
    });
  });
});

describe('Function: httpTransport', () => {
  afterEach(async () => {
    await Promise.all(opened.splice(0).map(close));
  });

  /** A server failing the first `failures` requests with `status` (0 = never answer), then proxying to the registry. */
  function flakyServer(failures: number, status: number): { server: Server; hits: () => number } {
    let hits = 0;
    const real = createHttpServer(registry, { logger: { error: jest.fn(), warn: jest.fn() } });
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      hits++;
      if (hits <= failures) {
        if (status === 0) return; // hang: the client must time out
        req.resume();
        res.writeHead(status, { 'content-type': 'text/plain' });
        res.end(`failure ${hits}`);
        return;
      }
      real.emit('request', req, res);
    });
    return { server, hits: () => hits };
  }

  it('retries 5xx with backoff and succeeds', async () => {
    // Prepare
    const { server, hits } = flakyServer(2, 503);
    const url = await listen(server);
    const transport = httpTransport({ url, maxAttempts: 3, initialBackoffMs: 5 });

    // Act
    const reply = await transport(encodeToFunction(request()));

    // Assess
    expect(decodeFromFunction(reply).kind).toBe('result');
    expect(hits()).toBe(3);
  });

  it('gives up with a RetryableError when attempts run out', async () => {
    // Prepare
    const { server, hits } = flakyServer(5, 502);
    const url = await listen(server);
    const transport = httpTransport({ url, maxAttempts: 3, initialBackoffMs: 5 });

    // Act
    const error = await rejection(transport(encodeToFunction(request())));

    // Assess
    expect(error).toBeInstanceOf(RetryableError);
    expect((error as RetryableError).code).toBe('FUNCTION_UNAVAILABLE');
    expect(error.message).toBe(`function endpoint ${url} failed 3 times; last: HTTP 502 Bad Gateway: failure 3`);
    expect(hits()).toBe(3);
  });

  it('does not retry a 4xx and throws a TerminalError', async () => {
    // Prepare
    const { server, hits } = flakyServer(5, 403);
    const url = await listen(server);
    const transport = httpTransport({ url, maxAttempts: 3, initialBackoffMs: 5 });

    // Act
    const error = await rejection(transport(encodeToFunction(request())));

    // Assess
    expect(error).toBeInstanceOf(TerminalError);
    expect((error as TerminalError).code).toBe('FUNCTION_REJECTED');
    expect(error.message).toBe(`function endpoint ${url} rejected the request with HTTP 403 Forbidden: failure 1; not retried: fix the function or its URL`);
    expect(hits()).toBe(1);
  });

  it('times out a hanging server, retries, and succeeds', async () => {
    // Prepare
    const { server, hits } = flakyServer(1, 0);
    const url = await listen(server);
    const transport = httpTransport({ url, timeoutMs: 200, maxAttempts: 2, initialBackoffMs: 5 });

    // Act
    const reply = await transport(encodeToFunction(request()));

    // Assess
    expect(decodeFromFunction(reply).kind).toBe('result');
    expect(hits()).toBe(2);
  });

  it('reports timeouts when every attempt hangs', async () => {
    // Prepare
    const { server } = flakyServer(5, 0);
    const url = await listen(server);
    const transport = httpTransport({ url, timeoutMs: 100, maxAttempts: 2, initialBackoffMs: 5 });

    // Act
    const error = await rejection(transport(encodeToFunction(request())));

    // Assess
    expect(error).toBeInstanceOf(RetryableError);
    expect(error.message).toBe(`function endpoint ${url} failed 2 times; last: no response within 100 ms`);
  });

  it('reports a refused connection as retryable', async () => {
    // Prepare: a port that was just freed
    const probe = createServer();
    const url = await listen(probe);
    await close(probe);
    const transport = httpTransport({ url, maxAttempts: 2, initialBackoffMs: 5 });

    // Act
    const error = await rejection(transport(encodeToFunction(request())));

    // Assess
    expect(error).toBeInstanceOf(RetryableError);
    expect(error.message).toMatch(new RegExp(`^function endpoint ${url} failed 2 times; last: connection failed: ECONNREFUSED`));
  });

  it.each([
    ['declared', { 'content-length': '2000' }, 'a Content-Length of 2000 bytes, more'],
    ['streamed', {}, 'a body longer'],
  ])('refuses a %s response over maxResponseBytes', async (_case, headers, what) => {
    // Prepare
    const server = createServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'application/octet-stream', ...headers });
      res.end(Buffer.alloc(2_000));
    });
    const url = await listen(server);
    const transport = httpTransport({ url, maxResponseBytes: 1_000 });

    // Act
    const error = await rejection(transport(encodeToFunction(request())));

    // Assess
    expect(error).toBeInstanceOf(TerminalError);
    expect((error as TerminalError).code).toBe('RESPONSE_TOO_LARGE');
    expect(error.message).toBe(
      `function endpoint ${url} answered ${what} than maxResponseBytes (1000); raise maxResponseBytes or send less from the function`,
    );
  });

  it('turns a garbage reply into a TerminalError naming the function type', async () => {
    // Prepare
    const server = createServer((req, res) => {
      req.resume();
      res.end('<html>oops</html>');
    });
    const url = await listen(server);
    const endpoint = new RequestReplyEndpoint('example/greeter', httpTransport({ url }));

    // Act
    const error = await rejection(endpoint.invoke(request()));

    // Assess
    expect(error).toBeInstanceOf(TerminalError);
    expect((error as TerminalError).code).toBe('BAD_FUNCTION_RESPONSE');
    expect(error.message).toBe(
      'function example/greeter answered example/greeter/ada with an invalid response: malformed FromFunction (17 bytes): cant skip wire type 4',
    );
  });

  it('validates its options eagerly', () => {
    // Act
    const badUrl = () => httpTransport({ url: 'not a url' });
    const badScheme = () => httpTransport({ url: 'ftp://example.com/' });
    const badTimeout = () => httpTransport({ url: 'http://localhost/', timeoutMs: 0 });

    // Assess
    expect(badUrl).toThrow(InvalidInputError);
    expect(badUrl).toThrow('httpTransport: invalid url "not a url": expected an absolute http(s) URL');
    expect(badScheme).toThrow('httpTransport: invalid url "ftp://example.com/": expected http: or https:, got ftp:');
    expect(badTimeout).toThrow('httpTransport: timeoutMs must be a positive integer, got 0');
  });
});
