import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InvalidInputError, TerminalError } from '../../../runtime-lambda/core/errors';
import { httpTransport } from '../../../runtime-lambda/protocol/HttpTransport';
import { transportRetrySettings } from '../../../runtime-lambda/protocol/transportRetries';
import { rejection } from '../../helpers/rejection';

describe('Function: transportRetrySettings', () => {
  it('takes unbounded attempts with a call timeout, which then bounds the call', () => {
    expect(transportRetrySettings({ maxAttempts: Number.POSITIVE_INFINITY, callTimeoutMs: 1_000 }, 'httpTransport')).toEqual({
      timeoutMs: 30_000,
      maxAttempts: Number.POSITIVE_INFINITY,
      initialBackoffMs: 100,
      maxBackoffMs: 5_000,
      callTimeoutMs: 1_000,
    });
  });

  it.each([
    [{ maxAttempts: Number.POSITIVE_INFINITY }, 'httpTransport: maxAttempts may be Infinity only with a callTimeoutMs, which then bounds the call: give one, or a whole number of attempts'],
    [{ callTimeoutMs: 0 }, 'httpTransport: callTimeoutMs must be a positive integer, got 0'],
    [{ callTimeoutMs: 1.5 }, 'httpTransport: callTimeoutMs must be a positive integer, got 1.5'],
  ])('refuses %p', (opts, message) => {
    expect(() => transportRetrySettings(opts, 'httpTransport')).toThrow(new InvalidInputError(message));
  });
});

describe('Function: httpTransport (maxRequestBytes)', () => {
  let hits = 0;
  const server: Server = createServer((req, res) => {
    hits += 1;
    req.resume();
    res.end();
  });
  let url = '';

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('sends a request of maxRequestBytes and refuses a longer one without sending it', async () => {
    // Prepare
    const transport = httpTransport({ url, maxRequestBytes: 4 });

    // Act
    await transport(new Uint8Array(4));
    const error = await rejection(transport(new Uint8Array(5)));

    // Assess
    expect(hits).toBe(1);
    expect(error).toBeInstanceOf(TerminalError);
    expect((error as TerminalError).code).toBe('REQUEST_TOO_LARGE');
    expect(error.message).toBe(
      `request to function endpoint ${url} is 5 bytes, more than maxRequestBytes (4); not sent: send fewer messages per batch (maxNumBatchRequests) or keep less state`,
    );
  });
});
