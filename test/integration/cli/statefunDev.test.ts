import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runStatefun } from '../../../runtime-lambda/local/statefun';
import { serveGreeter } from '../../helpers/devModuleFixture';
import { curl } from '../../helpers/curl';
import { StatefunProcess } from '../../helpers/devProcess';
import { freePort } from '../../support/emulators';

async function statefun(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runStatefun(argv, {}, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

describe('CLI: statefun dev --module (a real process, its functions over HTTP)', () => {
  let greeter: Awaited<ReturnType<typeof serveGreeter>>;
  let dir: string;
  let moduleFile: string;
  let ingress: string;
  let egress: string;
  const processes: StatefunProcess[] = [];

  beforeAll(async () => {
    greeter = await serveGreeter();
  });
  afterAll(() => greeter.close());
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'statefun-dev-cli-'));
    const [ingressPort, egressPort] = [await freePort(), await freePort()];
    ingress = `http://127.0.0.1:${ingressPort}`;
    egress = `http://127.0.0.1:${egressPort}`;
    moduleFile = join(dir, 'module.yaml');
    writeFileSync(
      moduleFile,
      [
        'kind: io.statefun.endpoints.v2/http',
        'spec:',
        '  functions: example/*',
        `  urlPathTemplate: ${greeter.url}`,
        '---',
        'kind: io.statefun.playground.v1/ingress',
        'spec:',
        `  port: ${ingressPort}`,
        '---',
        'kind: io.statefun.playground.v1/egress',
        'spec:',
        `  port: ${egressPort}`,
        '  topics:',
        '    - greetings',
        '',
      ].join('\n'),
    );
  });
  afterEach(async () => {
    for (const p of processes.splice(0)) await p.stop('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  function dev(...args: string[]): StatefunProcess {
    const p = new StatefunProcess(['dev', '--module', moduleFile, ...args], { cwd: dir });
    processes.push(p);
    return p;
  }
  const greet = (name: string) => curl('-X', 'PUT', '-H', 'Content-Type: application/vnd.example/GreetRequest', '-d', `{"name": "${name}"}`, `${ingress}/example/person/${name}`);
  /** GETs the egress until it has a record (the message is processed after the ingress answers). */
  async function nextGreeting(): Promise<string> {
    for (;;) {
      const answer = await curl('-X', 'GET', `${egress}/greetings`);
      if (answer.status === 200) return answer.body;
      expect(answer.status).toBe(404);
    }
  }

  it('serves the ingress and egress, prints a line per message, stops on SIGINT with exit 0 and the state written beside the module', async () => {
    // Prepare
    const p = dev();
    await p.waitForLine(/^statefun dev: ready/);

    // Act
    const sent = await greet('Bob');
    const greeting = await nextGreeting();
    await p.waitForLine(/egress io\.statefun\.playground\/egress ←/);
    const code = await p.stop('SIGINT');

    // Assess
    expect(sent).toEqual({ status: 200, body: '' });
    expect(greeting).toBe('Hello Bob, visit 1');
    expect(code).toBe(0);
    expect(p.lines).toEqual(
      expect.arrayContaining([
        `statefun dev: running ${moduleFile}`,
        `  functions example/* → ${greeter.url}`,
        `  playground ingress ${ingress}/<namespace>/<type>/<id>`,
        `  playground egress ${egress}/<topic>`,
        expect.stringMatching(/ {2}example\/person\/Bob ← example\/GreetRequest \{"name": "Bob"\}$/),
        expect.stringMatching(/ {2}example\/greeter\/Bob ← io\.statefun\.types\/string "Bob#1" \(from example\/person\/Bob\)$/),
        'statefun dev: SIGINT: stopping: finishing the calls under way (Ctrl-C again to quit at once)',
        'statefun dev: stopped; state written to .statefun/dev-state.json',
      ]),
    );
    expect(existsSync(join(dir, '.statefun', 'dev-state.json'))).toBe(true);
  });

  it('goes on from the state file after a restart (SIGTERM stops it too)', async () => {
    // Prepare
    const first = dev('--quiet');
    await first.waitForLine(/ready/);
    await greet('Ann');
    expect(await nextGreeting()).toBe('Hello Ann, visit 1');
    expect(await first.stop('SIGTERM')).toBe(0);

    // Act
    const second = dev('--quiet');
    await second.waitForLine(/ready/);
    await greet('Ann');

    // Assess
    expect(await nextGreeting()).toBe('Hello Ann, visit 2');
    expect(second.lines).toContain('  state .statefun/dev-state.json (2 addresses restored)');
    expect(first.lines.filter((l) => l.includes(' ← '))).toEqual([]);
  });

  it('with --in-memory, writes no state; with --state-file, writes it there', async () => {
    // Prepare
    const stateFile = join(dir, 'elsewhere', 'state.json');
    const inMemory = dev('--in-memory');
    await inMemory.waitForLine(/ready/);
    await greet('Cy');
    await nextGreeting();
    expect(await inMemory.stop()).toBe(0);

    // Act
    const elsewhere = dev('--state-file', stateFile);
    await elsewhere.waitForLine(/ready/);
    await greet('Cy');
    const greeting = await nextGreeting();
    expect(await elsewhere.stop()).toBe(0);

    // Assess
    expect(inMemory.lines).toContain('  state in memory only (--in-memory)');
    expect(existsSync(join(dir, '.statefun'))).toBe(false);
    expect(greeting).toBe('Hello Cy, visit 1');
    expect(existsSync(stateFile)).toBe(true);
  });

  it('feeds a running dev through statefun send', async () => {
    // Prepare
    const p = dev();
    await p.waitForLine(/ready/);

    // Act
    const send = new StatefunProcess(['send', 'example/person/Di', '--type', 'example/GreetRequest', '--json', '{"name": "Di"}', '--url', ingress]);
    const code = await send.exited;

    // Assess
    expect(code).toBe(0);
    expect(send.lines).toEqual(['sent example/GreetRequest (14 bytes) to example/person/Di']);
    expect(await nextGreeting()).toBe('Hello Di, visit 1');
  });

  it('exits 1 naming the port when a playground port is taken', async () => {
    // Prepare
    const first = dev();
    await first.waitForLine(/ready/);

    // Act
    const second = dev('--in-memory');
    const code = await second.exited;

    // Assess
    expect(code).toBe(1);
    expect(second.stderr.join('\n')).toMatch(/^statefun: Error: listen EADDRINUSE: address already in use 127\.0\.0\.1:\d+/);
  });

  it.each([
    [['dev'], 2, 'error: give --module <file> (a StateFun module.yaml, run on the embedded runtime) or --aws-local --app <module> (an app on local AWS)'],
    [['dev', '--module', 'm.yaml', '--quiet', '--app', 'app.ts'], 2, "error: option '--module <file>' cannot be used with option '--app <module>'"],
    [['dev', '--module', 'm.yaml', '--in-memory', '--state-file', 'x.json'], 2, "error: option '--state-file <path>' cannot be used with option '--in-memory'"],
    [['dev', '--module', '/no/such/module.yaml'], 1, 'statefun: InvalidInputError: /no/such/module.yaml: cannot read the module file (ENOENT): expected a readable module.yaml'],
  ])('answers %j with exit code %d and says what is wrong', async (argv, code, message) => {
    // Act
    const result = await statefun(...argv);

    // Assess
    expect(result.code).toBe(code);
    expect(result.err.join('\n')).toContain(message);
  });
});
