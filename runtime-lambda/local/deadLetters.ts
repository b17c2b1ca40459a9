import { Address } from '../core/Address';
import type { Envelope, Origin } from '../core/Envelope';
import { InvalidInputError } from '../core/errors';
import { UNDECODABLE_TYPE } from '../aws/kinesisRecords';

/** What a message on the dead-letter queue is. */
export type DeadLetterKind =
  /** A message that could not be applied: it can be redriven. */
  | 'message'
  /** An egress record that could not be delivered. */
  | 'egress'
  /** A stream record that did not decode (kept whole in the message): fix it at its producer. */
  | 'undecodable'
  /** A batch an event source mapping skipped: only its shard and sequence numbers. */
  | 'skipped-batch'
  /** Anything else: shown as it is. */
  | 'unknown';

/** One message of the dead-letter queue, read. */
export interface DeadLetterView {
  /** The SQS message id. */
  readonly messageId: string;
  readonly kind: DeadLetterKind;
  /** The dead letter's id (the message id it carries), or the SQS message id. */
  readonly id: string;
  /** The address (or egress) it was meant for, `-` when unknown. */
  readonly address: string;
  readonly reason: string;
  /** When it became a dead letter, epoch ms, when known. */
  readonly atMs?: number;
  /** For `message`: the message as it was sent. */
  readonly envelope?: Envelope;
  /** The SQS body as it is. */
  readonly body: string;
  /**
   * Set when the body is the stub of a dead letter too large for the queue: the whole one is
   * in the payload store at this reference (read it with {@link readDeadLetter} again).
   */
  readonly payloadRef?: string;
}

/**
 * Reads the body of a dead-letter queue message: a dead letter the relay wrote
 * (`deadLetterJson`), or an event source mapping's record of a skipped batch; anything else
 * is `unknown`, never an error.
 */
export function readDeadLetter(messageId: string, body: string): DeadLetterView {
  const base = { messageId, body, id: messageId, address: '-' };
  let json: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(body);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
    json = parsed as Record<string, unknown>;
  } catch {
    return { ...base, kind: 'unknown', reason: 'the body is not a JSON object' };
  }
  if (json.requestContext !== undefined && (json.KinesisBatchInfo !== undefined || json.DDBStreamBatchInfo !== undefined)) {
    const info = (json.KinesisBatchInfo ?? json.DDBStreamBatchInfo) as Record<string, unknown>;
    const condition = (json.requestContext as Record<string, unknown>).condition ?? 'unknown condition';
    return {
      ...base,
      kind: 'skipped-batch',
      address: String(info.streamArn ?? '-'),
      reason: `the event source mapping skipped a batch (${String(condition)}): shard ${String(info.shardId ?? '?')}, sequence numbers ${String(info.startSequenceNumber ?? '?')} to ${String(info.endSequenceNumber ?? '?')}`,
    };
  }
  if (typeof json.id !== 'string' || typeof json.reason !== 'string' || typeof json.address !== 'string') {
    return { ...base, kind: 'unknown', reason: 'not a dead letter of this runtime (no "id", "address" and "reason")' };
  }
  const common = {
    ...base,
    id: json.id,
    address: json.address,
    reason: json.reason,
    ...(typeof json.atMs === 'number' ? { atMs: json.atMs } : {}),
    ...(typeof json.payloadRef === 'string' ? { payloadRef: json.payloadRef } : {}),
  };
  if (json.egressRecord !== undefined) return { ...common, kind: 'egress' };
  try {
    const envelope = envelopeFromJson(json.envelope);
    return { ...common, kind: envelope.target.typename === UNDECODABLE_TYPE ? 'undecodable' : 'message', envelope };
  } catch (error) {
    return { ...common, kind: 'unknown', reason: `${json.reason} (its envelope does not read: ${(error as Error).message})` };
  }
}

/**
 * The message to put on the message stream to redrive a dead letter: the same message, to
 * the address it was meant for, re-originated as a record of the source `redrive/<id>`.
 * Its own source makes it new to its receiver (it was consumed as a dead letter), and the
 * same source every time makes a second redrive of the same dead letter a duplicate.
 * A wake-up dead-lettered because its receiver's state could not be read (`UNREADABLE_STATE`)
 * goes back as the same wake-up: its message is still in the receiver's inbox, applied once.
 *
 * @throws {@link InvalidInputError} for a dead letter that is not a message.
 */
export function redriveEnvelope(deadLetter: DeadLetterView): Envelope {
  if (deadLetter.kind !== 'message' || deadLetter.envelope === undefined) {
    throw new InvalidInputError(`dead letter ${deadLetter.id} is ${deadLetter.kind === 'undecodable' ? 'a record that did not decode: fix it at its producer and put it on its stream again' : `of kind "${deadLetter.kind}": only messages are redriven`}`);
  }
  if (deadLetter.payloadRef !== undefined) {
    throw new InvalidInputError(`dead letter ${deadLetter.id} is a stub: its message is at ${deadLetter.payloadRef}; read that first`);
  }
  const sent = deadLetter.envelope;
  if (sent.origin.kind === 'function' && sent.argument.value === null && deadLetter.reason.startsWith('UNREADABLE_STATE')) return sent;
  const source = `redrive/${deadLetter.id}`;
  return {
    id: source,
    target: sent.forwardTo ?? sent.target,
    ...(sent.caller ? { caller: sent.caller } : {}),
    argument: sent.argument,
    origin: { kind: 'ingress', source, position: '1' },
  };
}

function envelopeFromJson(raw: unknown): Envelope {
  const e = raw as Record<string, unknown> | undefined;
  if (e === undefined || e === null || typeof e !== 'object') throw new Error('no "envelope" object');
  const argument = e.argument as { typename?: unknown; value?: unknown } | undefined;
  if (typeof e.id !== 'string' || typeof e.target !== 'string' || typeof argument?.typename !== 'string') {
    throw new Error('it needs "id", "target" and "argument.typename"');
  }
  if (argument.value !== null && typeof argument.value !== 'string') throw new Error('"argument.value" must be base64 or null');
  const origin = e.origin as Origin | undefined;
  if (origin === undefined || !['ingress', 'function', 'timer'].includes((origin as { kind?: string }).kind ?? '')) throw new Error('"origin" must have a kind');
  return {
    id: e.id,
    target: Address.parse(e.target),
    ...(typeof e.caller === 'string' ? { caller: Address.parse(e.caller) } : {}),
    argument: { typename: argument.typename, value: argument.value === null ? null : new Uint8Array(Buffer.from(argument.value as string, 'base64')) },
    origin,
    ...(typeof e.forwardTo === 'string' ? { forwardTo: Address.parse(e.forwardTo) } : {}),
  };
}
