import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { drainQueue } from '../../support/drainQueue';
import { Address } from '../../../runtime-lambda/core/Address';
import { SCHEDULER_PRECISION_MS } from '../../../runtime-lambda/core/timerDelivery';
import type { FunctionResolver } from '../../../runtime-lambda/core/ports/FunctionEndpoint';
import type { LocalAwsEndpoints } from '../../../runtime-lambda/aws/LocalAws';
import { SimulatedClock } from '../../../runtime-lambda/local/SimulatedClock';
import { DEFAULT_FRAUD_WINDOW_MS, fraudConfig } from '../../../functions/fraud-detection/config';
import { expectedAlerts } from '../../../functions/fraud-detection/expectedAlerts';
import { fraudFunctions } from '../../../functions/fraud-detection/functions';
import { type FraudAlert, FraudIngresses, FraudTypes, MessageTypes } from '../../../functions/fraud-detection/messages';
import { type SampleRecord, generateSample } from '../../../functions/fraud-detection/sample';
import { startScoringServer } from '../../../functions/fraud-detection/scoringServer';
import type { FiredSchedule } from '../../support/schedulerTimeline';
import { type MeteredAppOptions, startMeteredApp } from './harness';
import type { WorkloadResult } from './report';

/** Records put together, then processed to the end before the next round. */
export interface Round {
  readonly records: readonly SampleRecord[];
  /** The clock while the round runs: its report's time if it has one (so the 30-day timer is due exactly 30 days after it), else its first record's. */
  readonly clockMs: number;
}

/**
 * Cuts the time-ordered sample into rounds whose records may run concurrently on AWS and
 * still give the sample's exact answer (each alert depends on which reports of its account
 * came before it, and which of their 30-day windows have closed):
 * - at most one report per round (the round's clock is its time);
 * - no account with a report and a transaction in one round;
 * - no report's window closing inside a round (its timer fires between rounds).
 */
export function roundsOf(records: readonly SampleRecord[], windowMs = DEFAULT_FRAUD_WINDOW_MS): Round[] {
  const rounds: Round[] = [];
  let current: SampleRecord[] = [];
  let report: SampleRecord | undefined;
  const accounts = new Set<string>();
  const closes: number[] = [];
  const accountOf = (r: SampleRecord) => (r.kind === 'transaction' ? r.transaction.accountId : r.report.accountId);
  const flush = () => {
    if (current.length === 0) return;
    rounds.push({ records: current, clockMs: (report ?? current[0]!).timeMs });
    current = [];
    report = undefined;
    accounts.clear();
  };
  for (const record of records) {
    const account = accountOf(record);
    const start = current[0]?.timeMs;
    const windowCloses = start !== undefined && closes.some((t) => t > start && t <= record.timeMs);
    const conflict =
      record.kind === 'confirmed-fraud'
        ? report !== undefined || accounts.has(account)
        : report !== undefined && accountOf(report) === account;
    if (windowCloses || conflict) flush();
    current.push(record);
    accounts.add(account);
    if (record.kind === 'confirmed-fraud') {
      report = record;
      closes.push(record.timeMs + windowMs);
    }
  }
  flush();
  return rounds;
}

/** Options of {@link runFraud}. */
export interface FraudRunOptions {
  /** @default - the bundled sample, `generateSample().records` */
  readonly records?: readonly SampleRecord[];
  /** The delay path: see {@link MeteredAppOptions.delays}. @default 'in-process' */
  readonly delays?: MeteredAppOptions['delays'];
}

/** What {@link runFraud} measured and saw. */
export interface FraudRunResult extends WorkloadResult {
  /** The alerts on the egress queue, once each. */
  readonly alerts: readonly FraudAlert[];
  /** With `delays: 'scheduler'`: the schedules that ran, in the order they ran. */
  readonly schedules?: readonly FiredSchedule[];
}

/**
 * The fraud-detection demo on emulated AWS: the four functions embedded in the dispatcher,
 * the bundled sample put on the two ingress streams as the deployed stack takes it (JSON of
 * the Transaction / ConfirmedFraud, tagged by the ingress' value type), alerts on the FIFO
 * SQS egress, the 30-day timers through the in-process delay scheduler or real schedules on
 * the emulator's Scheduler (`options.delays`), on a simulated clock (every timer counted as
 * one would-be EventBridge Scheduler invocation, and all of them fired, the last ones after
 * the sample ends). Checks the alerts equal
 * `expectedAlerts(sample)` and every Fraud Count is back at zero.
 */
export async function runFraud(endpoints: LocalAwsEndpoints, options: FraudRunOptions = {}): Promise<FraudRunResult> {
  const records = options.records ?? generateSample().records;
  const rounds = roundsOf(records);
  const server = await startScoringServer();
  const clock = new SimulatedClock(records[0]!.timeMs);
  const inner = fraudFunctions(fraudConfig({ scoringUrl: server.url })).resolver();
  let applied = 0;
  // Counts the messages the functions are given (each once: a re-run after a conflict is not a new message).
  const functions: FunctionResolver = {
    resolve: (type) => {
      const endpoint = inner.resolve(type);
      return endpoint && { invoke: async (request) => {
        const response = await endpoint.invoke(request);
        if (response.kind === 'result') applied += request.invocations.length;
        return response;
      } };
    },
  };
  const app = await startMeteredApp(endpoints, {
    name: 'fraud',
    functions,
    ingresses: {
      [FraudIngresses.transactions]: { functionType: FraudTypes.transactionManager, valueType: MessageTypes.transaction.typename },
      [FraudIngresses.confirmedFraud]: { functionType: FraudTypes.count, valueType: MessageTypes.confirmedFraud.typename },
    },
    ingressShards: 1,
    sqsEgress: [FraudTypes.alerts],
    clock,
    ...(options.delays ? { delays: options.delays } : {}),
  });
  try {
    const began = Date.now();
    let transactions = 0;
    for (const round of rounds) {
      clock.set(Math.max(clock.now(), round.clockMs));
      const beforeTimers = app.readMark();
      const fired = await app.scheduler.fireDue(round.records[0]!.timeMs);
      if (fired > 0) await app.settle(beforeTimers, fired);
      const beforeRecords = app.readMark();
      const byStream = new Map<string, { PartitionKey: string; Data: Uint8Array }[]>();
      for (const record of round.records) {
        const [ingress, key, data] =
          record.kind === 'transaction'
            ? [FraudIngresses.transactions, record.transaction.transactionId, MessageTypes.transaction.serialize(record.transaction)]
            : [FraudIngresses.confirmedFraud, record.report.accountId, MessageTypes.confirmedFraud.serialize(record.report)];
        if (record.kind === 'transaction') transactions++;
        const list = byStream.get(app.ingressStreams[ingress]!) ?? [];
        list.push({ PartitionKey: key, Data: data });
        byStream.set(app.ingressStreams[ingress]!, list);
      }
      for (const [StreamName, list] of byStream) {
        for (let i = 0; i < list.length; i += 500) {
          const out = await app.metered.kinesis.send(new PutRecordsCommand({ StreamName, Records: list.slice(i, i + 500) }));
          if (out.FailedRecordCount) throw new Error(`producer: ${out.FailedRecordCount} records failed`);
        }
      }
      await app.settle(beforeRecords, round.records.length);
    }
    // The windows still open when the sample ends close too: their timers fire.
    clock.set(Math.max(clock.now(), records.at(-1)!.timeMs + DEFAULT_FRAUD_WINDOW_MS + SCHEDULER_PRECISION_MS));
    const beforeLast = app.readMark();
    const firedLast = await app.scheduler.fireDue(clock.now());
    if (firedLast > 0) await app.settle(beforeLast, firedLast);
    const seconds = (Date.now() - began) / 1000;

    // Checks: the alerts are the reference's, each once; every window closed.
    const alerts = await drainAlerts(app.free.sqs, (app.resources.egress[FraudTypes.alerts] as { sqsQueueUrl: string }).sqsQueueUrl);
    const expected = expectedAlerts(records);
    const key = (a: FraudAlert) => JSON.stringify([a.transactionId, a.accountId, a.merchantId, a.amount, a.time, a.score, a.features]);
    const got = alerts.map(key).sort();
    const want = expected.map(key).sort();
    if (got.length !== want.length || got.some((k, i) => k !== want[i])) {
      const missing = want.filter((k) => !got.includes(k)).length;
      const extra = got.filter((k) => !want.includes(k)).length;
      if (process.env.BENCH_VERBOSE) {
        for (const k of want.filter((k) => !got.includes(k))) process.stderr.write(`missing ${k}\n`);
        for (const k of got.filter((k) => !want.includes(k))) process.stderr.write(`unexpected ${k}\n`);
      }
      throw new Error(`fraud: ${got.length} alerts, expected ${want.length} (${missing} missing, ${extra} unexpected)`);
    }
    const reports = records.filter((r) => r.kind === 'confirmed-fraud');
    const pending = await app.scheduler.pending();
    if (app.scheduler.fired !== reports.length || pending !== 0) {
      throw new Error(`fraud: ${app.scheduler.fired} timers fired for ${reports.length} reports, ${pending} pending`);
    }
    const counts = await app.checkStore.load([...new Set(reports.map((r) => (r.kind === 'confirmed-fraud' ? r.report.accountId : '')))].map((id) => Address.of(FraudTypes.count, id)));
    const open = [...counts.values()].filter((s) => s.values.get('count') !== undefined).length;
    if (open > 0) throw new Error(`fraud: ${open} Fraud Counts still above zero after every window closed`);
    if (app.poller.summary().recordsFailed > 0) throw new Error(`fraud: ${app.poller.summary().recordsFailed} records failed`);
    const dispatcherRecords = app.lambdas.dispatcher.invocations;
    return {
      title: `fraud demo: ${records.length} records (${transactions} transactions, ${reports.length} fraud reports) in ${rounds.length} rounds, ${applied} messages applied`,
      messages: applied,
      seconds,
      check: `alerts exact (${alerts.length} = expectedAlerts), ${app.scheduler.fired} windows closed`,
      meter: app.meter,
      lambdas: app.lambdas,
      oneItem: app.oneItem,
      perTransaction: { transactions, note: `${dispatcherRecords} dispatcher invocations` },
      alerts,
      ...(app.scheduler.schedules ? { schedules: app.scheduler.schedules } : {}),
    };
  } finally {
    await app.stop();
    await server.close();
  }
}

/** The alerts on the queue, deduplicated by record id as a consumer does. */
async function drainAlerts(sqs: SQSClient, queueUrl: string): Promise<FraudAlert[]> {
  const seen = new Set<string>();
  const out: FraudAlert[] = [];
  for (const m of await drainQueue(sqs, queueUrl)) {
    if (seen.has(m.id)) continue;
    seen.add(m.id);
    out.push(MessageTypes.fraudAlert.deserialize(new Uint8Array(Buffer.from(m.body, 'utf8'))));
  }
  return out;
}
