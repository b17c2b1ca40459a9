import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { Address } from '../core/Address';
import type { AddressState, DeadLetter } from '../core/AddressState';
import type { ScheduledTimer } from '../core/Effects';
import type { Envelope } from '../core/Envelope';
import type { InboxEntry } from '../core/Inbox';
import { InvalidInputError } from '../core/errors';
import { fromRichJson, toRichJson } from '../core/richJson';

/**
 * Format version of a snapshot file: 2 adds inboxes, 3 the log's records not yet dispatched.
 * An older file is read as having none of what it lacks.
 */
const SNAPSHOT_FORMAT = 3;

/**
 * Everything durable about a {@link LocalRuntime} between two dispatch rounds (no dispatch
 * under way, its outbox relayed): what it takes to go on after a restart as if it had never
 * stopped.
 */
export interface LocalSnapshot {
  /** The clock when it was taken (a simulated clock resumes from here). */
  readonly clockMs: number;
  /** The next offset of each log partition: ingress positions go on, so no record is taken for a duplicate. */
  readonly logOffsets: readonly number[];
  /** The records of each log partition not yet dispatched, in order (empty when idle). */
  readonly log: readonly (readonly Envelope[])[];
  /** The next position of messages sent from outside (`LocalRuntime.send`). */
  readonly externalSeq: number;
  readonly states: readonly AddressState[];
  /** Messages committed by their senders and not yet applied by their receivers. */
  readonly inbox: readonly InboxEntry[];
  /** Pending delayed messages and when each is delivered. */
  readonly timers: readonly { readonly timer: ScheduledTimer; readonly fireAtMs: number }[];
  readonly deadLetters: readonly DeadLetter[];
}

/**
 * Writes `snapshot` to `file` so that a crash at any moment leaves either the previous
 * snapshot or this one: a temporary file next to it, flushed to disk, then renamed over it.
 */
export function writeSnapshot(file: string, snapshot: LocalSnapshot): void {
  const temporary = `${file}.${process.pid}.tmp`;
  const fd = openSync(temporary, 'w');
  try {
    writeSync(fd, toRichJson({ statefunLocalSnapshot: SNAPSHOT_FORMAT, ...snapshot }));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, file);
}

/**
 * Reads the snapshot in `file`, or `undefined` when there is no such file (a first start).
 *
 * @throws {@link InvalidInputError} naming the file and what is wrong, for a file that is not
 * a snapshot this runtime wrote; nothing is changed, so the file can be inspected or moved away.
 */
export function readSnapshot(file: string): LocalSnapshot | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const invalid = (what: string) =>
    new InvalidInputError(`state file ${file} is not a snapshot of this runtime: ${what}; move it away to start with empty state, or point stateFile elsewhere`);
  let raw: unknown;
  try {
    raw = fromRichJson(text);
  } catch (error) {
    throw invalid(`it does not parse (${(error as Error).message})`);
  }
  const snapshot = raw as { -readonly [K in keyof LocalSnapshot]?: LocalSnapshot[K] } & { statefunLocalSnapshot?: unknown };
  if (snapshot === null || typeof snapshot !== 'object' || ![1, 2, SNAPSHOT_FORMAT].includes(snapshot.statefunLocalSnapshot as number)) {
    throw invalid(`expected an object with "statefunLocalSnapshot": ${SNAPSHOT_FORMAT}`);
  }
  // Versions 1 and 2 were written idle only: their log was empty.
  if (snapshot.statefunLocalSnapshot !== SNAPSHOT_FORMAT) snapshot.log = (snapshot.logOffsets ?? []).map(() => []);
  if (snapshot.statefunLocalSnapshot === 1) {
    // Version 1 kept no inboxes: its states have applied none.
    snapshot.inbox = [];
    if (Array.isArray(snapshot.states)) snapshot.states = snapshot.states.map((state) => ({ ...state, inboxApplied: new Set<string>() }));
  }
  const wholeNumber = (n: unknown) => Number.isSafeInteger(n) && (n as number) >= 0;
  if (!wholeNumber(snapshot.clockMs) || !wholeNumber(snapshot.externalSeq)) throw invalid('"clockMs" and "externalSeq" must be whole numbers');
  if (!Array.isArray(snapshot.logOffsets) || !snapshot.logOffsets.every(wholeNumber)) throw invalid('"logOffsets" must be a list of whole numbers');
  if (!Array.isArray(snapshot.log) || snapshot.log.length !== snapshot.logOffsets.length || !snapshot.log.every((records) => Array.isArray(records) && records.every(isEnvelope))) {
    throw invalid('"log" must hold, for each partition of "logOffsets", a list of messages');
  }
  if (!Array.isArray(snapshot.states) || !snapshot.states.every(isAddressState)) throw invalid('"states" must be a list of address states');
  if (!Array.isArray(snapshot.timers) || !snapshot.timers.every((t) => wholeNumber(t?.fireAtMs) && typeof t.timer?.timerId === 'string' && t.timer.envelope?.target instanceof Address)) {
    throw invalid('"timers" must be a list of { timer, fireAtMs }');
  }
  if (!Array.isArray(snapshot.deadLetters)) throw invalid('"deadLetters" must be a list');
  if (!Array.isArray(snapshot.inbox) || !snapshot.inbox.every(isInboxEntry)) throw invalid('"inbox" must be a list of inbox entries');
  return snapshot as LocalSnapshot;
}

function isAddressState(state: unknown): state is AddressState {
  const s = state as Partial<AddressState> | null;
  return (
    s !== null &&
    typeof s === 'object' &&
    s.address instanceof Address &&
    Number.isSafeInteger(s.version) &&
    Number.isSafeInteger(s.epochMs) &&
    s.values instanceof Map &&
    [...s.values.values()].every((v) => typeof v?.typename === 'string' && v.value instanceof Uint8Array) &&
    s.marks instanceof Map &&
    s.timers instanceof Map &&
    s.inboxApplied instanceof Set &&
    (s.backoff === undefined || (typeof s.backoff === 'object' && Number.isSafeInteger(s.backoff.retryAtMs) && typeof s.backoff.timerId === 'string'))
  );
}

function isInboxEntry(entry: unknown): entry is InboxEntry {
  const e = entry as Partial<InboxEntry> | null;
  return (
    e !== null &&
    typeof e === 'object' &&
    typeof e.key === 'string' &&
    e.target instanceof Address &&
    Array.isArray(e.envelopes) &&
    e.envelopes.every(isEnvelope)
  );
}

function isEnvelope(envelope: unknown): envelope is Envelope {
  const e = envelope as Partial<Envelope> | null;
  return e !== null && typeof e === 'object' && e.target instanceof Address && typeof e.id === 'string';
}
