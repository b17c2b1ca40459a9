import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Admin, Producer } from '@platformatic/kafka';
import { runStatefun } from '../../../runtime-lambda/local/statefun';
import { Types } from '../../../runtime-lambda/sdk';
import { serveGreeter } from '../../helpers/devModuleFixture';
import { StatefunProcess } from '../../helpers/devProcess';
import { freePort } from '../../support/emulators';
import { kafkaBootstrap } from '../../support/kafka';

async function statefun(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runStatefun(argv, {}, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

let run = 0;
/** A topic name of this file's own. */
const topic = (label: string) => `dev-${label}-${process.pid}-${run++}`;

/** A module.yaml (v1 kinds) with a Kafka ingress of `ingress` (YAML lines under its spec) and a Kafka egress, on `address`. */
function kafkaModule(functionsUrl: string, address: string, ingress: readonly string[]): string {
  return [
    'kind: io.statefun.endpoints.v2/http',
    'spec:',
    '  functions: example/*',
    `  urlPathTemplate: ${functionsUrl}`,
    '---',
    'kind: io.statefun.kafka.v1/ingress',
    'spec:',
    '  id: example/names',
    `  address: ${address}`,
    '  consumerGroupId: dev-kafka-test',
    ...ingress.map((line) => `  ${line}`),
    '---',
    'kind: io.statefun.kafka.v1/egress',
    'spec:',
    '  id: example/greets',
    `  address: ${address}`,
    '',
  ].join('\n');
}

const topicsOf = (name: string) => ['startupPosition:', '  type: earliest', 'topics:', `  - topic: ${name}`, '    valueType: io.statefun.types/string', '    targets:', '      - example/greeter'];

describe('CLI: statefun dev --module with Kafka ingresses and egresses', () => {
  const bootstrap = kafkaBootstrap();
  let dir: string;
  let moduleFile: string;
  let admin: Admin;
  let greeter: Awaited<ReturnType<typeof serveGreeter>>;
  const processes: StatefunProcess[] = [];

  beforeAll(async () => {
    greeter = await serveGreeter();
    admin = new Admin({ clientId: 'dev-kafka-test', bootstrapBrokers: [bootstrap] });
  });
  afterAll(async () => {
    await admin.close();
    await greeter.close();
  });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'statefun-dev-kafka-'));
    moduleFile = join(dir, 'module.yaml');
  });
  afterEach(async () => {
    for (const p of processes.splice(0)) await p.stop('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  describe('malformed input', () => {
    it.each([
      ['a port that is not one', '127.0.0.1:99999'],
      ['no port', 'localhost'],
      ['an empty server between commas', '127.0.0.1:9092,,b:9092'],
    ])('refuses a --kafka value with %s, naming the flag and the form', async (_, value) => {
      // Prepare
      writeFileSync(moduleFile, kafkaModule(greeter.url, bootstrap, topicsOf('names')));

      // Act
      const result = await statefun('dev', '--module', moduleFile, '--kafka', value);

      // Assess
      expect(result.code).toBe(2);
      expect(result.err.join('\n')).toContain(`error: option '--kafka <host:port>' argument '${value}' is invalid. --kafka must be a broker's <host>:<port> (several separated by commas), e.g. 127.0.0.1:9092, got ${JSON.stringify(value)}`);
    });

    it('refuses --kafka with --start-kafka', async () => {
      // Prepare
      writeFileSync(moduleFile, kafkaModule(greeter.url, bootstrap, topicsOf('names')));

      // Act
      const result = await statefun('dev', '--module', moduleFile, '--kafka', bootstrap, '--start-kafka');

      // Assess
      expect(result.code).toBe(2);
      expect(result.err.join('\n')).toContain("error: option '--kafka <host:port>' cannot be used with option '--start-kafka'");
    });

    it('refuses --kafka for a module without Kafka', async () => {
      // Prepare
      writeFileSync(moduleFile, ['kind: io.statefun.endpoints.v2/http', 'spec:', '  functions: example/*', `  urlPathTemplate: ${greeter.url}`, ''].join('\n'));

      // Act
      const result = await statefun('dev', '--module', moduleFile, '--kafka', bootstrap);

      // Assess
      expect(result).toMatchObject({ code: 1, err: [`statefun: InvalidInputError: --kafka: ${moduleFile} has no Kafka ingress or egress (kind io.statefun.kafka.v1/ingress or /egress): leave the flag out`] });
    });

    it('names the unreachable broker and the flags', async () => {
      // Prepare
      const nobody = `127.0.0.1:${await freePort()}`;
      writeFileSync(moduleFile, kafkaModule(greeter.url, nobody, topicsOf('names')));

      // Act
      const result = await statefun('dev', '--module', moduleFile, '--in-memory');

      // Assess
      expect(result.code).toBe(1);
      expect(result.err.join('\n')).toMatch(
        new RegExp(`^statefun: InvalidInputError: cannot reach Kafka at ${nobody} \\(${moduleFile.replace(/[/.]/g, '\\$&')}, document 2 \\(io\\.statefun\\.kafka\\.v1/ingress example/names\\), topics\\): .*; is a broker running there\\? give a running broker with --kafka <host:port>, or let statefun dev start one with --start-kafka$`, 's'),
      );
    });

    it('names a missing topic and how to create it', async () => {
      // Prepare
      const missing = topic('missing');
      writeFileSync(moduleFile, kafkaModule(greeter.url, bootstrap, topicsOf(missing)));

      // Act
      const result = await statefun('dev', '--module', moduleFile, '--in-memory');

      // Assess
      expect(result).toMatchObject({
        code: 1,
        err: [
          `statefun: InvalidInputError: Kafka at ${bootstrap} has no topic "${missing}" (${moduleFile}, document 2 (io.statefun.kafka.v1/ingress example/names), topics): create it, e.g. kafka-topics.sh --bootstrap-server ${bootstrap} --create --topic ${missing}, or run with --start-kafka (statefun dev creates the topics on the broker it starts)`,
        ],
      });
    });

    it('refuses a Kafka ingress without topics, naming the field', async () => {
      // Prepare
      writeFileSync(moduleFile, kafkaModule(greeter.url, bootstrap, ['topics: []']));

      // Act
      const result = await statefun('dev', '--module', moduleFile, '--in-memory');

      // Assess
      expect(result).toMatchObject({
        code: 1,
        err: [`statefun: InvalidInputError: ${moduleFile}, document 2 (io.statefun.kafka.v1/ingress): spec.topics: expected a list of topics, each with topic, valueType and targets, got an empty list`],
      });
    });

    it('refuses a start position statefun dev cannot take', async () => {
      // Prepare
      const names = topic('names');
      await admin.createTopics({ topics: [names], partitions: 1, replicas: 1 });
      writeFileSync(moduleFile, kafkaModule(greeter.url, bootstrap, ['startupPosition:', '  type: date', '  date: 2020-02-01 04:15:00.000 +0000', ...topicsOf(names).slice(2)]));

      // Act
      const result = await statefun('dev', '--module', moduleFile, '--in-memory');

      // Assess
      expect(result).toMatchObject({
        code: 1,
        err: [`statefun: InvalidInputError: ${moduleFile}, document 2 (io.statefun.kafka.v1/ingress example/names): startupPosition type date does not run under statefun dev: use earliest, latest or group-offsets (with autoOffsetResetPosition), or deploy the module (cdk deploy)`],
      });
    });

    it('refuses a topic whose target no endpoint serves', async () => {
      // Prepare
      writeFileSync(moduleFile, kafkaModule(greeter.url, bootstrap, ['topics:', '  - topic: names', '    valueType: io.statefun.types/string', '    targets:', '      - shop/cart']));

      // Act
      const result = await statefun('dev', '--module', moduleFile, '--in-memory');

      // Assess
      expect(result).toMatchObject({
        code: 1,
        err: [`statefun: InvalidInputError: ${moduleFile}, document 2 (io.statefun.kafka.v1/ingress example/names): topic "names" targets function type shop/cart, which no endpoint of ${moduleFile} serves: add an endpoint for it or remove the target`],
      });
    });

    it('tells to run scripts/ensure-kafka.sh when --start-kafka finds no broker jars', async () => {
      // Prepare
      writeFileSync(moduleFile, kafkaModule(greeter.url, bootstrap, topicsOf('names')));
      const dev = new StatefunProcess(['dev', '--module', moduleFile, '--start-kafka'], { env: { STATEFUN_KAFKA_HOME: join(dir, 'no-kafka') } });
      processes.push(dev);

      // Act
      const code = await dev.exited;

      // Assess
      expect(code).toBe(1);
      expect(dev.stderr).toEqual([
        `statefun: InvalidInputError: no Kafka broker jars in ${join(dir, 'no-kafka')}: run \`bash scripts/ensure-kafka.sh\` once (it resolves Apache Kafka from Maven Central; needs Java 17 and Maven), or give a running broker with --kafka <host:port>`,
      ]);
    });
  });

  it('uses the --kafka broker instead of the addresses, and tells so; a record that is no KafkaProducerRecord is a dead letter', async () => {
    // Prepare: the fixture's greeter writes playground egress records, which a Kafka egress cannot produce
    const names = topic('names');
    await admin.createTopics({ topics: [names], partitions: 1, replicas: 1 });
    writeFileSync(moduleFile, kafkaModule(greeter.url, 'kafka-broker:9092', topicsOf(names)).replace('id: example/greets', 'id: io.statefun.playground/egress'));
    const dev = new StatefunProcess(['dev', '--module', moduleFile, '--in-memory', '--kafka', bootstrap]);
    processes.push(dev);
    await dev.waitForLine(/^statefun dev: ready/);
    const producer = new Producer({ clientId: 'dev-kafka-test', bootstrapBrokers: [bootstrap] });

    // Act
    await producer.send({ messages: [{ topic: names, key: Buffer.from('Bob'), value: Buffer.from(Types.string.serialize('Bob')) }] });
    const deadLetter = await dev.waitForLine(/DEAD LETTER/);
    await producer.close();

    // Assess
    expect(dev.lines).toEqual(
      expect.arrayContaining([
        `  Kafka broker ${bootstrap} (--kafka): every Kafka ingress and egress uses it instead of its address (kafka-broker:9092)`,
        `  kafka ingress example/names on ${bootstrap}, group dev-kafka-test: ${names} → example/greeter`,
        `  kafka egress io.statefun.playground/egress → ${bootstrap}`,
        expect.stringMatching(new RegExp(`kafka ${names}/0/0 → example/greeter/Bob "Bob"$`)),
      ]),
    );
    expect(deadLetter).toMatch(/DEAD LETTER io\.statefun\.playground\/egress: egress "io\.statefun\.playground\/egress" refused the record: .*expected a type\.googleapis\.com\/io\.statefun\.sdk\.egress\.KafkaProducerRecord/);
  }, 60_000);

  it('--start-kafka starts a broker, creates the topics, and stops it at Ctrl-C', async () => {
    // Prepare
    writeFileSync(moduleFile, kafkaModule(greeter.url, 'kafka-broker:9092', topicsOf('names')));
    const dev = new StatefunProcess(['dev', '--module', moduleFile, '--in-memory', '--start-kafka']);
    processes.push(dev);
    const started = await dev.waitForLine(/^ {2}Kafka broker 127\.0\.0\.1:\d+ started \(--start-kafka/, 90_000);
    await dev.waitForLine(/^statefun dev: ready/);
    const broker = /Kafka broker (\S+) started/.exec(started)![1]!;
    const probe = new Admin({ clientId: 'dev-kafka-test', bootstrapBrokers: [broker], retries: false });

    // Act
    const topics = await probe.listTopics();
    await probe.close();
    const code = await dev.stop('SIGINT');

    // Assess
    expect(topics).toContain('names');
    expect(code).toBe(0);
    expect(started).toContain('stopped at exit, its data deleted at exit');
    expect(dev.lines.at(-1)).toBe('statefun dev: stopped; Kafka broker stopped');
    const after = new Admin({ clientId: 'dev-kafka-test', bootstrapBrokers: [broker], retries: false, timeout: 1_000 });
    await expect(after.listTopics()).rejects.toThrow();
    await after.close();
  }, 120_000);

  it("--start-kafka with a state file keeps the broker's topics and offsets beside it, so a restart consumes no record twice", async () => {
    // Prepare
    writeFileSync(moduleFile, kafkaModule(greeter.url, 'kafka-broker:9092', topicsOf('names')));
    const startDev = async () => {
      const dev = new StatefunProcess(['dev', '--module', 'module.yaml', '--start-kafka'], { cwd: dir });
      processes.push(dev);
      const started = await dev.waitForLine(/^ {2}Kafka broker 127\.0\.0\.1:\d+ started \(--start-kafka/, 90_000);
      await dev.waitForLine(/^statefun dev: ready/);
      return { dev, started, broker: /Kafka broker (\S+) started/.exec(started)![1]! };
    };
    const produce = async (broker: string, name: string) => {
      const producer = new Producer({ clientId: 'dev-kafka-test', bootstrapBrokers: [broker] });
      await producer.send({ messages: [{ topic: 'names', key: Buffer.from(name), value: Buffer.from(Types.string.serialize(name)) }] });
      await producer.close();
    };

    // Act
    const first = await startDev();
    await produce(first.broker, 'Ann');
    await first.dev.waitForLine(/kafka names\/0\/0 → example\/greeter\/Ann/);
    await first.dev.stop('SIGINT');
    const second = await startDev();
    await produce(second.broker, 'Joe');
    await second.dev.waitForLine(/kafka names\/0\/1 → example\/greeter\/Joe/);
    await second.dev.stop('SIGINT');

    // Assess
    expect(second.started).toContain('its data in .statefun/kafka, kept with the state');
    expect(second.dev.lines.filter((l) => / kafka names\//.test(l)).map((l) => l.replace(/^.* kafka (names\/0\/\d+) .*$/, '$1'))).toEqual(['names/0/1']);
  }, 180_000);
});
