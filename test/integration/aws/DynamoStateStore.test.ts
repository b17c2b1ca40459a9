import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { Address } from '../../../runtime-lambda/core/Address';
import { type AddressState, emptyState } from '../../../runtime-lambda/core/AddressState';
import { type Effects, NO_EFFECTS } from '../../../runtime-lambda/core/Effects';
import { StateConflictError, TerminalError, UnreadableStateError } from '../../../runtime-lambda/core/errors';
import { DynamoStateStore } from '../../../runtime-lambda/aws/DynamoStateStore';
import { inboxKeyOf } from '../../../runtime-lambda/core/Inbox';
import { commitOf, richEffects, richState, textValue } from '../../helpers/factories';
import { dynamoClientConfig } from '../../support/awsClientConfig';
import { type DynamoStoreFixture, dynamoStoreFixture } from '../../support/dynamoStore';

/** Settles every promise, then tells which fulfilled and which rejected (and with what). */
async function race(attempts: readonly Promise<void>[]): Promise<{ won: number; lost: unknown[] }> {
  const outcomes = await Promise.all(attempts.map((p) => p.then(() => 'won' as const, (error: unknown) => ({ error }))));
  return {
    won: outcomes.filter((o) => o === 'won').length,
    lost: outcomes.flatMap((o) => (o === 'won' ? [] : [o.error])),
  };
}

function comparable(state: AddressState | undefined): unknown {
  if (!state) return undefined;
  return {
    address: state.address.key,
    version: state.version,
    epochMs: state.epochMs,
    values: [...state.values].map(([k, v]) => [k, { ...v, value: Buffer.from(v.value).toString('hex') }]).sort(),
    marks: [...state.marks].sort(),
    timers: [...state.timers].sort(),
  };
}

describe('Class: DynamoStateStore', () => {
  let fx: DynamoStoreFixture;
  let run = 0;
  const fresh = (label: string) => Address.of('it/fn', `${label}-${run++}`);

  beforeAll(async () => {
    fx = await dynamoStoreFixture();
  });
  afterAll(async () => {
    await fx?.close();
  });

  it('round-trips a full state: values with expiration, 56-digit marks, timers, empty bytes', async () => {
    // Prepare
    const address = fresh('rich');
    const state = richState(address, 1);

    // Act
    await fx.store.commit(commitOf(state, 0, richEffects(address)));
    const loaded = (await fx.store.load([address])).get(address.key);

    // Assess
    expect(comparable(loaded)).toEqual(comparable(state));
    expect(loaded!.marks.get('transactions/shardId-000000000001')!.position).toBe(
      '49650012345678901234567890123456789012345678901234567890',
    );
    expect(loaded!.values.get('count')!.value).toBeInstanceOf(Uint8Array);
    expect(loaded!.values.get('empty')!.value.byteLength).toBe(0);
    expect(loaded!.values.get('session')!.expiration).toEqual({ mode: 'after-invoke', afterMs: 60_000 });
    const outbox = await fx.outboxOf(address);
    expect(outbox).toHaveLength(1);
    expect(JSON.stringify(outbox[0])).toBe(JSON.stringify(richEffects(address)));
    expect(outbox[0]!.messages[0]!.target).toBeInstanceOf(Address);
  });

  it('round-trips large effects (stored deflated) in ONE outbox item', async () => {
    // Prepare
    const address = fresh('bulk');
    const base = richEffects(address);
    const effects: Effects = {
      ...base,
      messages: Array.from({ length: 500 }, (_, i) => ({ ...base.messages[0]!, id: `b.m${i}`, argument: textValue(`message number ${i}`) })),
    };

    // Act
    await fx.store.commit(commitOf(richState(address, 1), 0, effects));

    // Assess
    const outbox = await fx.outboxOf(address);
    expect(outbox).toHaveLength(1);
    expect(JSON.stringify(outbox[0])).toBe(JSON.stringify(effects));
    const inbox = (await fx.store.readInbox([effects.messages[0]!.target], 1000)).get(effects.messages[0]!.target.key)!;
    const entry = inbox.entries.find((e) => e.key === inboxKeyOf(effects.messages[0]!))!;
    expect(entry.envelopes).toEqual(effects.messages);
  });

  it('lets exactly one of racing commits from the same version win, the others get StateConflictError', async () => {
    for (const withEffects of [false, true]) {
      // Prepare
      const address = fresh(withEffects ? 'race-tx' : 'race-put');
      await fx.store.commit(commitOf(richState(address, 1), 0));
      const racers = [111, 222, 333, 444].map((epochMs) => ({ ...richState(address, 2), epochMs }));

      // Act
      const { won, lost } = await race(
        racers.map((s, i) => fx.store.commit(commitOf(s, 1, withEffects ? richEffects(address) : NO_EFFECTS, `token-${i}`))),
      );

      // Assess
      expect(won).toBe(1);
      expect(lost).toHaveLength(3);
      for (const error of lost) {
        expect(error).toBeInstanceOf(StateConflictError);
        expect((error as Error).message).toBe(
          `state of ${address.key} is no longer at version 1: another dispatcher committed first; reload and retry`,
        );
      }
      expect((await fx.store.load([address])).get(address.key)!.version).toBe(2);
      expect(await fx.outboxOf(address)).toHaveLength(withEffects ? 1 : 0);
    }
  });

  it('lets exactly one of two first commits (expected version 0) win', async () => {
    // Prepare
    const address = fresh('race-first');

    // Act
    const { won, lost } = await race([
      fx.store.commit(commitOf({ ...richState(address, 1), epochMs: 1 }, 0, NO_EFFECTS, 'a')),
      fx.store.commit(commitOf({ ...richState(address, 1), epochMs: 2 }, 0, richEffects(address), 'b')),
    ]);

    // Assess
    expect(won).toBe(1);
    expect(lost[0]).toBeInstanceOf(StateConflictError);
  });

  it('applies a retried commit (same token) once, on both the transaction and the PutItem path', async () => {
    for (const effects of [richEffects(fresh('unused')), NO_EFFECTS]) {
      // Prepare
      const address = fresh('retry');
      const commit = commitOf(richState(address, 1), 0, effects === NO_EFFECTS ? NO_EFFECTS : richEffects(address));
      await fx.store.commit(commit);

      // Act
      const again = await fx.store.commit(commit).then(() => 'ok', (error: unknown) => error);

      // Assess
      if (again !== 'ok') expect(again).toBeInstanceOf(StateConflictError);
      const loaded = (await fx.store.load([address])).get(address.key);
      expect(comparable(loaded)).toEqual(comparable(commit.state));
      expect(await fx.outboxOf(address)).toHaveLength(effects === NO_EFFECTS ? 0 : 1);
    }
  });

  it('never lets a racing commit of the same batch (same token, other clock readings) overwrite the winner', async () => {
    for (const effects of [richEffects(fresh('unused')), NO_EFFECTS]) {
      // Prepare: two dispatchers planned the same batch of a new address at different times
      const address = fresh('same-token');
      const winner = { ...richState(address, 1), epochMs: 2_000 };
      const loser = { ...richState(address, 1), epochMs: 1_000 };
      await fx.store.commit(commitOf(winner, 0, effects, 'same-batch'));

      // Act
      const late = await fx.store.commit(commitOf(loser, 0, effects, 'same-batch')).then(() => 'ok', (error: unknown) => error);

      // Assess
      expect(late).not.toBe('ok');
      expect((await fx.store.load([address])).get(address.key)!.epochMs).toBe(2_000);
    }
  });

  it('rejects a retry of an old commit once the address has moved on', async () => {
    // Prepare
    const address = fresh('old-retry');
    const first = commitOf(richState(address, 1), 0);
    await fx.store.commit(first);
    await fx.store.commit(commitOf(richState(address, 2), 1));

    // Act
    const again = fx.store.commit(first);

    // Assess
    await expect(again).rejects.toBeInstanceOf(StateConflictError);
    expect((await fx.store.load([address])).get(address.key)!.version).toBe(2);
  });

  it('commits without effects with one conditional PutItem, with effects with one TransactWriteItems', async () => {
    // Prepare
    const address = fresh('put');
    const before = fx.calls.length;

    // Act
    await fx.store.commit(commitOf(richState(address, 1), 0));
    await fx.store.commit(commitOf(richState(address, 2), 1, richEffects(address)));

    // Assess
    expect(fx.calls.slice(before)).toEqual(['PutItemCommand', 'TransactWriteItemsCommand']);
  });

  it('loads more than 100 addresses in chunks of 100, absent ones as version 0, duplicates once', async () => {
    // Prepare
    const addresses = Array.from({ length: 250 }, (_, i) => fresh(`many${i}`));
    await Promise.all(addresses.filter((_, i) => i % 3 === 0).map((a) => fx.store.commit(commitOf(richState(a, 1), 0))));
    const before = fx.calls.length;

    // Act
    const loaded = await fx.store.load([...addresses, addresses[0]!, addresses[1]!]);

    // Assess
    expect(loaded.size).toBe(250);
    addresses.forEach((a, i) => {
      expect(loaded.get(a.key)!.version).toBe(i % 3 === 0 ? 1 : 0);
      expect(loaded.get(a.key)!.address.key).toBe(a.key);
    });
    expect(fx.calls.slice(before).filter((c) => c === 'BatchGetItemCommand')).toHaveLength(3);
  });

  it('loads nothing for no addresses, without calling DynamoDB', async () => {
    // Prepare
    const before = fx.calls.length;

    // Act
    const loaded = await fx.store.load([]);

    // Assess
    expect(loaded.size).toBe(0);
    expect(fx.calls.length).toBe(before);
  });

  it('refuses a state item over 400 KB with a TerminalError before sending anything', async () => {
    // Prepare
    const address = fresh('huge');
    const state = richState(address, 1);
    const huge: AddressState = {
      ...state,
      values: new Map([...state.values, ['blob', { typename: 'test/bytes', value: new Uint8Array(401 * 1024), touchedAtMs: 1 }]]),
    };
    const before = fx.calls.length;

    // Act
    const attempt = fx.store.commit(commitOf(huge, 0));

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(TerminalError);
    await expect(attempt).rejects.toMatchObject({ code: 'ITEM_TOO_LARGE', retryable: false });
    await expect(attempt).rejects.toThrow(
      new RegExp(`^state item of ${address.key} would be \\d+ bytes, over DynamoDB's item limit of 409600 bytes \\(400 KB\\): keep fewer or smaller state values`),
    );
    expect(fx.calls.length).toBe(before);
    expect((await fx.store.load([address])).get(address.key)!.version).toBe(0);
  });

  it('refuses an outbox item over 400 KB with a TerminalError, writing nothing', async () => {
    // Prepare
    const address = fresh('huge-outbox');
    const base = richEffects(address);
    const random = new Uint8Array(420 * 1024).map(() => Math.floor(Math.random() * 256));
    const effects: Effects = { ...base, egress: [{ id: 'e', egress: 'test/big', argument: { typename: 'test/bytes', value: random } }] };

    // Act
    const attempt = fx.store.commit(commitOf(richState(address, 1), 0, effects));

    // Assess
    await expect(attempt).rejects.toMatchObject({ code: 'ITEM_TOO_LARGE' });
    await expect(attempt).rejects.toThrow(`outbox item of ${address.key} would be`);
    expect((await fx.store.load([address])).get(address.key)!.version).toBe(0);
  });

  it('accepts a state item just under 400 KB (the size estimate is not too strict)', async () => {
    // Prepare
    const address = fresh('big');
    const state: AddressState = {
      ...richState(address, 1),
      values: new Map([['blob', { typename: 'test/bytes', value: new Uint8Array(399 * 1024), touchedAtMs: 1 }]]),
    };

    // Act
    await fx.store.commit(commitOf(state, 0));

    // Assess
    expect((await fx.store.load([address])).get(address.key)!.values.get('blob')!.value.byteLength).toBe(399 * 1024);
  });

  it('reports a malformed stored item with the address, the attribute and what it found, and still reads the other addresses', async () => {
    // Prepare
    const address = fresh('bad');
    await fx.client.send(
      new PutItemCommand({
        TableName: fx.tableName,
        Item: {
          address: { S: address.key },
          version: { N: '3' },
          epochMs: { N: '1' },
          values: { M: { count: { M: { t: { S: 'io.statefun.types/int' }, v: { S: 'not bytes' }, at: { N: '1' } } } } },
          marks: { M: {} },
          timers: { M: {} },
        },
      }),
    );

    const healthy = fresh('healthy');

    // Act
    const attempt = fx.store.load([address, healthy]);

    // Assess: the other address is read; the malformed one is named with why
    await expect(attempt).rejects.toBeInstanceOf(UnreadableStateError);
    const error = (await attempt.catch((e: unknown) => e)) as UnreadableStateError;
    expect([...error.readable.keys()]).toEqual([healthy.key]);
    expect(error.readable.get(healthy.key)!.version).toBe(0);
    expect(error.unreadable.get(address.key)).toMatchObject({ code: 'MALFORMED_STATE_ITEM' });
    expect(error.unreadable.get(address.key)!.message).toBe(
      `state item "${address.key}" in table ${fx.tableName} is malformed: attribute values.count.v should be binary (B) but is S "not bytes"; it was not written by DynamoStateStore (or by an incompatible version): repair or delete the item`,
    );
  });

  it('rejects a commit whose state is not above the expected version', async () => {
    // Prepare
    const address = fresh('invalid');

    // Act
    const attempt = fx.store.commit(commitOf(richState(address, 1), 1));

    // Assess
    await expect(attempt).rejects.toMatchObject({ code: 'INVALID_COMMIT', retryable: false });
    await expect(attempt).rejects.toThrow('the state must be of the same address and at a version above expectedVersion');
  });

  it('names the missing table and the fix', async () => {
    // Prepare
    const store = new DynamoStateStore({ tableName: 'no-such-table', outboxTableName: 'no-such-outbox', inboxTableName: 'no-such-inbox', clientConfig: dynamoClientConfig() });

    // Act
    const attempt = store.load([fresh('x')]);

    // Assess
    await expect(attempt).rejects.toMatchObject({ code: 'TABLE_NOT_FOUND', retryable: false });
    await expect(attempt).rejects.toThrow('create the tables first');
    store.destroy();
  });

  it('writes the ttl attribute from the hook', async () => {
    // Prepare
    const address = fresh('ttl');
    const store = new DynamoStateStore({
      tableName: fx.tableName,
      outboxTableName: fx.outboxTableName,
      inboxTableName: fx.inboxTableName,
      client: fx.client,
      stateTtlEpochSeconds: () => 2_000_000_000,
    });

    // Act
    await store.commit(commitOf(richState(address, 1), 0));

    // Assess
    const item = await fx.client.send(new GetItemCommand({ TableName: fx.tableName, Key: { address: { S: address.key } } }));
    expect(item.Item?.ttl).toEqual({ N: '2000000000' });
  });

  it('reads again, strongly consistent, an outbox item that an eventually consistent read missed (a lagging replica)', async () => {
    // Prepare: a sender's commit to a receiver; a middleware plays the lagging replica that
    // no emulator has: eventually consistent BatchGetItem answers leave the outbox items out.
    const sender = fresh('lag-sender');
    const receiver = fresh('lag-receiver');
    const message = { ...richEffects(sender).messages[0]!, target: receiver };
    await fx.store.commit(commitOf(richState(sender, 1), 0, { ...NO_EFFECTS, messages: [message] }));
    const consistency: boolean[] = [];
    const lagging = new DynamoDBClient(dynamoClientConfig());
    lagging.middlewareStack.add(
      (next, context) => async (args) => {
        const result = await next(args);
        const input = args.input as { RequestItems?: Record<string, { ConsistentRead?: boolean }> };
        const request = input.RequestItems?.[fx.outboxTableName];
        if (context.commandName === 'BatchGetItemCommand' && request) {
          consistency.push(request.ConsistentRead === true);
          if (!request.ConsistentRead) (result.output as { Responses?: Record<string, unknown[]> }).Responses![fx.outboxTableName] = [];
        }
        return result;
      },
      { step: 'initialize', name: 'laggingReplica' },
    );
    const store = new DynamoStateStore({ tableName: fx.tableName, outboxTableName: fx.outboxTableName, inboxTableName: fx.inboxTableName, client: lagging });

    // Act
    const page = (await store.readInbox([receiver], 10)).get(receiver.key)!;

    // Assess
    expect(consistency).toEqual([false, true]);
    expect(page.entries).toHaveLength(1);
    expect(page.entries[0]!.lost).toBeUndefined();
    expect(page.entries[0]!.envelopes).toEqual([message]);
    lagging.destroy();
  });

  it('writes an empty address as a tombstone that TTL deletes one duplicate window after its latest mark, and a full one again without', async () => {
    // Prepare
    const address = fresh('tombstone');
    const store = new DynamoStateStore({
      tableName: fx.tableName,
      outboxTableName: fx.outboxTableName,
      inboxTableName: fx.inboxTableName,
      client: fx.client,
      duplicateWindowMs: 2 * 3_600_000,
      stateTtlEpochSeconds: () => 2_000_000_000,
    });
    const empty = { ...emptyState(address), version: 1, epochMs: 1_767_225_600_000, marks: new Map([['in/0', { position: '9', atMs: 1_767_225_700_000 }]]) };
    const read = async () => (await fx.client.send(new GetItemCommand({ TableName: fx.tableName, Key: { address: { S: address.key } }, ConsistentRead: true }))).Item;

    // Act
    await store.commit(commitOf(empty, 0));
    const tombstone = await read();
    await store.commit(commitOf({ ...richState(address, 2), marks: empty.marks }, 1));
    const refilled = await read();

    // Assess
    expect(tombstone?.ttl).toEqual({ N: String(1_767_225_700 + 2 * 3600) });
    expect(tombstone?.marks).toEqual({ M: { 'in/0': { M: { p: { S: '9' }, at: { N: '1767225700000' } } } } });
    expect(refilled?.ttl).toEqual({ N: '2000000000' }); // the hook's, for a state with values
  });
});
