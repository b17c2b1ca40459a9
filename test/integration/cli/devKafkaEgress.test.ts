import { Admin } from '@platformatic/kafka';
import type { KafkaProducers } from '../../../runtime-lambda/aws/KafkaProducers';
import { devKafkaEgress, devKafkaProducers } from '../../../runtime-lambda/local/DevKafka';
import type { KafkaEgressSpec } from '../../../runtime-lambda/module/model';
import { type RunningKafka, startKafka } from '../../support/kafka';
import { officialKafkaRecord, readTopic } from '../../support/kafkaTopics';

const SPEC: KafkaEgressSpec = {
  kind: 'kafka',
  source: { file: 'module.yaml', document: 3, kind: 'io.statefun.kafka.v1/egress' },
  id: 'example/greets',
  address: 'kafka:9092',
  deliverySemantic: { type: 'at-least-once' },
  properties: {},
};

const greeting = (id: string, topic: string, key: string) => officialKafkaRecord(id, topic, key, `Hello, ${key}`);

/**
 * `statefun dev`'s Kafka egress while its broker stops answering: a broker of the test's own,
 * frozen with SIGSTOP (it keeps its port and its connections, and answers nothing) and thawed
 * with SIGCONT, which the run's shared broker must not be.
 */
describe('statefun dev Kafka egress: a broker that stops answering', () => {
  let kafka: RunningKafka;
  let frozen = false;
  const producers: KafkaProducers[] = [];

  beforeAll(async () => {
    kafka = await startKafka();
  }, 120_000);
  afterEach(async () => {
    thaw();
    await Promise.all(producers.splice(0).map((p) => p.close()));
  });
  afterAll(async () => {
    await kafka?.stop();
  });

  function freeze(): void {
    process.kill(kafka.pid!, 'SIGSTOP');
    frozen = true;
  }
  function thaw(): void {
    if (frozen) process.kill(kafka.pid!, 'SIGCONT');
    frozen = false;
  }

  async function topic(name: string): Promise<string> {
    const admin = new Admin({ clientId: 'dev-egress-test', bootstrapBrokers: [kafka.bootstrap] });
    try {
      await admin.createTopics({ topics: [name], partitions: 1, replicas: 1 });
    } finally {
      await admin.close();
    }
    return name;
  }

  /** The egress `statefun dev` runs for {@link SPEC} on the test's broker (1 s request timeout), and the lines it prints. */
  function devEgress(egressRetryMs: number, quiet: boolean): { egress: ReturnType<typeof devKafkaEgress>; out: string[] } {
    const out: string[] = [];
    const kafkaProducers = devKafkaProducers({ timeoutMs: 1000 });
    producers.push(kafkaProducers);
    return { egress: devKafkaEgress(SPEC, kafkaProducers, { bootstrap: kafka.bootstrap, timeoutMs: 1000, egressRetryMs, out: (l) => out.push(l), quiet }), out };
  }

  /** Polls until `lines` has one matching `pattern`, failing after `timeoutMs`. */
  async function lineMatching(lines: readonly string[], pattern: RegExp, timeoutMs = 30_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = lines.find((l) => pattern.test(l));
      if (found !== undefined) return found;
      if (Date.now() > deadline) throw new Error(`no line matching ${pattern} within ${timeoutMs} ms; lines: ${JSON.stringify(lines)}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  it('produces the record again, a line printed each time, once the broker answers again', async () => {
    // Prepare
    const name = await topic('dev-egress-thawed');
    const { egress, out } = devEgress(60_000, true);
    await egress(greeting('example/greeter/alice.1.e0', name, 'alice'));

    // Act
    freeze();
    const second = egress(greeting('example/greeter/bob.2.e0', name, 'bob'));
    const retryLine = await lineMatching(out, /did not take record example\/greeter\/bob\.2\.e0, trying again in \d+ ms/);
    thaw();
    await second;
    const read = await readTopic(kafka.bootstrap, name, 2);

    // Assess
    expect(retryLine).toMatch(new RegExp(`^\\d\\d:\\d\\d:\\d\\d\\.\\d{3}  egress example/greets: Kafka at ${kafka.bootstrap} did not take record example/greeter/bob\\.2\\.e0, trying again in 250 ms: producing 1 record\\(s\\) to ${name} on Kafka`));
    // At least once: a retried record may be there twice, always with its id.
    const ids = [...new Set(read.map((m) => m.headers.get('statefun-id')))];
    expect(ids).toEqual(['example/greeter/alice.1.e0', 'example/greeter/bob.2.e0']);
    expect(read.map((m) => `${m.key}: ${m.value.toString()}`).slice(0, 2)).toEqual(['alice: Hello, alice', 'bob: Hello, bob']);
    // --quiet: no line for the records produced, only for the retries.
    expect(out.every((l) => l.includes('trying again'))).toBe(true);
  });

  it('dead-letters the record (the handler rejects) once egressRetryMs has passed, naming the broker and the setting', async () => {
    // Prepare
    const name = await topic('dev-egress-frozen');
    const { egress, out } = devEgress(2_000, false);

    // Act
    freeze();
    const produced = egress(greeting('example/greeter/carol.1.e0', name, 'carol'));

    // Assess
    await expect(produced).rejects.toThrow(new RegExp(`^Kafka at ${kafka.bootstrap} did not take it within 2000 ms \\(egressRetryMs\\): producing 1 record\\(s\\) to ${name} on Kafka`));
    // Retry lines only (how many depends on how long each attempt waited), none of a record produced.
    expect(out.every((l) => / did not take record example\/greeter\/carol\.1\.e0, trying again in \d+ ms: /.test(l))).toBe(true);
    thaw();
    expect(await readTopic(kafka.bootstrap, name, 1, 3_000)).toEqual([]);
  });
});
