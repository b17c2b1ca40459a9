import {
  DEFAULT_SHORT_DELAY_MAX_MS,
  deliveryTimeMs,
  schedulerFireTimeMs,
  sqsDelaySeconds,
  takesShortDelayPath,
} from '../../../runtime-lambda/core/timerDelivery';

const RELAY = Date.UTC(2026, 0, 1, 9, 0, 0, 250);
const at = (h: number, m: number, s = 0, ms = 0) => Date.UTC(2026, 0, 1, h, m, s, ms);

describe('Module: timerDelivery', () => {
  it('takes the SQS path up to the threshold, inclusive, and Scheduler beyond', () => {
    expect(takesShortDelayPath(RELAY + DEFAULT_SHORT_DELAY_MAX_MS, RELAY, DEFAULT_SHORT_DELAY_MAX_MS)).toBe(true);
    expect(takesShortDelayPath(RELAY + DEFAULT_SHORT_DELAY_MAX_MS + 1, RELAY, DEFAULT_SHORT_DELAY_MAX_MS)).toBe(false);
    expect(takesShortDelayPath(RELAY - 5000, RELAY, DEFAULT_SHORT_DELAY_MAX_MS)).toBe(true);
  });

  it('delays SQS messages by whole seconds rounded up, and not at all once due', () => {
    expect([-5, 0, 1, 999, 1000, 1001, 1_500].map(sqsDelaySeconds)).toEqual([0, 0, 1, 1, 1, 2, 2]);
  });

  it('fires a schedule at the due minute rounded up, never in the minute of the relay or before', () => {
    expect(schedulerFireTimeMs(at(10, 0, 20), RELAY)).toBe(at(10, 1));
    expect(schedulerFireTimeMs(at(10, 0), RELAY)).toBe(at(10, 0));
    expect(schedulerFireTimeMs(at(8, 0), RELAY)).toBe(at(9, 1));
    expect(schedulerFireTimeMs(at(9, 0, 0, 250), RELAY)).toBe(at(9, 1));
  });

  it('delivers never early: seconds after the relay on the short path, minutes on the long one', () => {
    expect(deliveryTimeMs(RELAY + 1_500, RELAY, DEFAULT_SHORT_DELAY_MAX_MS)).toBe(RELAY + 2000);
    expect(deliveryTimeMs(RELAY - 1, RELAY, DEFAULT_SHORT_DELAY_MAX_MS)).toBe(RELAY);
    expect(deliveryTimeMs(at(9, 30, 20, 250), RELAY, DEFAULT_SHORT_DELAY_MAX_MS)).toBe(at(9, 31));
    expect(deliveryTimeMs(at(9, 10, 0, 250), RELAY, 5 * 60_000)).toBe(at(9, 11));
  });
});
