/**
 * `npm run bench`, in sections:
 * - `counter`: messages per second of the embedded runtime on a counter workload, for 1, 100
 *   and 10,000 addresses, printed as a table;
 * - `dev-throughput`: `statefun dev --module` with an official-JS-SDK counter over HTTP, fed
 *   through the playground ingress (test/bench/devThroughput.ts, docs/local-dev.md);
 * - `aws`: what a message costs on AWS, on emulated AWS through the real handlers
 *   (test/bench/aws/costBench.ts, docs/cost.md; BENCH_AWS=0 skips it).
 *
 * `npm run bench -- --only dev-throughput` (or a comma-separated list) runs only those. Every
 * run checks its own result (the counters add up to the messages sent, the fraud alerts are
 * the reference's), so a fast wrong answer cannot pass for a figure.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { runCounterWorkload } from './counterWorkload';
import { runDevThroughputSection } from './devThroughput';

const SECTIONS = ['counter', 'dev-throughput', 'aws'] as const;
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 400_000);
/** Messages per dev-throughput run: each is one HTTP request to the ingress. */
const DEV_MESSAGES = Number(process.env.BENCH_DEV_MESSAGES ?? 30_000);
/** Records taken per log partition per dispatch: Kinesis allows up to 10,000 per Lambda batch. */
const BATCH_SIZE = Number(process.env.BENCH_BATCH_SIZE ?? 10_000);

async function main(): Promise<void> {
  const { only } = new Command('bench')
    .addOption(new Option('--only <sections>', `run only these sections, comma-separated: ${SECTIONS.join(', ')}`).argParser(parseSections))
    .parse()
    .opts<{ only?: readonly string[] }>();
  const runs = (section: (typeof SECTIONS)[number]) => only === undefined || only.includes(section);
  if (runs('counter')) await counterSection();
  if (runs('dev-throughput')) await runDevThroughputSection(DEV_MESSAGES);
  // Loaded only now: the handlers' X-Ray tracer (cls-hooked) installs a process-wide async
  // hook on import, which slows every promise of the embedded runtime (about 2.4x at 10,000
  // addresses) though the local runtime never traces.
  if (runs('aws') && process.env.BENCH_AWS !== '0') await (await import('./aws/costBench')).runAwsCostBench();
}

function parseSections(text: string): readonly string[] {
  const names = text.split(',').map((name) => name.trim());
  const unknown = names.filter((name) => !(SECTIONS as readonly string[]).includes(name));
  if (unknown.length > 0) throw new InvalidArgumentError(`unknown section ${unknown.map((n) => JSON.stringify(n)).join(', ')}: the sections are ${SECTIONS.join(', ')}`);
  return names;
}

async function counterSection(): Promise<void> {
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
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
