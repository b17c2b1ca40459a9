import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Admin, Producer, stringSerializers } from '@platformatic/kafka';
import { StatefunProcess } from '../../helpers/devProcess';
import { type PythonFunctions, startPythonFunctions } from '../../helpers/pythonFunctions';
import { ensureMoto } from '../../support/emulators';
import { kafkaBootstrap } from '../../support/kafka';
import { type ReadRecord, readTopic } from '../../support/kafkaTopics';

const ROOT = resolve(__dirname, '..', '..', '..');
const EXAMPLE = join(ROOT, 'functions', 'greeter-kafka-python');

/** Every record of `topic` from its start, once there are `count` of them; fails after `timeoutMs`. */
async function readAll(bootstrap: string, topic: string, count: number, timeoutMs = 60_000): Promise<ReadRecord[]> {
  const records = await readTopic(bootstrap, topic, count, timeoutMs);
  if (records.length < count) throw new Error(`${topic}: ${records.length} record(s) within ${timeoutMs} ms, expected ${count}: ${JSON.stringify(records.map((r) => r.value.toString()))}`);
  return records;
}

/** The records' values by key, in topic order. */
function byKey(records: readonly ReadRecord[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const r of records) (out[r.key] ??= []).push(r.value.toString());
  return out;
}

/** The end offset of partition 0 of `topic`: how many records it holds. */
async function recordCount(admin: Admin, topic: string): Promise<number> {
  const offsets = await admin.listOffsets({ topics: [{ name: topic, partitions: [{ partitionIndex: 0, timestamp: -1n }] }] });
  return Number(offsets[0]!.partitions[0]!.offset);
}

describe("StateFun's Python greeter on Kafka under statefun dev --module (official Python SDK, legacy 3.0 module.yaml, the run's broker)", () => {
  const bootstrap = kafkaBootstrap();
  let functions: PythonFunctions;
  let dir: string;
  let admin: Admin;
  let producer: Producer<string, string, string, string>;
  let dev: StatefunProcess | undefined;

  const startDev = async (): Promise<StatefunProcess> => {
    dev = new StatefunProcess(['dev', '--module', 'module.yaml'], { cwd: dir });
    await dev.waitForLine(/^statefun dev: ready/, 60_000);
    return dev;
  };
  const sendNames = (...names: (string | null)[]) =>
    producer.send({ messages: names.map((name) => (name === null ? { topic: 'names', value: '{"name":"nobody"}' } : { topic: 'names', key: name, value: JSON.stringify({ name }) })) });

  beforeAll(async () => {
    await ensureMoto(); // the venv, with the official Python SDK and aiohttp (scripts/ensure-venv.sh)
    functions = await startPythonFunctions(join(EXAMPLE, 'functions.py'));
    dir = mkdtempSync(join(tmpdir(), 'statefun-greeter-kafka-'));
    // The example's module.yaml, only the broker address and the functions' URL changed.
    const example = readFileSync(join(EXAMPLE, 'module.yaml'), 'utf8');
    writeFileSync(join(dir, 'module.yaml'), example.replaceAll('localhost:9092', bootstrap).replace('http://localhost:8000/statefun', functions.url));
    admin = new Admin({ clientId: 'greeter-kafka-test', bootstrapBrokers: [bootstrap] });
    const existing = await admin.listTopics();
    const leftovers = ['names', 'greetings'].filter((t) => existing.includes(t));
    if (leftovers.length > 0) await admin.deleteTopics({ topics: leftovers });
    await admin.createTopics({ topics: ['names', 'greetings'], partitions: 1, replicas: 1 });
    producer = new Producer({ clientId: 'greeter-kafka-test', bootstrapBrokers: [bootstrap], serializers: stringSerializers });
  }, 180_000);
  afterAll(async () => {
    await dev?.stop('SIGKILL');
    functions?.child.kill();
    await producer?.close();
    await admin?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('greets each name with its count, keyed by the name, each greeting with its statefun-id; a record without a key is a dead letter', async () => {
    // Prepare
    const running = await startDev();

    // Act
    await sendNames('Bob', 'Ann', 'Bob', null, 'Bob');
    const greetings = await readAll(bootstrap, 'greetings', 4);
    const deadLetter = await running.waitForLine(/DEAD LETTER/);

    // Assess: in order per name (Kafka's order is per key)
    expect(byKey(greetings)).toEqual({ Bob: ['Welcome Bob', 'Nice to see you again Bob', 'Third time is a charm Bob'], Ann: ['Welcome Ann'] });
    const ids = greetings.map((g) => g.headers.get('statefun-id'));
    expect(ids.every((id) => typeof id === 'string' && id.length > 0)).toBe(true);
    expect(new Set(ids).size).toBe(4);
    expect(deadLetter).toMatch(/DEAD LETTER statefun\.internal\/undecodable\/names\/0: .*Kafka record names\/0\/3 has no key: a Kafka ingress routes each record to the function whose id is the record's key/);
    expect(running.lines).toEqual(expect.arrayContaining([expect.stringMatching(/kafka names\/0\/0 → example\/person\/Bob \{"name":"Bob"\}$/), expect.stringMatching(/egress example\/greets → kafka greetings key Ann Welcome Ann$/)]));
  }, 120_000);

  it('keeps the counts across a restart and processes no record twice: the offsets were committed', async () => {
    // Prepare
    const stopped = await dev!.stop('SIGINT');
    const before = await recordCount(admin, 'greetings');

    // Act
    const restarted = await startDev();
    await sendNames('Bob', 'Ann');
    const greetings = await readAll(bootstrap, 'greetings', before + 2);

    // Assess
    expect(stopped).toBe(0);
    expect(before).toBe(4);
    expect(restarted.lines).toEqual(expect.arrayContaining([expect.stringMatching(/^ {2}state \.statefun\/dev-state\.json \(\d+ addresses restored\)$/)]));
    expect(byKey(greetings.slice(before))).toEqual({ Bob: ['Nice to see you at the 4-nth time Bob!'], Ann: ['Nice to see you again Ann'] });
    // Only the two new records were consumed: none of before the restart came again.
    expect(restarted.lines.filter((l) => / kafka names\//.test(l)).map((l) => l.replace(/^.* kafka (names\/0\/\d+) .*$/, '$1'))).toEqual(['names/0/5', 'names/0/6']);
    expect(await recordCount(admin, 'greetings')).toBe(before + 2);
  }, 120_000);

  it('counts right after a crash of statefun dev (SIGKILL): a record consumed again is dropped or applied once, its greeting at least once', async () => {
    // Prepare
    const before = await recordCount(admin, 'greetings');
    await sendNames('Bob');
    await dev!.waitForLine(/egress example\/greets → kafka greetings key Bob Nice to see you at the 5-nth time Bob!$/);
    await dev!.stop('SIGKILL');

    // Act
    await startDev();
    await sendNames('Bob');
    const greetings: ReadRecord[] = [];
    for (let count = before + 2; !greetings.some((g) => g.value.toString().includes('6-nth')); count++) greetings.splice(0, greetings.length, ...(await readAll(bootstrap, 'greetings', count)));

    // Assess: greetings of records applied since the state file's last write come again (at least
    // once), but the counts are exactly once: no count skipped or counted twice, the next one is 6
    const bob = byKey(greetings).Bob!;
    expect([...new Set(bob)]).toEqual([
      'Welcome Bob',
      'Nice to see you again Bob',
      'Third time is a charm Bob',
      'Nice to see you at the 4-nth time Bob!',
      'Nice to see you at the 5-nth time Bob!',
      'Nice to see you at the 6-nth time Bob!',
    ]);
    expect(bob.at(-1)).toBe('Nice to see you at the 6-nth time Bob!');
    expect(new Set(byKey(greetings).Ann)).toEqual(new Set(['Welcome Ann', 'Nice to see you again Ann']));
  }, 180_000);
});
