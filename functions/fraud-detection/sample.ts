import { DAY_MS } from './config';
import { merchantScoreOf } from './merchantScore';
import type { ConfirmedFraud, Transaction } from './messages';

/** One record of the sample, for one of the two ingresses. */
export type SampleRecord =
  | { readonly kind: 'transaction'; readonly timeMs: number; readonly transaction: Transaction }
  | { readonly kind: 'confirmed-fraud'; readonly timeMs: number; readonly report: ConfirmedFraud };

/**
 * The account that shows the 30-day window: one report, then two transactions identical but
 * for their time, one inside the window (it alerts) and one after it (it does not).
 */
export interface WindowCase {
  readonly accountId: string;
  readonly reportId: string;
  readonly reportTimeMs: number;
  readonly withinTransactionId: string;
  readonly afterTransactionId: string;
}

/** A generated sample: records in strictly increasing time order. */
export interface Sample {
  readonly seed: number;
  readonly records: readonly SampleRecord[];
  readonly windowCase: WindowCase;
}

/** Options of {@link generateSample}; the defaults give the bundled sample. */
export interface SampleOpts {
  /** @default {@link SAMPLE_SEED} */
  readonly seed?: number;
  /** Background transactions, besides fraud bursts and the window case. @default 500 */
  readonly transactions?: number;
  /** @default 75 */
  readonly days?: number;
  /** @default 2026-09-01T00:00:00Z */
  readonly startMs?: number;
}

export const SAMPLE_SEED = 20261125;
export const SAMPLE_START_MS = Date.UTC(2026, 8, 1);

const ACCOUNTS = 40;
const MERCHANTS = 25;
const COMPROMISED_ACCOUNTS = 8;
const MAX_AMOUNT = 5000;

/**
 * Generates the deterministic sample: `transactions` everyday transactions over `days` days
 * (40 accounts, 25 merchants, amounts log-uniform in [5, 5000]); 8 compromised accounts, each
 * with 1 to 3 confirmed fraud reports, every report followed by a burst of 2 or 3 risky
 * transactions (night-time, high amounts) within a few days; and the {@link WindowCase} on
 * account `acct-window`. The same seed gives the same sample, byte for byte.
 *
 * @example
 * const { records, windowCase } = generateSample();
 */
export function generateSample(opts: SampleOpts = {}): Sample {
  const seed = opts.seed ?? SAMPLE_SEED;
  const days = opts.days ?? 75;
  const startMs = opts.startMs ?? SAMPLE_START_MS;
  const spanMs = days * DAY_MS;
  const random = mulberry32(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const seconds = (ms: number) => Math.floor(ms / 1000) * 1000;

  const accounts = Array.from({ length: ACCOUNTS }, (_, i) => `acct-${pad(i + 1, 2)}`);
  const merchants = Array.from({ length: MERCHANTS }, (_, i) => `m-${pad(i + 1, 2)}`);
  const riskiest = [...merchants].sort((a, b) => merchantScoreOf(a) - merchantScoreOf(b)).slice(0, 5);

  type Draft = { timeMs: number; tx?: Omit<Transaction, 'transactionId' | 'timeMs'> & { transactionId?: string }; report?: Omit<ConfirmedFraud, 'reportId' | 'timeMs'> };
  const drafts: Draft[] = [];

  for (let i = 0; i < (opts.transactions ?? 500); i++) {
    drafts.push({
      timeMs: seconds(startMs + random() * spanMs),
      tx: { accountId: pick(accounts), merchantId: pick(merchants), amount: logUniformAmount(random(), 5, 500) },
    });
  }

  const compromised = shuffled(accounts, random).slice(0, COMPROMISED_ACCOUNTS);
  for (const accountId of compromised) {
    const reports = 1 + Math.floor(random() * 3);
    let reportMs = startMs + random() * (spanMs / 3);
    for (let r = 0; r < reports; r++) {
      drafts.push({ timeMs: seconds(reportMs), report: { accountId } });
      const burst = 2 + Math.floor(random() * 2);
      for (let b = 0; b < burst; b++) {
        const day = Math.floor((reportMs - startMs) / DAY_MS) + 1 + Math.floor(random() * 4);
        const nightMs = startMs + day * DAY_MS + random() * 6 * 3600 * 1000;
        drafts.push({
          timeMs: seconds(nightMs),
          tx: { accountId, merchantId: pick(riskiest), amount: logUniformAmount(random(), 500, MAX_AMOUNT) },
        });
      }
      reportMs += (2 + random() * 20) * DAY_MS;
    }
  }

  // The window case: one report on day 10; the same risky purchase on day 25 and day 45.
  const windowAccount = 'acct-window';
  const windowMerchant = riskiest[0]!;
  const windowReportMs = startMs + 10 * DAY_MS + 12 * 3600 * 1000;
  drafts.push({ timeMs: windowReportMs, report: { accountId: windowAccount } });
  for (const [day, transactionId] of [[25, 'tx-window-within'], [45, 'tx-window-after']] as const) {
    drafts.push({
      timeMs: startMs + day * DAY_MS + 2 * 3600 * 1000,
      tx: { transactionId, accountId: windowAccount, merchantId: windowMerchant, amount: 4200 },
    });
  }

  // Strictly increasing times: each record is processed whole before the next one arrives.
  drafts.sort((a, b) => a.timeMs - b.timeMs);
  for (let i = 1; i < drafts.length; i++) {
    if (drafts[i]!.timeMs <= drafts[i - 1]!.timeMs) drafts[i]!.timeMs = drafts[i - 1]!.timeMs + 1000;
  }

  let txSeq = 0;
  let reportSeq = 0;
  let windowReportId = '';
  const records: SampleRecord[] = drafts.map((draft) => {
    if (draft.report) {
      const report: ConfirmedFraud = { reportId: `rep-${pad(++reportSeq, 3)}`, ...draft.report, timeMs: draft.timeMs };
      if (report.accountId === windowAccount) windowReportId = report.reportId;
      return { kind: 'confirmed-fraud', timeMs: draft.timeMs, report };
    }
    const tx = draft.tx!;
    const transaction: Transaction = {
      transactionId: tx.transactionId ?? `tx-${pad(++txSeq, 4)}`,
      accountId: tx.accountId,
      merchantId: tx.merchantId,
      amount: tx.amount,
      timeMs: draft.timeMs,
    };
    return { kind: 'transaction', timeMs: draft.timeMs, transaction };
  });

  return {
    seed,
    records,
    windowCase: {
      accountId: windowAccount,
      reportId: windowReportId,
      reportTimeMs: windowReportMs,
      withinTransactionId: 'tx-window-within',
      afterTransactionId: 'tx-window-after',
    },
  };
}

/** A small, fast, seedable PRNG (mulberry32): uniform in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function logUniformAmount(u: number, min: number, max: number): number {
  return Math.round(Math.exp(Math.log(min) + u * (Math.log(max) - Math.log(min))) * 100) / 100;
}

function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}
