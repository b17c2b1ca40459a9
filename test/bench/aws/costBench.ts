/**
 * The AWS section of `npm run bench`: what a message costs on AWS, measured on emulated AWS
 * (DynamoDB Local + moto started for the run, or `AWS_ENDPOINT_URL`) through the real
 * dispatcher and relay handlers. See docs/cost.md.
 *
 * Environment: BENCH_AWS=0 skips it; BENCH_AWS_MESSAGES (default 2000) sizes the
 * cold-address workload; BENCH_VERBOSE=1 shows the handlers' warnings.
 *
 *     npx tsx test/bench/aws/costBench.ts
 */
import type { LocalAwsEndpoints } from '../../../runtime-lambda/aws/LocalAws';
import { runColdCounter } from './coldCounter';
import { runFraud } from './fraud';
import { reportLines } from './report';

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
