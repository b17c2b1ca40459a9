import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { Effects } from '../core/Effects';
import { TerminalError } from '../core/errors';
import { fromRichJson, toRichJson } from '../core/richJson';

/** Format byte: UTF-8 JSON as is. */
const PLAIN_JSON = 1;
/** Format byte: raw-deflated UTF-8 JSON. */
const DEFLATED_JSON = 2;
/** Below this, deflating rarely pays for its header. */
const DEFLATE_FROM_BYTES = 512;

/**
 * Serializes the effects of one commit into the compact bytes of one outbox item: JSON in
 * which every `Uint8Array` becomes `{"$b": base64}` and every `Address` becomes
 * `{"$a": "namespace/type/id"}` ({@link toRichJson}), raw-deflated when that makes it
 * smaller. The first byte tells the format, so the relay reads both.
 *
 * @example
 * const bytes = encodeEffects(effects);
 * decodeEffects(bytes); // deep-equal to effects
 */
export function encodeEffects(effects: Effects): Uint8Array {
  const json = Buffer.from(toRichJson(effects), 'utf8');
  if (json.byteLength >= DEFLATE_FROM_BYTES) {
    const deflated = deflateRawSync(json);
    if (deflated.byteLength < json.byteLength) return frame(DEFLATED_JSON, deflated);
  }
  return frame(PLAIN_JSON, json);
}

/**
 * Reads back what {@link encodeEffects} wrote.
 *
 * @throws {@link TerminalError} (code `MALFORMED_OUTBOX_ITEM`) for bytes it did not write.
 */
export function decodeEffects(bytes: Uint8Array): Effects {
  try {
    const body = Buffer.from(bytes.buffer, bytes.byteOffset + 1, bytes.byteLength - 1);
    const json =
      bytes[0] === PLAIN_JSON ? body : bytes[0] === DEFLATED_JSON ? inflateRawSync(body) : undefined;
    if (json === undefined) throw new Error(`unknown format byte ${bytes[0]}`);
    return fromRichJson(json.toString('utf8')) as Effects;
  } catch (error) {
    throw new TerminalError(
      `outbox effects of ${bytes.byteLength} bytes cannot be decoded (${(error as Error).message}): the item was not written by this runtime's encodeEffects, or is corrupt; inspect it and delete or repair it`,
      { cause: error, code: 'MALFORMED_OUTBOX_ITEM' },
    );
  }
}

function frame(format: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(body.byteLength + 1);
  out[0] = format;
  out.set(body, 1);
  return out;
}
