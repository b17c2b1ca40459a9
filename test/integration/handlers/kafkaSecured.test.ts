import { randomUUID } from 'node:crypto';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CreateQueueCommand, DeleteQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { Admin, ListOffsetTimestamps, Producer, stringSerializers } from '@platformatic/kafka';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { NO_EFFECTS } from '../../../runtime-lambda/core/Effects';
import { type KafkaCluster, KafkaProducers } from '../../../runtime-lambda/aws/KafkaProducers';
import type { KafkaEvent } from '../../../runtime-lambda/aws/lambdaEvents';
import { type KafkaSource, LocalPoller } from '../../../runtime-lambda/aws/LocalPoller';
import { OutboxRelay } from '../../../runtime-lambda/aws/OutboxRelay';
import { awsClientConfig } from '../../support/awsClientConfig';
import { drainQueue } from '../../support/drainQueue';
import { type RunningKafka, startKafka } from '../../support/kafka';
import { committedOffsets, officialKafkaRecord, readTopic } from '../../support/kafkaTopics';

const USER = 'relay-user';
const PASSWORD = 'relay-secret-1';

/**
 * TLS and SASL/SCRAM against a real broker: the test's own broker with a `SASL_SSL` listener
 * (a self-signed certificate, SCRAM users), as Amazon MSK's SCRAM brokers serve on port 9096.
 * Records are read back and produced for setup through the broker's plaintext listener.
 */
describe('Kafka over TLS with SASL/SCRAM on a real broker: relay egress and the LocalPoller source', () => {
  const suffix = randomUUID().slice(0, 8);
  const sqs = new SQSClient(awsClientConfig());
  const kinesis = new KinesisClient({ ...awsClientConfig(), requestHandler: new NodeHttpHandler() });
  const secretsManager = new SecretsManagerClient(awsClientConfig());
  let kafka: RunningKafka;
  let secure: { bootstrap: string; caPem: string };
  let admin: Admin;
  let dlqUrl: string;
  let goodSecret: string;
  let notJsonSecret: string;
  const producers: KafkaProducers[] = [];
  const pollers: LocalPoller[] = [];

  beforeAll(async () => {
    kafka = await startKafka({ secured: { scramUsers: { [USER]: PASSWORD } } });
    secure = kafka.secured!;
    admin = new Admin({ clientId: 'secured-test-admin', bootstrapBrokers: [kafka.bootstrap] });
    dlqUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `kafka-secured-dlq-${suffix}` }))).QueueUrl!;
    goodSecret = (await secretsManager.send(new CreateSecretCommand({ Name: `AmazonMSK_relay-${suffix}`, SecretString: JSON.stringify({ username: USER, password: PASSWORD }) }))).ARN!;
    notJsonSecret = (await secretsManager.send(new CreateSecretCommand({ Name: `AmazonMSK_plain-${suffix}`, SecretString: PASSWORD }))).ARN!;
  }, 120_000);
  afterEach(async () => {
    await Promise.all([...pollers.splice(0).map((p) => p.stop()), ...producers.splice(0).map((p) => p.close())]);
  });
  afterAll(async () => {
    await admin?.close();
    await kafka?.stop();
    await sqs.send(new DeleteQueueCommand({ QueueUrl: dlqUrl })).catch(() => {});
    sqs.destroy();
    kinesis.destroy();
    secretsManager.destroy();
  });

  async function topic(): Promise<string> {
    const name = `secured-${randomUUID().slice(0, 8)}`;
    await admin.createTopics({ topics: [name], partitions: 1, replicas: 1 });
    return name;
  }

  /** A relay whose egress `example/greets` produces to `name` on `cluster`, with a 3 s request timeout. */
  function relayTo(name: string, cluster: Omit<KafkaCluster, 'bootstrapServers'>): OutboxRelay {
    const kafkaProducers = new KafkaProducers({ retries: 2, timeoutMs: 3000, secretsManager });
    producers.push(kafkaProducers);
    return new OutboxRelay({
      kinesis,
      messageStream: `unused-${suffix}`,
      sqs,
      egress: { 'example/greets': { kafkaProducerRecordTopics: [name], kafkaCluster: { bootstrapServers: [secure.bootstrap], ...cluster } } },
      deadLetterQueueUrl: dlqUrl,
      kafkaProducers,
      sleep: async () => undefined,
    });
  }

  const greeting = (id: string, name: string, key: string) => officialKafkaRecord(id, name, key, `Hello, ${key}`);

  async function endOffset(name: string): Promise<bigint> {
    const [listed] = await admin.listOffsets({ topics: [{ name, partitions: [{ partitionIndex: 0, timestamp: ListOffsetTimestamps.LATEST }] }] });
    return listed!.partitions[0]!.offset;
  }

  it.each([
    ['SCRAM-SHA-256 with a username and password', () => ({ mechanism: 'SCRAM-SHA-256' as const, username: USER, password: PASSWORD })],
    ['SCRAM-SHA-512 with a Secrets Manager secret, as Lambda\'s mappings take it', () => ({ mechanism: 'SCRAM-SHA-512' as const, secretArn: goodSecret })],
  ])('produces over TLS (trusting the broker\'s CA) authenticated by %s, each record with its statefun-id', async (_how, sasl) => {
    // Prepare
    const name = await topic();
    const relay = relayTo(name, { tls: { caPem: secure.caPem }, sasl: sasl() });
    const records = ['alice', 'bob', 'alice'].map((key, i) => greeting(`example/greeter/${key}.1.e${i}`, name, key));

    // Act
    const outcome = await relay.relay([{ ...NO_EFFECTS, egress: records }]);
    const read = await readTopic(kafka.bootstrap, name, records.length);

    // Assess
    expect(outcome).toEqual({ firstIncomplete: undefined, errors: [] });
    expect(read.map((m) => [m.key, m.value.toString(), m.headers.get('statefun-id')])).toEqual([
      ['alice', 'Hello, alice', 'example/greeter/alice.1.e0'],
      ['bob', 'Hello, bob', 'example/greeter/bob.1.e1'],
      ['alice', 'Hello, alice', 'example/greeter/alice.1.e2'],
    ]);
  });

  it.each([
    ['a wrong password', () => ({ tls: { caPem: secure.caPem }, sasl: { mechanism: 'SCRAM-SHA-512' as const, username: USER, password: 'not-the-password' } }), /SASL_AUTHENTICATION_FAILED/],
    ['an unknown user', () => ({ tls: { caPem: secure.caPem }, sasl: { mechanism: 'SCRAM-SHA-256' as const, username: 'nobody', password: PASSWORD } }), /SASL_AUTHENTICATION_FAILED/],
    ['a secret that is not JSON', () => ({ tls: { caPem: secure.caPem }, sasl: { mechanism: 'SCRAM-SHA-512' as const, secretArn: notJsonSecret } }), /must be JSON \{"username": "\.\.\.", "password": "\.\.\."\}/],
    ['a broker certificate the system CAs do not trust', () => ({ tls: true, sasl: { mechanism: 'SCRAM-SHA-512' as const, username: USER, password: PASSWORD } }), /self-signed certificate/],
    ['a server name the certificate was not issued for', () => ({ tls: { caPem: secure.caPem, serverName: 'kafka.example.com' }, sasl: { mechanism: 'SCRAM-SHA-512' as const, username: USER, password: PASSWORD } }), /Host: kafka\.example\.com\. is not in the cert's altnames/],
  ])('dead-letters the records, produces none, and goes on with the next item, given %s', async (_what, cluster, reason) => {
    // Prepare
    const name = await topic();
    const refused = relayTo(name, cluster());
    const accepted = relayTo(name, { tls: { caPem: secure.caPem }, sasl: { mechanism: 'SCRAM-SHA-256', username: USER, password: PASSWORD } });

    // Act
    const outcome = await refused.relay([{ ...NO_EFFECTS, egress: [greeting('refused-1', name, 'k'), greeting('refused-2', name, 'k')] }]);
    const offsetAfterRefusal = await endOffset(name);
    const afterwards = await accepted.relay([{ ...NO_EFFECTS, egress: [greeting('accepted', name, 'k')] }]);
    const dead = (await drainQueue(sqs, dlqUrl)).map((m) => JSON.parse(m.body) as { id: string; reason: string });

    // Assess
    expect(outcome).toEqual({ firstIncomplete: undefined, errors: [] });
    expect(offsetAfterRefusal).toBe(0n);
    expect(afterwards).toEqual({ firstIncomplete: undefined, errors: [] });
    expect((await readTopic(kafka.bootstrap, name, 1)).map((m) => m.headers.get('statefun-id'))).toEqual(['accepted']);
    expect(dead.map((d) => d.id).sort()).toEqual(['refused-1', 'refused-2']);
    for (const d of dead) {
      expect(d.reason).toMatch(new RegExp(`^egress "example/greets" refused it for good: Kafka \\(${secure.bootstrap}\\) refused records for ${name}: `));
      expect(d.reason).toMatch(reason);
    }
  });

  it('retries, rather than dead-letters, a client without TLS on the TLS listener: the broker only closes the connection, as a network fault would', async () => {
    // Prepare
    const name = await topic();
    const relay = relayTo(name, { sasl: { mechanism: 'SCRAM-SHA-512', username: USER, password: PASSWORD } });

    // Act
    const outcome = await relay.relay([{ ...NO_EFFECTS, egress: [greeting('r', name, 'k')] }]);

    // Assess
    expect(outcome.firstIncomplete).toBe(0);
    expect(outcome.errors).toHaveLength(1);
    expect(outcome.errors[0]!.error).toMatchObject({ code: 'RELAY_INCOMPLETE', retryable: true });
    expect(outcome.errors[0]!.error.message).toMatch(new RegExp(`^producing 1 record\\(s\\) to ${name} on Kafka \\(${secure.bootstrap}\\) failed: .*Connection closed`));
    expect(await drainQueue(sqs, dlqUrl)).toEqual([]);
  });

  describe('LocalPoller', () => {
    const quiet = { warn: jest.fn() };

    function poll(name: string, group: string, clientOptions: KafkaSource['clientOptions'], handler: KafkaSource['handler']): LocalPoller {
      const poller = new LocalPoller({
        idlePollMs: 20,
        logger: quiet,
        sources: [{ kind: 'kafka', bootstrapBrokers: [secure.bootstrap], topics: [name], consumerGroupId: group, clientOptions, handler }],
      });
      pollers.push(poller);
      poller.start();
      return poller;
    }

    async function produce(name: string, values: readonly string[]): Promise<void> {
      const producer = new Producer({ clientId: 'secured-test-producer', bootstrapBrokers: [kafka.bootstrap], serializers: stringSerializers });
      try {
        await producer.send({ messages: values.map((value) => ({ topic: name, key: 'k', value })) });
      } finally {
        await producer.close();
      }
    }

    it('reads a topic over TLS with SCRAM-SHA-512, in offset order, and commits the group\'s offset through the same listener', async () => {
      // Prepare
      const name = await topic();
      const group = `secured-${suffix}`;
      await produce(name, ['one', 'two', 'three']);
      const values: string[] = [];

      // Act
      const poller = poll(name, group, { tls: { ca: secure.caPem }, sasl: { mechanism: 'SCRAM-SHA-512', username: USER, password: PASSWORD } }, async (event: KafkaEvent) => {
        for (const records of Object.values(event.records)) for (const r of records) values.push(Buffer.from(r.value as string, 'base64').toString());
      });
      await poller.waitForIdle({ quietMs: 200, timeoutMs: 30_000 });

      // Assess
      expect(values).toEqual(['one', 'two', 'three']);
      expect(await committedOffsets(admin, group, name)).toEqual([3]);
    });

    it.each([
      ['a wrong password', () => ({ tls: { ca: secure.caPem }, sasl: { mechanism: 'SCRAM-SHA-256' as const, username: USER, password: 'wrong' } }), /SASL_AUTHENTICATION_FAILED/],
      ['an untrusted broker certificate', () => ({ tls: {}, sasl: { mechanism: 'SCRAM-SHA-256' as const, username: USER, password: PASSWORD } }), /self-signed certificate/],
    ])('stops at once with the reason, delivering nothing, given %s', async (_what, clientOptions, reason) => {
      // Prepare
      const name = await topic();
      await produce(name, ['never delivered']);
      const handler = jest.fn(async () => undefined);

      // Act
      const poller = poll(name, `refused-${randomUUID().slice(0, 8)}`, clientOptions(), handler);
      const idle = poller.waitForIdle({ quietMs: 200, timeoutMs: 30_000 });

      // Assess
      await expect(idle).rejects.toThrow(new RegExp(`^LocalPoller: cannot list the shards of refused-\\w+: Kafka source refused-\\w+: ${secure.bootstrap} refused the connection: .*; check clientOptions`));
      await expect(idle).rejects.toThrow(reason);
      expect(handler).not.toHaveBeenCalled();
    });
  });
});
