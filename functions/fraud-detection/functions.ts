import { Address, type Context, type Message, StatefulFunctions, Types, defineFunction, egressMessage, message } from '../../runtime-lambda/sdk';
import type { FraudConfig } from './config';
import { FraudTypes, MessageTypes, fraudAlert } from './messages';
import { isNight, scoreFeatures } from './model';
import { fetchMerchantScore } from './scoringClient';

/**
 * Fraud Count (`fraud/count`, one per account): the number of confirmed fraud reports in the
 * last `fraudWindowMs`. Each report increments the count and sends a `ReportExpired` to
 * itself `fraudWindowMs` later, which decrements it (the value is deleted at 0). Answers a
 * `CountQuery` with a `CountReply` to the caller.
 *
 * @example
 * new StatefulFunctions().withFunction(fraudCount(config));
 */
export function fraudCount(config: FraudConfig) {
  return defineFunction({
    typename: FraudTypes.count,
    state: { count: Types.int },
    handle(ctx, msg) {
      const count = ctx.storage.count ?? 0;
      if (msg.is(MessageTypes.confirmedFraud)) {
        const report = msg.as(MessageTypes.confirmedFraud);
        ctx.storage.count = count + 1;
        ctx.sendAfter(config.fraudWindowMs, message({ to: ctx.self, value: { reportId: report.reportId }, type: MessageTypes.reportExpired }));
      } else if (msg.is(MessageTypes.reportExpired)) {
        ctx.storage.count = count > 1 ? count - 1 : null;
      } else if (msg.is(MessageTypes.countQuery)) {
        ctx.send(message({ to: callerOf(ctx, msg), value: { accountId: ctx.self.id, count }, type: MessageTypes.countReply }));
      } else {
        throw unexpected(ctx, msg);
      }
    },
  });
}

/**
 * Merchant Scorer (`fraud/merchant-scorer`, one per merchant): asks the scoring service at
 * `scoringUrl` for the merchant's score and replies a `MerchantScoreReply` to the caller.
 * Waits at most `scoringTimeoutMs`; on any failure replies `fallbackMerchantScore`.
 *
 * @example
 * new StatefulFunctions().withFunction(merchantScorer(config));
 */
export function merchantScorer(config: FraudConfig) {
  return defineFunction({
    typename: FraudTypes.merchantScorer,
    async handle(ctx, msg) {
      if (!msg.is(MessageTypes.merchantQuery)) throw unexpected(ctx, msg);
      const caller = callerOf(ctx, msg);
      const result = await fetchMerchantScore(ctx.self.id, {
        baseUrl: config.scoringUrl,
        timeoutMs: config.scoringTimeoutMs,
        fallbackScore: config.fallbackMerchantScore,
      });
      const reply = { merchantId: ctx.self.id, score: result.score, source: result.source };
      ctx.send(message({ to: caller, value: reply, type: MessageTypes.merchantScoreReply }));
    },
  });
}

/**
 * Transaction Manager (`fraud/transaction-manager`, one per transaction id): keeps the
 * transaction, asks Fraud Count and Merchant Scorer, and once both answered sends the
 * feature vector to Model; on Model's score, emits a `FraudAlert` to `fraud/alerts` when the
 * score is above `alertThreshold`, then clears its state. Every value expires
 * `transactionStateTtlMs` after its last write, so a conversation that never finishes
 * leaves nothing behind either.
 *
 * @example
 * new StatefulFunctions().withFunction(transactionManager(config));
 */
export function transactionManager(config: FraudConfig) {
  const expireAfterWrite = config.transactionStateTtlMs;
  return defineFunction({
    typename: FraudTypes.transactionManager,
    state: {
      transaction: { type: MessageTypes.transaction, expireAfterWrite },
      fraudCount: { type: Types.int, expireAfterWrite },
      merchantScore: { type: Types.double, expireAfterWrite },
    },
    handle(ctx, msg) {
      const s = ctx.storage;
      if (msg.is(MessageTypes.transaction)) {
        const tx = msg.as(MessageTypes.transaction);
        s.transaction = tx;
        const query = { transactionId: tx.transactionId };
        ctx.send(message({ to: Address.of(FraudTypes.count, tx.accountId), value: query, type: MessageTypes.countQuery }));
        ctx.send(message({ to: Address.of(FraudTypes.merchantScorer, tx.merchantId), value: query, type: MessageTypes.merchantQuery }));
        return;
      }
      if (msg.is(MessageTypes.countReply)) s.fraudCount = msg.as(MessageTypes.countReply).count;
      else if (msg.is(MessageTypes.merchantScoreReply)) s.merchantScore = msg.as(MessageTypes.merchantScoreReply).score;
      else if (!msg.is(MessageTypes.scoreReply)) throw unexpected(ctx, msg);

      const tx = s.transaction;
      const fraudCount = s.fraudCount;
      const merchantScore = s.merchantScore;
      if (tx === null || fraudCount === null || merchantScore === null) {
        if (msg.is(MessageTypes.scoreReply)) {
          throw new Error(`${ctx.self} got a score without its transaction and features (expired after ${expireAfterWrite} ms?)`);
        }
        return; // still waiting for the other reply
      }
      const features = { fraudCount, merchantScore, amount: tx.amount, night: isNight(tx.timeMs) };
      if (!msg.is(MessageTypes.scoreReply)) {
        const request = { transactionId: tx.transactionId, features };
        ctx.send(message({ to: Address.of(FraudTypes.model, tx.transactionId), value: request, type: MessageTypes.scoreRequest }));
        return;
      }
      const { score } = msg.as(MessageTypes.scoreReply);
      if (score > config.alertThreshold) {
        ctx.egress(egressMessage({ egress: FraudTypes.alerts, value: fraudAlert(tx, score, features), type: MessageTypes.fraudAlert }));
      }
      s.transaction = null;
      s.fraudCount = null;
      s.merchantScore = null;
    },
  });
}

/**
 * Model (`fraud/model`, stateless): scores a `ScoreRequest` with {@link scoreFeatures} and
 * replies a `ScoreReply` to the caller.
 *
 * @example
 * new StatefulFunctions().withFunction(model());
 */
export function model() {
  return defineFunction({
    typename: FraudTypes.model,
    handle(ctx, msg) {
      if (!msg.is(MessageTypes.scoreRequest)) throw unexpected(ctx, msg);
      const request = msg.as(MessageTypes.scoreRequest);
      const reply = { transactionId: request.transactionId, score: scoreFeatures(request.features) };
      ctx.send(message({ to: callerOf(ctx, msg), value: reply, type: MessageTypes.scoreReply }));
    },
  });
}

/**
 * The four functions of the application in one registry; embed them with `.resolver()`.
 *
 * @example
 * const runtime = new LocalRuntime({ functions: fraudFunctions(config).resolver(), ... });
 */
export function fraudFunctions(config: FraudConfig): StatefulFunctions {
  return new StatefulFunctions()
    .withFunction(fraudCount(config))
    .withFunction(merchantScorer(config))
    .withFunction(transactionManager(config))
    .withFunction(model());
}

function callerOf(ctx: Context, msg: Message): Address {
  if (ctx.caller === null) throw new TypeError(`${ctx.self} got ${msg.typename} with no caller to reply to`);
  return ctx.caller;
}

function unexpected(ctx: Context, msg: Message): TypeError {
  return new TypeError(`${ctx.self} does not handle messages of type ${msg.typename}`);
}
