import { Address } from '../../runtime-lambda/core/Address';
import type { AddressState, StoredValue } from '../../runtime-lambda/core/AddressState';
import { type Effects, NO_EFFECTS } from '../../runtime-lambda/core/Effects';
import type { Envelope } from '../../runtime-lambda/core/Envelope';
import type { Commit } from '../../runtime-lambda/core/ports/StateStore';
import type { TypedValue } from '../../runtime-lambda/core/TypedValue';

/** A UTF-8 typed value of type `test/text`. */
export function textValue(text: string): TypedValue {
  return { typename: 'test/text', value: new TextEncoder().encode(text) };
}

/** Reads back a {@link textValue}. */
export function readText(value: TypedValue | StoredValue | undefined): string | undefined {
  return value?.value ? new TextDecoder().decode(value.value) : undefined;
}

/** An ingress envelope for `target` at `position` of `source`. */
export function ingressEnvelope(target: Address | string, position: number | string, text: string, source = 'in/0'): Envelope {
  const address = typeof target === 'string' ? Address.parse(target) : target;
  return {
    id: `${source}/${position}`,
    target: address,
    argument: textValue(text),
    origin: { kind: 'ingress', source, position: String(position) },
  };
}

/** A fully populated state: values with and without expiry, 56-digit marks, timers. */
export function richState(address: Address, version: number): AddressState {
  return {
    address,
    version,
    epochMs: 1_767_225_600_000,
    values: new Map<string, StoredValue>([
      ['count', { typename: 'io.statefun.types/int', value: new Uint8Array([13, 7, 0, 0, 0]), touchedAtMs: 1_767_225_600_123 }],
      [
        'session',
        {
          typename: 'test/text',
          value: new TextEncoder().encode('héllo'),
          touchedAtMs: 1_767_225_600_456,
          expiration: { mode: 'after-invoke', afterMs: 60_000 },
        },
      ],
      ['empty', { typename: 'test/text', value: new Uint8Array(0), touchedAtMs: 1, expiration: { mode: 'after-write', afterMs: 5 } }],
    ]),
    marks: new Map([
      ['transactions/shardId-000000000001', { position: '49650012345678901234567890123456789012345678901234567890', atMs: 1_767_225_600_000 }],
      ['fraud/count/acct-1', { position: '12345', atMs: 1_767_225_600_001 }],
    ]),
    timers: new Map([
      ['batch1.t0', { dueAtMs: 1_769_817_600_000, version: 3, cancellationToken: 'report-7' }],
      ['batch1.t1', { dueAtMs: 1_769_817_600_001 }],
    ]),
    inboxApplied: new Set(['fraud/count/acct-1 0000000000000000000000000000000000012345']),
  };
}

/** Effects of every kind, for `address`. */
export function richEffects(address: Address): Effects {
  const other = Address.of('test/other', 'x');
  return {
    messages: [
      { id: 'b.m0', target: other, caller: address, argument: textValue('one'), origin: { kind: 'function', source: address.key, position: '4096' } },
    ],
    timers: [
      {
        timerId: 'b.t0',
        dueAtMs: 1_769_817_600_000,
        envelope: { id: 'b.t0', target: address, caller: address, argument: textValue('later'), origin: { kind: 'timer', timerId: 'b.t0' }, forwardTo: other },
      },
    ],
    cancelledTimers: [{ timerId: 'a.t3', owner: address }],
    egress: [{ id: 'b.e0', egress: 'test/alerts', argument: textValue('alert') }],
    deadLetters: [
      { id: 'in/0/9', address: address.key, reason: 'Error: boom', atMs: 5, envelope: ingressEnvelope(address, 9, 'poison') },
    ],
  };
}

/** A commit of `state` from `expectedVersion`, with the given effects. */
export function commitOf(state: AddressState, expectedVersion: number, effects: Effects = NO_EFFECTS, token = `tok-${state.address.key}-${expectedVersion}`): Commit {
  return { address: state.address, expectedVersion, state, effects, token };
}

