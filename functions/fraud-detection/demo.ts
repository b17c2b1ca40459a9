/**
 * The fraud-detection demo (`npm start`): runs the bundled sample through the application on
 * the local runtime with a simulated clock, against a local merchant scoring service.
 *
 * stdout: one JSON line per alert, then exactly one line `N transactions, M alerts`.
 * stderr: progress every 100 transactions, and the reason of any failure.
 * Exit code: 0, or 1 on a dead letter or any failure.
 *
 * Environment: FRAUD_SCORING_URL (use this service instead of starting the local one),
 * FRAUD_SCORING_TIMEOUT_MS, FRAUD_ALERT_THRESHOLD.
 */
import { runFraudDetection } from './app';
import { fraudConfig } from './config';
import { generateSample } from './sample';
import { type ScoringServer, startScoringServer } from './scoringServer';

async function main(): Promise<number> {
  const startedAt = Date.now();
  let server: ScoringServer | undefined;
  if (!process.env.FRAUD_SCORING_URL) server = await startScoringServer();
  try {
    const config = fraudConfig(server ? { scoringUrl: server.url } : {});
    const sample = generateSample();
    process.stderr.write(`scoring service ${config.scoringUrl}, ${sample.records.length} records (seed ${sample.seed})\n`);
    const run = await runFraudDetection({
      records: sample.records,
      config,
      onAlert: (alert) => process.stdout.write(`${JSON.stringify(alert)}\n`),
      onProgress: (p) =>
        process.stderr.write(
          `${new Date(p.simulatedTimeMs).toISOString().slice(0, 10)}: ${p.transactions} transactions, ${p.reports} fraud reports, ${p.alerts} alerts\n`,
        ),
    });
    if (run.deadLetters.length > 0) {
      for (const dl of run.deadLetters) process.stderr.write(`dead letter ${dl.id} for ${dl.address}: ${dl.reason}\n`);
      process.stderr.write(`failed: ${run.deadLetters.length} dead letter(s)\n`);
      return 1;
    }
    const s = run.runtime.stats;
    process.stderr.write(
      `done in ${Date.now() - startedAt} ms: ${s.applied} messages applied, ${s.timersFired} timers fired` +
        (server ? `, ${server.requests()} scoring requests\n` : '\n'),
    );
    process.stdout.write(`${run.transactions} transactions, ${run.alerts.length} alerts\n`);
    return 0;
  } finally {
    await server?.close();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
