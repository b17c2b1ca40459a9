import { Address } from '../../runtime-lambda/core/Address';
import type { TypedValue } from '../../runtime-lambda/core/TypedValue';
import type { FraudConfig } from './config';
import {
  type ConfirmedFraud,
  type CountQuery,
  type CountReply,
  type FraudAlert,
  FraudTypes,
  type MerchantQuery,
  type MerchantScoreReply,
  MessageTypes,
  type ReportExpired,
  type ScoreReply,
  type ScoreRequest,
  type Transaction,
  readJson,
} from './messages';
import { isNight, scoreFeatures } from './model';
import { fetchMerchantScore } from './scoringClient';

/**
 * What a fraud function can do with one message. Until our SDK lands, {@link coreEndpoint}
 * implements it on the core's invocation types; the SDK's context replaces it.
 */
export interface FraudContext {
  readonly self: Address;
  readonly caller: Address | undefined;
  get<T>(name: string): T | undefined;
  /** `undefined` deletes the value. */
  set(name: string, value: unknown): void;
  send(to: Address, typename: string, value: unknown): void;
  sendAfter(delayMs: number, to: Address, typename: string, value: unknown): void;
  egress(egress: string, typename: string, value: unknown): void;
}

/** A fraud function: its state (name, expiry after write) and its message handler. */
export interface FraudFunction {
  readonly typename: string;
  readonly state: readonly { readonly name: string; readonly expireAfterWriteMs?: number }[];
  handle(ctx: FraudContext, message: TypedValue): void | Promise<void>;
}

/**
 * Fraud Count (`fraud/count`, one per account): the number of confirmed fraud reports in the
 * last `fraudWindowMs`. Each report increments the count and schedules a {@link ReportExpired}
 * to itself `fraudWindowMs` later, which decrements it. Answers a {@link CountQuery} with a
 * {@link CountReply} to the caller.
 */
export function fraudCount(config: FraudConfig): FraudFunction {
  return {
    typename: FraudTypes.count,
    state: [{ name: 'count' }],
    handle(ctx, message) {
      const count = ctx.get<number>('count') ?? 0;
      switch (message.typename) {
        case MessageTypes.confirmedFraud: {
          const report = readJson<ConfirmedFraud>(MessageTypes.confirmedFraud, message);
          ctx.set('count', count + 1);
          const expired: ReportExpired = { reportId: report.reportId };
          ctx.sendAfter(config.fraudWindowMs, ctx.self, MessageTypes.reportExpired, expired);
          return;
        }
        case MessageTypes.reportExpired:
          ctx.set('count', count > 1 ? count - 1 : undefined);
          return;
        case MessageTypes.countQuery: {
          const reply: CountReply = { accountId: ctx.self.id, count };
          ctx.send(requireCaller(ctx, message), MessageTypes.countReply, reply);
          return;
        }
        default:
          throw unexpected(ctx, message);
      }
    },
  };
}

/**
 * Merchant Scorer (`fraud/merchant-scorer`, one per merchant): asks the scoring service at
 * `scoringUrl` for the merchant's score and replies a {@link MerchantScoreReply} to the
 * caller. Waits at most `scoringTimeoutMs`; on any failure replies `fallbackMerchantScore`.
 */
export function merchantScorer(config: FraudConfig): FraudFunction {
  return {
    typename: FraudTypes.merchantScorer,
    state: [],
    async handle(ctx, message) {
      if (message.typename !== MessageTypes.merchantQuery) throw unexpected(ctx, message);
      readJson<MerchantQuery>(MessageTypes.merchantQuery, message);
      const result = await fetchMerchantScore(ctx.self.id, {
        baseUrl: config.scoringUrl,
        timeoutMs: config.scoringTimeoutMs,
        fallbackScore: config.fallbackMerchantScore,
      });
      const reply: MerchantScoreReply = { merchantId: ctx.self.id, score: result.score, source: result.source };
      ctx.send(requireCaller(ctx, message), MessageTypes.merchantScoreReply, reply);
    },
  };
}

/**
 * Transaction Manager (`fraud/transaction-manager`, one per transaction id): keeps the
 * transaction, asks Fraud Count and Merchant Scorer, and once both answered sends the feature
 * vector to Model; on Model's score, emits a {@link FraudAlert} to `fraud/alerts` when the
 * score is above `alertThreshold`, then clears its state. Every value expires
 * `transactionStateTtlMs` after its last write, so a conversation that never finishes
 * leaves nothing behind either.
 */
export function transactionManager(config: FraudConfig): FraudFunction {
  const ttl = config.transactionStateTtlMs;
  return {
    typename: FraudTypes.transactionManager,
    state: [
      { name: 'transaction', expireAfterWriteMs: ttl },
      { name: 'fraudCount', expireAfterWriteMs: ttl },
      { name: 'merchantScore', expireAfterWriteMs: ttl },
    ],
    handle(ctx, message) {
      switch (message.typename) {
        case MessageTypes.transaction: {
          const tx = readJson<Transaction>(MessageTypes.transaction, message);
          ctx.set('transaction', tx);
          const query = { transactionId: tx.transactionId };
          ctx.send(Address.of(FraudTypes.count, tx.accountId), MessageTypes.countQuery, query satisfies CountQuery);
          ctx.send(Address.of(FraudTypes.merchantScorer, tx.merchantId), MessageTypes.merchantQuery, query satisfies MerchantQuery);
          return;
        }
        case MessageTypes.countReply:
          ctx.set('fraudCount', readJson<CountReply>(MessageTypes.countReply, message).count);
          return requestScoreWhenComplete(ctx);
        case MessageTypes.merchantScoreReply:
          ctx.set('merchantScore', readJson<MerchantScoreReply>(MessageTypes.merchantScoreReply, message).score);
          return requestScoreWhenComplete(ctx);
        case MessageTypes.scoreReply: {
          const { score } = readJson<ScoreReply>(MessageTypes.scoreReply, message);
          const tx = ctx.get<Transaction>('transaction');
          const fraudCount = ctx.get<number>('fraudCount');
          const merchantScore = ctx.get<number>('merchantScore');
          if (tx === undefined || fraudCount === undefined || merchantScore === undefined) {
            throw new Error(`${ctx.self.key} got a score without its transaction and features (expired after ${ttl} ms?)`);
          }
          if (score > config.alertThreshold) {
            const alert: FraudAlert = {
              transactionId: tx.transactionId,
              accountId: tx.accountId,
              merchantId: tx.merchantId,
              amount: tx.amount,
              time: new Date(tx.timeMs).toISOString(),
              score,
              features: { fraudCount, merchantScore, amount: tx.amount, night: isNight(tx.timeMs) },
            };
            ctx.egress(FraudTypes.alerts, MessageTypes.fraudAlert, alert);
          }
          for (const name of ['transaction', 'fraudCount', 'merchantScore']) ctx.set(name, undefined);
          return;
        }
        default:
          throw unexpected(ctx, message);
      }
    },
  };
}

function requestScoreWhenComplete(ctx: FraudContext): void {
  const tx = ctx.get<Transaction>('transaction');
  const fraudCount = ctx.get<number>('fraudCount');
  const merchantScore = ctx.get<number>('merchantScore');
  if (tx === undefined || fraudCount === undefined || merchantScore === undefined) return;
  const request: ScoreRequest = {
    transactionId: tx.transactionId,
    features: { fraudCount, merchantScore, amount: tx.amount, night: isNight(tx.timeMs) },
  };
  ctx.send(Address.of(FraudTypes.model, tx.transactionId), MessageTypes.scoreRequest, request);
}

/** Model (`fraud/model`, stateless): scores a {@link ScoreRequest} and replies a {@link ScoreReply}. */
export function model(): FraudFunction {
  return {
    typename: FraudTypes.model,
    state: [],
    handle(ctx, message) {
      if (message.typename !== MessageTypes.scoreRequest) throw unexpected(ctx, message);
      const request = readJson<ScoreRequest>(MessageTypes.scoreRequest, message);
      const reply: ScoreReply = { transactionId: request.transactionId, score: scoreFeatures(request.features) };
      ctx.send(requireCaller(ctx, message), MessageTypes.scoreReply, reply);
    },
  };
}

/** The four functions of the application. */
export function fraudFunctions(config: FraudConfig): FraudFunction[] {
  return [fraudCount(config), merchantScorer(config), transactionManager(config), model()];
}

function requireCaller(ctx: FraudContext, message: TypedValue): Address {
  if (ctx.caller === undefined) throw new Error(`${ctx.self.key} got ${message.typename} with no caller to reply to`);
  return ctx.caller;
}

function unexpected(ctx: FraudContext, message: TypedValue): Error {
  return new TypeError(`${ctx.self.key} does not handle messages of type ${message.typename}`);
}
