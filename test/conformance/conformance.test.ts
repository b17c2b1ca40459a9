/*
 * The conformance suite (test/conformance/suite) under jest: every behaviour against every
 * SDK's functions (ours, and the official JavaScript, Python, Go and Java SDKs), each SDK's
 * server built once (cached under test/conformance/.build) and started for its block; the
 * suite's checks shown to fail on a function that misbehaves; the CLI's lines, exit codes
 * and argument errors.
 */
import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Address } from '../../runtime-lambda/core/Address';
import { InvalidInputError } from '../../runtime-lambda/core/errors';
import { encodeToFunction } from '../../runtime-lambda/protocol/codec';
import { defineFunction, StatefulFunctions, Types } from '../../runtime-lambda/sdk';
import { conformanceRegistries, conformanceServer } from './sdks/ts/server';
import { behaviours } from './suite/behaviours';
import { decodeKafkaRecord, decodeKinesisRecord, encodeKafkaRecord, encodeKinesisRecord } from './suite/egressRecords';
import { resultLine, runBehaviour, startSdk } from './suite/runConformance';
import { RecordingProxy } from './suite/RecordingProxy';
import { runBuild, type RunningSdk, SDKS, startServer } from './suite/sdks';

const REPO_ROOT = join(__dirname, '..', '..');

describe.each(SDKS.map((sdk) => [sdk.name, sdk] as const))('Conformance: %s', (_name, sdk) => {
  let server: RunningSdk;

  beforeAll(async () => {
    // Prepare: a first run builds the Go and Java servers (downloads included): minutes.
    server = await startSdk(sdk, (line) => process.stderr.write(`${line}\n`));
  }, 15 * 60_000);

  afterAll(() => server?.stop());

  it.each(behaviours.map((b) => [b.name, b] as const))('%s', async (_behaviour, behaviour) => {
    // Act: the behaviour's own time limit (45 s) comes before jest's, with its reason
    const result = await runBehaviour(sdk.name, server.port, behaviour, 45_000);

    // Assess: the line says why when it fails
    expect(resultLine(result)).toBe(resultLine({ ...result, ok: true, ...(behaviour.differences?.[sdk.name] ? { note: behaviour.differences[sdk.name] } : {}) }));
    expect(result.ok).toBe(true);
  });
});

describe('Conformance: the checks fail on a function that misbehaves', () => {
  let server: Server;

  afterEach(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  async function serve(registries: Map<string, StatefulFunctions>): Promise<number> {
    server = conformanceServer(registries);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  }

  const behaviour = (name: string) => behaviours.find((b) => b.name === name)!;

  it('reports a delete that does not delete, naming the state', async () => {
    // Prepare: "del" is ignored
    const registries = conformanceRegistries();
    registries.set(
      'store',
      new StatefulFunctions().withFunction(
        defineFunction({
          typename: 'conformance/store',
          state: { value: Types.string, never: Types.int, log: Types.string, w: { type: Types.string, expireAfterWrite: 60_000 }, c: { type: Types.string, expireAfterCall: 60_000 } },
          handle(ctx, msg) {
            const [command, arg] = msg.as(Types.string).split(' ');
            if (command === 'set') ctx.storage.value = arg;
          },
        }),
      ),
    );

    // Act
    const result = await runBehaviour('ts', await serve(registries), behaviour('state read, write, delete'));

    // Assess
    expect(resultLine(result)).toBe('conformance: ts state read, write, delete FAILED ("value" is stored after del: expected false, got true)');
  });

  it('reports a spec declared with the wrong expiry', async () => {
    // Prepare: "c" expires after write instead of after call
    const registries = conformanceRegistries();
    registries.set(
      'store',
      new StatefulFunctions().withFunction(
        defineFunction({
          typename: 'conformance/store',
          state: { value: Types.string, never: Types.int, log: Types.string, w: { type: Types.string, expireAfterWrite: 60_000 }, c: { type: Types.string, expireAfterWrite: 60_000 } },
          handle(ctx) {
            ctx.storage.value = 'x';
          },
        }),
      ),
    );

    // Act
    const result = await runBehaviour('ts', await serve(registries), behaviour('first access (the missing-state round trip)'));

    // Assess
    expect(result.ok).toBe(false);
    expect(result.note).toMatch(/^missing specs of the IncompleteInvocationContext: expected \[\{"name":"c","typename":"io.statefun.types\/string","expiration":\{"mode":"after-invoke"/);
  });

  it('reports a function type served at the wrong path', async () => {
    // Prepare: /ping serves pong's function, so conformance/ping is unknown there
    const registries = conformanceRegistries();
    registries.set('ping', registries.get('pong')!);

    // Act
    const result = await runBehaviour('ts', await serve(registries), behaviour('{function.name} templates'));

    // Assess
    expect(result.ok).toBe(false);
    expect(result.note).toMatch(/^reports of the types served at \/store and \/ping: expected/);
  });
});

describe('Conformance: Kafka and Kinesis egress records', () => {
  const thrown = (fn: () => unknown): Error => {
    try {
      fn();
    } catch (error) {
      return error as Error;
    }
    throw new Error('expected a throw');
  };

  it('round-trips both records', () => {
    // Prepare
    const kafka = { topic: 'orders', key: 'k1', value: new Uint8Array([1, 2, 3]) };
    const kinesis = { stream: 'events', partitionKey: 'pk', explicitHashKey: '42', value: new Uint8Array([4]) };

    // Act + Assess
    expect(decodeKafkaRecord(encodeKafkaRecord(kafka))).toEqual(kafka);
    expect(decodeKinesisRecord(encodeKinesisRecord(kinesis))).toEqual(kinesis);
  });

  it.each([
    ['a varint field', Uint8Array.from([0x08, 0x01]), 'invalid KafkaProducerRecord: field 1 (wire type 0) is not a field of it: expected fields 1, 2, 3, each length-delimited'],
    ['an unknown field', Uint8Array.from([0x2a, 0x00]), 'invalid KafkaProducerRecord: field 5 (wire type 2) is not a field of it: expected fields 1, 2, 3, each length-delimited'],
    ['a truncated field', Uint8Array.from([0x0a, 0x05, 0x61]), 'invalid KafkaProducerRecord (3 bytes): premature EOF'],
  ])('rejects a Kafka record with %s', (_what, bytes, message) => {
    // Act
    const error = thrown(() => decodeKafkaRecord(bytes));

    // Assess
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.message).toBe(message);
  });

  it('rejects a Kinesis record with an unknown field, naming the expected ones', () => {
    // Act
    const error = thrown(() => decodeKinesisRecord(Uint8Array.from([0x2a, 0x00])));

    // Assess
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.message).toBe('invalid KinesisEgressRecord: field 5 (wire type 2) is not a field of it: expected fields 1, 2, 3, 4, each length-delimited');
  });
});

describe('Conformance: starting and building servers', () => {
  it('starts a server and reads its port', async () => {
    // Act
    const server = await startServer('echo', [process.execPath, '-e', "console.log('warming up'); console.log('listening on 127.0.0.1:4321'); setInterval(() => {}, 1000)"]);

    // Assess
    expect(server.port).toBe(4321);
    await server.stop();
  });

  it.each([
    ['exits before it is ready', [process.execPath, '-e', "console.error('boom'); process.exit(3)"], 100_000, /^broken server \(.+\) exited \(code 3\) before it was ready; its stderr ends with:\nboom$/],
    ['never says it listens', [process.execPath, '-e', "console.log('listening on 0.0.0.0:80'); setInterval(() => {}, 1000)"], 300, /^broken server \(.+\) did not print "listening on 127.0.0.1:<port>" within 300 ms$/],
    ['cannot be started', ['/no/such/server'], 100_000, /^broken server \(\/no\/such\/server\) could not start: spawn \/no\/such\/server ENOENT$/],
  ])('fails clearly for a server that %s', async (_what, command, timeoutMs, message) => {
    // Act + Assess
    await expect(startServer('broken', command, timeoutMs)).rejects.toThrow(message);
  });

  it('shows the output of a failing build', async () => {
    // Act + Assess
    await expect(runBuild(() => {}, 'node build', [process.execPath, '-e', "console.log('compiling'); console.error('main.go:3: syntax error'); process.exit(1)"], __dirname)).rejects.toThrow(
      /failed \(exit 1\); its output ends with:\n(compiling\nmain.go:3: syntax error|main.go:3: syntax error\ncompiling)$/,
    );
  });

  it('names a missing build tool and where it comes from', async () => {
    // Act + Assess
    await expect(runBuild(() => {}, 'no-such-tool build', ['no-such-tool'], __dirname)).rejects.toThrow(
      'no-such-tool is not installed: the no-such-tool build needs it (.ci/run installs it: see docs/statefun-compatibility.md, "Conformance")',
    );
  });
});

describe('Conformance: the recording proxy', () => {
  it('answers 502 naming the problem when the function answers bytes that are not a FromFunction', async () => {
    // Prepare: a "function" answering garbage, and a valid request through the proxy
    const garbage = createServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(Buffer.from([0xff, 0xff]));
    });
    await new Promise<void>((resolve) => garbage.listen(0, '127.0.0.1', resolve));
    const proxy = await RecordingProxy.start((garbage.address() as AddressInfo).port);
    const request = encodeToFunction({ target: Address.of('conformance/store', 'a'), state: [], invocations: [] });

    try {
      // Act
      const answer = await fetch(`http://127.0.0.1:${proxy.port}/store`, { method: 'POST', body: request });

      // Assess
      expect(answer.status).toBe(502);
      expect(await answer.text()).toMatch(/^conformance proxy: malformed FromFunction \(2 bytes\): premature EOF/);
      expect(proxy.exchanges).toEqual([]);
    } finally {
      await proxy.close();
      garbage.closeAllConnections();
      await new Promise<void>((resolve) => garbage.close(() => resolve()));
    }
  });
});

describe('Conformance: npm run test:conformance', () => {
  const run = (...args: string[]) =>
    spawnSync(join(REPO_ROOT, 'node_modules', '.bin', 'tsx'), [join(__dirname, 'suite', 'run.ts'), ...args], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 120_000 });

  it('prints a line per SDK and behaviour, then the counts, and exits 0', () => {
    // Act
    const { status, stdout } = run('--sdk', 'ts', '--behaviour', 'caller');

    // Assess
    expect(stdout.split('\n').filter((l) => /^conformance: ts caller|passed/.test(l))).toEqual(['conformance: ts caller ok', '1 passed, 0 failed']);
    expect(status).toBe(0);
  });

  it.each([
    [['--sdk', 'ts,cobol'], 'error: option \'--sdk <names>\' argument \'ts,cobol\' is invalid. unknown SDK "cobol": expected a comma-separated list of ts, js, python, go, java'],
    [['--behaviour', 'teleportation'], 'no behaviour\'s name contains "teleportation": the behaviours are'],
    [['--frobnicate'], "error: unknown option '--frobnicate'"],
  ])('refuses %p with exit code 2', (args, message) => {
    // Act
    const { status, stderr } = run(...args);

    // Assess
    expect(stderr).toContain(message);
    expect(status).toBe(2);
  });
});
