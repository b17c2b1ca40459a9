import { createHash } from 'node:crypto';
import { Address } from './Address';
import type { DeadLetter } from './AddressState';
import type { PayloadStore } from './ports/PayloadStore';

/**
 * A dead letter as JSON, the form the dead-letter queue and the payload store keep:
 * addresses as strings, bytes as base64.
 *
 * @example
 * await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: deadLetterJson(deadLetter) }));
 */
export function deadLetterJson(deadLetter: DeadLetter): string {
  return JSON.stringify(deadLetter, function (this: Record<string, unknown>, key, value: unknown) {
    const original = this[key];
    if (original instanceof Address) return original.key;
    if (original instanceof Uint8Array) return Buffer.from(original).toString('base64');
    return value;
  });
}

/**
 * Keeps `deadLetter` whole in `payloads` and answers its stub: the same dead letter without
 * the value of its message (or egress record), with `payloadRef` saying where the whole one
 * is. The key derives from the dead letter's id, so doing it again stores the same object.
 *
 * @example
 * const stub = await offloadDeadLetter(deadLetter, payloads); // small whatever the message
 */
export async function offloadDeadLetter(deadLetter: DeadLetter, payloads: PayloadStore): Promise<DeadLetter> {
  const key = `dead-letters/${createHash('sha256').update(deadLetter.id).digest('base64url')}.json`;
  const payloadRef = await payloads.put(key, Buffer.from(deadLetterJson(deadLetter), 'utf8'));
  const { id, address, reason, atMs } = deadLetter;
  if ('envelope' in deadLetter) {
    const envelope = { ...deadLetter.envelope, argument: { typename: deadLetter.envelope.argument.typename, value: null } };
    return { id, address, reason, atMs, payloadRef, envelope };
  }
  const egressRecord = { ...deadLetter.egressRecord, argument: { typename: deadLetter.egressRecord.argument.typename, value: null } };
  return { id, address, reason, atMs, payloadRef, egressRecord };
}
