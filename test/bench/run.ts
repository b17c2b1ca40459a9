/**
 * `npm run bench`: messages per second of the embedded runtime on a counter workload, for
 * 1, 100 and 10,000 addresses, printed as a table; then what a message costs on AWS, on
 * emulated AWS through the real handlers (test/bench/aws/costBench.ts, docs/cost.md;
 * BENCH_AWS=0 skips it). Every run checks its own result (the counters add up to the
 * messages sent, the fraud alerts are the reference's), so a fast wrong answer cannot pass
 * for a figure.
 */
import { runCounterWorkload } from './counterWorkload';

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 400_000);
/** Records taken per log partition per dispatch: Kinesis allows up to 10,000 per Lambda batch. */
const BATCH_SIZE = Number(process.env.BENCH_BATCH_SIZE ?? 10_000);

async function main(): Promise<void> {
  console.error(`counter workload: ${MESSAGES} messages per run, batches of ${BATCH_SIZE} records per partition`);
  await runCounterWorkload(100, 20_000, BATCH_SIZE); // warm-up: JIT, first allocations
  // msg per CPU-second counts every thread of the process (GC helpers too) and moves less
  // than msg/s when other processes share the machine.
  const rows: string[][] = [['addresses', 'messages', 'msg/s', 'msg per CPU-second', 'messages per invocation', 'check']];
  for (const addresses of [1, 100, 10_000]) {
    const run = await runCounterWorkload(addresses, MESSAGES, BATCH_SIZE);
    if (run.total !== run.messages) throw new Error(`lost or doubled increments: counters add up to ${run.total}, sent ${run.messages}`);
    rows.push([
      String(addresses),
      String(run.messages),
      String(Math.round(run.messages / run.seconds)),
      String(Math.round(run.messages / run.cpuSeconds)),
      (run.messages / run.invocations).toFixed(1),
      'counts exact',
    ]);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  for (const row of rows) console.log(row.map((cell, c) => cell.padStart(widths[c]!)).join('  '));
  // Loaded only now: the handlers' X-Ray tracer (cls-hooked) installs a process-wide async
  // hook on import, which slows every promise of the embedded runtime (about 2.4x at 10,000
  // addresses) though the local runtime never traces.
  if (process.env.BENCH_AWS !== '0') await (await import('./aws/costBench')).runAwsCostBench();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
