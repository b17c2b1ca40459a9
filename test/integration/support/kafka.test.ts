import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { Admin, Producer } from '@platformatic/kafka';
import { KAFKA_ENV, kafkaBootstrap, startKafka } from '../../support/kafka';

/** Whether something accepts TCP connections at `host:port`. */
function listening(bootstrap: string): Promise<boolean> {
  const [host, port] = bootstrap.split(':');
  return new Promise((done) => {
    const socket = connect({ host: host!, port: Number(port) });
    socket.once('connect', () => {
      socket.destroy();
      done(true);
    });
    socket.once('error', () => done(false));
  });
}

describe('test support: the Kafka broker', () => {
  it('the run\'s broker (global setup) takes a topic and a record; asking for an unknown topic does not create it', async () => {
    // Prepare
    const bootstrap = kafkaBootstrap();
    const admin = new Admin({ clientId: 'support-test', bootstrapBrokers: [bootstrap], retries: 1, retryDelay: 100 });
    const producer = new Producer({ clientId: 'support-test', bootstrapBrokers: [bootstrap], idempotent: true });
    const topic = `support-${Date.now()}`;
    try {
      await admin.createTopics({ topics: [topic], partitions: 2, replicas: 1 });

      // Act
      const sent = await producer.send({ messages: [{ topic, partition: 1, key: Buffer.from('k'), value: Buffer.from('v') }] });
      const unknown = admin.metadata({ topics: [`${topic}-missing`], autocreateTopics: true });

      // Assess
      expect(sent.offsets).toEqual([{ topic, partition: 1, offset: 0n }]);
      await expect(unknown).rejects.toThrow(/UNKNOWN_TOPIC_OR_PARTITION|does not host this topic-partition|unknown topic/i);
      expect(await admin.listTopics()).not.toContain(`${topic}-missing`);
    } finally {
      await producer.close();
      await admin.close();
    }
  });

  it('startKafka runs a broker of its own and stop() ends it and deletes its directory, idempotently', async () => {
    // Act
    const kafka = await startKafka({ defaultPartitions: 3, autoCreateTopics: true });
    const admin = new Admin({ clientId: 'support-test', bootstrapBrokers: [kafka.bootstrap] });
    let partitions: number | undefined;
    try {
      const metadata = await admin.metadata({ topics: ['auto-created'], autocreateTopics: true });
      partitions = metadata.topics.get('auto-created')?.partitionsCount;
    } finally {
      await admin.close();
      await Promise.all([kafka.stop(), kafka.stop()]);
    }

    // Assess
    expect(kafka.bootstrap).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(kafka.bootstrap).not.toBe(process.env[KAFKA_ENV]);
    expect(partitions).toBe(3);
    expect(await listening(kafka.bootstrap)).toBe(false);
    expect(kafka.pid !== undefined && existsSync(`/proc/${kafka.pid}`)).toBe(false);
  });

  it('rejects a partition count that is not a positive integer, naming it', async () => {
    await expect(startKafka({ defaultPartitions: 0 })).rejects.toThrow(new RangeError('startLocalKafka: defaultPartitions must be a positive integer, got 0'));
  });

  it.each([
    ['with a kept data directory', { dataDir: '/tmp/never-made', secured: { scramUsers: { alice: 'secret' } } }, 'startLocalKafka: secured cannot be combined with dataDir (SCRAM users are written when a fresh log directory is formatted)'],
    ['without a user', { secured: { scramUsers: {} } }, 'startLocalKafka: secured.scramUsers names no user'],
    ['with a comma in a password', { secured: { scramUsers: { alice: 'a,b' } } }, 'startLocalKafka: SCRAM password "a,b" must be non-empty, without spaces, commas, \'=\', brackets or quotes'],
    ['with a bracket in a username', { secured: { scramUsers: { 'al]ice': 'secret' } } }, 'startLocalKafka: SCRAM username "al]ice" must be non-empty, without spaces, commas, \'=\', brackets or quotes'],
    ['with an empty password', { secured: { scramUsers: { alice: '' } } }, 'startLocalKafka: SCRAM password "" must be non-empty, without spaces, commas, \'=\', brackets or quotes'],
  ])('rejects a secured listener %s before starting anything', async (_what, options, message) => {
    await expect(startKafka(options)).rejects.toThrow(new RangeError(message));
    expect(existsSync('/tmp/never-made')).toBe(false);
  });

  it('kafkaBootstrap without a broker says how to get one', () => {
    expect(() => kafkaBootstrap({})).toThrow(
      new Error(`${KAFKA_ENV} is not set: run the test in jest's "integration" project (its global setup starts a broker), or set ${KAFKA_ENV}=host:port to a running broker`),
    );
  });
});
