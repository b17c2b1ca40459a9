import { create, toBinary } from '@bufbuild/protobuf';
import { Address } from '../../../runtime-lambda/core/Address';
import { InvalidInputError } from '../../../runtime-lambda/core/errors';
import { RAW_KAFKA_VALUE_TYPE, type UndecodableKafkaRecord, decodeKafkaEvent, decodeKafkaRecord } from '../../../runtime-lambda/aws/kafkaRecords';
import { UNDECODABLE_TYPE, UNDECODABLE_VALUE_TYPE } from '../../../runtime-lambda/aws/kinesisRecords';
import type { KafkaEvent, KafkaRecord } from '../../../runtime-lambda/aws/lambdaEvents';
import { IntWrapperSchema, StringWrapperSchema } from '../../../runtime-lambda/protocol/generated/types_pb';
import { kafkaEvent, kafkaRecordFactory } from '../../helpers/awsEventFactories';

const STRING = 'io.statefun.types/string';
const names = { names: { functionType: 'example/person', valueType: STRING } };
const sdkString = (text: string) => toBinary(StringWrapperSchema, create(StringWrapperSchema, { value: text }));

/** The dead letter a record became: its sink address and what it kept. */
function deadLetterOf(record: KafkaRecord, ingresses: Parameters<typeof decodeKafkaRecord>[1] = names) {
  const decoded = decodeKafkaRecord(record, ingresses);
  expect(decoded.envelopes).toHaveLength(1);
  const [envelope] = decoded.envelopes;
  expect(envelope!.argument.typename).toBe(UNDECODABLE_VALUE_TYPE);
  const kept = JSON.parse(Buffer.from(envelope!.argument.value!).toString('utf8')) as UndecodableKafkaRecord;
  expect(kept.reason).toBe(decoded.undecodable);
  return { decoded, envelope: envelope!, kept };
}

describe('Function: decodeKafkaRecord', () => {
  it('routes a record of a configured topic to the function whose id is its key, with its value as the topic value type', () => {
    // Prepare
    const value = sdkString('Bob');
    const record = kafkaRecordFactory({ topic: 'names', partition: 3, offset: 41, key: 'bob', value });

    // Act
    const decoded = decodeKafkaRecord(record, names);

    // Assess
    expect(decoded).toMatchObject({ topic: 'names', partition: '3', offset: '41' });
    expect(decoded.undecodable).toBeUndefined();
    expect(decoded.envelopes).toEqual([
      {
        id: 'names/3/41',
        target: Address.of('example/person', 'bob'),
        argument: { typename: STRING, value },
        origin: { kind: 'ingress', source: 'names/3', position: '41' },
      },
    ]);
  });

  it('sends a record to every target type, each copy with its own id; without a valueType the bytes go as they are', () => {
    // Prepare
    const record = kafkaRecordFactory({ topic: 'clicks', offset: 7, key: 'user-1', value: '{"page":"/"}' });

    // Act
    const decoded = decodeKafkaRecord(record, { clicks: { functionType: ['shop/session', 'shop/audit'] } });

    // Assess
    expect(decoded.envelopes.map((e) => [e.id, e.target.key, e.argument.typename, Buffer.from(e.argument.value!).toString()])).toEqual([
      ['clicks/0/7@shop/session', 'shop/session/user-1', RAW_KAFKA_VALUE_TYPE, '{"page":"/"}'],
      ['clicks/0/7@shop/audit', 'shop/audit/user-1', RAW_KAFKA_VALUE_TYPE, '{"page":"/"}'],
    ]);
  });

  it('takes the timestamp as the arrival only when the broker stamped it (LOG_APPEND_TIME)', () => {
    // Prepare
    const at = Date.UTC(2026, 0, 1);
    const appended = kafkaRecordFactory({ topic: 'names', offset: 1, key: 'a', value: sdkString('a'), timestampMs: at, timestampType: 'LOG_APPEND_TIME' });
    const created = kafkaRecordFactory({ topic: 'names', offset: 2, key: 'a', value: sdkString('a'), timestampMs: at, timestampType: 'CREATE_TIME' });

    // Act
    const [fromBroker] = decodeKafkaRecord(appended, names).envelopes;
    const [fromProducer] = decodeKafkaRecord(created, names).envelopes;

    // Assess
    expect(fromBroker!.origin).toEqual({ kind: 'ingress', source: 'names/0', position: '1', arrivedAtMs: at });
    expect(fromProducer!.origin).toEqual({ kind: 'ingress', source: 'names/0', position: '2' });
  });

  it('reads partition and offset given as decimal text, beyond what a JSON number holds exactly', () => {
    // Prepare
    const record = { ...kafkaRecordFactory({ topic: 'names', offset: 0, key: 'a', value: sdkString('a') }), partition: '12', offset: '9007199254740993' };

    // Act
    const decoded = decodeKafkaRecord(record, names);

    // Assess
    expect(decoded.envelopes[0]!.id).toBe('names/12/9007199254740993');
    expect(decoded.envelopes[0]!.origin).toMatchObject({ source: 'names/12', position: '9007199254740993' });
  });

  it('accepts every built-in type in the SDKs\' encoding, the empty message (a zero value) included', () => {
    // Prepare
    const int = toBinary(IntWrapperSchema, create(IntWrapperSchema, { value: 42 }));

    // Act
    const decoded = [
      decodeKafkaRecord(kafkaRecordFactory({ topic: 'n', offset: 1, key: 'a', value: int }), { n: { functionType: 'ex/f', valueType: 'io.statefun.types/int' } }),
      decodeKafkaRecord(kafkaRecordFactory({ topic: 'n', offset: 2, key: 'a', value: new Uint8Array(0) }), { n: { functionType: 'ex/f', valueType: 'io.statefun.types/bool' } }),
    ];

    // Assess
    expect(decoded.map((d) => d.undecodable)).toEqual([undefined, undefined]);
  });

  describe('a record that cannot become a message is a dead letter of its partition, with its reason', () => {
    it.each<[string, Partial<Parameters<typeof kafkaRecordFactory>[0]>, string]>([
      ['of a topic that is not configured', { topic: 'other' }, 'Kafka record other/2/5: topic "other" is not a configured Kafka ingress (configured: "names"): add it to the dispatcher\'s Kafka ingresses (STATEFUN_KAFKA_INGRESSES)'],
      ['without a key', { key: null }, 'Kafka record names/2/5 has no key: a Kafka ingress routes each record to the function whose id is the record\'s key, as StateFun does; produce the record with a key'],
      ['with an empty key', { key: '' }, 'Kafka record names/2/5: its key "" is not a valid function id for example/person: InvalidInputError: invalid address "example/person/": the id must be a non-empty string'],
      ['with a key that is not UTF-8', { key: new Uint8Array([0xff, 0xfe]) }, 'Kafka record names/2/5: its key (base64 //4=) is not UTF-8 text: the key is the target function\'s id'],
      ['without a value (a tombstone)', { value: null }, 'Kafka record names/2/5 has no value (a tombstone): a Kafka ingress sends the record\'s value to its targets; produce the record with a value'],
    ])('a record %s', (_, overrides, reason) => {
      // Prepare
      const record = kafkaRecordFactory({ topic: 'names', partition: 2, offset: 5, key: 'bob', value: sdkString('Bob'), ...overrides });

      // Act
      const { decoded, envelope, kept } = deadLetterOf(record);

      // Assess
      expect(decoded.undecodable).toBe(reason);
      expect(envelope.target).toEqual(Address.of(UNDECODABLE_TYPE, `${record.topic}/2`));
      expect(envelope.id).toBe(`${record.topic}/2/5`);
      expect(envelope.origin).toEqual({ kind: 'ingress', source: `${record.topic}/2`, position: '5' });
      expect(kept).toEqual({ reason, topic: record.topic, partition: '2', offset: '5', key: record.key ?? null, value: record.value ?? null });
    });

    it.each([
      ['key', { key: 'bob!' }, 'Kafka record names/0/5: its key "bob!" is not base64, as Lambda delivers keys'],
      ['key', { key: 42 }, 'Kafka record names/0/5: its key 42 is not base64, as Lambda delivers keys'],
      ['value', { value: 'Qm9i\n' }, 'Kafka record names/0/5: its value ("Qm9i\\n") is not base64, as Lambda delivers values'],
    ])('a record whose %s is not base64', (_, overrides, reason) => {
      // Prepare
      const record = { ...kafkaRecordFactory({ topic: 'names', offset: 5, key: 'bob', value: sdkString('Bob') }), ...overrides } as KafkaRecord;

      // Act
      const { decoded } = deadLetterOf(record);

      // Assess
      expect(decoded.undecodable).toBe(reason);
    });

    it.each([
      ['raw text that protobuf cannot read', 'Bob', /^Kafka record names\/0\/5 of topic "names": its value \(3 bytes\) does not decode as io\.statefun\.types\/string: .*premature EOF.*; expected the SDKs' encoding of io\.statefun\.types\/string \(protobuf message io\.statefun\.sdk\.types\.StringWrapper; raw text is not one\): produce the value with an SDK's type, or give the topic a valueType of your own$/],
      ['raw text that protobuf reads as another field', 'hi', /^Kafka record names\/0\/5 of topic "names": its value \(2 bytes\) holds fields that io\.statefun\.types\/string does not have; expected the SDKs' encoding/],
      ['a StringWrapper whose text is not UTF-8', new Uint8Array([0x0a, 2, 0xff, 0xfe]), /its value \(4 bytes\) does not decode as io\.statefun\.types\/string: its text is not UTF-8; expected/],
    ])('a value of a built-in type that is %s', (_, value, reason) => {
      // Prepare
      const record = kafkaRecordFactory({ topic: 'names', offset: 5, key: 'bob', value });

      // Act
      const { decoded } = deadLetterOf(record);

      // Assess
      expect(decoded.undecodable).toMatch(reason);
    });
  });

  it.each<[string, unknown]>([
    ['no topic', { partition: 0, offset: 1 }],
    ['a topic with a slash', { topic: 'a/b', partition: 0, offset: 1 }],
    ['a negative offset', { topic: 'names', partition: 0, offset: -1 }],
    ['a fractional offset', { topic: 'names', partition: 0, offset: 1.5 }],
    ['an offset in non-canonical text', { topic: 'names', partition: 0, offset: '007' }],
    ['no partition', { topic: 'names', offset: 1 }],
    ['a null record', null],
  ])('refuses a record with %s: the event is not from a Kafka event source mapping', (_, record) => {
    // Act
    const act = () => decodeKafkaRecord(record as KafkaRecord, names);

    // Assess
    expect(act).toThrow(InvalidInputError);
    expect(act).toThrow(/^Kafka event record .* needs a topic name, a partition and an offset \(non-negative integers\): the handler must be driven by a Kafka event source mapping$/);
  });
});

describe('Function: decodeKafkaEvent', () => {
  it('decodes every partition\'s records in offset order', () => {
    // Prepare
    const event = kafkaEvent(
      kafkaRecordFactory({ topic: 'names', partition: 0, offset: 10, key: 'a', value: sdkString('a') }),
      kafkaRecordFactory({ topic: 'names', partition: 1, offset: 3, key: 'b', value: sdkString('b') }),
      kafkaRecordFactory({ topic: 'names', partition: 0, offset: 11, key: 'a', value: sdkString('a2') }),
    );

    // Act
    const decoded = decodeKafkaEvent(event, names);

    // Assess
    expect(decoded.map((d) => d.envelopes[0]!.id)).toEqual(['names/0/10', 'names/0/11', 'names/1/3']);
  });

  it.each<[string, unknown, string]>([
    ['records missing', {}, 'Kafka event has records undefined, expected an object of "<topic>-<partition>" → [records]: the handler must be driven by a Kafka event source mapping'],
    ['records an array', { records: [] }, 'Kafka event has records [], expected an object'],
    ['a group that is not an array', { records: { 'names-0': { offset: 1 } } }, 'Kafka event\'s records["names-0"] is {"offset":1}, expected an array of records'],
  ])('refuses an event with %s', (_, event, message) => {
    // Act
    const act = () => decodeKafkaEvent(event as KafkaEvent, names);

    // Assess
    expect(act).toThrow(InvalidInputError);
    expect(act).toThrow(message);
  });
});
