/**
 * Whether `text` is standard, padded base64 (RFC 4648 §4), as the Lambda payloads carry the
 * protocol bytes. Linear in the length: a regular expression with a repeated group would
 * overflow the stack on the multi-megabyte payloads Lambda allows.
 */
export function isStandardBase64(text: string): boolean {
  return text.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(text);
}
