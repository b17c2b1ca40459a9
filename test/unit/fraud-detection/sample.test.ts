import { DAY_MS } from '../../../functions/fraud-detection/config';
import { expectedAlerts, fraudCountAt } from '../../../functions/fraud-detection/expectedAlerts';
import { SAMPLE_SEED, generateSample, mulberry32 } from '../../../functions/fraud-detection/sample';

describe('Function: generateSample', () => {
  const sample = generateSample();
  const transactions = sample.records.flatMap((r) => (r.kind === 'transaction' ? [r.transaction] : []));
  const reports = sample.records.flatMap((r) => (r.kind === 'confirmed-fraud' ? [r.report] : []));

  it('is the same sample for the same seed, and another for another seed', () => {
    // Prepare
    const again = generateSample({ seed: SAMPLE_SEED });

    // Act
    const other = generateSample({ seed: SAMPLE_SEED + 1 });

    // Assess
    expect(JSON.stringify(again)).toBe(JSON.stringify(sample));
    expect(JSON.stringify(other.records)).not.toBe(JSON.stringify(sample.records));
  });

  it('has several hundred transactions and fraud reports over more than 30 days', () => {
    // Prepare
    const first = sample.records[0]!.timeMs;
    const last = sample.records[sample.records.length - 1]!.timeMs;

    // Act
    const spanDays = (last - first) / DAY_MS;

    // Assess
    expect(transactions).toHaveLength(553);
    expect(reports).toHaveLength(20);
    expect(spanDays).toBeGreaterThan(60);
  });

  it('keeps records in strictly increasing time order with unique ids', () => {
    // Prepare
    const times = sample.records.map((r) => r.timeMs);

    // Act
    const increasing = times.every((t, i) => i === 0 || t > times[i - 1]!);

    // Assess
    expect(increasing).toBe(true);
    expect(new Set(transactions.map((t) => t.transactionId)).size).toBe(transactions.length);
    expect(new Set(reports.map((r) => r.reportId)).size).toBe(reports.length);
    expect(transactions.every((t) => t.amount >= 5 && t.amount <= 5000)).toBe(true);
  });

  it('builds the window case: one report on acct-window, then the same purchase 15 and 35 days later', () => {
    // Prepare
    const { windowCase } = sample;
    const within = transactions.find((t) => t.transactionId === windowCase.withinTransactionId)!;
    const after = transactions.find((t) => t.transactionId === windowCase.afterTransactionId)!;

    // Act
    const counts = [within, after].map((t) => fraudCountAt(sample.records, windowCase.accountId, t.timeMs));

    // Assess
    expect(windowCase).toEqual({
      accountId: 'acct-window',
      reportId: 'rep-004',
      reportTimeMs: Date.parse('2026-09-11T12:00:00Z'),
      withinTransactionId: 'tx-window-within',
      afterTransactionId: 'tx-window-after',
    });
    expect(reports.filter((r) => r.accountId === 'acct-window')).toEqual([
      { reportId: 'rep-004', accountId: 'acct-window', timeMs: windowCase.reportTimeMs },
    ]);
    expect({ ...within, transactionId: '', timeMs: 0 }).toEqual({ ...after, transactionId: '', timeMs: 0 });
    expect((within.timeMs - windowCase.reportTimeMs) / DAY_MS).toBe(14.583333333333334);
    expect((after.timeMs - windowCase.reportTimeMs) / DAY_MS).toBe(34.583333333333336);
    expect(counts).toEqual([1, 0]);
  });
});

describe('Function: expectedAlerts', () => {
  const { records, windowCase } = generateSample();
  const alerts = expectedAlerts(records);

  it('alerts on the window case inside the window and not after it', () => {
    // Prepare
    const ids = alerts.map((a) => a.transactionId);

    // Act
    const within = alerts.find((a) => a.transactionId === windowCase.withinTransactionId);

    // Assess
    expect(within?.features).toEqual({ fraudCount: 1, merchantScore: 0.058, amount: 4200, night: true });
    expect(within?.score).toBeCloseTo(0.91148, 5);
    expect(ids).not.toContain(windowCase.afterTransactionId);
  });

  it('raises alerts only because of reports in the window', () => {
    // Prepare
    const counts = alerts.map((a) => a.features.fraudCount);

    // Act
    const withoutReport = counts.filter((c) => c === 0).length;

    // Assess
    expect(alerts).toHaveLength(46);
    expect(withoutReport).toBe(0);
    expect(alerts.every((a) => a.score > 0.8)).toBe(true);
  });

  it('drops the alerts whose reports are older than 30 days: ten more would fire without the window', () => {
    // Prepare
    const within = new Set(alerts.map((a) => a.transactionId));

    // Act
    const forever = expectedAlerts(records, { fraudWindowMs: Number.MAX_SAFE_INTEGER });

    // Assess
    expect(forever.filter((a) => !within.has(a.transactionId)).map((a) => `${a.transactionId} ${a.accountId}`)).toEqual([
      'tx-window-after acct-window',
      'tx-0412 acct-05',
      'tx-0424 acct-05',
      'tx-0427 acct-33',
      'tx-0442 acct-28',
      'tx-0449 acct-28',
      'tx-0465 acct-05',
      'tx-0478 acct-22',
      'tx-0507 acct-06',
      'tx-0523 acct-05',
    ]);
    expect(forever.filter((a) => within.has(a.transactionId))).toHaveLength(46);
  });

  it('counts a report only while it is younger than the window', () => {
    // Prepare
    const reportMs = Date.parse('2026-09-01T02:00:00Z');
    const report = { kind: 'confirmed-fraud', timeMs: reportMs, report: { reportId: 'r', accountId: 'a', timeMs: reportMs } } as const;
    const tx = (timeMs: number) =>
      ({ kind: 'transaction', timeMs, transaction: { transactionId: `t${timeMs}`, accountId: 'a', merchantId: 'm-06', amount: 5000, timeMs } }) as const;

    // Act
    const alerted = expectedAlerts([report, tx(reportMs + 30 * DAY_MS - 1), tx(reportMs + 30 * DAY_MS)]).map((a) => a.transactionId);

    // Assess
    expect(alerted).toEqual([`t${reportMs + 30 * DAY_MS - 1}`]);
  });
});

describe('Function: mulberry32', () => {
  it('gives the same sequence in [0, 1) for a seed', () => {
    // Prepare
    const a = mulberry32(42);
    const b = mulberry32(42);

    // Act
    const values = Array.from({ length: 1000 }, () => a());

    // Assess
    expect(values).toEqual(Array.from({ length: 1000 }, () => b()));
    expect(values.every((v) => v >= 0 && v < 1)).toBe(true);
  });
});
