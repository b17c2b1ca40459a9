import type { DynamoDBStreamEvent, KinesisStreamEvent } from '../../../runtime-lambda/aws/lambdaEvents';
import { readSkippedBatch, skippedBatchObject } from '../../../runtime-lambda/aws/skippedBatches';

const kinesisEvent: KinesisStreamEvent = {
  Records: ['7', '9'].map((sequenceNumber) => ({
    kinesis: { kinesisSchemaVersion: '1.0', partitionKey: 'alice', sequenceNumber, data: Buffer.from(`record ${sequenceNumber}`).toString('base64') },
    eventSource: 'aws:kinesis',
    eventVersion: '1.0',
    eventID: `shardId-000000000003:${sequenceNumber}`,
    eventName: 'aws:kinesis:record',
    eventSourceARN: 'arn:aws:kinesis:eu-west-1:123456789012:stream/orders',
  })),
};

describe('skipped batches: the objects of a mapping S3 on-failure destination', () => {
  it('writes Lambda format (metadata, batch info, the event as a JSON string) and reads it back', () => {
    // Act
    const { key, body } = skippedBatchObject(
      { sourceKind: 'kinesis', streamArn: 'arn:aws:kinesis:eu-west-1:123456789012:stream/orders', shardId: 'shardId-000000000003', condition: 'RecordAgeExceeded', attempts: 4, event: kinesisEvent, firstArrivalMs: 1_000, lastArrivalMs: 2_000 },
      { functionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:dispatcher', mappingId: 'uuid-1', atMs: Date.parse('2026-12-05T09:10:11.123Z') },
    );
    const raw = JSON.parse(body) as Record<string, unknown>;
    const read = readSkippedBatch(key, body);

    // Assess
    expect(key).toMatch(/^aws\/lambda\/uuid-1\/shardId-000000000003\/2026\/12\/05\/2026-12-05T09\.10\.11\.123Z-[0-9a-f-]{36}$/);
    expect(raw).toMatchObject({
      requestContext: { functionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:dispatcher', condition: 'RecordAgeExceeded', approximateInvokeCount: 4 },
      version: '1.0',
      timestamp: '2026-12-05T09:10:11.123Z',
      KinesisBatchInfo: { shardId: 'shardId-000000000003', startSequenceNumber: '7', endSequenceNumber: '9', batchSize: 2, approximateArrivalOfFirstRecord: '1970-01-01T00:00:01.000Z', streamArn: 'arn:aws:kinesis:eu-west-1:123456789012:stream/orders' },
    });
    expect(typeof raw.payload).toBe('string');
    expect(read).toEqual({
      key,
      condition: 'RecordAgeExceeded',
      functionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:dispatcher',
      sourceKind: 'kinesis',
      streamArn: 'arn:aws:kinesis:eu-west-1:123456789012:stream/orders',
      shardId: 'shardId-000000000003',
      startSequenceNumber: '7',
      endSequenceNumber: '9',
      batchSize: 2,
      timestamp: '2026-12-05T09:10:11.123Z',
      event: kinesisEvent,
    });
  });

  it('reads a DynamoDB stream batch, and a payload given as an object', () => {
    // Prepare
    const event: DynamoDBStreamEvent = { Records: [{ eventName: 'INSERT', eventSourceARN: 'arn:outbox/stream/1', dynamodb: { SequenceNumber: '42', Keys: {}, NewImage: {} } } as never] };
    const body = JSON.stringify({
      requestContext: { functionArn: 'relay', condition: 'RetryAttemptsExhausted' },
      DDBStreamBatchInfo: { shardId: 'shardId-1', startSequenceNumber: '42', endSequenceNumber: '42', streamArn: 'arn:outbox/stream/1' },
      payload: event,
    });

    // Act
    const read = readSkippedBatch('k', body);

    // Assess
    expect(read).toMatchObject({ sourceKind: 'dynamodb', functionArn: 'relay', batchSize: 1, timestamp: '', event });
  });

  it.each([
    ['not JSON', 'nope', 'not JSON ('],
    ['an array', '[]', 'expected a JSON object'],
    ['no function', JSON.stringify({ requestContext: { condition: 'x' } }), 'requestContext.functionArn and requestContext.condition must be strings'],
    ['no batch info', JSON.stringify({ requestContext: { functionArn: 'f', condition: 'c' } }), 'expected KinesisBatchInfo or DDBStreamBatchInfo'],
    [
      'a batch info without its stream',
      JSON.stringify({ requestContext: { functionArn: 'f', condition: 'c' }, KinesisBatchInfo: { shardId: 's', startSequenceNumber: '1', endSequenceNumber: '2' } }),
      'KinesisBatchInfo.streamArn must be a string',
    ],
    [
      'the metadata only (as an SQS or SNS destination keeps it)',
      JSON.stringify({ requestContext: { functionArn: 'f', condition: 'c' }, KinesisBatchInfo: { shardId: 's', startSequenceNumber: '1', endSequenceNumber: '2', streamArn: 'a' } }),
      'payload must be the invocation event, {"Records": [...]} with at least one record (a destination that is not S3 keeps no payload)',
    ],
    [
      'a payload that is not JSON',
      JSON.stringify({ requestContext: { functionArn: 'f', condition: 'c' }, KinesisBatchInfo: { shardId: 's', startSequenceNumber: '1', endSequenceNumber: '2', streamArn: 'a' }, payload: '{oops' }),
      'payload is not JSON (',
    ],
  ])('refuses %s, naming the object and what is wrong', (_what, body, reason) => {
    expect(() => readSkippedBatch('aws/lambda/m/x', body)).toThrow(`s3 object aws/lambda/m/x is not a skipped batch of an event source mapping: ${reason}`);
  });
});
