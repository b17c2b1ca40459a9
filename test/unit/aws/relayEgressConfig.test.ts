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
  ])('refuses %s, naming the egress and the accepted forms', (_what, value) => {
    expect(() => parseEgresses({ STATEFUN_EGRESSES: JSON.stringify({ 'example/out': value }) })).toThrow(
      `STATEFUN_EGRESSES: egress "example/out" maps to ${JSON.stringify(value)}: expected {"kinesisStream": ...}, {"kinesisEgressRecordStreams": [<stream>, ...]} or {"sqsQueueUrl": ..., "messageGroupId"?: ...}`,
    );
  });
});
