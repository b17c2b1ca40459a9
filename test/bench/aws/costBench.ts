/**
 * The AWS section of `npm run bench`: what a message costs on AWS, measured on emulated AWS
 * (DynamoDB Local + moto started for the run, or `AWS_ENDPOINT_URL`) through the real
 * dispatcher and relay handlers. See docs/cost.md.
 *
 * Workloads: cold-address counter, the fraud demo, and fan-in (one receiver, as many
 * one-shot senders as messages, against one sender).
 *
 * Environment: BENCH_AWS=0 skips it; BENCH_AWS_MESSAGES (default 2000) sizes the
 * cold-address workload (the fan-in workload takes at most 1000 of it); BENCH_VERBOSE=1
 * shows the handlers' warnings.
 *
 *     npx tsx test/bench/aws/costBench.ts
 */
import type { LocalAwsEndpoints } from '../../../runtime-lambda/aws/LocalAws';
import { runColdCounter } from './coldCounter';
import { runFanIn } from './fanIn';
import { runFraud } from './fraud';
import { dollarsPerMillion, reportLines } from './report';

/**
 * The fan-in lines: what a message costs at a receiver that hears from as many one-shot
 * senders as it gets messages, its write units against the same receiver fed by one sender
 * (one message per commit, and 100 per commit), and the senders' own cost; last,
 * `fan-in cost: $X per million messages` (at the receiver).
 */
async function fanInLines(endpoints: LocalAwsEndpoints, messages: number): Promise<string[]> {
  const fanIn = await runFanIn(endpoints, messages, 'fan-in');
  const one = await runFanIn(endpoints, messages, 'one-sender');
  const batched = await runFanIn(endpoints, messages, 'one-sender-batched');
  const wru = (run: typeof fanIn) => run.receiver.meter.units.dynamoWriteUnits / run.receiver.messages;
  return reportLines(fanIn.receiver, 'fan-in cost', [
    `  write units per message at the receiver: ${wru(fanIn).toFixed(3)} from ${messages} senders, ${wru(one).toFixed(3)} from one sender at one message per commit ` +
      `(ratio ${(wru(fanIn) / wru(one)).toFixed(2)}), ${wru(batched).toFixed(3)} from one sender at 100 per commit (one inbox entry per commit: batching, not fan-in, makes the difference)`,
    `  the senders' side, apart: $${dollarsPerMillion(fanIn.senders).toFixed(2)} per million (a one-shot sender's read, and one transaction: its tombstone, the inbox marker, the outbox item with the 1 KB message)`,
  ]);
}

/** Runs both workloads and prints their lines with `out`; throws when a check fails. */
export async function runAwsCostBench(out: (line: string) => void = console.log, log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const messages = Number(process.env.BENCH_AWS_MESSAGES ?? 2000);
  if (!Number.isInteger(messages) || messages < 1) throw new Error(`BENCH_AWS_MESSAGES must be a positive integer, got ${process.env.BENCH_AWS_MESSAGES}`);
  const { startEmulators } = await import('../../support/emulators');
  const emulators = await startEmulators();
  const e = emulators.endpoints;
  const endpoints: LocalAwsEndpoints = { dynamodb: e.dynamodb, aws: e.aws, region: e.region, credentials: { accessKeyId: e.accessKeyId, secretAccessKey: e.secretAccessKey } };
  try {
    log(`AWS cost: ${emulators.started.length > 0 ? `${emulators.started.map((s) => s.name).join(' + ')} started in ${emulators.startupMs} ms` : `endpoint ${endpoints.dynamodb}`}`);
    out('');
    out('AWS cost per message (emulated AWS, real dispatcher + relay handlers, embedded functions; us-east-1 on-demand prices of runtime-lambda/aws/CostMeter.ts, docs/cost.md)');
    for (const line of reportLines(await runColdCounter(endpoints, messages))) out(line);
    for (const line of reportLines(await runFraud(endpoints))) out(line);
    for (const line of await fanInLines(endpoints, Math.min(messages, 1000))) out(line);
  } finally {
    await emulators.stop();
  }
}

if (require.main === module) {
  runAwsCostBench().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
