import { InvalidInputError } from '../core/errors';
import type { StatefulFunctions } from './StatefulFunctions';
import { isStandardBase64 } from '../protocol/base64';

/**
 * The AWS Lambda invoke payload of a StateFun request: the `ToFunction` bytes, base64.
 *
 * @example
 * const event: LambdaRequest = { request: Buffer.from(toFunctionBytes).toString('base64') };
 */
export interface LambdaRequest {
  readonly request: string;
}

/**
 * The AWS Lambda result of a StateFun request: the `FromFunction` bytes, base64.
 *
 * @example
 * const fromFunction = Buffer.from(result.response, 'base64');
 */
export interface LambdaResponse {
  readonly response: string;
}


/**
 * An AWS Lambda handler serving a registry over the request-reply protocol, for the
 * dispatcher's Lambda invoker: payload `{"request":"<base64 ToFunction>"}`, result
 * `{"response":"<base64 FromFunction>"}`.
 *
 * Failures make the invocation fail (Lambda reports `errorType` = the error's name):
 * `InvalidInputError` for a bad payload or bytes, `UnknownFunctionError`,
 * `FunctionFailedError` when a handler throws. The dispatcher turns them into dead letters.
 *
 * @example
 * // greeter.ts, bundled as the Lambda's code; handler: greeter.handler
 * import { lambdaHandler } from 'runtime-lambda/sdk/lambda';
 * export const handler = lambdaHandler(new StatefulFunctions().withFunction(greeter));
 */
export function lambdaHandler(registry: StatefulFunctions): (event: unknown) => Promise<LambdaResponse> {
  return async (event: unknown) => {
    const reply = await registry.handle(decodeLambdaRequest(event));
    return { response: Buffer.from(reply.buffer, reply.byteOffset, reply.byteLength).toString('base64') };
  };
}

/**
 * Reads the `ToFunction` bytes out of a Lambda payload.
 *
 * @throws {@link InvalidInputError} when the payload is not `{"request": "<base64>"}`.
 *
 * @example
 * const bytes = decodeLambdaRequest({ request: 'ogY...' });
 */
export function decodeLambdaRequest(event: unknown): Uint8Array {
  const expected = 'expected {"request": "<base64 of the StateFun ToFunction bytes>"}';
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    throw new InvalidInputError(`invalid Lambda payload: ${expected}, got ${Array.isArray(event) ? 'an array' : event === null ? 'null' : typeof event}`);
  }
  const request = (event as { request?: unknown }).request;
  if (typeof request !== 'string') {
    const keys = Object.keys(event);
    throw new InvalidInputError(
      `invalid Lambda payload: ${expected}, got ${request === undefined ? `an object with keys [${keys.join(', ')}]` : `"request" of type ${typeof request}`}`,
    );
  }
  if (request.length === 0 || !isStandardBase64(request)) {
    throw new InvalidInputError(`invalid Lambda payload: "request" is not non-empty standard base64 (${request.length} characters); ${expected}`);
  }
  return Buffer.from(request, 'base64');
}
