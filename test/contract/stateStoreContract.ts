import { Address } from '../../runtime-lambda/core/Address';
import type { AddressState } from '../../runtime-lambda/core/AddressState';
import { type Effects, NO_EFFECTS } from '../../runtime-lambda/core/Effects';
import { StateConflictError } from '../../runtime-lambda/core/errors';
import type { StateStore } from '../../runtime-lambda/core/ports/StateStore';
import { inboxKeyOf } from '../../runtime-lambda/core/Inbox';
import { commitOf, richEffects, richState } from '../helpers/factories';

/** What a contract run needs from an adapter. */
export interface StateStoreUnderTest {
  readonly store: StateStore;
  /** The effects recorded for relay for `address`, one entry per commit that carried effects. */
  readonly outboxOf: (address: Address) => Promise<readonly Effects[]>;
  close?(): Promise<void>;
}

function expectSameState(actual: AddressState | undefined, expected: AddressState): void {
  expect(actual).toBeDefined();
  expect(actual!.address.key).toBe(expected.address.key);
  expect(actual!.version).toBe(expected.version);
  expect(actual!.epochMs).toBe(expected.epochMs);
  const values = (s: AddressState) => [...s.values].map(([k, v]) => [k, { ...v, value: Buffer.from(v.value).toString('hex') }]).sort();
  expect(values(actual!)).toEqual(values(expected));
  expect([...actual!.marks].sort()).toEqual([...expected.marks].sort());
  expect([...actual!.timers].sort()).toEqual([...expected.timers].sort());
}

/**
 * The contract every {@link StateStore} adapter passes: the in-process store and DynamoDB
 * alike. Each test uses fresh addresses, so one store instance serves the whole suite.
 */
export function describeStateStoreContract(name: string, makeStore: () => Promise<StateStoreUnderTest>): void {
  describe(`StateStore contract: ${name}`, () => {
    let underTest: StateStoreUnderTest;
    let store: StateStore;
    let run = 0;
    const fresh = (label: string) => Address.of('contract/fn', `${label}-${Date.now()}-${run++}`);

    beforeAll(async () => {
      underTest = await makeStore();
      store = underTest.store;
    });
    afterAll(async () => {
      await underTest?.close?.();
    });

    it('loads an address never written as version 0 with nothing in it', async () => {
      // Prepare
      const address = fresh('never');

      // Act
      const loaded = (await store.load([address])).get(address.key);

      // Assess
      expect(loaded?.version).toBe(0);
      expect(loaded?.address.key).toBe(address.key);
      expect(loaded?.values.size).toBe(0);
      expect(loaded?.marks.size).toBe(0);
      expect(loaded?.timers.size).toBe(0);
    });

    it('round-trips a full state: values with expiry, 56-digit marks, timers', async () => {
      // Prepare
      const address = fresh('rich');
      const state = richState(address, 1);

      // Act
      await store.commit(commitOf(state, 0, richEffects(address)));
      const loaded = (await store.load([address])).get(address.key);

      // Assess
      expectSameState(loaded, state);
      const outbox = await underTest.outboxOf(address);
      expect(outbox).toHaveLength(1);
      expect(JSON.stringify(outbox[0])).toBe(JSON.stringify(richEffects(address)));
      const message = richEffects(address).messages[0]!;
      const inbox = (await store.readInbox([message.target], 1000)).get(message.target.key)!;
      expect(inbox.entries.map((e) => e.key)).toContain(inboxKeyOf(message));
      expect(inbox.entries.find((e) => e.key === inboxKeyOf(message))!.envelopes).toEqual([message]);
    });

    it('loads many addresses in one call, keyed by address', async () => {
      // Prepare
      const addresses = Array.from({ length: 130 }, (_, i) => fresh(`many${i}`));
      await Promise.all(addresses.filter((_, i) => i % 2 === 0).map((a) => store.commit(commitOf(richState(a, 1), 0))));

      // Act
      const loaded = await store.load(addresses);

      // Assess
      expect(loaded.size).toBe(130);
      addresses.forEach((a, i) => expect(loaded.get(a.key)?.version).toBe(i % 2 === 0 ? 1 : 0));
    });

    it('commits on top of the version it read, version after version', async () => {
      // Prepare
      const address = fresh('seq');
      await store.commit(commitOf(richState(address, 1), 0));

      // Act
      await store.commit(commitOf(richState(address, 2), 1));
      await store.commit(commitOf(richState(address, 3), 2, richEffects(address)));

      // Assess
      expect((await store.load([address])).get(address.key)?.version).toBe(3);
    });

    it('rejects a commit whose expected version is stale with StateConflictError, leaving state as it was', async () => {
      // Prepare
      const address = fresh('stale');
      const first = richState(address, 1);
      await store.commit(commitOf(first, 0));
      const stale = { ...richState(address, 1), values: new Map() };

      // Act
      const attempt = store.commit(commitOf(stale, 0, richEffects(address), 'another-token'));

      // Assess
      await expect(attempt).rejects.toBeInstanceOf(StateConflictError);
      await expect(attempt).rejects.toThrow(`state of ${address.key} is no longer at version 0`);
      expectSameState((await store.load([address])).get(address.key), first);
      expect(await underTest.outboxOf(address)).toHaveLength(0);
    });

    it('lets exactly one of two racing commits from the same version win', async () => {
      // Prepare
      const address = fresh('race');
      await store.commit(commitOf(richState(address, 1), 0));
      const a = { ...richState(address, 2), epochMs: 111 };
      const b = { ...richState(address, 2), epochMs: 222 };

      // Act
      const results = await Promise.allSettled([
        store.commit(commitOf(a, 1, richEffects(address), 'token-a')),
        store.commit(commitOf(b, 1, richEffects(address), 'token-b')),
      ]);

      // Assess
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      expect(lost[0]!.reason).toBeInstanceOf(StateConflictError);
      const winner = results[0]!.status === 'fulfilled' ? a : b;
      expectSameState((await store.load([address])).get(address.key), winner);
    });

    it('never lets a racing commit of the same batch (same token, other clock readings) overwrite the winner', async () => {
      // Prepare
      const address = fresh('same-token');
      const winner = { ...richState(address, 1), epochMs: 2_000 };
      const loser = { ...richState(address, 1), epochMs: 1_000 };
      await store.commit(commitOf(winner, 0, richEffects(address), 'same-batch'));

      // Act
      const late = await store.commit(commitOf(loser, 0, richEffects(address), 'same-batch')).then(
        () => 'ok',
        (error: unknown) => error,
      );

      // Assess
      expect(late).not.toBe('ok');
      expectSameState((await store.load([address])).get(address.key), winner);
      expect(await underTest.outboxOf(address)).toHaveLength(1);
    });

    it('treats a repeated commit as applied once: it either succeeds idempotently or reports a conflict', async () => {
      // Prepare
      const address = fresh('retry');
      const state = richState(address, 1);
      const commit = commitOf(state, 0, richEffects(address));
      await store.commit(commit);

      // Act
      const again = await store.commit(commit).then(
        () => 'ok',
        (error: unknown) => error,
      );

      // Assess
      if (again !== 'ok') expect(again).toBeInstanceOf(StateConflictError);
      expectSameState((await store.load([address])).get(address.key), state);
      expect(await underTest.outboxOf(address)).toHaveLength(1);
    });

    it('refuses what DynamoDB refuses, the same way: a state item over 400 KB, a commit to more than 98 receivers; nothing is written', async () => {
      // Prepare
      const big = fresh('big');
      const large = { ...richState(big, 1), values: new Map([['blob', { typename: 'test/bytes', value: new Uint8Array(410 * 1024), touchedAtMs: 1 }]]) };
      const fanOut = fresh('fan-out');
      const base = richEffects(fanOut).messages[0]!;
      const messages = Array.from({ length: 99 }, (_, i) => ({ ...base, id: `b.m${i}`, target: Address.of('contract/fn', `r${i}`), origin: { kind: 'function' as const, source: fanOut.key, position: String(4096 + i) } }));

      // Act
      const tooLarge = store.commit(commitOf(large, 0));
      const tooWide = store.commit(commitOf(richState(fanOut, 1), 0, { ...NO_EFFECTS, messages }));

      // Assess
      await expect(tooLarge).rejects.toMatchObject({ name: 'CommitTooLargeError', code: 'ITEM_TOO_LARGE' });
      await expect(tooLarge).rejects.toThrow(/^state item of contract\/fn\/big-\S+ would be \d+ bytes, over DynamoDB's item limit of 409600 bytes \(400 KB\): keep fewer or smaller state values/);
      await expect(tooWide).rejects.toMatchObject({ name: 'CommitTooLargeError', code: 'TOO_MANY_RECEIVERS' });
      await expect(tooWide).rejects.toThrow('sent messages to 99 addresses; one commit reaches at most 98');
      const loaded = await store.load([big, fanOut]);
      expect([loaded.get(big.key)!.version, loaded.get(fanOut.key)!.version]).toEqual([0, 0]);
    });
  });
}
