import { Address } from '../../../runtime-lambda/core/Address';
import { InvalidInputError } from '../../../runtime-lambda/core/errors';
import { decodeFromFunction, encodeToFunction } from '../../../runtime-lambda/protocol/codec';
import { defineFunction, FunctionFailedError, StatefulFunctions, Types } from '../../../runtime-lambda/sdk';
import { decodeLambdaRequest, lambdaHandler } from '../../../runtime-lambda/sdk/lambda';
import { rejection } from '../../helpers/rejection';

const registry = new StatefulFunctions().withFunction(
  defineFunction({
    typename: 'example/counter',
    state: { count: Types.long },
    handle(ctx, msg) {
      if (msg.as(Types.int) < 0) throw new RangeError('negative increment');
      ctx.storage.count = (ctx.storage.count ?? 0n) + BigInt(msg.as(Types.int));
    },
  }),
);
const handler = lambdaHandler(registry);

const requestBytes = (increment: number) =>
  encodeToFunction({
    target: Address.of('example/counter', 'c1'),
    state: [{ name: 'count', value: { typename: 'io.statefun.types/long', value: Types.long.serialize(40n) } }],
    invocations: [{ argument: { typename: 'io.statefun.types/int', value: Types.int.serialize(increment) } }],
  });


describe('Function: lambdaHandler', () => {
  it('answers {"request": base64 ToFunction} with {"response": base64 FromFunction}', async () => {
    // Prepare
    const event = JSON.parse(JSON.stringify({ request: Buffer.from(requestBytes(2)).toString('base64') }));

    // Act
    const result = await handler(event);

    // Assess
    expect(Object.keys(result)).toEqual(['response']);
    expect(decodeFromFunction(Buffer.from(result.response, 'base64'))).toEqual({
      kind: 'result',
      mutations: [{ name: 'count', value: { typename: 'io.statefun.types/long', value: Types.long.serialize(42n) } }],
      messages: [],
      delayed: [],
      egress: [],
    });
  });

  it.each([
    ['null', null, 'invalid Lambda payload: expected {"request": "<base64 of the StateFun ToFunction bytes>"}, got null'],
    ['a string', 'ogYA', 'invalid Lambda payload: expected {"request": "<base64 of the StateFun ToFunction bytes>"}, got string'],
    ['an array', [], 'invalid Lambda payload: expected {"request": "<base64 of the StateFun ToFunction bytes>"}, got an array'],
    [
      'an object without request',
      { body: 'x', isBase64Encoded: true },
      'invalid Lambda payload: expected {"request": "<base64 of the StateFun ToFunction bytes>"}, got an object with keys [body, isBase64Encoded]',
    ],
    [
      'a numeric request',
      { request: 42 },
      'invalid Lambda payload: expected {"request": "<base64 of the StateFun ToFunction bytes>"}, got "request" of type number',
    ],
    [
      'request not base64',
      { request: 'not base64!' },
      'invalid Lambda payload: "request" is not non-empty standard base64 (11 characters); expected {"request": "<base64 of the StateFun ToFunction bytes>"}',
    ],
    [
      'empty request',
      { request: '' },
      'invalid Lambda payload: "request" is not non-empty standard base64 (0 characters); expected {"request": "<base64 of the StateFun ToFunction bytes>"}',
    ],
    ['garbage bytes', { request: Buffer.from('garbage!').toString('base64') }, 'malformed ToFunction (8 bytes): illegal tag: field no 12 wire type 7'],
  ])('rejects %s with an InvalidInputError', async (_case, event, message) => {
    // Act
    const error = await rejection(handler(event));

    // Assess
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.message).toBe(message);
  });

  it('fails the invocation with a FunctionFailedError when the handler throws', async () => {
    // Act
    const error = await rejection(handler({ request: Buffer.from(requestBytes(-1)).toString('base64') }));

    // Assess
    expect(error).toBeInstanceOf(FunctionFailedError);
    expect(error.message).toBe(
      'function example/counter failed at example/counter/c1 on message 1 of 1 (type io.statefun.types/int): RangeError: negative increment',
    );
  });
});

describe('Function: decodeLambdaRequest (large payloads)', () => {
  it('accepts a 5 MB base64 request without exhausting the stack', () => {
    // Prepare
    const bytes = new Uint8Array(3_900_000).fill(7);

    // Act
    const decoded = decodeLambdaRequest({ request: Buffer.from(bytes).toString('base64') });

    // Assess
    expect(decoded.byteLength).toBe(3_900_000);
    expect(decoded[3_899_999]).toBe(7);
  });
});
