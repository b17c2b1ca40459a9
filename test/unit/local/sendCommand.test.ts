import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DevModuleSession, startDevModule } from '../../../runtime-lambda/local/devModule';
import { runStatefun } from '../../../runtime-lambda/local/statefun';
import { moduleFor, resolverFor, serveGreeter } from '../../helpers/devModuleFixture';

async function statefun(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runStatefun(argv, {}, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

describe('CLI: statefun send', () => {
  let greeter: Awaited<ReturnType<typeof serveGreeter>>;
  let dev: DevModuleSession;
  let dir: string;
  const lines: string[] = [];

  beforeAll(async () => {
    greeter = await serveGreeter();
    dev = await startDevModule(moduleFor(greeter.url), { functions: resolverFor(greeter.url), out: (l) => lines.push(l) });
    dir = mkdtempSync(join(tmpdir(), 'statefun-send-'));
  });
  afterAll(async () => {
    await dev.stop();
    await greeter.close();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    lines.length = 0;
  });
  const greeting = async () => {
    await dev.idle();
    const response = await fetch(`${dev.egressUrl}/greetings`);
    return response.status === 200 ? response.text() : response.status;
  };

  it('sends --json with --type to a running dev, as the tutorials do with curl, and says so', async () => {
    // Act
    const run = await statefun('send', 'example/person/Bob', '--type', 'example/GreetRequest', '--json', '{"name": "Bob"}', '--url', dev.ingressUrl!);

    // Assess
    expect(run).toEqual({ code: 0, out: ['sent example/GreetRequest (15 bytes) to example/person/Bob'], err: [] });
    expect(await greeting()).toBe('Hello Bob, visit 1');
  });

  it('sends --data without --type as a string, and an id with spaces and slashes intact', async () => {
    // Act
    const run = await statefun('send', 'example/greeter/Ann Lee/2', '--data', 'plain text', '--url', `${dev.ingressUrl}/`);

    // Assess
    expect(run.code).toBe(0);
    expect(run.out).toEqual(['sent io.statefun.types/string (10 bytes) to example/greeter/Ann Lee/2']);
    expect(await greeting()).toBe('plain text');
    expect(lines[0]).toMatch(/example\/greeter\/Ann Lee\/2 ← io\.statefun\.types\/string "plain text"$/);
  });

  it("sends a --data-file's bytes", async () => {
    // Prepare
    const file = join(dir, 'bob.json');
    writeFileSync(file, '{"name": "Cy"}');

    // Act
    const run = await statefun('send', 'example/person/Cy', '--type', 'example/GreetRequest', '--data-file', file, '--url', dev.ingressUrl!);

    // Assess
    expect(run.code).toBe(0);
    expect(await greeting()).toBe('Hello Cy, visit 1');
  });

  it('takes the ingress from STATEFUN_INGRESS_URL', async () => {
    // Prepare
    process.env.STATEFUN_INGRESS_URL = dev.ingressUrl;

    // Act
    const run = await statefun('send', 'example/person/Di', '--type', 'example/GreetRequest', '--json', '{"name": "Di"}');
    delete process.env.STATEFUN_INGRESS_URL;

    // Assess
    expect(run.code).toBe(0);
    expect(await greeting()).toBe('Hello Di, visit 1');
  });

  it('exits 1 with the answer when the ingress refuses the message', async () => {
    // Act
    const run = await statefun('send', 'other/person/Bob', '--type', 'example/GreetRequest', '--json', '{}', '--url', dev.ingressUrl!);

    // Assess
    expect(run).toEqual({ code: 1, out: [], err: [`statefun send: the ingress at ${dev.ingressUrl} refused the message with HTTP 404: no endpoint of module.yaml serves function type other/person`] });
  });

  it('exits 1 asking whether statefun dev runs when nothing answers', async () => {
    // Prepare: a port nobody listens on
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(probe.address() as AddressInfo).port}`;
    await new Promise((resolve) => probe.close(resolve));

    // Act
    const run = await statefun('send', 'example/person/Bob', '--data', 'x', '--url', url);

    // Assess
    expect(run.code).toBe(1);
    expect(run.err).toEqual([
      `statefun send: nothing answers at ${url} (ECONNREFUSED): is \`statefun dev\` running? Start it with: npx statefun dev --module module.yaml (or give its ingress with --url)`,
    ]);
  });

  it.each([
    [['example/person'], 'error: command-argument value \'example/person\' is invalid for argument \'address\'. invalid address "example/person": expected "namespace/type/id", e.g. "fraud/count/acct-42"'],
    [['example/person/Bob', '--type', 'GreetRequest', '--data', 'x'], 'invalid type name "GreetRequest": expected "namespace/type"'],
    [['example/person/Bob'], "error: no value given: give it with --json '{...}', --data <text> or --data-file <path>"],
    [['example/person/Bob', '--json', '{name: Bob}'], 'error: --json is not JSON ('],
    [['example/person/Bob', '--json', '{}', '--data', 'x'], "error: option '--json <json>' cannot be used with option '--data <text>'"],
    [['example/person/Bob', '--data-file', '/no/such/file'], 'error: --data-file /no/such/file: cannot read it (ENOENT)'],
    [['example/person/Bob', '--data', 'x', '--url', 'localhost:8090'], 'invalid URL "localhost:8090": expected http:// or https://'],
    [['example/person/Bob', '--data', 'x', '--url', 'not a url'], 'invalid URL "not a url": expected http://host:port, e.g. http://127.0.0.1:8090'],
  ])('exits 2 for the command line %j, saying what is wrong', async (argv, message) => {
    // Act
    const run = await statefun('send', ...argv);

    // Assess
    expect(run.code).toBe(2);
    expect(run.out).toEqual([]);
    expect(run.err.join('\n')).toContain(message);
  });
});
