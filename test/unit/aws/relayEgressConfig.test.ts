import { parseEgresses } from '../../../runtime-lambda/handlers/relay';

describe('STATEFUN_EGRESSES: the relay\'s egress map', () => {
  it('reads the three kinds of sink', () => {
    // Act
    const egresses = parseEgresses({
      STATEFUN_EGRESSES: JSON.stringify({
        'fraud/alerts': { kinesisStream: 'alerts' },
        'example/out': { kinesisEgressRecordStreams: ['greetings', 'arn:aws:kinesis:us-east-1:123456789012:stream/audit'] },
        'fraud/audit': { sqsQueueUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/audit.fifo', messageGroupId: 'g' },
      }),
    });

    // Assess
    expect(egresses).toEqual({
      'fraud/alerts': { kinesisStream: 'alerts' },
      'example/out': { kinesisEgressRecordStreams: ['greetings', 'arn:aws:kinesis:us-east-1:123456789012:stream/audit'] },
      'fraud/audit': { sqsQueueUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/audit.fifo', messageGroupId: 'g' },
    });
  });

  it.each([
    ['no stream', { kinesisEgressRecordStreams: [] }],
    ['a stream that is not a string', { kinesisEgressRecordStreams: ['a', 7] }],
    ['an empty stream name', { kinesisEgressRecordStreams: [''] }],
    ['streams and a queue', { kinesisEgressRecordStreams: ['a'], sqsQueueUrl: 'https://sqs.us-east-1.amazonaws.com/1/q' }],
    ['streams and a stream', { kinesisEgressRecordStreams: ['a'], kinesisStream: 'b' }],
    ['not an object', 'alerts'],
    ['a Kafka egress with a stream too', { kafkaProducerRecordTopics: ['a'], kafkaCluster: { bootstrapServers: 'k:9092' }, kinesisStream: 'b' }],
    ['an event bus with a queue too', { eventBus: 'orders', sqsQueueUrl: 'https://sqs.us-east-1.amazonaws.com/1/q' }],
  ])('refuses %s, naming the egress and the accepted forms', (_what, value) => {
    expect(() => parseEgresses({ STATEFUN_EGRESSES: JSON.stringify({ 'example/out': value }) })).toThrow(
      `STATEFUN_EGRESSES: egress "example/out" maps to ${JSON.stringify(value)}: expected {"kinesisStream": ...}, {"kinesisEgressRecordStreams": [<stream>, ...]}, {"sqsQueueUrl": ..., "messageGroupId"?: ...}, {"kafkaProducerRecordTopics": [<topic>, ...], "kafkaCluster": {"bootstrapServers": ..., "tls"?: ..., "sasl"?: ...}} or {"eventBus": ..., "source"?: ..., "detailType"?: ...}`,
    );
  });
});

describe('STATEFUN_EGRESSES: Kafka and EventBridge egresses', () => {
  const parse = (value: unknown) => parseEgresses({ STATEFUN_EGRESSES: JSON.stringify({ 'example/out': value }) })['example/out'];

  it('reads a Kafka egress: its topics and cluster, each way to authenticate', () => {
    // Act
    const plain = parse({ kafkaProducerRecordTopics: ['greetings', 'audit.v2'], kafkaCluster: { bootstrapServers: 'k1:9092, k2:9092' } });
    const scram = parse({
      kafkaProducerRecordTopics: ['greetings'],
      kafkaCluster: { bootstrapServers: ['b-1.example.com:9096'], tls: true, sasl: { mechanism: 'SCRAM-SHA-512', secretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:AmazonMSK_relay-AbCdEf' } },
    });
    const user = parse({ kafkaProducerRecordTopics: ['greetings'], kafkaCluster: { bootstrapServers: 'k:9093', tls: { caPem: '-----BEGIN CERTIFICATE-----', serverName: 'kafka.internal' }, sasl: { mechanism: 'PLAIN', username: 'relay', password: 'pw' } } });
    const iam = parse({ kafkaProducerRecordTopics: ['greetings'], kafkaCluster: { bootstrapServers: 'b-1.msk.example.com:9098', sasl: { mechanism: 'AWS_MSK_IAM', region: 'eu-west-1' } } });

    // Assess
    expect(plain).toEqual({ kafkaProducerRecordTopics: ['greetings', 'audit.v2'], kafkaCluster: { bootstrapServers: ['k1:9092', 'k2:9092'] } });
    expect(scram).toEqual({
      kafkaProducerRecordTopics: ['greetings'],
      kafkaCluster: { bootstrapServers: ['b-1.example.com:9096'], tls: true, sasl: { mechanism: 'SCRAM-SHA-512', secretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:AmazonMSK_relay-AbCdEf' } },
    });
    expect(user).toEqual({ kafkaProducerRecordTopics: ['greetings'], kafkaCluster: { bootstrapServers: ['k:9093'], tls: { caPem: '-----BEGIN CERTIFICATE-----', serverName: 'kafka.internal' }, sasl: { mechanism: 'PLAIN', username: 'relay', password: 'pw' } } });
    expect(iam).toEqual({ kafkaProducerRecordTopics: ['greetings'], kafkaCluster: { bootstrapServers: ['b-1.msk.example.com:9098'], sasl: { mechanism: 'AWS_MSK_IAM', region: 'eu-west-1' } } });
  });

  it.each<[string, unknown, string]>([
    ['no topics', { kafkaProducerRecordTopics: [], kafkaCluster: { bootstrapServers: 'k:9092' } }, 'STATEFUN_EGRESSES: egress "example/out": kafkaProducerRecordTopics must list the topics its records may name (1 to 249 of letters, digits, ".", "_" and "-"), got []: e.g. "kafkaProducerRecordTopics": ["greetings"]'],
    ['a topic that is no topic name', { kafkaProducerRecordTopics: ['a/b'], kafkaCluster: { bootstrapServers: 'k:9092' } }, 'kafkaProducerRecordTopics must list the topics its records may name (1 to 249 of letters, digits, ".", "_" and "-"), got ["a/b"]'],
    ['no cluster', { kafkaProducerRecordTopics: ['a'] }, 'STATEFUN_EGRESSES: egress "example/out": kafkaCluster must be an object, got undefined: e.g. "kafkaCluster": {"bootstrapServers": '],
    ['a server without a port', { kafkaProducerRecordTopics: ['a'], kafkaCluster: { bootstrapServers: 'kafka' } }, 'kafkaCluster.bootstrapServers must be "host:port[,host:port...]" or a list of them, got "kafka"'],
    ['an unknown cluster key', { kafkaProducerRecordTopics: ['a'], kafkaCluster: { bootstrapServers: 'k:9092', brokers: 'k:9092' } }, 'kafkaCluster has unknown key "brokers": expected "bootstrapServers", "tls" and "sasl"'],
    ['a bad tls', { kafkaProducerRecordTopics: ['a'], kafkaCluster: { bootstrapServers: 'k:9092', tls: 'yes' } }, 'kafkaCluster.tls must be true, false or {"caPem"?: <PEM>, "serverName"?: <name>}, got "yes"'],
    ['an unknown mechanism', { kafkaProducerRecordTopics: ['a'], kafkaCluster: { bootstrapServers: 'k:9092', sasl: { mechanism: 'GSSAPI' } } }, 'kafkaCluster.sasl has an unknown mechanism, got {"mechanism":"GSSAPI"}: expected {"mechanism": "PLAIN" | "SCRAM-SHA-256" | "SCRAM-SHA-512"'],
    ['SCRAM without a password', { kafkaProducerRecordTopics: ['a'], kafkaCluster: { bootstrapServers: 'k:9092', sasl: { mechanism: 'SCRAM-SHA-256', username: 'u' } } }, 'kafkaCluster.sasl for SCRAM-SHA-256 needs "username" and "password", or "secretArn"'],
    ['MSK IAM with a password', { kafkaProducerRecordTopics: ['a'], kafkaCluster: { bootstrapServers: 'k:9098', sasl: { mechanism: 'AWS_MSK_IAM', password: 'p' } } }, 'kafkaCluster.sasl for AWS_MSK_IAM takes only "region"'],
    ['an empty bus', { eventBus: '' }, 'STATEFUN_EGRESSES: egress "example/out": eventBus must be a string of 1 to 256 characters, got "": e.g. {"eventBus": "orders", "source": "shop", "detailType": "OrderPlaced"}'],
    ['a source that is not a string', { eventBus: 'orders', source: 3 }, 'source must be a string of 1 to 256 characters, got 3'],
    ['an AWS source', { eventBus: 'orders', source: 'aws.shop' }, 'source "aws.shop" starts with "aws.", which EventBridge keeps for AWS services: choose another, e.g. "shop"'],
  ])('refuses %s, naming what is wrong', (_what, value, message) => {
    expect(() => parse(value)).toThrow(message);
  });

  it('reads an EventBridge egress, name or ARN, with or without source and detail type', () => {
    // Assess
    expect(parse({ eventBus: 'orders' })).toEqual({ eventBus: 'orders' });
    expect(parse({ eventBus: 'arn:aws:events:us-east-1:123456789012:event-bus/orders', source: 'shop', detailType: 'OrderPlaced' })).toEqual({
      eventBus: 'arn:aws:events:us-east-1:123456789012:event-bus/orders',
      source: 'shop',
      detailType: 'OrderPlaced',
    });
  });
});
