import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { kafkaEgressMessage as officialKafka, kinesisEgressMessage as officialKinesis, StateFun } from 'apache-flink-statefun';
import { Address } from '../../../runtime-lambda/core/Address';
import { InvalidInputError } from '../../../runtime-lambda/core/errors';
import { readKinesisEgressRecord } from '../../../runtime-lambda/aws/statefunEgressRecords';
import { encodeToFunction } from '../../../runtime-lambda/protocol/codec';
import { KafkaProducerRecordSchema, KinesisEgressRecordSchema } from '../../../runtime-lambda/protocol/generated/egress_pb';
import { FromFunctionSchema, TypedValueSchema } from '../../../runtime-lambda/protocol/generated/request-reply_pb';
import {
  customType,
  defineFunction,
  type EgressMessage,
  FunctionFailedError,
  jsonType,
  kafkaEgressMessage,
  kinesisEgressMessage,
  StatefulFunctions,
  Types,
} from '../../../runtime-lambda/sdk';
import { rejection } from '../../helpers/rejection';

interface Order {
  readonly id: string;
  readonly total: number;
}
const OrderType = jsonType<Order>('example/Order');
const officialOrderType = StateFun.jsonType<Order>('example/Order');
const order: Order = { id: 'o-1', total: 12.5 };
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const NEEDS_TYPE = "give a type (e.g. jsonType('example/Order')), or a string, a Uint8Array or a 32-bit integer";

/**
 * The egress message a function built with `build` answers with, read back from the
 * `FromFunction` bytes the registry serves: its egress and its `TypedValue` bytes.
 */
async function servedEgress(build: () => EgressMessage): Promise<{ egress: string; typedValue: Uint8Array }> {
  const registry = new StatefulFunctions().withFunction(
    defineFunction({
      typename: 'example/emitter',
      handle(ctx) {
        ctx.egress(build());
      },
    }),
  );
  const reply = await registry.handle(
    encodeToFunction({
      target: Address.of('example/emitter', 'e1'),
      state: [],
      invocations: [{ argument: { typename: Types.string.typename, value: Types.string.serialize('go') } }],
    }),
  );
  const response = fromBinary(FromFunctionSchema, reply).response;
  if (response.case !== 'invocationResult') throw new Error(`expected an invocation result, got ${response.case}`);
  const [sent] = response.value.outgoingEgresses;
  return { egress: `${sent.egressNamespace}/${sent.egressType}`, typedValue: toBinary(TypedValueSchema, sent.argument!) };
}

/** Type-level checks, by `npx tsc --noEmit -p tsconfig.json` (each `@ts-expect-error` must be an error); not run. */
export function typeChecks(): EgressMessage[] {
  return [
    kafkaEgressMessage({ egress: 'example/kafka', topic: 't', value: order, type: OrderType }),
    kafkaEgressMessage({ egress: 'example/kafka', topic: 't', value: Uint8Array.of(1) }),
    kinesisEgressMessage({ egress: 'example/kinesis', stream: 's', partitionKey: 'p', value: 7 }),
    // @ts-expect-error an object needs a type
    kafkaEgressMessage({ egress: 'example/kafka', topic: 't', value: order }),
    // @ts-expect-error the value must be of the type's value type
    kinesisEgressMessage({ egress: 'example/kinesis', stream: 's', partitionKey: 'p', value: 'paid', type: OrderType }),
    // @ts-expect-error the official SDK's option names are not ours
    kinesisEgressMessage({ typename: 'example/kinesis', stream: 's', partitionKey: 'p', value: 'paid' }),
  ];
}

/** The error `build` throws; fails the test when it returns. */
function errorOf(build: () => unknown): Error {
  try {
    build();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}

describe('Function: kafkaEgressMessage', () => {
  it.each([
    ['a string value with a key', { topic: 'orders', key: 'ada', value: 'paid' }, { topic: 'orders', key: 'ada', value: 'paid' }],
    ['a string value without a key', { topic: 'orders', value: 'paid' }, { topic: 'orders', value: 'paid' }],
    ['an empty key', { topic: 'orders', key: '', value: 'paid' }, { topic: 'orders', key: '', value: 'paid' }],
    ['non-ASCII text', { topic: 'orders', key: 'zoë', value: 'größe 😀' }, { topic: 'orders', key: 'zoë', value: 'größe 😀' }],
    ['an empty value', { topic: 'orders', value: '' }, { topic: 'orders', value: '' }],
    ['bytes', { topic: 'raw', value: Uint8Array.from([0, 1, 254, 255]) }, { topic: 'raw', value: Buffer.from([0, 1, 254, 255]) }],
    ['a 32-bit integer', { topic: 'n', value: 42 }, { topic: 'n', value: 42 }],
    ['a negative integer', { topic: 'n', value: -2 }, { topic: 'n', value: -2 }],
    ['the largest 32-bit integer', { topic: 'n', value: 2_147_483_647 }, { topic: 'n', value: 2_147_483_647 }],
    ['the smallest 32-bit integer', { topic: 'n', value: -2_147_483_648 }, { topic: 'n', value: -2_147_483_648 }],
  ])('builds the TypedValue bytes of the official JavaScript SDK for %s', async (_, ours, official) => {
    // Act
    const served = await servedEgress(() => kafkaEgressMessage({ egress: 'example/kafka', ...ours }));
    const expected = officialKafka({ typename: 'example/kafka', ...official });

    // Assess
    expect(served.egress).toBe(expected.typename);
    expect(hex(served.typedValue)).toBe(hex(expected.typedValue.serializeBinary()));
  });

  it.each([
    [
      'a JSON type',
      () => kafkaEgressMessage({ egress: 'example/kafka', topic: 'orders', key: 'o-1', value: order, type: OrderType }),
      () => officialKafka({ typename: 'example/kafka', topic: 'orders', key: 'o-1', value: order, valueType: officialOrderType }),
    ],
    [
      'a built-in type',
      () => kafkaEgressMessage({ egress: 'example/kafka', topic: 'n', value: 7, type: Types.int }),
      () => officialKafka({ typename: 'example/kafka', topic: 'n', value: 7, valueType: StateFun.intType() }),
    ],
    [
      'the string type',
      () => kafkaEgressMessage({ egress: 'example/kafka', topic: 's', value: 'hi', type: Types.string }),
      () => officialKafka({ typename: 'example/kafka', topic: 's', value: 'hi', valueType: StateFun.stringType() }),
    ],
  ])('builds the bytes of the official JavaScript SDK for a value of %s', async (_, ours, official) => {
    // Act
    const served = await servedEgress(ours);

    // Assess
    expect(hex(served.typedValue)).toBe(hex(official().typedValue.serializeBinary()));
  });

  it('writes a KafkaProducerRecord with the topic, the key and the value serialized by its type', () => {
    // Act
    const built = kafkaEgressMessage({ egress: 'example/kafka', topic: 'orders', key: 'o-1', value: order, type: OrderType });

    // Assess
    expect(built.egress).toBe('example/kafka');
    expect(built.argument.typename).toBe('type.googleapis.com/io.statefun.sdk.egress.KafkaProducerRecord');
    const record = fromBinary(KafkaProducerRecordSchema, built.argument.value!);
    expect([record.topic, record.key, OrderType.deserialize(record.valueBytes)]).toEqual(['orders', 'o-1', order]);
  });

  const kafka = 'kafkaEgressMessage() to example/kafka';
  const topicRule = 'a Kafka topic name (1 to 249 letters, digits, ".", "_" or "-"; not "." or "..")';
  const base = { egress: 'example/kafka', topic: 'orders', value: 'v' };
  it.each([
    ['no egress', { ...base, egress: undefined }, `kafkaEgressMessage(): "egress" is missing: expected the egress's name, "namespace/name", as declared in the module`],
    ['an empty egress', { ...base, egress: '' }, `kafkaEgressMessage(): "egress" is missing: expected the egress's name, "namespace/name", as declared in the module`],
    [
      'an egress name without a namespace',
      { ...base, egress: 'kafka' },
      'kafkaEgressMessage(): invalid type name "kafka": expected "namespace/type" with letters, digits, ".", "_" or "-" in each part, e.g. "fraud/model"',
    ],
    ['no topic', { ...base, topic: undefined }, `${kafka}: "topic" is missing: expected ${topicRule}`],
    ['an empty topic', { ...base, topic: '' }, `${kafka}: "topic" is missing: expected ${topicRule}`],
    ['a topic with a space', { ...base, topic: 'my topic' }, `${kafka}: "topic" must be ${topicRule}, got the string "my topic"`],
    ['the topic ".."', { ...base, topic: '..' }, `${kafka}: "topic" must be ${topicRule}, got the string ".."`],
    ['a topic of 250 characters', { ...base, topic: 't'.repeat(250) }, `${kafka}: "topic" must be ${topicRule}, got the string "${'t'.repeat(40)}…"`],
    ['a topic that is a number', { ...base, topic: 42 }, `${kafka}: "topic" must be ${topicRule}, got the number 42`],
    ['a key that is a number', { ...base, key: 7 }, `${kafka}: "key" must be a string, got the number 7`],
    ['no value', { ...base, value: undefined }, `${kafka}: "value" is missing (undefined): a record needs a value`],
    ['a null value', { ...base, value: null }, `${kafka}: "value" is missing (null): a record needs a value`],
    ['an object without a type', { ...base, value: order }, `${kafka}: "value" is an object and no "type" is given: ${NEEDS_TYPE}`],
    ['an array without a type', { ...base, value: [1] }, `${kafka}: "value" is an array and no "type" is given: ${NEEDS_TYPE}`],
    ['a fraction without a type', { ...base, value: 1.5 }, `${kafka}: "value" is the number 1.5 and no "type" is given: ${NEEDS_TYPE}`],
    ['an integer beyond 32 bits without a type', { ...base, value: 2 ** 31 }, `${kafka}: "value" is the number 2147483648 and no "type" is given: ${NEEDS_TYPE}`],
    ['a type that is a string', { ...base, type: 'string' }, `${kafka}: "type" must be a StateFun type (e.g. Types.string), got the string "string"`],
    ['the official name "typename"', { ...base, typename: 'example/kafka' }, `kafkaEgressMessage(): unknown option "typename" (the official StateFun SDK's name); here it is "egress"`],
    ['the official name "valueType"', { ...base, valueType: OrderType }, `kafkaEgressMessage(): unknown option "valueType" (the official StateFun SDK's name); here it is "type"`],
    ['no options', undefined, 'kafkaEgressMessage(): expected an options object, got undefined'],
  ])('rejects %s', (_, opts, message) => {
    // Act
    const error = errorOf(() => kafkaEgressMessage(opts as never));

    // Assess
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.message).toBe(message);
  });

  it('lets a failing serializer fail where the record is built', () => {
    // Prepare
    const cause = new RangeError('too big');
    const Strict = customType<number>('example/Strict', () => {
      throw cause;
    }, () => 0);

    // Act
    const error = errorOf(() => kafkaEgressMessage({ egress: 'example/kafka', topic: 'orders', value: 1, type: Strict }));

    // Assess
    expect(error).toBe(cause);
  });
});

describe('Function: kinesisEgressMessage', () => {
  it.each([
    ['a string value', { stream: 'events', partitionKey: 'ada', value: 'paid' }, { stream: 'events', partitionKey: 'ada', value: 'paid' }],
    [
      'an explicit hash key',
      { stream: 'events', partitionKey: 'ada', explicitHashKey: '340282366920938463463374607431768211455', value: 'paid' },
      { stream: 'events', partitionKey: 'ada', hashKey: '340282366920938463463374607431768211455', value: 'paid' },
    ],
    ['an explicit hash key Kinesis would reject, passed on as given', { stream: 'events', partitionKey: 'ada', explicitHashKey: 'hk1', value: 'paid' }, { stream: 'events', partitionKey: 'ada', hashKey: 'hk1', value: 'paid' }],
    ['an empty explicit hash key', { stream: 'events', partitionKey: 'ada', explicitHashKey: '', value: 'paid' }, { stream: 'events', partitionKey: 'ada', hashKey: '', value: 'paid' }],
    ['non-ASCII text', { stream: 'events', partitionKey: 'zoë', value: 'größe 😀' }, { stream: 'events', partitionKey: 'zoë', value: 'größe 😀' }],
    ['bytes', { stream: 'raw', partitionKey: 'p', value: Uint8Array.from([0, 255]) }, { stream: 'raw', partitionKey: 'p', value: Buffer.from([0, 255]) }],
    ['a 32-bit integer', { stream: 'n', partitionKey: 'p', value: -7 }, { stream: 'n', partitionKey: 'p', value: -7 }],
  ])('builds the TypedValue bytes of the official JavaScript SDK for %s', async (_, ours, official) => {
    // Act
    const served = await servedEgress(() => kinesisEgressMessage({ egress: 'example/kinesis', ...ours }));
    const expected = officialKinesis({ typename: 'example/kinesis', ...official });

    // Assess
    expect(served.egress).toBe(expected.typename);
    expect(hex(served.typedValue)).toBe(hex(expected.typedValue.serializeBinary()));
  });

  it('builds the bytes of the official JavaScript SDK for a value of a JSON type', async () => {
    // Act
    const served = await servedEgress(() => kinesisEgressMessage({ egress: 'example/kinesis', stream: 'orders', partitionKey: order.id, value: order, type: OrderType }));
    const expected = officialKinesis({ typename: 'example/kinesis', stream: 'orders', partitionKey: order.id, value: order, valueType: officialOrderType });

    // Assess
    expect(hex(served.typedValue)).toBe(hex(expected.typedValue.serializeBinary()));
  });

  it('builds a record the relay reads as a Kinesis put', () => {
    // Act
    const built = kinesisEgressMessage({ egress: 'example/kinesis', stream: 'orders', partitionKey: 'o-1', explicitHashKey: '42', value: order, type: OrderType });
    const put = readKinesisEgressRecord({ id: 'r1', egress: built.egress, argument: built.argument }, ['orders']);

    // Assess
    expect(put).toEqual({ stream: 'orders', partitionKey: 'o-1', explicitHashKey: '42', data: OrderType.serialize(order) });
    expect(fromBinary(KinesisEgressRecordSchema, built.argument.value!).stream).toBe('orders');
  });

  it('builds a record without an explicit hash key that the relay reads without one', () => {
    // Act
    const built = kinesisEgressMessage({ egress: 'example/kinesis', stream: 'orders', partitionKey: 'o-1', value: 'paid' });
    const put = readKinesisEgressRecord({ id: 'r1', egress: built.egress, argument: built.argument }, ['orders']);

    // Assess
    expect(put).toEqual({ stream: 'orders', partitionKey: 'o-1', data: new Uint8Array(Buffer.from('paid')) });
  });

  const kinesis = 'kinesisEgressMessage() to example/kinesis';
  const streamRule = 'a Kinesis stream name (1 to 128 letters, digits, ".", "_" or "-")';
  const base = { egress: 'example/kinesis', stream: 'events', partitionKey: 'ada', value: 'v' };
  it.each([
    ['no egress', { ...base, egress: undefined }, `kinesisEgressMessage(): "egress" is missing: expected the egress's name, "namespace/name", as declared in the module`],
    [
      'an egress name with two slashes',
      { ...base, egress: 'a/b/' },
      'kinesisEgressMessage(): invalid type name "a/b/": expected "namespace/type" with letters, digits, ".", "_" or "-" in each part, e.g. "fraud/model"',
    ],
    ['no stream', { ...base, stream: undefined }, `${kinesis}: "stream" is missing: expected ${streamRule}`],
    ['a stream ARN', { ...base, stream: 'arn:aws:kinesis:eu-west-1:1:stream/x' }, `${kinesis}: "stream" must be ${streamRule}, got the string "arn:aws:kinesis:eu-west-1:1:stream/x"`],
    ['a stream name of 129 characters', { ...base, stream: 's'.repeat(129) }, `${kinesis}: "stream" must be ${streamRule}, got the string "${'s'.repeat(40)}…"`],
    ['no partition key', { ...base, partitionKey: undefined }, `${kinesis}: "partitionKey" is missing: expected a string of 1 to 256 characters`],
    ['an empty partition key', { ...base, partitionKey: '' }, `${kinesis}: "partitionKey" is missing: expected a string of 1 to 256 characters`],
    ['a partition key of 257 characters', { ...base, partitionKey: 'k'.repeat(257) }, `${kinesis}: "partitionKey" must be a string of 1 to 256 characters, got the string "${'k'.repeat(40)}…"`],
    ['a partition key that is a number', { ...base, partitionKey: 12 }, `${kinesis}: "partitionKey" must be a string of 1 to 256 characters, got the number 12`],
    ['an explicit hash key that is a number', { ...base, explicitHashKey: 5 }, `${kinesis}: "explicitHashKey" must be a string (a decimal from 0 to 2^128 - 1), got the number 5`],
    ['no value', { ...base, value: undefined }, `${kinesis}: "value" is missing (undefined): a record needs a value`],
    ['a boolean without a type', { ...base, value: true }, `${kinesis}: "value" is the boolean true and no "type" is given: ${NEEDS_TYPE}`],
    ['a type that is not a StateFun type', { ...base, type: {} }, `${kinesis}: "type" must be a StateFun type (e.g. Types.string), got an object`],
    ['the official name "hashKey"', { ...base, hashKey: '42' }, `kinesisEgressMessage(): unknown option "hashKey" (the official StateFun SDK's name); here it is "explicitHashKey"`],
    ['null options', null, 'kinesisEgressMessage(): expected an options object, got null'],
  ])('rejects %s', (_, opts, message) => {
    // Act
    const error = errorOf(() => kinesisEgressMessage(opts as never));

    // Assess
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.message).toBe(message);
  });
});

describe('Method: ctx.egress', () => {
  it('names the three builders when given something else', async () => {
    // Act
    const error = await rejection(servedEgress(() => ({ egress: 'example/kafka', argument: { typename: 'example/X', value: null } }) as unknown as EgressMessage));

    // Assess
    expect(error).toBeInstanceOf(FunctionFailedError);
    expect(error.cause).toBeInstanceOf(InvalidInputError);
    expect((error.cause as Error).message).toBe('ctx.egress(): expected a message built with egressMessage(), kafkaEgressMessage() or kinesisEgressMessage()');
  });
});
