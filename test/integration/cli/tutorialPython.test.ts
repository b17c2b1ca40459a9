import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { curl } from '../../helpers/curl';
import { StatefunProcess } from '../../helpers/devProcess';
import { type PythonFunctions, startPythonFunctions } from '../../helpers/pythonFunctions';
import { ensureMoto, freePort } from '../../support/emulators';

describe("StateFun's tutorial under statefun dev --module: Python SDK functions, playground ingress and egress, the tutorial's curl lines", () => {
  let functions: PythonFunctions;
  let dev: StatefunProcess;
  let dir: string;
  let ingressPort: number;
  let egressPort: number;

  beforeAll(async () => {
    await ensureMoto(); // the venv, with the official Python SDK and aiohttp (scripts/ensure-venv.sh)
    functions = await startPythonFunctions(join(__dirname, 'tutorial', 'functions.py'));
    [ingressPort, egressPort] = [await freePort(), await freePort()];
    dir = mkdtempSync(join(tmpdir(), 'statefun-tutorial-'));
    // The tutorial's module.yaml, its ports and the functions' URL changed for the test.
    writeFileSync(
      join(dir, 'module.yaml'),
      `kind: io.statefun.endpoints.v2/http
spec:
  functions: example/*
  urlPathTemplate: ${functions.url}
  transport:
    type: io.statefun.transports.v1/async
---
kind: io.statefun.playground.v1/ingress
spec:
  port: ${ingressPort}
---
kind: io.statefun.playground.v1/egress
spec:
  port: ${egressPort}
  topics:
    - greetings
`,
    );
    dev = new StatefunProcess(['dev', '--module', 'module.yaml'], { cwd: dir });
    await dev.waitForLine(/^statefun dev: ready/);
  }, 180_000);
  afterAll(async () => {
    await dev?.stop();
    functions?.child.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  /** `curl -X GET localhost:8091/greetings`, again while the message is on its way (404). */
  async function greeting(): Promise<string> {
    for (;;) {
      const answer = await curl('-X', 'GET', `localhost:${egressPort}/greetings`);
      if (answer.status === 200) return answer.body;
      expect(answer).toEqual({ status: 404, body: '' });
    }
  }

  it('answers the greeter tutorial: a PUT per visit, one greeting per GET, the visits counted in state', async () => {
    // Act
    const answers: { status: number; body: string }[] = [];
    const greetings: string[] = [];
    for (let visit = 0; visit < 4; visit++) {
      answers.push(await curl('-X', 'PUT', '-H', 'Content-Type: application/vnd.example/GreetRequest', '-d', '{"name": "Bob"}', `localhost:${ingressPort}/example/person/Bob`));
      greetings.push(await greeting());
    }

    // Assess
    expect(answers).toEqual(Array(4).fill({ status: 200, body: '' }));
    expect(greetings).toEqual(['Welcome Bob', 'Nice to see you again Bob', 'Third time is a charm Bob', 'Nice to see you at the 4-nth time Bob!']);
    expect(await curl('-X', 'GET', `localhost:${egressPort}/greetings`)).toEqual({ status: 404, body: '' });
  });

  it('keeps people apart, and greets each once per visit', async () => {
    // Act
    await curl('-X', 'PUT', '-H', 'Content-Type: application/vnd.example/GreetRequest', '-d', '{"name": "Ann"}', `localhost:${ingressPort}/example/person/Ann`);
    const first = await greeting();
    await curl('-X', 'PUT', '-H', 'Content-Type: application/vnd.example/GreetRequest', '-d', '{"name": "Joe"}', `localhost:${ingressPort}/example/person/Joe`);
    const second = await greeting();

    // Assess
    expect([first, second]).toEqual(['Welcome Ann', 'Welcome Joe']);
  });

  it('runs a Python function whose batch has no effects (the SDK answers an empty body) without a dead letter', async () => {
    // Act
    const sent = await curl('-X', 'PUT', '-H', 'Content-Type: application/vnd.example/Ping', '-d', '{}', `localhost:${ingressPort}/example/lurker/x`);
    await dev.waitForLine(/example\/lurker\/x ← example\/Ping \{\}$/);

    // Assess
    expect(sent.status).toBe(200);
    expect(dev.lines.filter((l) => l.includes('DEAD LETTER') || l.includes('call failed'))).toEqual([]);
  });

  it("answers the ingress's errors with their reasons", async () => {
    // Act
    const badPath = await curl('-X', 'PUT', '-H', 'Content-Type: application/vnd.example/GreetRequest', '-d', '{}', `localhost:${ingressPort}/example/person`);
    const unknown = await curl('-X', 'PUT', '-H', 'Content-Type: application/vnd.example/GreetRequest', '-d', '{}', `localhost:${ingressPort}/shop/cart/1`);
    const unknownTopic = await curl('-X', 'GET', `localhost:${egressPort}/receipts`);

    // Assess
    expect(badPath).toEqual({ status: 400, body: 'invalid path "/example/person": expected /<namespace>/<type>/<id>, e.g. /example/person/Bob\n' });
    expect(unknown).toEqual({ status: 404, body: 'no endpoint of module.yaml serves function type shop/cart\n' });
    expect(unknownTopic).toEqual({ status: 405, body: 'no topic "receipts" on this playground egress: GET /<topic> with one of "greetings"\n' });
  });
});
