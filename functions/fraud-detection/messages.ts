import type { TypedValue } from '../../runtime-lambda/core/TypedValue';
import { type Type, jsonType } from '../../runtime-lambda/sdk';

/**
 * The messages of the fraud-detection application. Every message is JSON, tagged with
 * its own type name so a function that receives several kinds can tell them apart.
 */

/** A card transaction, as it arrives on the `transactions` ingress (key: `transactionId`). */
export interface Transaction {
  readonly transactionId: string;
  readonly accountId: string;
  readonly merchantId: string;
  /** In the account's currency, two decimals. */
  readonly amount: number;
  /** When the transaction happened, epoch ms (UTC). */
  readonly timeMs: number;
}

/** A confirmed fraud report, as it arrives on the `confirmed-fraud` ingress (key: `accountId`). */
export interface ConfirmedFraud {
  readonly reportId: string;
  readonly accountId: string;
  /** When the fraud was confirmed, epoch ms (UTC). */
  readonly timeMs: number;
}

/** Fraud Count's delayed message to itself: the report leaves the 30-day window. */
export interface ReportExpired {
  readonly reportId: string;
}

/** Asks Fraud Count for the number of reports in the window; the answer goes to the caller. */
export interface CountQuery {
  readonly transactionId: string;
}

/** Fraud Count's answer to a {@link CountQuery}. */
export interface CountReply {
  readonly accountId: string;
  readonly count: number;
}

/** Asks Merchant Scorer for the merchant's trustworthiness; the answer goes to the caller. */
export interface MerchantQuery {
  readonly transactionId: string;
}

/** Merchant Scorer's answer: a score in [0, 1], 1 = fully trustworthy. */
export interface MerchantScoreReply {
  readonly merchantId: string;
  readonly score: number;
  /** `service` when the scoring service answered, `fallback` when it failed or timed out. */
  readonly source: 'service' | 'fallback';
}

/** The inputs of the model for one transaction. */
export interface FeatureVector {
  readonly fraudCount: number;
  readonly merchantScore: number;
  readonly amount: number;
  /** Whether the transaction happened between 00:00 and 05:59 UTC. */
  readonly night: boolean;
}

/** Asks Model to score a feature vector; the answer goes to the caller. */
export interface ScoreRequest {
  readonly transactionId: string;
  readonly features: FeatureVector;
}

/** Model's answer: the fraud probability in (0, 1). */
export interface ScoreReply {
  readonly transactionId: string;
  readonly score: number;
}

/** A record of the `fraud/alerts` egress: a transaction whose score exceeds the threshold. */
export interface FraudAlert {
  readonly transactionId: string;
  readonly accountId: string;
  readonly merchantId: string;
  readonly amount: number;
  /** The transaction's time, ISO 8601 UTC. */
  readonly time: string;
  readonly score: number;
  readonly features: FeatureVector;
}

/** The alert for transaction `tx` scored `score` from `features`. */
export function fraudAlert(tx: Transaction, score: number, features: FeatureVector): FraudAlert {
  return {
    transactionId: tx.transactionId,
    accountId: tx.accountId,
    merchantId: tx.merchantId,
    amount: tx.amount,
    time: new Date(tx.timeMs).toISOString(),
    score,
    features,
  };
}

/** The StateFun types of the messages: JSON, each with its own type name. */
export const MessageTypes = {
  transaction: jsonType<Transaction>('fraud.types/Transaction'),
  confirmedFraud: jsonType<ConfirmedFraud>('fraud.types/ConfirmedFraud'),
  reportExpired: jsonType<ReportExpired>('fraud.types/ReportExpired'),
  countQuery: jsonType<CountQuery>('fraud.types/CountQuery'),
  countReply: jsonType<CountReply>('fraud.types/CountReply'),
  merchantQuery: jsonType<MerchantQuery>('fraud.types/MerchantQuery'),
  merchantScoreReply: jsonType<MerchantScoreReply>('fraud.types/MerchantScoreReply'),
  scoreRequest: jsonType<ScoreRequest>('fraud.types/ScoreRequest'),
  scoreReply: jsonType<ScoreReply>('fraud.types/ScoreReply'),
  fraudAlert: jsonType<FraudAlert>('fraud.types/FraudAlert'),
} as const;

/** Function types and the egress of the application. */
export const FraudTypes = {
  count: 'fraud/count',
  merchantScorer: 'fraud/merchant-scorer',
  transactionManager: 'fraud/transaction-manager',
  model: 'fraud/model',
  alerts: 'fraud/alerts',
} as const;

/** Ingress names: `transactions` (key = transaction id), `confirmed-fraud` (key = account id). */
export const FraudIngresses = {
  transactions: 'transactions',
  confirmedFraud: 'confirmed-fraud',
} as const;

/**
 * `value` as a typed value of `type`, e.g. for {@link LocalRuntime.ingest}.
 *
 * @example
 * runtime.ingest('transactions', tx.transactionId, typedValueOf(MessageTypes.transaction, tx));
 */
export function typedValueOf<T>(type: Type<T>, value: T): TypedValue {
  return { typename: type.typename, value: type.serialize(value) };
}

/**
 * Reads a typed value of `type`.
 *
 * @throws TypeError when the value has another type name or is absent.
 */
export function valueOf<T>(type: Type<T>, typed: TypedValue): T {
  if (typed.typename !== type.typename || typed.value === null) {
    throw new TypeError(`expected a ${type.typename} value, got ${typed.value === null ? 'an absent value' : typed.typename}`);
  }
  return type.deserialize(typed.value);
}
