import { LambdaClient } from '@aws-sdk/client-lambda';
import { LAMBDA_SYNC_PAYLOAD_LIMIT_BYTES, lambdaTransport } from '../../../runtime-lambda/aws/LambdaTransport';
import { InvalidInputError, RetryableError, TerminalError } from '../../../runtime-lambda/core/errors';
import { type LambdaInvokeEmulator, startLambdaInvokeEmulator } from '../../support/lambdaInvokeEmulator';
import { rejection as rejectionOf } from '../../helpers/rejection';

const ARN = 'arn:aws:lambda:us-east-1:123456789012:function:echo';
const bytes = (text: string) => new Uint8Array(Buffer.from(text));
/** The largest request whose event fits: 14 + 4 × ceil(n / 3) ≤ 6 MiB. */
const maxRequestBytes = Math.floor((LAMBDA_SYNC_PAYLOAD_LIMIT_BYTES - 14) / 4) * 3;

describe('Function: lambdaTransport (Invoke API emulator)', () => {
  let lambda: LambdaInvokeEmulator;
  let client: LambdaClient;
  /** Echoes the request bytes back as the response: the transport's framing, without the protocol. */
  const echo = (event: unknown) => ({ response: (event as { request: string }).request });
  const transport = (opts: Partial<Parameters<typeof lambdaTransport>[0]> = {}) =>
    lambdaTransport({ functionName: ARN, client, initialBackoffMs: 1, maxBackoffMs: 2, ...opts } as Parameters<typeof lambdaTransport>[0]);

  beforeAll(async () => {
    lambda = await startLambdaInvokeEmulator();
    client = new LambdaClient(lambda.clientConfig());
    lambda.register('echo', echo);
    lambda.register('thrower', () => {
      throw new TypeError('cannot read properties of undefined');
    });
    lambda.register('garbage', () => ({ reply: 'nope' }));
  });
  afterAll(async () => {
    client.destroy();
    await lambda.close();
  });

  it('sends {"request": base64} and returns the bytes of {"response": base64}', async () => {
    // Prepare
    const before = lambda.invocations.length;

    // Act
    const reply = await transport()(bytes('hello'));

    // Assess
    expect(Buffer.from(reply).toString()).toBe('hello');
    expect(lambda.invocations.slice(before)).toEqual([{ functionName: 'echo', qualifier: undefined, payloadBytes: '{"request":"aGVsbG8="}'.length, fault: undefined }]);
  });

  it('passes a qualifier of the function name on', async () => {
    // Act
    await transport({ functionName: `${ARN}:live` })(bytes('x'));

    // Assess
    expect(lambda.invocations.at(-1)).toMatchObject({ functionName: 'echo', qualifier: 'live' });
  });

  it('turns a function error into a TerminalError naming the function, the error type and message, without retrying', async () => {
    // Prepare
    const before = lambda.invocations.length;
    const arn = 'arn:aws:lambda:us-east-1:123456789012:function:thrower';

    // Act
    const error = await rejectionOf(transport({ functionName: arn })(bytes('x')));

    // Assess
    expect(error).toBeInstanceOf(TerminalError);
    expect(error).toMatchObject({ code: 'FUNCTION_ERROR' });
    expect((error as Error).message).toBe(
      `Lambda function ${arn} failed (FunctionError Unhandled): TypeError: cannot read properties of undefined; not retried: fix the function (see its CloudWatch logs)`,
    );
    expect(lambda.invocations.length - before).toBe(1);
  });

  it.each([
    ['throttle', 'HTTP 429 TooManyRequestsException: Rate Exceeded.'],
    ['serviceError', 'HTTP 500 ServiceException: The Lambda service encountered an internal error.'],
    ['functionTimeout', 'the function timed out (Sandbox.Timedout: RequestId: 0 Error: Task timed out after 3.00 seconds)'],
  ] as const)('retries a %s and succeeds on the next attempt', async (kind, _reason) => {
    // Prepare
    lambda.failNext({ kind });
    const before = lambda.invocations.length;

    // Act
    const reply = await transport()(bytes('again'));

    // Assess
    expect(Buffer.from(reply).toString()).toBe('again');
    expect(lambda.invocations.slice(before).map((i) => i.fault)).toEqual([kind, undefined]);
  });

  it.each([
    ['throttle', 'HTTP 429 TooManyRequestsException: Rate Exceeded.'],
    ['serviceError', 'HTTP 500 ServiceException: The Lambda service encountered an internal error.'],
    ['functionTimeout', 'the function timed out (Sandbox.Timedout: RequestId: 0 Error: Task timed out after 3.00 seconds)'],
  ] as const)('gives up on repeated %s after maxAttempts with a RetryableError saying why', async (kind, reason) => {
    // Prepare
    lambda.failNext({ kind }, { kind }, { kind });

    // Act
    const error = await rejectionOf(transport({ maxAttempts: 3 })(bytes('x')));

    // Assess
    expect(error).toBeInstanceOf(RetryableError);
    expect(error).toMatchObject({ code: 'FUNCTION_UNAVAILABLE', message: `Lambda function ${ARN} failed 3 times; last: ${reason}` });
  });

  it('aborts an attempt after timeoutMs and retries it', async () => {
    // Prepare
    lambda.failNext({ kind: 'slow', ms: 500 });
    const before = lambda.invocations.length;
    const started = Date.now();

    // Act
    const reply = await transport({ timeoutMs: 100 })(bytes('slow'));

    // Assess
    expect(Buffer.from(reply).toString()).toBe('slow');
    expect(Date.now() - started).toBeLessThan(450);
    expect(lambda.invocations.slice(before).map((i) => i.fault)).toEqual(['slow', undefined]);
  });

  it('reports a timeout on every attempt as a RetryableError', async () => {
    // Prepare
    lambda.failNext({ kind: 'slow', ms: 300 }, { kind: 'slow', ms: 300 });

    // Act
    const error = await rejectionOf(transport({ timeoutMs: 50, maxAttempts: 2 })(bytes('x')));

    // Assess
    expect(error).toBeInstanceOf(RetryableError);
    expect((error as Error).message).toBe(`Lambda function ${ARN} failed 2 times; last: no answer within 50 ms`);
  });

  it('retries a connection error, then gives up with a RetryableError', async () => {
    // Prepare: nothing listens on port 9 of 127.0.0.1
    const refused = lambdaTransport({
      functionName: 'echo',
      clientConfig: { ...lambda.clientConfig(), endpoint: 'http://127.0.0.1:9' },
      maxAttempts: 2,
      initialBackoffMs: 1,
    });

    // Act
    const error = await rejectionOf(refused(bytes('x')));

    // Assess
    expect(error).toBeInstanceOf(RetryableError);
    expect((error as Error).message).toMatch(/^Lambda function echo failed 2 times; last: .*ECONNREFUSED/);
  });

  it('refuses a request over the 6 MB synchronous limit before sending anything', async () => {
    // Prepare: the event is {"request":"<base64>"}: 14 bytes + 4 per 3 started bytes
    const justOver = new Uint8Array(maxRequestBytes + 1);
    const before = lambda.invocations.length;

    // Act
    const error = await rejectionOf(transport()(justOver));

    // Assess
    expect(error).toBeInstanceOf(TerminalError);
    expect(error).toMatchObject({ code: 'REQUEST_TOO_LARGE' });
    expect((error as Error).message).toBe(
      `request to Lambda function ${ARN} would be an invoke payload of 6291458 bytes (${justOver.byteLength} protocol bytes, base64 in JSON), ` +
        "over Lambda's 6291456-byte limit for synchronous invocations: send fewer or smaller messages per batch, keep less state, or serve the function over HTTP or embedded",
    );
    expect(lambda.invocations.length).toBe(before);
  });

  it('sends a request just under the limit', async () => {
    // Prepare
    const justUnder = new Uint8Array(maxRequestBytes);

    // Act
    const reply = await transport()(justUnder);

    // Assess
    expect(reply.byteLength).toBe(justUnder.byteLength);
  });

  it('does not retry an unknown function: a TerminalError naming it', async () => {
    // Prepare
    const before = lambda.invocations.length;

    // Act
    const error = await rejectionOf(transport({ functionName: 'missing' })(bytes('x')));

    // Assess
    expect(error).toBeInstanceOf(TerminalError);
    expect(error).toMatchObject({ code: 'FUNCTION_REJECTED' });
    expect((error as Error).message).toContain('Lambda function missing rejected the invoke: HTTP 404 ResourceNotFoundException: Function not found');
    expect(lambda.invocations.length - before).toBe(1);
  });

  it('rejects a result that is not {"response": base64} with a TerminalError', async () => {
    // Act
    const error = await rejectionOf(transport({ functionName: 'garbage' })(bytes('x')));

    // Assess
    expect(error).toBeInstanceOf(TerminalError);
    expect((error as Error).message).toBe(
      'Lambda function garbage answered {"reply":"nope"}, not {"response": "<base64 of the FromFunction bytes>"}: serve it with lambdaHandler (runtime-lambda/sdk/lambda)',
    );
  });

  it.each([
    [{ functionName: '' }, 'lambdaTransport: invalid functionName "": expected a Lambda function name or ARN'],
    [{ functionName: 'http://x/' }, 'lambdaTransport: invalid functionName "http://x/"'],
    [{ functionName: 'f', timeoutMs: 0 }, 'lambdaTransport: timeoutMs must be a positive integer, got 0'],
    [{ functionName: 'f', maxAttempts: 1.5 }, 'lambdaTransport: maxAttempts must be a positive integer, got 1.5'],
    [{ functionName: 'f', client: new LambdaClient({}), clientConfig: {} }, 'lambdaTransport takes either client or clientConfig, not both'],
  ])('rejects invalid options %j', (opts, message) => {
    const make = () => lambdaTransport(opts as Parameters<typeof lambdaTransport>[0]);
    expect(make).toThrow(InvalidInputError);
    expect(make).toThrow(message);
  });
});
