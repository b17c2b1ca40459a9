import { StateFun, messageBuilder } from 'apache-flink-statefun';
import { InvalidInputError } from '../../../runtime-lambda/core/errors';
import { FunctionFailedError, Types } from '../../../runtime-lambda/sdk';
import { statefunLambdaHandler } from '../../../runtime-lambda/adapters/official-js/statefunLambdaHandler';
import { handler as greeterHandler } from '../../../functions/official-sdk-js/lambda';
import { rejection } from '../../helpers/rejection';
import {
  GARBAGE_BYTES,
  MALFORMED_PAYLOADS,
  NO_INVOCATION,
  greeterBatch,
  greeterReply,
  lambdaEvent,
  personBatch,
  personReply,
  readReply,
  runGreeterThroughLambda,
  testBatch,
} from './officialGreeter';

/** Functions of the tests, bound as the SDK's docs bind them: no effects, delays, a failure. */
const extras = new StateFun();
extras.bind({
  typename: 'test/quiet',
  specs: [{ name: 'seen', type: StateFun.intType() }],
  fn(context) {
    void context.storage.seen; // reads, writes nothing
  },
});
extras.bind({
  typename: 'test/reminder',
  fn(context, message) {
    context.sendAfter(60_000, messageBuilder({ typename: 'test/reminder', id: context.self.id, value: message.asString(), valueType: StateFun.stringType() }), 'remind-x');
    context.cancelDelayedMessage('old-token');
  },
});
extras.bind({
  typename: 'test/thrower',
  fn() {
    throw new RangeError('negative increment');
  },
});
const extrasHandler = statefunLambdaHandler(extras);
const text = (value: string) => ({ typename: Types.string.typename, value: Types.string.serialize(value) });

describe('Function: statefunLambdaHandler (official JavaScript SDK)', () => {
  it('serves the greeter example: a first visit writes the absent state and messages the greeter', async () => {
    // Act
    const result = await greeterHandler(lambdaEvent(personBatch('ada', null)));

    // Assess
    expect(readReply(result)).toEqual(personReply('ada', 1));
  });

  it('reads stored state and applies a batch of messages in order', async () => {
    // Act
    const result = await greeterHandler(lambdaEvent(personBatch('ada', 4, 2)));

    // Assess: the SDK sends one message per invocation and the last state
    const reply = personReply('ada', 6);
    expect(readReply(result)).toEqual({
      ...reply,
      messages: [{ ...reply.messages[0]!, value: { name: 'ada', visits: 5 } }, reply.messages[0]],
    });
  });

  it('writes the greeting to the playground egress', async () => {
    // Act
    const result = await greeterHandler(lambdaEvent(greeterBatch('ada', 2)));

    // Assess
    expect(readReply(result)).toEqual(greeterReply('Nice to see you again ada'));
  });

  it('asks for a state that the request does not register (the missing-state round trip)', async () => {
    // Act
    const result = await greeterHandler(lambdaEvent(personBatch('ada', 'unregistered')));

    // Assess
    expect(readReply(result)).toEqual({ kind: 'incomplete', missing: [{ name: 'visits', typename: Types.int.typename }] });
  });

  it('answers a batch without effects with a result without effects', async () => {
    // Act
    const result = await extrasHandler(lambdaEvent(testBatch('test/quiet', text('hi'), [{ name: 'seen', value: { typename: Types.int.typename, value: null } }])));

    // Assess: the JS SDK sets an empty invocation_result (field 100, 3 bytes), unlike the Python SDK's 0 bytes
    expect(Buffer.from((result as { response: string }).response, 'base64')).toEqual(Buffer.from([0xa2, 0x06, 0x00]));
    expect(readReply(result)).toEqual({ kind: 'result', mutations: [], messages: [], delayed: [], egress: [] });
  });

  it('passes delayed messages and cancellations on', async () => {
    // Act
    const result = await extrasHandler(lambdaEvent(testBatch('test/reminder', text('later'))));

    // Assess
    expect(readReply(result)).toMatchObject({
      delayed: [
        { kind: 'send', delayMs: 60_000, to: 'test/reminder/x', token: 'remind-x', type: Types.string.typename, value: 'later' },
        { kind: 'cancel', cancellationToken: 'old-token' },
      ],
    });
  });

  it.each(MALFORMED_PAYLOADS)('rejects %s with an InvalidInputError', async (_case, event, message) => {
    // Act
    const error = await rejection(greeterHandler(event));

    // Assess
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.message).toBe(message);
  });

  it.each([
    ['bytes that are not protobuf', GARBAGE_BYTES, 'malformed ToFunction (8 bytes): illegal tag: field no 12 wire type 7'],
    ['a ToFunction without an invocation batch', NO_INVOCATION, 'invalid ToFunction (2 bytes): the "request" oneof is not set; expected an InvocationBatchRequest in field "invocation" (100)'],
  ])('rejects %s with an InvalidInputError', async (_case, request, message) => {
    // Act
    const error = await rejection(greeterHandler({ request }));

    // Assess
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.message).toBe(message);
  });

  it.each([
    ['the function throws', 'test/thrower'],
    ['no function of the type is bound', 'test/unbound'],
  ])('fails the invocation with a FunctionFailedError naming the address when %s', async (_case, fnType) => {
    // Act
    const error = await rejection(extrasHandler(lambdaEvent(testBatch(fnType, text('x')))));

    // Assess: the SDK drops its error, so the message names both causes
    expect(error).toBeInstanceOf(FunctionFailedError);
    expect(error).toMatchObject({ fnType, address: `${fnType}/x` });
    expect(error.message).toBe(
      `the official StateFun JavaScript SDK answered 500 to the batch of 1 message for ${fnType}/x, and drops its error: ` +
        `either no function ${fnType} is bound (statefun.bind({ typename: '${fnType}', ... })) or the function threw. ` +
        "Catch and log errors inside the function to see them in the Lambda's logs",
    );
  });

  it('fails the invocation with a FunctionFailedError when the SDK returns without answering', async () => {
    // Prepare: an SDK whose handle neither writes a head nor ends the response
    const silent = statefunLambdaHandler({ handle: async () => undefined });

    // Act
    const error = await rejection(silent(lambdaEvent(testBatch('test/quiet', text('x')))));

    // Assess
    expect(error).toBeInstanceOf(FunctionFailedError);
    expect(error.message).toMatch(/^the official StateFun JavaScript SDK answered nothing to the batch of 1 message for test\/quiet\/x, and drops its error/);
  });

  it('runs the greeter behind the runtime: dispatcher, lambdaTransport and the Invoke API', async () => {
    // Act
    const run = await runGreeterThroughLambda(greeterHandler, ['ada', 'bob', 'ada', 'ada', 'ada']);

    // Assess
    expect(run).toEqual({
      greetings: ['Welcome ada', 'Welcome bob', 'Nice to see you again ada', 'Third time is a charm ada', 'Nice to see you at the 4-nth time ada!'],
      visits: { ada: 4, bob: 1 },
      deadLetters: [],
    });
  });
});
