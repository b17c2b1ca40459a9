import type { AddressInfo } from 'node:net';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { lambdaTransport } from '../../runtime-lambda/aws/LambdaTransport';
import { httpTransport } from '../../runtime-lambda/protocol/HttpTransport';
import { RequestReplyEndpoint } from '../../runtime-lambda/protocol/RequestReplyEndpoint';
import { createHttpServer } from '../../runtime-lambda/sdk/http';
import { lambdaHandler } from '../../runtime-lambda/sdk/lambda';
import { startLambdaInvokeEmulator } from '../support/lambdaInvokeEmulator';
import { contractFunctions, describeFunctionEndpointContract } from './functionEndpointContract';

describeFunctionEndpointContract('embedded (registry resolver)', async () => {
  const registry = contractFunctions();
  return { endpoint: (fnType) => registry.endpoint(fnType) };
});

describeFunctionEndpointContract('HTTP request-reply (node:http server, fetch client)', async () => {
  const server = createHttpServer(contractFunctions(), { logger: { error: () => undefined, warn: () => undefined } });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: (fnType) =>
      new RequestReplyEndpoint(fnType, httpTransport({ url: `http://127.0.0.1:${port}/statefun`, maxAttempts: 2, initialBackoffMs: 1, maxBackoffMs: 2 })),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
});

describeFunctionEndpointContract('AWS Lambda payload (lambdaHandler, JSON with base64 protocol bytes)', async () => {
  const handler = lambdaHandler(contractFunctions());
  return {
    endpoint: (fnType) =>
      new RequestReplyEndpoint(fnType, async (bytes) => {
        // What Lambda Invoke carries: JSON in, JSON out.
        const payload = JSON.parse(JSON.stringify({ request: Buffer.from(bytes).toString('base64') }));
        const reply = JSON.parse(JSON.stringify(await handler(payload))) as { response: string };
        return new Uint8Array(Buffer.from(reply.response, 'base64'));
      }),
  };
});

describeFunctionEndpointContract('AWS Lambda Invoke (lambdaTransport, @aws-sdk/client-lambda, Invoke API emulator)', async () => {
  const lambda = await startLambdaInvokeEmulator();
  lambda.register('contract-functions', lambdaHandler(contractFunctions()));
  const client = new LambdaClient(lambda.clientConfig());
  return {
    endpoint: (fnType) =>
      new RequestReplyEndpoint(
        fnType,
        lambdaTransport({ functionName: 'arn:aws:lambda:us-east-1:123456789012:function:contract-functions', client, maxAttempts: 2, initialBackoffMs: 1, maxBackoffMs: 2 }),
      ),
    close: async () => {
      client.destroy();
      await lambda.close();
    },
  };
});
