import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Address } from '../../../runtime-lambda/core/Address';
import { RETRY_TIMER_TYPE } from '../../../runtime-lambda/core/dispatch/planBatch';
import { isParkedKey } from '../../../runtime-lambda/core/Inbox';
import { RequestReplyEndpoint } from '../../../runtime-lambda/protocol/RequestReplyEndpoint';
import { decodeToFunction, encodeFromFunction } from '../../../runtime-lambda/protocol/codec';
import { httpTransport } from '../../../runtime-lambda/protocol/HttpTransport';
import { SimulatedClock } from '../../../runtime-lambda/local/SimulatedClock';
import { createDispatcherHandler } from '../../../runtime-lambda/handlers/dispatcher';
import { DISPATCHER_METRICS } from '../../../runtime-lambda/handlers/observability/telemetry';
import { bundleRecord, kinesisEvent, kinesisRecordFactory } from '../../helpers/awsEventFactories';
import { readText } from '../../helpers/factories';
import { JournalFunction, resolverOf } from '../../helpers/journalFunction';
import { type DynamoStoreFixture, dynamoStoreFixture } from '../../support/dynamoStore';
import { RecordingMetrics } from './recordingMetrics';

const MESSAGES = 'statefun-messages';
const REMOTE_ORDERS = 'remote-orders';
const LOCAL_ORDERS = 'local-orders';

/**
 * A request-reply HTTP endpoint serving a {@link JournalFunction}: while `mode` is
 * `unavailable` it answers 503 (a redeploy, an overloaded service), while `hanging` it never
 * answers.
 */
class JournalServer {
  readonly fn = new JournalFunction();
  mode: 'up' | 'unavailable' | 'hanging' = 'up';
  requests = 0;
  private readonly server: Server = createServer((req, res) => {
    this.requests++;
    if (this.mode === 'hanging') return;
    if (this.mode === 'unavailable') {
      res.writeHead(503).end('redeploying');
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      void this.fn.invoke(decodeToFunction(Buffer.concat(chunks))).then((response) => res.writeHead(200).end(encodeFromFunction(response)));
    });
  });

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/statefun`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

describe('Handler: dispatcher backs off per address (HTTP function, DynamoDB Local)', () => {
  let fx: DynamoStoreFixture;
  let remote: JournalServer;
  let url: string;
  let run = 0;

  beforeAll(async () => {
    fx = await dynamoStoreFixture();
    remote = new JournalServer();
    url = await remote.start();
  });
  afterAll(async () => {
    await remote?.stop();
    await fx?.close();
  });

  function setup() {
    const local = new JournalFunction();
    const metrics = new RecordingMetrics();
    const clock = new SimulatedClock(1_767_225_600_000);
    const handler = createDispatcherHandler({
      store: fx.store,
      functions: resolverOf({
        'test/remote': new RequestReplyEndpoint('test/remote', httpTransport({ url, maxAttempts: 2, initialBackoffMs: 10, timeoutMs: 30_000 })),
        'test/journal': local,
      }),
      ingresses: { [REMOTE_ORDERS]: { functionType: 'test/remote', valueType: 'test/text' }, [LOCAL_ORDERS]: { functionType: 'test/journal', valueType: 'test/text' } },
      clock,
      dispatcher: { sleep: async () => undefined },
      logger: { warn: jest.fn() },
      metrics,
    });
    const id = `k-${run++}`;
    return { handler, metrics, clock, id, remoteAddress: Address.of('test/remote', id), localAddress: Address.of('test/journal', id) };
  }

  const stateOf = async (address: Address) => (await fx.store.load([address])).get(address.key)!;
  const inboxKeys = async (address: Address) => (await fx.store.readInbox([address], 100)).get(address.key)!.entries.map((e) => e.key);

  it('parks the messages of an address whose endpoint answers 503, commits the others, and applies the parked ones in order once it is back', async () => {
    // Prepare
    const { handler, metrics, clock, id, remoteAddress, localAddress } = setup();
    remote.mode = 'unavailable';
    const outage = kinesisEvent(
      kinesisRecordFactory({ stream: REMOTE_ORDERS, n: 1, partitionKey: id, data: 'r1' }),
      kinesisRecordFactory({ stream: LOCAL_ORDERS, n: 2, partitionKey: id, data: 'l1' }),
      kinesisRecordFactory({ stream: REMOTE_ORDERS, n: 3, partitionKey: id, data: 'r2' }),
    );

    // Act: the outage, a later record while backing off, then the retry timer once the endpoint is back
    const duringOutage = await handler(outage, { getRemainingTimeInMillis: () => 60_000 });
    const outageMetrics = metrics.drain();
    const parkedKeys = await inboxKeys(remoteAddress);
    const backoff = (await stateOf(remoteAddress)).backoff!;
    const meanwhile = await handler(kinesisEvent(kinesisRecordFactory({ stream: REMOTE_ORDERS, n: 4, partitionKey: id, data: 'r3' })));
    remote.mode = 'up';
    clock.set(backoff.retryAtMs);
    const retryTimer = (await fx.outboxOf(remoteAddress)).flatMap((e) => e.timers).find((t) => t.timerId === backoff.timerId)!;
    const recovered = await handler(kinesisEvent(bundleRecord(MESSAGES, 5, [retryTimer.envelope])));

    // Assess
    expect(duringOutage).toEqual({ batchItemFailures: [] });
    expect(meanwhile).toEqual({ batchItemFailures: [] });
    expect(recovered).toEqual({ batchItemFailures: [] });
    expect(outageMetrics).toMatchObject({
      [DISPATCHER_METRICS.messagesApplied]: 1,
      [DISPATCHER_METRICS.messagesParked]: 2,
      [DISPATCHER_METRICS.addressesBackingOff]: 1,
      [`${DISPATCHER_METRICS.backoffAgeSeconds}:Seconds`]: 0,
    });
    expect(parkedKeys.map(isParkedKey)).toEqual([true]);
    expect(backoff.lastError).toContain('HTTP 503');
    expect(retryTimer.envelope.argument.typename).toBe(RETRY_TIMER_TYPE);
    expect(readText((await stateOf(localAddress)).values.get('journal'))).toBe('l1');
    const after = await stateOf(remoteAddress);
    expect(readText(after.values.get('journal'))).toBe('r1|r2|r3');
    expect(after.backoff).toBeUndefined();
    expect(after.timers.size).toBe(0);
    expect(await inboxKeys(remoteAddress)).toEqual([]);
  });

  it('gives a function that never answers one bounded attempt before the invocation\'s deadline, then parks its address', async () => {
    // Prepare
    const { handler, metrics, id, remoteAddress, localAddress } = setup();
    remote.mode = 'hanging';
    const before = remote.requests;

    // Act: 2 s left in the invocation, a quarter of it kept for the commits
    const response = await handler(
      kinesisEvent(
        kinesisRecordFactory({ stream: REMOTE_ORDERS, n: 1, partitionKey: id, data: 'r1' }),
        kinesisRecordFactory({ stream: LOCAL_ORDERS, n: 2, partitionKey: id, data: 'l1' }),
      ),
      { getRemainingTimeInMillis: () => 2_000 },
    );

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(remote.requests - before).toBe(1);
    expect(metrics.drain()).toMatchObject({ [DISPATCHER_METRICS.messagesParked]: 1, [DISPATCHER_METRICS.messagesApplied]: 1 });
    expect((await stateOf(remoteAddress)).backoff?.lastError).toMatch(/no response within 1\d{3} ms|deadline/);
    expect(readText((await stateOf(localAddress)).values.get('journal'))).toBe('l1');
    remote.mode = 'up';
  });
});
