import { Address } from './Address';

/**
 * JSON for the runtime's own records (outbox effects, local snapshots), which hold bytes,
 * addresses, maps and sets: a `Uint8Array` is written `{"$b": base64}`, an {@link Address}
 * `{"$a": "namespace/type/id"}`, a `Map` `{"$m": [[key, value], ...]}` and a `Set`
 * `{"$s": [value, ...]}`; everything else
 * as `JSON.stringify` writes it.
 *
 * @example
 * const text = toRichJson({ to: Address.of('shop/cart', '42'), value: new Uint8Array([1]) });
 * fromRichJson(text); // { to: Address shop/cart/42, value: Uint8Array [1] }
 */
export function toRichJson(value: unknown): string {
  return JSON.stringify(value, function (this: Record<string, unknown>, key, converted: unknown) {
    const original = this[key];
    if (original instanceof Address) return { $a: original.key };
    if (original instanceof Uint8Array) return { $b: Buffer.from(original).toString('base64') };
    if (original instanceof Map) return { $m: [...original.entries()] };
    if (original instanceof Set) return { $s: [...original] };
    return converted;
  });
}

/**
 * Reads what {@link toRichJson} wrote.
 *
 * @throws `SyntaxError` for text that is not JSON, and the error of {@link Address.parse}
 * for a malformed address.
 */
export function fromRichJson(text: string): unknown {
  return JSON.parse(text, (_key, value: unknown) => {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
    const keys = Object.keys(value);
    if (keys.length !== 1) return value;
    const tagged = value as { $a?: unknown; $b?: unknown; $m?: unknown; $s?: unknown };
    if (typeof tagged.$a === 'string') return Address.parse(tagged.$a);
    if (typeof tagged.$b === 'string') return new Uint8Array(Buffer.from(tagged.$b, 'base64'));
    if (Array.isArray(tagged.$m)) return new Map(tagged.$m as [unknown, unknown][]);
    if (Array.isArray(tagged.$s)) return new Set(tagged.$s as unknown[]);
    return value;
  });
}
