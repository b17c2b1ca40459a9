import type { DeadLetter } from '../../runtime-lambda/core/AddressState';
import { LocalRuntime } from '../../runtime-lambda/local/LocalRuntime';
import { SimulatedClock } from '../../runtime-lambda/local/SimulatedClock';
import type { FraudConfig } from './config';
import { fraudFunctions } from './functions';
import { type FraudAlert, FraudIngresses, FraudTypes, MessageTypes, typedValueOf, valueOf } from './messages';
import type { SampleRecord } from './sample';

/** Progress of a {@link runFraudDetection}, reported every `progressEvery` transactions. */
export interface FraudProgress {
  readonly simulatedTimeMs: number;
  readonly transactions: number;
  readonly reports: number;
  readonly alerts: number;
}

/** Options of {@link runFraudDetection}. */
export interface RunFraudDetectionOpts {
  readonly records: readonly SampleRecord[];
  readonly config: FraudConfig;
  readonly onAlert?: (alert: FraudAlert) => void;
  readonly onProgress?: (progress: FraudProgress) => void;
  /** @default 100 */
  readonly progressEvery?: number;
}

/** What a {@link runFraudDetection} did. */
export interface FraudRun {
  readonly transactions: number;
  readonly reports: number;
  readonly alerts: readonly FraudAlert[];
  readonly deadLetters: readonly DeadLetter[];
  readonly runtime: LocalRuntime;
}

/**
 * A {@link LocalRuntime} running the fraud-detection application on a simulated clock
 * starting at `startMs`: ingresses `transactions` (→ `fraud/transaction-manager`, key =
 * transaction id) and `confirmed-fraud` (→ `fraud/count`, key = account id), and the
 * `fraud/alerts` egress delivered to `onAlert`.
 */
export function fraudDetectionRuntime(config: FraudConfig, startMs: number, onAlert: (alert: FraudAlert) => void): LocalRuntime {
  return new LocalRuntime({
    functions: fraudFunctions(config).resolver(),
    ingresses: [
      { name: FraudIngresses.transactions, target: FraudTypes.transactionManager },
      { name: FraudIngresses.confirmedFraud, target: FraudTypes.count },
    ],
    egresses: { [FraudTypes.alerts]: (record) => onAlert(valueOf(MessageTypes.fraudAlert, record.argument)) },
    clock: new SimulatedClock(startMs),
  });
}

/**
 * Feeds `records` in time order into a fresh {@link fraudDetectionRuntime}: moves the clock
 * to each record's time (firing the 30-day timers due by then), ingests the record, and at
 * the end processes everything still in flight.
 *
 * @example
 * const run = await runFraudDetection({ records: generateSample().records, config: fraudConfig({ scoringUrl }) });
 */
export async function runFraudDetection(opts: RunFraudDetectionOpts): Promise<FraudRun> {
  const alerts: FraudAlert[] = [];
  const startMs = opts.records[0]?.timeMs ?? 0;
  const runtime = fraudDetectionRuntime(opts.config, startMs, (alert) => {
    alerts.push(alert);
    opts.onAlert?.(alert);
  });
  const every = opts.progressEvery ?? 100;
  let transactions = 0;
  let reports = 0;
  for (const record of opts.records) {
    await runtime.advanceTo(record.timeMs);
    if (record.kind === 'transaction') {
      runtime.ingest(FraudIngresses.transactions, record.transaction.transactionId, typedValueOf(MessageTypes.transaction, record.transaction));
      transactions++;
      if (transactions % every === 0) {
        await runtime.runUntilIdle();
        opts.onProgress?.({ simulatedTimeMs: record.timeMs, transactions, reports, alerts: alerts.length });
      }
    } else {
      runtime.ingest(FraudIngresses.confirmedFraud, record.report.accountId, typedValueOf(MessageTypes.confirmedFraud, record.report));
      reports++;
    }
  }
  await runtime.runUntilIdle();
  return { transactions, reports, alerts, deadLetters: runtime.deadLetters, runtime };
}
