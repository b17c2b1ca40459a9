import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { Address } from '../core/Address';
import type { AddressState, Backoff, Mark, PendingTimer, StoredValue } from '../core/AddressState';
import { TerminalError } from '../core/errors';
import { isPosition } from '../core/positions';
import type { Expiration } from '../core/ValueSpec';

/**
 * Attribute names of the state item (one item per address). The layout is documented in
 * `docs/dynamodb-layout.md`; names inside maps are short because they count toward the
 * 400 KB item size on every value, mark and timer.
 */
export const STATE_ATTR = {
  address: 'address',
  version: 'version',
  epochMs: 'epochMs',
  values: 'values',
  marks: 'marks',
  timers: 'timers',
  inboxApplied: 'inboxApplied',
  backoff: 'backoff',
  /** The earliest due time of the pending timers, epoch ms (absent without timers): what the reconciler scans for. */
  nextTimerDue: 'nextTimerDue',
  commitToken: 'commitToken',
  ttl: 'ttl',
} as const;

type Item = Record<string, AttributeValue>;

const EXPIRY_MODE = { 'after-write': 'w', 'after-invoke': 'i' } as const;

/**
 * The DynamoDB item of `state`. `commitToken` is the hashed token of the commit writing it
 * (lets a retried commit succeed idempotently); `ttlEpochSeconds` fills the optional `ttl`.
 */
export function encodeStateItem(state: AddressState, commitToken: string, ttlEpochSeconds?: number): Item {
  const values: Item = {};
  for (const [name, v] of state.values) {
    const entry: Item = { t: { S: v.typename }, v: { B: v.value }, at: num(v.touchedAtMs) };
    if (v.expiration) {
      entry.xm = { S: EXPIRY_MODE[v.expiration.mode] };
      entry.xa = num(v.expiration.afterMs);
    }
    values[name] = { M: entry };
  }
  const marks: Item = {};
  for (const [source, m] of state.marks) marks[source] = { M: { p: { S: m.position }, at: num(m.atMs) } };
  const timers: Item = {};
  let nextTimerDue = Number.POSITIVE_INFINITY;
  for (const [id, t] of state.timers) {
    const entry: Item = { due: num(t.dueAtMs) };
    if (t.cancellationToken !== undefined) entry.ct = { S: t.cancellationToken };
    if (t.version !== undefined) entry.v = num(t.version);
    timers[id] = { M: entry };
    nextTimerDue = Math.min(nextTimerDue, t.dueAtMs);
  }
  const item: Item = {
    [STATE_ATTR.address]: { S: state.address.key },
    [STATE_ATTR.version]: num(state.version),
    [STATE_ATTR.epochMs]: num(state.epochMs),
    [STATE_ATTR.values]: { M: values },
    [STATE_ATTR.marks]: { M: marks },
    [STATE_ATTR.timers]: { M: timers },
    [STATE_ATTR.commitToken]: { S: commitToken },
  };
  if (state.timers.size > 0) item[STATE_ATTR.nextTimerDue] = num(nextTimerDue);
  // A string set cannot be empty: no attribute means none applied.
  if (state.inboxApplied.size > 0) item[STATE_ATTR.inboxApplied] = { SS: [...state.inboxApplied] };
  if (state.backoff !== undefined) {
    const b = state.backoff;
    item[STATE_ATTR.backoff] = { M: { since: num(b.sinceMs), n: num(b.attempts), at: num(b.retryAtMs), err: { S: b.lastError }, timer: { S: b.timerId } } };
  }
  if (ttlEpochSeconds !== undefined) item[STATE_ATTR.ttl] = num(Math.floor(ttlEpochSeconds));
  return item;
}

/**
 * Reads a state item back.
 *
 * @throws {@link TerminalError} (code `MALFORMED_STATE_ITEM`) naming the address, the
 * attribute path and what was found, when the item was not written by {@link encodeStateItem}.
 */
export function decodeStateItem(item: Item, tableName: string): AddressState {
  const key = item[STATE_ATTR.address]?.S ?? '(no address attribute)';
  const fail = (path: string, expected: string, found: AttributeValue | undefined): never => {
    throw new TerminalError(
      `state item ${JSON.stringify(key)} in table ${tableName} is malformed: attribute ${path} should be ${expected} but is ${describe(found)}; ` +
        'it was not written by DynamoStateStore (or by an incompatible version): repair or delete the item',
      { code: 'MALFORMED_STATE_ITEM' },
    );
  };
  const str = (path: string, v: AttributeValue | undefined): string => (v?.S !== undefined ? v.S : fail(path, 'a string (S)', v));
  const int = (path: string, v: AttributeValue | undefined): number => {
    const n = v?.N !== undefined ? Number(v.N) : NaN;
    return Number.isSafeInteger(n) && n >= 0 ? n : fail(path, 'a non-negative integer (N)', v);
  };
  const map = (path: string, v: AttributeValue | undefined): Item => (v?.M !== undefined ? v.M : fail(path, 'a map (M)', v));

  let address: Address;
  try {
    address = Address.parse(str(STATE_ATTR.address, item[STATE_ATTR.address]));
  } catch (error) {
    if (error instanceof TerminalError && error.code === 'MALFORMED_STATE_ITEM') throw error;
    return fail(STATE_ATTR.address, 'an address "namespace/type/id"', item[STATE_ATTR.address]);
  }

  const values = new Map<string, StoredValue>();
  for (const [name, raw] of Object.entries(map(STATE_ATTR.values, item[STATE_ATTR.values]))) {
    const path = `${STATE_ATTR.values}.${name}`;
    const entry = map(path, raw);
    const bytes = entry.v?.B;
    if (bytes === undefined) fail(`${path}.v`, 'binary (B)', entry.v);
    let expiration: Expiration | undefined;
    if (entry.xm !== undefined) {
      const mode = str(`${path}.xm`, entry.xm);
      if (mode !== 'w' && mode !== 'i') fail(`${path}.xm`, '"w" or "i"', entry.xm);
      expiration = { mode: mode === 'w' ? 'after-write' : 'after-invoke', afterMs: int(`${path}.xa`, entry.xa) };
    }
    const value: StoredValue = {
      typename: str(`${path}.t`, entry.t),
      value: bytes!,
      touchedAtMs: int(`${path}.at`, entry.at),
      ...(expiration ? { expiration } : {}),
    };
    values.set(name, value);
  }

  const marks = new Map<string, Mark>();
  for (const [source, raw] of Object.entries(map(STATE_ATTR.marks, item[STATE_ATTR.marks]))) {
    const path = `${STATE_ATTR.marks}.${source}`;
    const entry = map(path, raw);
    const position = str(`${path}.p`, entry.p);
    if (!isPosition(position)) fail(`${path}.p`, 'a decimal position', entry.p);
    marks.set(source, { position, atMs: int(`${path}.at`, entry.at) });
  }

  const timers = new Map<string, PendingTimer>();
  for (const [id, raw] of Object.entries(map(STATE_ATTR.timers, item[STATE_ATTR.timers]))) {
    const path = `${STATE_ATTR.timers}.${id}`;
    const entry = map(path, raw);
    const timer: PendingTimer = {
      dueAtMs: int(`${path}.due`, entry.due),
      ...(entry.v !== undefined ? { version: int(`${path}.v`, entry.v) } : {}),
      ...(entry.ct !== undefined ? { cancellationToken: str(`${path}.ct`, entry.ct) } : {}),
    };
    timers.set(id, timer);
  }

  const appliedAttr = item[STATE_ATTR.inboxApplied];
  if (appliedAttr !== undefined && appliedAttr.SS === undefined) fail(STATE_ATTR.inboxApplied, 'a string set (SS)', appliedAttr);

  let backoff: Backoff | undefined;
  if (item[STATE_ATTR.backoff] !== undefined) {
    const b = map(STATE_ATTR.backoff, item[STATE_ATTR.backoff]);
    const path = (name: string) => `${STATE_ATTR.backoff}.${name}`;
    backoff = {
      sinceMs: int(path('since'), b.since),
      attempts: int(path('n'), b.n),
      retryAtMs: int(path('at'), b.at),
      lastError: str(path('err'), b.err),
      timerId: str(path('timer'), b.timer),
    };
  }

  return {
    ...(backoff !== undefined ? { backoff } : {}),
    address,
    version: int(STATE_ATTR.version, item[STATE_ATTR.version]),
    epochMs: int(STATE_ATTR.epochMs, item[STATE_ATTR.epochMs]),
    values,
    marks,
    timers,
    inboxApplied: new Set(appliedAttr?.SS ?? []),
  };
}

function num(n: number): AttributeValue {
  return { N: String(n) };
}

function describe(v: AttributeValue | undefined): string {
  if (v === undefined) return 'missing';
  const [type, value] = Object.entries(v).find(([, x]) => x !== undefined) ?? ['?', undefined];
  const shown = value instanceof Uint8Array ? `<${value.byteLength} bytes>` : JSON.stringify(value);
  return `${type} ${shown && shown.length > 80 ? `${shown.slice(0, 77)}...` : shown}`;
}
