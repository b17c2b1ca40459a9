import { DEFAULT_ALERT_THRESHOLD } from './model';

/** Configuration of the fraud-detection functions. */
export interface FraudConfig {
  /** Base URL of the merchant scoring service, e.g. `http://127.0.0.1:8080`. */
  readonly scoringUrl: string;
  /** How long Merchant Scorer waits for the service before using the fallback. @default 1000 ms */
  readonly scoringTimeoutMs: number;
  /** The merchant score used when the service fails, answers garbage or times out. @default 0.5 (unknown merchant) */
  readonly fallbackMerchantScore: number;
  /** Alert when the model's score is above this. @default 0.8 */
  readonly alertThreshold: number;
  /** How long a confirmed fraud report counts. @default 30 days */
  readonly fraudWindowMs: number;
  /** Transaction Manager's state expires this long after its last write. @default 1 day */
  readonly transactionStateTtlMs: number;
}

export const DAY_MS = 24 * 3600 * 1000;

export const DEFAULT_SCORING_TIMEOUT_MS = 1000;
export const DEFAULT_FALLBACK_MERCHANT_SCORE = 0.5;
export const DEFAULT_FRAUD_WINDOW_MS = 30 * DAY_MS;

/**
 * A complete configuration from `opts`, then the environment (`FRAUD_SCORING_URL`,
 * `FRAUD_SCORING_TIMEOUT_MS`, `FRAUD_ALERT_THRESHOLD`), then the defaults.
 *
 * @throws TypeError naming the setting when the scoring URL is missing or a number is invalid.
 */
export function fraudConfig(opts: Partial<FraudConfig> = {}, env: NodeJS.ProcessEnv = process.env): FraudConfig {
  const scoringUrl = opts.scoringUrl ?? env.FRAUD_SCORING_URL;
  if (!scoringUrl) {
    throw new TypeError('no scoring service URL: pass scoringUrl or set FRAUD_SCORING_URL, e.g. http://127.0.0.1:8080');
  }
  const config: FraudConfig = {
    scoringUrl: scoringUrl.replace(/\/+$/, ''),
    scoringTimeoutMs: opts.scoringTimeoutMs ?? numberFrom(env, 'FRAUD_SCORING_TIMEOUT_MS') ?? DEFAULT_SCORING_TIMEOUT_MS,
    fallbackMerchantScore: opts.fallbackMerchantScore ?? DEFAULT_FALLBACK_MERCHANT_SCORE,
    alertThreshold: opts.alertThreshold ?? numberFrom(env, 'FRAUD_ALERT_THRESHOLD') ?? DEFAULT_ALERT_THRESHOLD,
    fraudWindowMs: opts.fraudWindowMs ?? DEFAULT_FRAUD_WINDOW_MS,
    transactionStateTtlMs: opts.transactionStateTtlMs ?? DAY_MS,
  };
  if (!(config.scoringTimeoutMs > 0)) throw new TypeError(`scoringTimeoutMs must be > 0, got ${config.scoringTimeoutMs}`);
  if (!(config.fallbackMerchantScore >= 0 && config.fallbackMerchantScore <= 1)) {
    throw new TypeError(`fallbackMerchantScore must be in [0, 1], got ${config.fallbackMerchantScore}`);
  }
  if (!(config.alertThreshold > 0 && config.alertThreshold < 1)) {
    throw new TypeError(`alertThreshold must be in (0, 1), got ${config.alertThreshold}`);
  }
  return config;
}

function numberFrom(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const text = env[name];
  if (text === undefined || text === '') return undefined;
  const value = Number(text);
  if (!Number.isFinite(value)) throw new TypeError(`${name} must be a number, got ${JSON.stringify(text)}`);
  return value;
}
