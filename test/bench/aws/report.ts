import { type CostMeter, US_EAST_1_PRICES } from '../../../runtime-lambda/aws/CostMeter';
import type { LambdaTally, OneItemEstimate } from './harness';

/** What a workload measured and checked. */
export interface WorkloadResult {
  readonly title: string;
  /** Messages the per-message figures divide by. */
  readonly messages: number;
  readonly seconds: number;
  /** What the run checked, for the output (a failed check throws instead). */
  readonly check: string;
  readonly meter: CostMeter;
  readonly lambdas: LambdaTally;
  readonly oneItem: OneItemEstimate;
  /** For an application: its business unit (transactions) besides messages. */
  readonly perTransaction?: { readonly transactions: number; readonly note: string };
}

const fmt = (n: number, digits = 3) => (n === 0 ? '0' : n >= 100 ? n.toFixed(0) : n.toFixed(digits));
const perMillion = (dollars: number, per: number) => (dollars / per) * 1e6;

/** Dollars per million messages at the us-east-1 prices. */
export function dollarsPerMillion(result: WorkloadResult): number {
  return perMillion(result.meter.dollars(), result.messages);
}

/**
 * The lines of one workload: calls and billed units per message, what dominates, the
 * estimate of the one-item commit (DESIGN.md lever 1), and exactly one
 * `<label>: $X per million messages` line (`cost: ...` by default).
 */
export function reportLines(result: WorkloadResult, label = 'cost', extra: readonly string[] = []): string[] {
  const { meter, messages } = result;
  const u = meter.units;
  const per = (n: number) => n / messages;
  const lines: string[] = [];
  lines.push(`${result.title}: ${result.seconds.toFixed(1)} s, ${result.check}`);
  const calls = [...meter.calls.entries()].sort((a, b) => b[1] - a[1]);
  lines.push(`  calls per message: ${calls.map(([name, n]) => `${name} ${fmt(per(n), 4)}`).join(', ')}`);
  lines.push(
    `  units per message: DynamoDB ${fmt(per(u.dynamoWriteUnits))} WRU + ${fmt(per(u.dynamoReadUnits))} RRU, ` +
      `Kinesis ${fmt(per(u.kinesisPutUnits))} put units, ` +
      `Lambda ${fmt(per(u.lambdaRequests), 4)} requests + ${per(u.lambdaGbSeconds).toExponential(2)} GB-s, ` +
      `SQS ${fmt(per(u.sqsRequests), 4)} requests, Scheduler ${fmt(per(u.schedulerInvocations), 4)} invocations`,
  );
  const l = result.lambdas;
  const avg = (t: { invocations: number; ms: number }) => (t.invocations === 0 ? '-' : `${(t.ms / t.invocations).toFixed(1)} ms`);
  lines.push(
    `  Lambda: dispatcher ${l.dispatcher.invocations} invocations (avg ${avg(l.dispatcher)}), relay ${l.relay.invocations} (avg ${avg(l.relay)}); ` +
      'durations on a shared 2-core machine against emulators: an upper bound',
  );
  const total = meter.dollars();
  const parts = meter.breakdown().filter(([, d]) => d > 0);
  lines.push(
    `  dominates: ${parts.map(([name, d]) => `${name} ${((d / total) * 100).toFixed(0)}% ($${perMillion(d, messages).toFixed(3)}/M)`).join(', ')}`,
  );
  if (result.oneItem.transactions > 0) {
    const o = result.oneItem;
    const saved = (o.transactionalWriteUnits - o.oneItemWriteUnits) * US_EAST_1_PRICES.dynamoWriteUnit;
    lines.push(
      `  effects in the state item (not built): ${o.transactions} transactions bill ${o.transactionalWriteUnits} WRU; merged (one PutItem, or the merged item with the inbox markers) they would bill ${o.oneItemWriteUnits} ` +
        `(-$${perMillion(saved, messages).toFixed(2)}/M, to $${perMillion(total - saved, messages).toFixed(2)}/M)`,
    );
  }
  if (result.perTransaction) {
    lines.push(`  = $${perMillion(total, result.perTransaction.transactions).toFixed(2)} per million transactions (${fmt(messages / result.perTransaction.transactions, 2)} messages each)`);
  }
  lines.push(...extra);
  lines.push(`${label}: $${dollarsPerMillion(result).toFixed(2)} per million messages`);
  return lines;
}
