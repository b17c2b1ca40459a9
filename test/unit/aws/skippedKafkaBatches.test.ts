import type { KafkaEvent } from '../../../runtime-lambda/aws/lambdaEvents';
import { readSkippedBatch, skippedBatchObject } from '../../../runtime-lambda/aws/skippedBatches';
import { kafkaRecordFactory } from '../../helpers/awsEventFactories';

const AT = Date.parse('2026-12-05T09:10:11.123Z');
const FUNCTION_ARN = 'arn:aws:lambda:eu-west-1:123456789012:function:dispatcher';

describe('skipped batches of a Kafka mapping: the objects of its S3 on-failure destination', () => {
  it('writes Lambda\'s Kafka format: KafkaBatchInfo with offsets and timestamps per topic partition, the event as the payload, the object named after the partition', () => {
    // Prepare: a self-managed cluster's event (bootstrapServers, no eventSourceArn)
    const event: KafkaEvent = {
      eventSource: 'SelfManagedKafka',
      bootstrapServers: 'b-1:9092,b-2:9092',
      records: { 'orders-2': [7, 8, 10].map((offset) => kafkaRecordFactory({ topic: 'orders', partition: 2, offset, key: 'alice', value: `v${offset}`, timestampMs: AT - 1000 + offset })) },
    };

    // Act
    const { key, body } = skippedBatchObject({ sourceKind: 'kafka', topic: 'orders', partition: 2, condition: 'RetryAttemptsExhausted', attempts: 11, event }, { functionArn: FUNCTION_ARN, mappingId: 'uuid-k', atMs: AT });

    // Assess
    expect(key).toMatch(/^aws\/lambda\/uuid-k\/orders-2\/2026\/12\/05\/2026-12-05T09\.10\.11\.123Z-[0-9a-f-]{36}$/);
    const raw = JSON.parse(body) as Record<string, unknown>;
    expect(raw).toEqual({
      requestContext: { requestId: expect.any(String), functionArn: FUNCTION_ARN, condition: 'RetryAttemptsExhausted', approximateInvokeCount: 11 },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      version: '1.0',
      timestamp: '2026-12-05T09:10:11.123Z',
      KafkaBatchInfo: {
        batchSize: 3,
        bootstrapServers: 'b-1:9092,b-2:9092',
        payloadSize: Buffer.byteLength(JSON.stringify(event)),
        recordsInfo: { 'orders-2': { firstRecordOffset: '7', lastRecordOffset: '10', firstRecordTimestamp: '2026-12-05T09:10:10.130Z', lastRecordTimestamp: '2026-12-05T09:10:10.133Z' } },
      },
      payload: JSON.stringify(event),
    });
  });

  it('refuses to read a Kafka batch back, saying what to do with it instead', () => {
    // Prepare
    const event: KafkaEvent = { eventSource: 'aws:kafka', eventSourceArn: 'arn:aws:kafka:eu-west-1:123456789012:cluster/c/1', bootstrapServers: 'b-1:9098', records: { 'orders-0': [kafkaRecordFactory({ topic: 'orders', offset: 1, key: 'a', value: 'v' })] } };
    const { key, body } = skippedBatchObject({ sourceKind: 'kafka', topic: 'orders', partition: 0, condition: 'RetryAttemptsExhausted', attempts: 1, event }, { functionArn: FUNCTION_ARN, mappingId: 'm', atMs: AT });

    // Act
    const attempt = () => readSkippedBatch(key, body);

    // Assess
    expect(attempt).toThrow(
      `s3 object ${key} is not a skipped batch of an event source mapping: it is a Kafka mapping's batch (KafkaBatchInfo), which this reads not yet (Kinesis and DynamoDB Streams batches only): replay its payload, a Kafka event, by invoking the function with it`,
    );
  });
});
