import { SimulatedClock } from '../../../runtime-lambda/local/SimulatedClock';

describe('SimulatedClock', () => {
  let wall = 1_000_000;
  beforeEach(() => {
    wall = 1_000_000;
    jest.spyOn(Date, 'now').mockImplementation(() => wall);
  });
  afterEach(() => jest.restoreAllMocks());

  it('says what time it showed at a wall-clock moment, across its moves', () => {
    // Prepare: created at wall 1,000,000 showing 5,000; moved at wall 1,000,010 and 1,000,020
    const clock = new SimulatedClock(5_000);
    wall += 10;
    clock.set(90_000_000);
    wall += 10;
    clock.set(190_000_000);

    // Assess
    expect(clock.timeAt(999_000)).toBe(5_000); // before its creation: its first time
    expect(clock.timeAt(1_000_005)).toBe(5_000);
    expect(clock.timeAt(1_000_010)).toBe(90_000_000);
    expect(clock.timeAt(1_000_019)).toBe(90_000_000);
    expect(clock.timeAt(1_000_020)).toBe(190_000_000);
    expect(clock.timeAt(9_999_999)).toBe(190_000_000);
  });

  it('refuses to go back, naming both times, and keeps its time', () => {
    const clock = new SimulatedClock(Date.UTC(2026, 0, 2));
    expect(() => clock.set(Date.UTC(2026, 0, 1))).toThrow('cannot move the simulated clock from 2026-01-02T00:00:00.000Z back to 1767225600000: time only moves forward');
    expect(() => clock.set(Number.NaN)).toThrow('time only moves forward');
    expect(clock.now()).toBe(Date.UTC(2026, 0, 2));
  });

  it('remembers its last 4096 moves: an older wall-clock moment reads as the oldest one kept', () => {
    const clock = new SimulatedClock(0);
    for (let i = 1; i <= 5000; i++) {
      wall += 1;
      clock.set(i * 1000);
    }
    expect(clock.timeAt(1_000_000 + 5000)).toBe(5_000_000);
    expect(clock.timeAt(1_000_000 + 4000)).toBe(4_000_000);
    // Moves 1..904 are forgotten: the oldest kept is move 905.
    expect(clock.timeAt(1_000_000 + 10)).toBe(905_000);
  });
});
