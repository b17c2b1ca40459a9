import { LambdaClient } from '@aws-sdk/client-lambda';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Address } from '../../../runtime-lambda/core/Address';
import { InvalidInputError, RetryableError } from '../../../runtime-lambda/core/errors';
import type { InvocationRequest, InvocationResult } from '../../../runtime-lambda/core/Invocation';
import { moduleResolver } from '../../../runtime-lambda/module/moduleResolver';
import { parseModule } from '../../../runtime-lambda/module/parseModule';
import { defineFunction, egressMessage, StatefulFunctions, Types } from '../../../runtime-lambda/sdk';
import { createHttpHandler } from '../../../runtime-lambda/sdk/http';
import { lambdaHandler } from '../../../runtime-lambda/sdk/lambda';
import { rejection } from '../../helpers/rejection';
import { type LambdaInvokeEmulator, startLambdaInvokeEmulator } from '../../support/lambdaInvokeEmulator';

/** A function of type `typename` writing `<answer> <message>` to the egress `example/out`. */
const answering = (typename: string, answer: string) =>
  defineFunction({
    typename,
    handle(ctx, msg) {
      ctx.egress(egressMessage({ egress: 'example/out', value: `${answer} ${msg.as(Types.string)}`, type: Types.string }));
    },
  });

const registry = new StatefulFunctions()
  .withFunction(answering('example/greeter', 'hello'))
  .withFunction(answering('example/shouter', 'HEY'))
  .withFunction(answering('example/special', 'special'));

const request = (fnType: string, ...texts: string[]): InvocationRequest => ({
  target: Address.of(fnType, 'ada'),
  state: [],
  invocations: texts.map((text) => ({ argument: { typename: 'io.statefun.types/string', value: Types.string.serialize(text) } })),
});
const egressTexts = (result: unknown) => (result as InvocationResult).egress.map((e) => Types.string.deserialize(e.argument.value!));

describe('Function: moduleResolver', () => {
  /** Every request the server got: its path and headers. */
  const hits: { path: string; headers: IncomingHttpHeaders }[] = [];
  const handler = createHttpHandler(registry);
  /** Serves the registry on every path but `/slow`, which never answers. */
  const server: Server = createServer((req, res) => {
    hits.push({ path: req.url ?? '', headers: req.headers });
    if (req.url !== '/slow') handler(req, res);
  });
  let base = '';
  const module = (text: string) => parseModule(text.replaceAll('BASE', base), 'module.yaml');

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  beforeEach(() => {
    hits.length = 0;
  });

  it('calls {function.name} substituted by the type\'s name, the exact type winning over its namespace, and nothing for other types', async () => {
    // Prepare
    const functions = moduleResolver(
      module(`
kind: io.statefun.endpoints.v2/http
spec:
  functions: example/*
  urlPathTemplate: BASE/fns/{function.name}
---
kind: io.statefun.endpoints.v1/http
spec:
  functions: example/special
  urlPathTemplate: BASE/exact
`),
    );

    // Act
    const greeted = await functions.resolve('example/greeter')!.invoke(request('example/greeter', 'ada'));
    const shouted = await functions.resolve('example/shouter')!.invoke(request('example/shouter', 'bob'));
    const special = await functions.resolve('example/special')!.invoke(request('example/special', 'cy'));

    // Assess
    expect(hits.map((h) => h.path)).toEqual(['/fns/greeter', '/fns/shouter', '/exact']);
    expect([egressTexts(greeted), egressTexts(shouted), egressTexts(special)]).toEqual([['hello ada'], ['HEY bob'], ['special cy']]);
    expect(functions.resolve('example/greeter')).toBe(functions.resolve('example/greeter'));
    expect(functions.resolve('other/greeter')).toBeUndefined();
  });

  it('sends an address\'s backlog in requests of at most maxNumBatchRequests, with the headers given', async () => {
    // Prepare
    const functions = moduleResolver(
      module(`
kind: io.statefun.endpoints.v2/http
spec:
  functions: example/greeter
  urlPathTemplate: BASE/greeter
  maxNumBatchRequests: 2
`),
      { httpHeaders: { authorization: 'Bearer s3cr3t' } },
    );

    // Act
    const result = await functions.resolve('example/greeter')!.invoke(request('example/greeter', 'a', 'b', 'c', 'd', 'e'));

    // Assess
    expect(hits.map((h) => [h.path, h.headers.authorization])).toEqual([
      ['/greeter', 'Bearer s3cr3t'],
      ['/greeter', 'Bearer s3cr3t'],
      ['/greeter', 'Bearer s3cr3t'],
    ]);
    expect(egressTexts(result)).toEqual(['hello a', 'hello b', 'hello c', 'hello d', 'hello e']);
  });

  it('gives each attempt connect + write + read and retries until the call timeout is spent', async () => {
    // Prepare
    const functions = moduleResolver(
      module(`
kind: io.statefun.endpoints.v1/http
spec:
  functions: example/greeter
  urlPathTemplate: BASE/slow
  timeouts:
    call: 400ms
    connect: 40ms
    read: 40ms
    write: 40ms
`),
    );
    const started = Date.now();

    // Act
    const error = await rejection(functions.resolve('example/greeter')!.invoke(request('example/greeter', 'a')));

    // Assess
    const elapsedMs = Date.now() - started;
    expect(error).toBeInstanceOf(RetryableError);
    const [, attempts, lastAttemptMs] = /^function endpoint .*\/slow failed (\d+) times before the deadline; last: no response within (\d+) ms$/.exec(error.message) ?? [];
    expect(Number(attempts)).toBe(hits.length);
    expect(Number(attempts)).toBeGreaterThanOrEqual(2);
    expect(Number(lastAttemptMs)).toBeLessThanOrEqual(120);
    // At least two whole attempts of 120 ms; no attempt starts, and no backoff ends, after 400 ms.
    expect(elapsedMs).toBeGreaterThanOrEqual(240);
    expect(elapsedMs).toBeLessThan(1_500);
  });

  it('refuses a Lambda client and a client config together', () => {
    expect(() => moduleResolver({ file: 'm', endpoints: [], ingresses: [], egresses: [] }, { lambdaClient: new LambdaClient({}), lambdaClientConfig: {} })).toThrow(
      new InvalidInputError('moduleResolver takes either lambdaClient or lambdaClientConfig, not both: configure the client you pass'),
    );
  });

  describe('with a Lambda endpoint (Invoke API emulator)', () => {
    let lambda: LambdaInvokeEmulator;
    let client: LambdaClient;

    beforeAll(async () => {
      lambda = await startLambdaInvokeEmulator();
      client = new LambdaClient(lambda.clientConfig());
      lambda.register('shop-greeter', lambdaHandler(registry));
    });
    afterAll(async () => {
      client.destroy();
      await lambda.close();
    });

    it('invokes the function named by functionName, {function.name} substituted', async () => {
      // Prepare
      const functions = moduleResolver(
        parseModule(
          'kind: com.statefun-aws.endpoints.v1/lambda\nspec:\n  functions: example/*\n  functionName: arn:aws:lambda:us-east-1:123456789012:function:shop-{function.name}\n',
          'module.yaml',
        ),
        { lambdaClient: client },
      );

      // Act
      const result = await functions.resolve('example/greeter')!.invoke(request('example/greeter', 'ada'));

      // Assess
      expect(egressTexts(result)).toEqual(['hello ada']);
      expect(lambda.invocations.map((i) => i.functionName)).toEqual(['shop-greeter']);
    });
  });
});
