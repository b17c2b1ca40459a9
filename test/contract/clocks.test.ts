import { type Clock, systemClock } from '../../runtime-lambda/core/ports/Clock';
import { SimulatedClock } from '../../runtime-lambda/local/SimulatedClock';

/** The contract of a {@link Clock}: epoch milliseconds, integral, never going backwards. */
function describeClockContract(name: string, make: () => { clock: Clock; tick(): void }): void {
  describe(`Clock contract: ${name}`, () => {
    it('tells epoch milliseconds that never go backwards', () => {
      // Prepare
      const { clock, tick } = make();
      const readings: number[] = [];

      // Act
      for (let i = 0; i < 50; i++) {
        readings.push(clock.now());
        tick();
      }

      // Assess
      expect(readings.every(Number.isInteger)).toBe(true);
      expect(readings[0]).toBeGreaterThan(Date.UTC(2020, 0, 1));
      for (let i = 1; i < readings.length; i++) expect(readings[i]).toBeGreaterThanOrEqual(readings[i - 1]!);
    });
  });
}

describeClockContract('systemClock', () => ({ clock: systemClock, tick: () => undefined }));
describeClockContract('SimulatedClock', () => {
  const clock = new SimulatedClock();
  return { clock, tick: () => clock.set(clock.now() + 7) };
});

describe('Class: SimulatedClock', () => {
  it('refuses to go backwards, naming both times', () => {
    // Prepare
    const clock = new SimulatedClock(Date.UTC(2026, 0, 2));

    // Act
    const act = () => clock.set(Date.UTC(2026, 0, 1));

    // Assess
    expect(act).toThrow('cannot move the simulated clock from 2026-01-02T00:00:00.000Z back to 1767225600000: time only moves forward');
  });
});
