import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidInputError, RetryableError } from '../../../runtime-lambda/core/errors';
import type { FunctionResolver } from '../../../runtime-lambda/core/ports/FunctionEndpoint';
import { type DevModuleOpts, type DevModuleSession, startDevModule } from '../../../runtime-lambda/local/devModule';
import type { PlaygroundEgressSpec, PlaygroundIngressSpec, StatefunModule } from '../../../runtime-lambda/module/model';
import { moduleFor, resolverFor, serveGreeter, source } from '../../helpers/devModuleFixture';

describe('startDevModule: a StateFun module on the embedded runtime, its functions over HTTP', () => {
  let greeter: Awaited<ReturnType<typeof serveGreeter>>;
  let functionsUrl: string;
  let dir: string;
  const sessions: DevModuleSession[] = [];

  beforeAll(async () => {
    greeter = await serveGreeter();
    functionsUrl = greeter.url;
  });
  afterAll(() => greeter.close());
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'statefun-dev-'));
  });
  afterEach(async () => {
    for (const session of sessions.splice(0)) await session.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function start(opts: Partial<DevModuleOpts> = {}) {
    const lines: string[] = [];
    const session = await startDevModule(moduleFor(functionsUrl), { functions: resolverFor(functionsUrl), out: (line) => lines.push(line), ...opts });
    sessions.push(session);
    /** `type` null: no Content-Type, the body goes as a string. */
    const send = (path: string, body: string, type: string | null = 'example/GreetRequest') =>
      fetch(`${session.ingressUrl}${path}`, { method: 'PUT', headers: type === null ? {} : { 'content-type': `application/vnd.${type}` }, body });
    const read = async (topic = 'greetings') => {
      const response = await fetch(`${session.egressUrl}/${topic}`);
      return response.status === 200 ? response.text() : response.status;
    };
    return { session, lines, send, read };
  }

  it('takes a message on the ingress, runs the functions, and serves their record on the egress, printing a line per message and egress record', async () => {
    // Prepare
    const { session, lines, send, read } = await start();

    // Act
    const answer = await send('/example/person/Bob', '{"name": "Bob"}');
    await session.idle();

    // Assess
    expect(answer.status).toBe(200);
    expect(await read()).toBe('Hello Bob, visit 1');
    expect(await read()).toBe(404);
    expect(lines.map((l) => l.replace(/^\d\d:\d\d:\d\d\.\d{3} {2}/, ''))).toEqual([
      'example/person/Bob ← example/GreetRequest {"name": "Bob"}',
      'example/greeter/Bob ← io.statefun.types/string "Bob#1" (from example/person/Bob)',
      'egress io.statefun.playground/egress ← {"topic":"greetings","payload":"Hello Bob, visit 1"}',
    ]);
  });

  it('keeps the state in the file across a restart', async () => {
    // Prepare
    const stateFile = join(dir, 'dev-state.json');
    const first = await start({ stateFile });
    await first.send('/example/person/Ann', '{"name": "Ann"}');
    await first.session.idle();
    await first.session.stop();

    // Act
    const second = await start({ stateFile });
    await second.send('/example/person/Ann', '{"name": "Ann"}');
    await second.session.idle();

    // Assess
    expect(existsSync(stateFile)).toBe(true);
    expect(await second.read()).toBe('Hello Ann, visit 2');
  });

  it('without a state file, starts empty every time', async () => {
    // Prepare
    const first = await start();
    await first.send('/example/person/Ann', '{"name": "Ann"}');
    await first.session.stop();

    // Act
    const second = await start();
    await second.send('/example/person/Ann', '{"name": "Ann"}');
    await second.session.idle();

    // Assess
    expect(await second.read()).toBe('Hello Ann, visit 1');
  });

  it('prints a line per dead letter, with its reason and value', async () => {
    // Prepare
    const { session, lines, send } = await start();

    // Act
    await send('/example/person/nobody', '{"name": "nobody"}');
    await session.idle();

    // Assess
    expect(lines.filter((l) => l.includes('DEAD LETTER')).map((l) => l.replace(/^\d\d:\d\d:\d\d\.\d{3} {2}/, ''))).toEqual([
      'DEAD LETTER io.statefun.playground/egress: egress "io.statefun.playground/egress" refused the record: InvalidInputError: the playground egress has no topic "nowhere": its topics are "greetings" [io.statefun.playground/EgressRecord {"topic":"nowhere","payload":"Hello nobody, visit 1"}]',
    ]);
    expect(session.runtime.deadLetters).toHaveLength(1);
  });

  it('with quiet, prints dead letters only', async () => {
    // Prepare
    const { session, lines, send } = await start({ quiet: true });

    // Act
    await send('/example/person/Bob', '{"name": "Bob"}');
    await send('/example/person/nobody', '{"name": "nobody"}');
    await session.idle();

    // Assess
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('DEAD LETTER io.statefun.playground/egress');
  });

  it('fires delayed messages on the real clock', async () => {
    // Prepare
    const { send, read } = await start();

    // Act
    await send('/example/greeter/Eve', 'remind Eve', null);
    const started = Date.now();
    let got: string | number = 404;
    while (got === 404 && Date.now() - started < 5_000) {
      got = await read();
      if (got === 404) await new Promise((resolve) => setTimeout(resolve, 50));
    }

    // Assess
    expect(got).toBe('again Eve');
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
  });

  it('prints each failed call and the backoff that follows, even when quiet', async () => {
    // Prepare: a function that is down
    const down: FunctionResolver = {
      resolve: () => ({
        invoke: async () => {
          throw new RetryableError('connection failed: ECONNREFUSED', { code: 'FUNCTION_UNAVAILABLE' });
        },
      }),
    };
    const { session, lines, send } = await start({ functions: down, quiet: true });

    // Act
    await send('/example/person/Bob', '{"name": "Bob"}');
    await session.idle();

    // Assess
    const shown = lines.map((l) => l.replace(/^\d\d:\d\d:\d\d\.\d{3} {2}/, ''));
    expect(shown.slice(0, -1)).toEqual(Array(3).fill('example/person/Bob: the call failed: RetryableError: connection failed: ECONNREFUSED'));
    expect(shown.at(-1)).toMatch(/^example\/person\/Bob backs off after 1 failed attempt\(s\): .*ECONNREFUSED.*; its messages wait, next attempt at \d\d:\d\d:\d\d$/);
    expect(session.runtime.stats.parked).toBe(1);
  });

  it('tells, once, about a call that has not answered for slowCallMs, even when quiet', async () => {
    // Prepare: a function that answers only when told
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slow: FunctionResolver = { resolve: () => ({ invoke: async () => (await gate, { kind: 'result', mutations: [], messages: [], delayed: [], egress: [] }) }) };
    const { session, lines, send } = await start({ functions: slow, quiet: true, slowCallMs: 50 });
    await send('/example/person/Bob', '{"name": "Bob"}');

    // Act
    while (lines.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    release();
    await session.idle();

    // Assess
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} {2}example\/person\/Bob: no answer yet after 0\.\d s; the call is retried until the endpoint's timeouts.call runs out$/);
  });

  it('answers 404 at the ingress for a function type no endpoint serves', async () => {
    // Prepare
    const { send } = await start();

    // Act
    const answer = await send('/other/person/Bob', '{}');

    // Assess
    expect(answer.status).toBe(404);
    expect(await answer.text()).toBe('no endpoint of module.yaml serves function type other/person\n');
  });

  it('answers 503 when more messages wait than maxPendingMessages', async () => {
    // Prepare: a function that does not answer until told, so that messages wait in the log
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const stuck: FunctionResolver = { resolve: () => ({ invoke: async () => (await gate, { kind: 'result', mutations: [], messages: [], delayed: [], egress: [] }) }) };
    const { session, send } = await start({ functions: stuck, maxPendingMessages: 1 });
    await send('/example/person/a', '{}'); // taken into a round, which waits on the function
    await send('/example/person/b', '{}'); // waits in the log

    // Act
    const answer = await send('/example/person/c', '{}');
    release();
    await session.idle();

    // Assess
    expect(answer.status).toBe(503);
    expect(await answer.text()).toBe('1 messages wait to be processed, the most statefun dev holds: send again later\n');
    expect(session.runtime.stats.applied).toBe(2);
  });

  it('refuses a module with Kinesis parts, naming each and why', async () => {
    // Prepare
    const module: StatefunModule = {
      ...moduleFor(functionsUrl),
      ingresses: [
        { kind: 'kinesis', source: source(4, 'io.statefun.kinesis.v1/ingress'), id: 'example/names', streams: [], startupPosition: { type: 'latest' }, awsCredentials: { type: 'default' }, clientConfigProperties: {} },
      ],
      egresses: [{ kind: 'kinesis', source: source(5, 'io.statefun.kinesis.v1/egress'), id: 'example/out', maxOutstandingRecords: 1000, awsCredentials: { type: 'default' }, clientConfigProperties: {} }],
    };

    // Act
    const attempt = startDevModule(module, { functions: resolverFor(functionsUrl) });

    // Assess
    await expect(attempt).rejects.toThrow(InvalidInputError);
    await expect(attempt).rejects.toThrow(
      'module.yaml cannot run under statefun dev as it is: take these out of the module (or use a copy without them), or use the playground ingress and egress:\n' +
        '  module.yaml, document 4 (io.statefun.kinesis.v1/ingress): Kinesis ingresses do not run under statefun dev, which has no Kinesis; deploy the module (cdk deploy) or run it on local AWS (statefun dev --aws-local)\n' +
        '  module.yaml, document 5 (io.statefun.kinesis.v1/egress): Kinesis egresses do not run under statefun dev, which has no Kinesis; deploy the module (cdk deploy) or run it on local AWS (statefun dev --aws-local)',
    );
  });

  it('frees the egress port when the ingress cannot listen', async () => {
    // Prepare
    const running = await start();
    const busyPort = Number(new URL(running.session.ingressUrl!).port);
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const egressPort = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const module = moduleFor(functionsUrl);
    const clash: StatefunModule = {
      ...module,
      ingresses: [{ ...(module.ingresses[0] as PlaygroundIngressSpec), port: busyPort }],
      egresses: [{ ...(module.egresses[0] as PlaygroundEgressSpec), port: egressPort }],
    };

    // Act
    const attempt = startDevModule(clash, { functions: resolverFor(functionsUrl), out: () => undefined });

    // Assess
    await expect(attempt).rejects.toThrow(/EADDRINUSE/);
    const again = createServer();
    await new Promise<void>((resolve, reject) => again.once('error', reject).listen(egressPort, '127.0.0.1', resolve));
    await new Promise((resolve) => again.close(resolve));
  });
});
