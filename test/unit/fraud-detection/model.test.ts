import { DEFAULT_ALERT_THRESHOLD, MODEL_WEIGHTS, isNight, scoreFeatures } from '../../../functions/fraud-detection/model';

describe('Function: scoreFeatures', () => {
  it('is the logistic of the documented weighted sum', () => {
    // Prepare
    const features = { fraudCount: 2, merchantScore: 0.25, amount: 999, night: true };
    const z = -9 + 2 * 2 + 3 * 0.75 + 0.6 * Math.log(1000) + 1.5;

    // Act
    const score = scoreFeatures(features);

    // Assess
    expect(score).toBe(1 / (1 + Math.exp(-z)));
    expect(MODEL_WEIGHTS).toEqual({ bias: -9, fraudCount: 2, merchantRisk: 3, logAmount: 0.6, night: 1.5 });
  });

  it('scores an everyday daytime purchase far below the threshold', () => {
    // Prepare
    const features = { fraudCount: 0, merchantScore: 0.9, amount: 20, night: false };

    // Act
    const score = scoreFeatures(features);

    // Assess
    expect(score).toBeCloseTo(0.001034, 6);
  });

  it('never reaches the threshold without a fraud report, for any sample transaction (amount ≤ 5000, merchant ≥ 0.05)', () => {
    // Prepare
    const worst = { fraudCount: 0, merchantScore: 0.05, amount: 5000, night: true };

    // Act
    const score = scoreFeatures(worst);

    // Assess
    expect(score).toBeLessThan(DEFAULT_ALERT_THRESHOLD);
    expect(scoreFeatures({ ...worst, fraudCount: 1 })).toBeGreaterThan(DEFAULT_ALERT_THRESHOLD);
  });

  it('rises with every input that signals fraud', () => {
    // Prepare
    const base = { fraudCount: 1, merchantScore: 0.5, amount: 100, night: false };

    // Act
    const baseScore = scoreFeatures(base);

    // Assess
    expect(scoreFeatures({ ...base, fraudCount: 2 })).toBeGreaterThan(baseScore);
    expect(scoreFeatures({ ...base, merchantScore: 0.1 })).toBeGreaterThan(baseScore);
    expect(scoreFeatures({ ...base, amount: 1000 })).toBeGreaterThan(baseScore);
    expect(scoreFeatures({ ...base, night: true })).toBeGreaterThan(baseScore);
  });
});

describe('Function: isNight', () => {
  it('is true from 00:00 to 05:59:59 UTC only', () => {
    // Prepare
    const at = (time: string) => Date.parse(`2026-10-01T${time}Z`);

    // Act
    const flags = ['00:00:00', '05:59:59', '06:00:00', '12:00:00', '23:59:59'].map((t) => isNight(at(t)));

    // Assess
    expect(flags).toEqual([true, true, false, false, false]);
  });
});
