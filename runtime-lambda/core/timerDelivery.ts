/**
 * When a delayed message is delivered, given when it is due and when the relay hands it
 * on. One model for the AWS paths and for the embedded runtime, so a timer fires at the
 * same simulated time locally as it would on AWS (at the earliest AWS time: Scheduler may
 * add up to 59 seconds more, SQS a little).
 *
 * - **Short delays** (time left at most `shortDelayMaxMs`) go through the SQS delay queue,
 *   whose `DelaySeconds` is whole seconds: delivery at the relay time plus the time left
 *   rounded up to a whole second.
 * - **Long delays** go through EventBridge Scheduler, which runs a one-time schedule within
 *   the minute it names: delivery at the due time rounded up to a whole minute, and never
 *   before the minute after the relay.
 *
 * Neither path delivers early.
 */

/** Scheduler runs a one-time schedule within the minute it names. */
export const SCHEDULER_PRECISION_MS = 60_000;
/** SQS delays are whole seconds. */
export const SQS_PRECISION_MS = 1000;
/** Time left up to which a timer takes the SQS path: SQS' 15-minute maximum delay. */
export const DEFAULT_SHORT_DELAY_MAX_MS = 15 * 60_000;

/** Whether a timer due at `dueAtMs`, relayed at `relayedAtMs`, takes the short (SQS) path. */
export function takesShortDelayPath(dueAtMs: number, relayedAtMs: number, shortDelayMaxMs: number): boolean {
  return dueAtMs - relayedAtMs <= shortDelayMaxMs;
}

/**
 * The time Scheduler runs the schedule of a timer due at `dueAtMs`, relayed at
 * `relayedAtMs`: the due time rounded up to a whole minute, at least the minute after the
 * relay (a one-time schedule in the past never runs).
 *
 * @example
 * schedulerFireTimeMs(Date.parse('2026-01-01T10:00:20Z'), Date.parse('2026-01-01T09:00:00Z')); // 10:01:00
 */
export function schedulerFireTimeMs(dueAtMs: number, relayedAtMs: number): number {
  return Math.ceil(Math.max(dueAtMs, relayedAtMs + 1) / SCHEDULER_PRECISION_MS) * SCHEDULER_PRECISION_MS;
}

/**
 * The whole seconds an SQS delay must last for `remainingMs` to pass: 0 when nothing is
 * left, otherwise rounded up (never early). A caller caps it at SQS' 900 seconds and sends
 * the message again for the rest.
 *
 * @example
 * sqsDelaySeconds(0); // 0
 * sqsDelaySeconds(400); // 1
 * sqsDelaySeconds(1_500); // 2
 */
export function sqsDelaySeconds(remainingMs: number): number {
  return remainingMs <= 0 ? 0 : Math.ceil(remainingMs / SQS_PRECISION_MS);
}

/**
 * When a timer due at `dueAtMs`, relayed at `relayedAtMs`, is delivered on AWS at the
 * earliest: through SQS (whole seconds after the relay) or Scheduler (whole minutes).
 *
 * @example
 * const relayed = Date.parse('2026-01-01T09:00:00Z');
 * deliveryTimeMs(relayed + 1_500, relayed, DEFAULT_SHORT_DELAY_MAX_MS); // relayed + 2 s (SQS)
 * deliveryTimeMs(relayed + 30 * 60_000 + 20_000, relayed, DEFAULT_SHORT_DELAY_MAX_MS); // 09:31:00 (Scheduler)
 */
export function deliveryTimeMs(dueAtMs: number, relayedAtMs: number, shortDelayMaxMs: number): number {
  if (takesShortDelayPath(dueAtMs, relayedAtMs, shortDelayMaxMs)) return relayedAtMs + sqsDelaySeconds(dueAtMs - relayedAtMs) * SQS_PRECISION_MS;
  return schedulerFireTimeMs(dueAtMs, relayedAtMs);
}
