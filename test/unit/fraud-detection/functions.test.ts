import { Address } from '../../../runtime-lambda/core/Address';
import type { InvocationRequest, InvocationResult } from '../../../runtime-lambda/core/Invocation';
import { Types } from '../../../runtime-lambda/sdk';
import { DAY_MS, fraudConfig } from '../../../functions/fraud-detection/config';
import { fraudFunctions } from '../../../functions/fraud-detection/functions';
import { FraudTypes, MessageTypes, type Transaction, typedValueOf, valueOf } from '../../../functions/fraud-detection/messages';

const registry = fraudFunctions(fraudConfig({ scoringUrl: 'http://127.0.0.1:9' }, {}));
const tx: Transaction = { transactionId: 'tx-1', accountId: 'acct-1', merchantId: 'm-1', amount: 4200, timeMs: Date.parse('2026-10-01T02:00:00Z') };
const manager = Address.of(FraudTypes.transactionManager, 'tx-1');
const count = Address.of(FraudTypes.count, 'acct-1');
const scorer = Address.of(FraudTypes.merchantScorer, 'm-1');
const absent = (name: string, typename: string) => ({ name, value: { typename, value: null } });

async function invoke(request: InvocationRequest): Promise<InvocationResult> {
  const response = await registry.invoke(request);
  if (response.kind !== 'result') throw new Error(`expected a result, got ${JSON.stringify(response)}`);
  return response;
}

describe('Function: transactionManager', () => {
  const emptyState = [
    absent('transaction', MessageTypes.transaction.typename),
    absent('fraudCount', Types.int.typename),
    absent('merchantScore', Types.double.typename),
  ];
  const countReply = { caller: count, argument: typedValueOf(MessageTypes.countReply, { accountId: 'acct-1', count: 1 }) };
  const scoreReply = {
    caller: scorer,
    argument: typedValueOf(MessageTypes.merchantScoreReply, { merchantId: 'm-1', score: 0.25, source: 'service' as const }),
  };

  it.each([
    ['count first', [countReply, scoreReply]],
    ['merchant score first', [scoreReply, countReply]],
  ])('asks the model once both replies are in (%s)', async (_, replies) => {
    // Prepare
    const request = { target: manager, state: emptyState, invocations: [{ argument: typedValueOf(MessageTypes.transaction, tx) }, ...replies] };

    // Act
    const result = await invoke(request);

    // Assess
    expect(result.messages.map((m) => [m.target.key, m.argument.typename])).toEqual([
      ['fraud/count/acct-1', 'fraud.types/CountQuery'],
      ['fraud/merchant-scorer/m-1', 'fraud.types/MerchantQuery'],
      ['fraud/model/tx-1', 'fraud.types/ScoreRequest'],
    ]);
    expect(valueOf(MessageTypes.scoreRequest, result.messages[2]!.argument)).toEqual({
      transactionId: 'tx-1',
      features: { fraudCount: 1, merchantScore: 0.25, amount: 4200, night: true },
    });
    expect(result.egress).toEqual([]);
  });

  it('declares its state to expire one day after the last write', async () => {
    // Prepare
    const request = { target: manager, state: [], invocations: [{ argument: typedValueOf(MessageTypes.transaction, tx) }] };

    // Act
    const response = await registry.invoke(request);

    // Assess
    expect(response).toEqual({
      kind: 'incomplete',
      missing: [
        { name: 'transaction', typename: 'fraud.types/Transaction', expiration: { mode: 'after-write', afterMs: DAY_MS } },
        { name: 'fraudCount', typename: 'io.statefun.types/int', expiration: { mode: 'after-write', afterMs: DAY_MS } },
        { name: 'merchantScore', typename: 'io.statefun.types/double', expiration: { mode: 'after-write', afterMs: DAY_MS } },
      ],
    });
  });
});

describe('Function: fraudCount', () => {
  it('counts a report and schedules its expiry 30 days later, to itself', async () => {
    // Prepare
    const report = typedValueOf(MessageTypes.confirmedFraud, { reportId: 'rep-1', accountId: 'acct-1', timeMs: 0 });

    // Act
    const result = await invoke({ target: count, state: [absent('count', Types.int.typename)], invocations: [{ argument: report }] });

    // Assess
    expect(result.mutations).toEqual([{ name: 'count', value: { typename: Types.int.typename, value: Types.int.serialize(1) } }]);
    expect(result.delayed).toEqual([
      { kind: 'send', delayMs: 30 * DAY_MS, target: count, argument: typedValueOf(MessageTypes.reportExpired, { reportId: 'rep-1' }) },
    ]);
  });

  it('deletes its count when the last report expires, and answers 0 to a query', async () => {
    // Prepare
    const state = [{ name: 'count', value: { typename: Types.int.typename, value: Types.int.serialize(1) } }];
    const expired = { argument: typedValueOf(MessageTypes.reportExpired, { reportId: 'rep-1' }) };
    const query = { caller: manager, argument: typedValueOf(MessageTypes.countQuery, { transactionId: 'tx-1' }) };

    // Act
    const result = await invoke({ target: count, state, invocations: [expired, query] });

    // Assess
    expect(result.mutations).toEqual([{ name: 'count', value: null }]);
    expect(result.messages).toEqual([{ target: manager, argument: typedValueOf(MessageTypes.countReply, { accountId: 'acct-1', count: 0 }) }]);
  });
});
