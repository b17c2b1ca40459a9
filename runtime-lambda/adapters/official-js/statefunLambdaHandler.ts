import type { StateFun } from 'apache-flink-statefun';
import { decodeToFunction } from '../../protocol/codec';
import { FunctionFailedError } from '../../sdk/errors';
import { decodeLambdaRequest, type LambdaResponse } from '../../sdk/lambda';

/**
 * An AWS Lambda handler serving the functions bound to an official StateFun JavaScript SDK
 * instance (npm `apache-flink-statefun` 3.x), for the dispatcher's Lambda invoker: payload
 * `{"request": "<base64 ToFunction>"}`, result `{"response": "<base64 FromFunction>"}`, the
 * same as `runtime-lambda/sdk/lambda`'s `lambdaHandler`. The functions stay as written for
 * StateFun; only the `http.createServer(statefun.handler())` line is replaced.
 *
 * Failures make the invocation fail (Lambda reports `errorType` = the error's name):
 * - `InvalidInputError` for a payload that is not `{"request": "<base64>"}`, or bytes that
 *   are not a `ToFunction` invocation batch;
 * - `FunctionFailedError` (without a `cause`) when the SDK answers anything but 200: its
 *   `StateFun.handle` drops the error, so this adapter cannot tell a function that threw
 *   from a type that is not bound; the message says both.
 *
 * @param statefun the SDK instance the functions are bound to (`new StateFun()`, then `bind`).
 *
 * @example
 * // lambda.ts, bundled as the Lambda's code; handler: index.handler
 * import { StateFun } from 'apache-flink-statefun';
 * import { statefunLambdaHandler } from 'runtime-lambda/adapters/official-js/statefunLambdaHandler';
 * const statefun = new StateFun();
 * statefun.bind({ typename: 'example/greeter', fn(context, message) { console.log(message.asString()); } });
 * export const handler = statefunLambdaHandler(statefun);
 */
export function statefunLambdaHandler(statefun: Pick<StateFun, 'handle'>): (event: unknown) => Promise<LambdaResponse> {
  return async (event: unknown) => {
    const request = decodeLambdaRequest(event);
    const reply = new BufferedReply();
    // The SDK's only public entry point is its node:http listener: it reads the request as an
    // async iterable of chunks and answers through writeHead and end.
    await statefun.handle([request], reply);
    if (reply.status === 200) return { response: reply.body.toString('base64') };
    throw sdkFailure(request, reply.status);
  };
}

/** The part of `http.ServerResponse` the SDK uses, kept in memory. */
class BufferedReply {
  status: number | undefined;
  body: Buffer = Buffer.alloc(0);

  writeHead(status: number): this {
    this.status = status;
    return this;
  }

  end(chunk?: Uint8Array): this {
    if (chunk !== undefined) this.body = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    return this;
  }
}

/**
 * Why the SDK did not answer 200. Malformed bytes are diagnosed by our decoder (an
 * `InvalidInputError` naming what is wrong); any other failure is the function's.
 */
function sdkFailure(request: Uint8Array, status: number | undefined): Error {
  const batch = decodeToFunction(request);
  const fnType = batch.target.typename;
  const address = batch.target.toString();
  const count = batch.invocations.length;
  return new FunctionFailedError(
    fnType,
    address,
    `the official StateFun JavaScript SDK answered ${status ?? 'nothing'} to the batch of ${count} message${count === 1 ? '' : 's'} for ${address}, ` +
      `and drops its error: either no function ${fnType} is bound (statefun.bind({ typename: '${fnType}', ... })) or the function threw. ` +
      'Catch and log errors inside the function to see them in the Lambda\'s logs',
    { cause: undefined },
  );
}
