import { Address } from '../../../runtime-lambda/core/Address';
import type { Expiration } from '../../../runtime-lambda/core/ValueSpec';
import { SimulatedClock } from '../../../runtime-lambda/local/SimulatedClock';
import { createDispatcherHandler } from '../../../runtime-lambda/handlers/dispatcher';
import { kinesisEvent, kinesisRecordFactory } from '../../helpers/awsEventFactories';
import { readText } from '../../helpers/factories';
import { JournalFunction, resolverOf } from '../../helpers/journalFunction';
import { type DynamoStoreFixture, dynamoStoreFixture } from '../../support/dynamoStore';

const INGRESS = 'orders';
const MINUTE = 60_000;

describe('State expiry on AWS: DynamoStateStore + dispatcher with a controllable clock (DynamoDB Local)', () => {
  let fx: DynamoStoreFixture;
  let n = 0;
  let run = 0;
  beforeAll(async () => {
    fx = await dynamoStoreFixture();
  });
  afterAll(async () => {
    await fx?.close();
  });

  function setup(expiration: Expiration) {
    const clock = new SimulatedClock(Date.UTC(2026, 0, 1));
    const fn = new JournalFunction({ name: 'journal', typename: 'test/text', expiration });
    const handler = createDispatcherHandler({
      store: fx.store,
      functions: resolverOf({ 'test/journal': fn }),
      ingresses: { [INGRESS]: { functionType: 'test/journal', valueType: 'test/text' } },
      clock,
      dispatcher: { sleep: async () => undefined },
      logger: { warn: jest.fn() },
    });
    const address = Address.of('test/journal', `exp-${run++}`);
    /** Sends `text` at the clock's time; answers the journal the function was shown. */
    const send = async (text: string): Promise<string | undefined> => {
      expect(await handler(kinesisEvent(kinesisRecordFactory({ stream: INGRESS, n: ++n, partitionKey: address.id, data: text })))).toEqual({ batchItemFailures: [] });
      const request = fn.requests.at(-1)!;
      return readText(request.state.find((s) => s.name === 'journal')?.value);
    };
    return { clock, send, address };
  }

  it('after-write: a value older than its expiry is not shown, and writing resets it', async () => {
    // Prepare
    const { clock, send, address } = setup({ mode: 'after-write', afterMs: 10 * MINUTE });
    await send('a');

    // Act
    clock.set(clock.now() + 9 * MINUTE);
    const seenBeforeExpiry = await send('b'); // writes: the value lives 10 more minutes
    clock.set(clock.now() + 9 * MINUTE);
    const seenAfterRewrite = await send('c');
    clock.set(clock.now() + 10 * MINUTE + 1);
    const seenAfterExpiry = await send('d');

    // Assess
    expect(seenBeforeExpiry).toBe('a');
    expect(seenAfterRewrite).toBe('a|b');
    expect(seenAfterExpiry).toBeUndefined();
    const stored = (await fx.store.load([address])).get(address.key)!;
    expect(readText(stored.values.get('journal'))).toBe('d');
  });

  it('after-call: any invocation keeps the value alive; silence expires it', async () => {
    // Prepare
    const { clock, send } = setup({ mode: 'after-invoke', afterMs: 10 * MINUTE });
    await send('a');

    // Act
    clock.set(clock.now() + 9 * MINUTE);
    const kept = await send('b');
    clock.set(clock.now() + 10 * MINUTE + 1);
    const expired = await send('c');

    // Assess
    expect(kept).toBe('a');
    expect(expired).toBeUndefined();
  });
});
