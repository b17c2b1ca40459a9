import type { FeatureVector } from './messages';

/**
 * The weights of the fraud model, a logistic regression:
 *
 *   z     = bias + fraudCount·w.fraudCount + (1 − merchantScore)·w.merchantRisk
 *                + ln(1 + amount)·w.logAmount + night·w.night
 *   score = 1 / (1 + e^(−z))
 *
 * Chosen so that no transaction of the sample (amount ≤ 5000, merchant score ≥ 0.05) can
 * exceed the default threshold without at least one confirmed fraud report in the window.
 */
export const MODEL_WEIGHTS = Object.freeze({
  bias: -9,
  fraudCount: 2,
  merchantRisk: 3,
  logAmount: 0.6,
  night: 1.5,
});

/** Scores above this raise an alert. */
export const DEFAULT_ALERT_THRESHOLD = 0.8;

/** Hours (UTC, inclusive start, exclusive end) that count as night-time. */
const NIGHT_START_HOUR = 0;
const NIGHT_END_HOUR = 6;

/**
 * The fraud probability of a transaction, in (0, 1). Pure and deterministic.
 *
 * @example
 * scoreFeatures({ fraudCount: 0, merchantScore: 0.9, amount: 20, night: false }); // ≈ 0.0010
 */
export function scoreFeatures(features: FeatureVector, weights = MODEL_WEIGHTS): number {
  const z =
    weights.bias +
    weights.fraudCount * features.fraudCount +
    weights.merchantRisk * (1 - features.merchantScore) +
    weights.logAmount * Math.log1p(features.amount) +
    weights.night * (features.night ? 1 : 0);
  return 1 / (1 + Math.exp(-z));
}

/** Whether `timeMs` falls between 00:00 and 05:59 UTC. */
export function isNight(timeMs: number): boolean {
  const hour = new Date(timeMs).getUTCHours();
  return hour >= NIGHT_START_HOUR && hour < NIGHT_END_HOUR;
}
