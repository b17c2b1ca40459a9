import { spawn } from 'node:child_process';
import { Address } from '../../../runtime-lambda/core/Address';
import { runFraudDetection } from '../../../functions/fraud-detection/app';
import { DAY_MS, fraudConfig } from '../../../functions/fraud-detection/config';
import { expectedAlerts } from '../../../functions/fraud-detection/expectedAlerts';
import { FraudTypes, MessageTypes, typedValueOf } from '../../../functions/fraud-detection/messages';
import { generateSample } from '../../../functions/fraud-detection/sample';
import { type ScoringServer, startScoringServer } from '../../../functions/fraud-detection/scoringServer';

const sample = generateSample();
const { windowCase } = sample;
const summary = (alerts: readonly { transactionId: string; score: number }[]) => alerts.map((a) => [a.transactionId, a.score]);

describe('Application: fraud detection on the local runtime', () => {
  let server: ScoringServer;
  beforeAll(async () => {
    server = await startScoringServer();
  });
  afterAll(async () => {
    await server.close();
  });

  it('raises exactly the alerts of the reference computation, with no dead letters', async () => {
    // Prepare
    const expected = expectedAlerts(sample.records);

    // Act
    const run = await runFraudDetection({ records: sample.records, config: fraudConfig({ scoringUrl: server.url }, {}) });

    // Assess
    expect(run.deadLetters).toEqual([]);
    expect(run.transactions).toBe(553);
    expect(run.reports).toBe(20);
    expect(expected).toHaveLength(46);
    expect(summary(run.alerts)).toEqual(summary(expected));
    expect(run.alerts).toEqual(expected);
    expect(server.requests()).toBeGreaterThanOrEqual(553);
  });

  it('stops counting the report on acct-window after 30 days: tx-window-within alerts, tx-window-after does not', async () => {
    // Prepare
    const records = sample.records.filter(
      (r) => (r.kind === 'transaction' ? r.transaction.accountId : r.report.accountId) === windowCase.accountId,
    );
    const expected = expectedAlerts(records);

    // Act
    const run = await runFraudDetection({ records, config: fraudConfig({ scoringUrl: server.url }, {}) });

    // Assess
    expect(records.map((r) => (r.kind === 'transaction' ? r.transaction.transactionId : r.report.reportId))).toEqual([
      'rep-004',
      'tx-window-within',
      'tx-window-after',
    ]);
    expect(run.alerts).toEqual(expected);
    expect(run.alerts).toEqual([
      {
        transactionId: 'tx-window-within',
        accountId: 'acct-window',
        merchantId: 'm-06',
        amount: 4200,
        time: '2026-09-26T02:00:00.000Z',
        score: expected[0]!.score,
        features: { fraudCount: 1, merchantScore: 0.058, amount: 4200, night: true },
      },
    ]);
    expect(expected[0]!.score).toBeCloseTo(0.91148, 5);
    expect(run.runtime.stats.timersFired).toBe(1);
    expect(run.runtime.state(Address.of(FraudTypes.count, 'acct-window')).values.size).toBe(0);
    expect(run.deadLetters).toEqual([]);
  });

  it('uses the fallback merchant score when the scoring service is down', async () => {
    // Prepare
    const down = await startScoringServer();
    await down.close();
    const expected = expectedAlerts(sample.records, { merchantScore: () => 0.5 });

    // Act
    const run = await runFraudDetection({ records: sample.records, config: fraudConfig({ scoringUrl: down.url }, {}) });

    // Assess
    expect(run.deadLetters).toEqual([]);
    expect(expected).toHaveLength(33);
    expect(summary(run.alerts)).toEqual(summary(expected));
    expect(run.alerts.every((a) => a.features.merchantScore === 0.5)).toBe(true);
  });

  it('uses the fallback after the timeout when the scoring service does not answer in time', async () => {
    // Prepare
    const slow = await startScoringServer({ delayMs: 5000 });
    const records = sample.records.filter((r) => r.kind === 'transaction' && r.transaction.accountId === windowCase.accountId);
    const startedAt = Date.now();

    // Act
    const run = await runFraudDetection({ records, config: fraudConfig({ scoringUrl: slow.url, scoringTimeoutMs: 50, fallbackMerchantScore: 0.2 }, {}) });
    const tookMs = Date.now() - startedAt;
    await slow.close();

    // Assess
    expect(run.deadLetters).toEqual([]);
    expect(run.alerts).toEqual([]);
    expect(slow.requests()).toBe(2);
    expect(tookMs).toBeLessThan(2000);
  });

  it('leaves no transaction state behind, and would expire it a day after the last write', async () => {
    // Prepare
    const run = await runFraudDetection({ records: sample.records.slice(0, 50), config: fraudConfig({ scoringUrl: server.url }, {}) });
    const managers = [...run.runtime.store.all()].filter((s) => s.address.typename === FraudTypes.transactionManager);
    const stuck = Address.of(FraudTypes.transactionManager, 'tx-never-finished');

    // Act
    run.runtime.send(stuck, typedValueOf(MessageTypes.countReply, { accountId: 'acct-01', count: 0 }));
    await run.runtime.runUntilIdle();

    // Assess
    expect(managers.length).toBeGreaterThan(40);
    expect(managers.filter((s) => s.values.size > 0)).toEqual([]);
    expect(run.runtime.state(stuck).values.get('fraudCount')?.expiration).toEqual({ mode: 'after-write', afterMs: DAY_MS });
  });

  it('runs as `npm start`: one JSON line per expected alert, then the summary line, exit code 0', async () => {
    // Prepare
    const expected = expectedAlerts(sample.records);

    // Act
    const { code, stdout } = await new Promise<{ code: number | null; stdout: string }>((resolve, reject) => {
      const child = spawn('npm', ['start', '--silent'], { cwd: `${__dirname}/../../..`, env: { ...process.env, FRAUD_SCORING_URL: '' } });
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.stderr.resume();
      child.on('error', reject);
      child.on('close', (exitCode) => resolve({ code: exitCode, stdout: out }));
    });
    const lines = stdout.trimEnd().split('\n');

    // Assess
    expect(code).toBe(0);
    expect(lines[lines.length - 1]).toBe('553 transactions, 46 alerts');
    expect(lines.slice(0, -1).map((l) => JSON.parse(l))).toEqual(expected);
  });
});
