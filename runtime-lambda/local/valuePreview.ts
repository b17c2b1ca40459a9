import type { TypedValue } from '../core/TypedValue';
import { Types } from '../sdk/Types';

const BUILT_IN = new Map<string, (bytes: Uint8Array) => unknown>(Object.values(Types).map((type) => [type.typename, (bytes) => type.deserialize(bytes)]));
const utf8 = new TextDecoder('utf-8', { fatal: true });
const MAX_CHARS = 120;

/**
 * A value in a few words for a log line: a built-in type decoded (`"Bob"`, `42`), other text
 * as it is (JSON, say), anything else as its size; cut at 120 characters.
 *
 * @example
 * valuePreview({ typename: 'example/GreetRequest', value: Buffer.from('{"name":"Bob"}') }); // '{"name":"Bob"}'
 */
export function valuePreview(value: TypedValue): string {
  if (value.value === null) return '(no value)';
  const builtIn = BUILT_IN.get(value.typename);
  let text: string;
  try {
    text = builtIn ? JSON.stringify(builtIn(value.value), (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) : utf8.decode(value.value);
  } catch {
    return `<${value.value.byteLength} bytes>`;
  }
  // eslint-disable-next-line no-control-regex
  if (!builtIn && /[\u0000-\u0008\u000e-\u001f]/.test(text)) return `<${value.value.byteLength} bytes>`;
  const oneLine = text.replace(/\s*\n\s*/g, ' ');
  return oneLine.length > MAX_CHARS ? `${oneLine.slice(0, MAX_CHARS)}…` : oneLine;
}
