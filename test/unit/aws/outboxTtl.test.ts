import { DEFAULT_OUTBOX_TTL_DAYS, outboxTtlEpochSeconds } from '../../../runtime-lambda/aws/commitItems';
import { latestTimeMs } from '../../../runtime-lambda/core/AddressState';
import { Address } from '../../../runtime-lambda/core/Address';
import { type AddressState, emptyState } from '../../../runtime-lambda/core/AddressState';
import { NO_EFFECTS } from '../../../runtime-lambda/core/Effects';

const address = Address.of('shop/cart', 'u1');
const DAY_S = 24 * 60 * 60;

function stateAt(opts: { epochMs: number; markAtMs?: number; touchedAtMs?: number }): AddressState {
  return {
    ...emptyState(address),
    version: 3,
    epochMs: opts.epochMs,
    marks: new Map(opts.markAtMs === undefined ? [] : [['orders/shardId-0', { position: '7', atMs: opts.markAtMs }]]),
    values: new Map(opts.touchedAtMs === undefined ? [] : [['v', { typename: 't/x', value: new Uint8Array(), touchedAtMs: opts.touchedAtMs }]]),
  };
}

describe('Function: outboxTtlEpochSeconds', () => {
  it('is the latest time of the committed state plus the TTL days, in epoch seconds', () => {
    // Prepare
    const state = stateAt({ epochMs: 1_000_000, markAtMs: 1_767_225_600_999, touchedAtMs: 1_767_225_500_000 });

    // Act
    const ttl = outboxTtlEpochSeconds({ state, effects: NO_EFFECTS }, DEFAULT_OUTBOX_TTL_DAYS);

    // Assess
    expect(latestTimeMs(state)).toBe(1_767_225_600_999);
    expect(ttl).toBe(1_767_225_600 + 7 * DAY_S);
    expect(DEFAULT_OUTBOX_TTL_DAYS * DAY_S).toBeGreaterThan(DAY_S); // outlives the 24-hour stream retention
  });

  it('counts dead letters of the batch and a written value, whichever is latest', () => {
    // Prepare
    const state = stateAt({ epochMs: 5_000, touchedAtMs: 9_000 });
    const deadLetter = { id: 'd', address: address.key, reason: 'r', atMs: 12_345, envelope: {} as never };

    // Act / Assess
    expect(outboxTtlEpochSeconds({ state, effects: NO_EFFECTS }, 1)).toBe(9 + DAY_S);
    expect(outboxTtlEpochSeconds({ state, effects: { ...NO_EFFECTS, deadLetters: [deadLetter] } }, 0.5)).toBe(12 + DAY_S / 2);
  });

  it('keeps the item a day past the latest timer it schedules, when that is later', () => {
    // Prepare: a 30-day timer, its message kept for the reconciler until it has fired
    const state = stateAt({ epochMs: 1_000_000, markAtMs: 1_767_225_600_000 });
    const dueAtMs = 1_767_225_600_000 + 30 * DAY_S * 1000;
    const timers = [{ timerId: 'b.t0', dueAtMs, envelope: {} as never }, { timerId: 'b.t1', dueAtMs: 1_767_225_600_000 + 60_000, envelope: {} as never }];

    // Act / Assess
    expect(outboxTtlEpochSeconds({ state, effects: { ...NO_EFFECTS, timers } }, 7)).toBe(dueAtMs / 1000 + DAY_S);
    expect(outboxTtlEpochSeconds({ state, effects: { ...NO_EFFECTS, timers: timers.slice(1) } }, 7)).toBe(1_767_225_600 + 7 * DAY_S);
  });

  it('does not depend on the clock: a retried commit gets the same ttl', () => {
    // Prepare
    const commit = { state: stateAt({ epochMs: 1_767_225_600_000, markAtMs: 1_767_225_600_000 }), effects: NO_EFFECTS };
    const now = jest.spyOn(Date, 'now');

    // Act
    now.mockReturnValue(1_800_000_000_000);
    const first = outboxTtlEpochSeconds(commit, 7);
    now.mockReturnValue(1_900_000_000_000);
    const retried = outboxTtlEpochSeconds(commit, 7);
    now.mockRestore();

    // Assess
    expect(retried).toBe(first);
  });
});
