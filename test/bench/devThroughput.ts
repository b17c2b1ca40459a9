/**
 * The `dev-throughput` section of `npm run bench`: messages per second of `statefun dev
 * --module` run as its users run it (`node runtime-lambda/local/bin.cjs dev --module
 * module.yaml --quiet`, its own process), calling a counter written with the official JS SDK
 * (npm apache-flink-statefun) served over HTTP by this process, fed through the playground
 * ingress by one load generator in this process keeping 64 requests in flight. One line per
 * key count:
 *
 *     dev-throughput: keys=K messages=N msg/s=X
 *
 * X counts from the first request until `statefun dev`, sent SIGINT after the last answer,
 * has applied every message, written its state file and exited. Each run then checks every
 * counter in that state file (each key counted exactly N/K, no dead letter, no failed call)
 * and fails loudly otherwise.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StateFun } from 'apache-flink-statefun';
import { readSnapshot } from '../../runtime-lambda/local/LocalSnapshot';
import { Types } from '../../runtime-lambda/sdk/Types';
import { StatefunProcess } from '../helpers/devProcess';
import { freePort } from '../support/emulators';

const IN_FLIGHT = 64;

/** The result of one run. */
export interface DevThroughputRun {
  readonly keys: number;
  readonly messages: number;
  readonly seconds: number;
}

/** The counter, written with the official StateFun JS SDK and served over HTTP as its users serve it. */
async function serveCounter(): Promise<{ url: string; close(): Promise<void> }> {
  const statefun = new StateFun();
  statefun.bind({
    typename: 'bench/counter',
    specs: [{ name: 'count', type: StateFun.intType() }],
    fn(context, message) {
      context.storage.count = ((context.storage.count as number | null) ?? 0) + (message.asInt() ?? 0);
    },
  });
  const server = createServer({ keepAliveTimeout: 60_000 }, statefun.handler());
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/statefun`,
    close: () => {
      server.closeAllConnections();
      return new Promise((done) => server.close(() => done()));
    },
  };
}

/** Sends `messages` increments round-robin over `keys` counters, `IN_FLIGHT` requests at a time. */
async function load(ingressUrl: string, keys: number, messages: number): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: IN_FLIGHT });
  const { hostname, port } = new URL(ingressUrl);
  const one = Buffer.from(Types.int.serialize(1));
  let next = 0;
  const post = (key: number) =>
    new Promise<void>((done, fail) => {
      const req = request(
        { host: hostname, port, agent, method: 'POST', path: `/bench/counter/c${key}`, headers: { 'content-type': 'application/vnd.io.statefun.types/int', 'content-length': one.length } },
        (res) => {
          res.resume();
          res.on('end', () => (res.statusCode === 200 ? done() : fail(new Error(`the ingress answered ${res.statusCode}`))));
        },
      );
      req.on('error', fail);
      req.end(one);
    });
  const worker = async () => {
    for (let i = next++; i < messages; i = next++) await post(i % keys);
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  agent.destroy();
}

/**
 * One run: `statefun dev --module` started as a process on a fresh state file, `messages`
 * increments over `keys` counters, then SIGINT (which finishes every message and writes the
 * state); every count is checked in the state file.
 */
export async function runDevThroughput(functionsUrl: string, keys: number, messages: number): Promise<DevThroughputRun> {
  const dir = mkdtempSync(join(tmpdir(), 'statefun-bench-dev-'));
  try {
    const port = await freePort();
    writeFileSync(
      join(dir, 'module.yaml'),
      `kind: io.statefun.endpoints.v2/http\nspec:\n  functions: bench/*\n  urlPathTemplate: ${functionsUrl}\n---\nkind: io.statefun.playground.v1/ingress\nspec:\n  port: ${port}\n`,
    );
    const dev = new StatefunProcess(['dev', '--module', 'module.yaml', '--quiet'], { cwd: dir });
    await dev.waitForLine(/^statefun dev: ready/);
    const started = process.hrtime.bigint();
    const cpuStarted = process.cpuUsage();
    await load(`http://127.0.0.1:${port}`, keys, messages);
    const code = await dev.stop('SIGINT');
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const cpu = process.cpuUsage(cpuStarted);
    if (process.env.BENCH_VERBOSE) console.error(`  keys=${keys}: ${seconds.toFixed(2)} s; this process (load generator, function) used ${((cpu.user + cpu.system) / 1e6).toFixed(2)} CPU-s`);
    if (code !== 0) throw new Error(`dev-throughput keys=${keys}: statefun dev exited with ${code}:\n${dev.output()}`);
    const problems = dev.lines.filter((line) => line.includes('DEAD LETTER') || line.includes('call failed') || line.includes('backs off') || line.includes('runtime error'));
    if (problems.length > 0) throw new Error(`dev-throughput keys=${keys}: statefun dev reported:\n${problems.slice(0, 5).join('\n')}`);
    const snapshot = readSnapshot(join(dir, '.statefun', 'dev-state.json'));
    if (snapshot === undefined) throw new Error(`dev-throughput keys=${keys}: statefun dev wrote no state file`);
    const counts = new Map<string, number>();
    for (const state of snapshot.states) {
      const stored = state.values.get('count');
      if (stored) counts.set(state.address.id, Types.int.deserialize(stored.value));
    }
    const expected = (key: number) => Math.floor(messages / keys) + (key < messages % keys ? 1 : 0);
    for (let key = 0; key < keys; key++) {
      const got = counts.get(`c${key}`) ?? 0;
      if (got !== expected(key)) throw new Error(`dev-throughput keys=${keys}: counter c${key} is ${got}, expected ${expected(key)}: messages lost or applied twice`);
    }
    if (counts.size !== Math.min(keys, messages)) throw new Error(`dev-throughput keys=${keys}: ${counts.size} counters in the state, expected ${Math.min(keys, messages)}`);
    return { keys, messages, seconds };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The section: K = 1, 100, 10,000, one line each. */
export async function runDevThroughputSection(messages: number): Promise<void> {
  const counter = await serveCounter();
  try {
    for (const keys of [1, 100, 10_000]) {
      const run = await runDevThroughput(counter.url, keys, messages);
      console.log(`dev-throughput: keys=${keys} messages=${run.messages} msg/s=${Math.round(run.messages / run.seconds)}`);
    }
  } finally {
    await counter.close();
  }
}
