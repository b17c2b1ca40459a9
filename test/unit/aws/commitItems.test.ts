import { Address } from '../../../runtime-lambda/core/Address';
import { NO_EFFECTS } from '../../../runtime-lambda/core/Effects';
import { CommitTooLargeError } from '../../../runtime-lambda/core/errors';
import { OUTBOX_ATTR, commitItems, fencePartitionOf } from '../../../runtime-lambda/aws/commitItems';
import { commitOf, richEffects, richState, textValue } from '../../helpers/factories';

const S = Address.of('test/sender', 's1');
const TOKEN = 't'.repeat(36);

describe('Function: commitItems', () => {
  it('writes one state item and nothing else for a commit without effects', () => {
    // Act
    const items = commitItems(commitOf(richState(S, 1), 0), TOKEN);

    // Assess
    expect(items.outboxItem).toBeUndefined();
    expect(items.inboxMarkers).toEqual([]);
    expect(items.egressFence).toBeUndefined();
    expect(items.stateItem.address).toEqual({ S: S.key });
  });

  it('adds a marker per receiver and, with egress, a fence the outbox item names', () => {
    // Prepare
    const state = richState(S, 3);
    const base = richEffects(S).messages[0]!;
    const messages = ['r1', 'r2', 'r1'].map((id, i) => ({ ...base, id: `b.m${i}`, target: Address.of('test/other', id), origin: { kind: 'function' as const, source: S.key, position: String(4096 + i) } }));

    // Act
    const items = commitItems(commitOf(state, 2, { ...richEffects(S), messages }), TOKEN);

    // Assess
    expect(items.inboxMarkers.map((m) => [m.address!.S, m.version!.N, m.token!.S])).toEqual([
      ['test/other/r1', '3', TOKEN],
      ['test/other/r2', '3', TOKEN],
    ]);
    expect(items.egressFence?.address).toEqual({ S: fencePartitionOf(S.key) });
    expect(items.egressFence?.key).toEqual(items.outboxItem?.[OUTBOX_ATTR.egressFence]);
    expect(items.egressFence?.key?.S).toMatch(/^\d{40}$/);
  });

  it('refuses more receivers than a transaction holds: 98, or 97 when the commit has egress and so a fence', () => {
    // Prepare
    const base = richEffects(S).messages[0]!;
    const messages = (n: number) => Array.from({ length: n }, (_, i) => ({ ...base, id: `b.m${i}`, target: Address.of('test/other', `r${i}`) }));
    const egress = [{ id: 'b.e0', egress: 'test/out', argument: textValue('x') }];

    // Act
    const without = commitItems(commitOf(richState(S, 1), 0, { ...NO_EFFECTS, messages: messages(98) }), TOKEN);
    const withEgress = () => commitItems(commitOf(richState(S, 1), 0, { ...NO_EFFECTS, messages: messages(98), egress }), TOKEN);

    // Assess
    expect(without.inboxMarkers).toHaveLength(98);
    expect(withEgress).toThrow(CommitTooLargeError);
    expect(withEgress).toThrow('sent messages to 98 addresses; one commit reaches at most 97 (DynamoDB\'s 100 items per transaction, one of them the egress fence)');
  });
});
