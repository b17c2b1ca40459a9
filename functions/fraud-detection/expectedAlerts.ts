import { DEFAULT_ALERT_THRESHOLD, isNight, scoreFeatures } from './model';
import { DEFAULT_FRAUD_WINDOW_MS } from './config';
import { merchantScoreOf } from './merchantScore';
import { type FraudAlert, fraudAlert } from './messages';
import type { SampleRecord } from './sample';

/** Options of {@link expectedAlerts}. */
export interface ExpectedAlertsOpts {
  /** The merchant score the functions will see. @default - the scoring service's {@link merchantScoreOf} */
  readonly merchantScore?: (merchantId: string) => number;
  /** @default 0.8 */
  readonly alertThreshold?: number;
  /** @default 30 days */
  readonly fraudWindowMs?: number;
}

/**
 * The reference computation of the alerts a sample must raise, without the runtime: a plain
 * loop over the records in time order. A report at time r counts for a transaction at time t
 * when r < t < r + window (the report's timer, due at r + window, has fired by then when
 * r + window ≤ t). The e2e test compares the application's alerts with these.
 *
 * @example
 * const alerts = expectedAlerts(generateSample().records);
 */
export function expectedAlerts(records: readonly SampleRecord[], opts: ExpectedAlertsOpts = {}): FraudAlert[] {
  const merchantScore = opts.merchantScore ?? merchantScoreOf;
  const threshold = opts.alertThreshold ?? DEFAULT_ALERT_THRESHOLD;
  const windowMs = opts.fraudWindowMs ?? DEFAULT_FRAUD_WINDOW_MS;
  const reports = new Map<string, number[]>();
  const alerts: FraudAlert[] = [];
  for (const record of records) {
    if (record.kind === 'confirmed-fraud') {
      const times = reports.get(record.report.accountId) ?? [];
      times.push(record.timeMs);
      reports.set(record.report.accountId, times);
      continue;
    }
    const tx = record.transaction;
    const fraudCount = (reports.get(tx.accountId) ?? []).filter((r) => r + windowMs > record.timeMs).length;
    const features = { fraudCount, merchantScore: merchantScore(tx.merchantId), amount: tx.amount, night: isNight(tx.timeMs) };
    const score = scoreFeatures(features);
    if (score > threshold) {
      alerts.push(fraudAlert(tx, score, features));
    }
  }
  return alerts;
}

/** The number of an account's reports that count at `timeMs`, by the same rule. */
export function fraudCountAt(records: readonly SampleRecord[], accountId: string, timeMs: number, windowMs = DEFAULT_FRAUD_WINDOW_MS): number {
  return records.filter(
    (r) => r.kind === 'confirmed-fraud' && r.report.accountId === accountId && r.timeMs < timeMs && r.timeMs + windowMs > timeMs,
  ).length;
}
