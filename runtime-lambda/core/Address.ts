import { InvalidInputError } from './errors';

/**
 * A function type name, `namespace/type`, e.g. `fraud/transaction-manager`.
 * Branded so that a plain string cannot be passed where a validated one is expected.
 */
export type Typename = string & { readonly __brand: 'Typename' };

const NAME_PART = /^[A-Za-z0-9._-]+$/;

/** Type names already validated: an application has few, and every decoded address repeats one. */
const validTypenames = new Set<string>();
const MAX_REMEMBERED_TYPENAMES = 10_000;

/**
 * Validates `text` as a `namespace/type` name.
 *
 * @example
 * const tn = typename('fraud/model');
 */
export function typename(text: string): Typename {
  if (validTypenames.has(text)) return text as Typename;
  const slash = text.indexOf('/');
  const namespace = text.slice(0, slash);
  const type = text.slice(slash + 1);
  if (slash <= 0 || !NAME_PART.test(namespace) || !NAME_PART.test(type)) {
    throw new InvalidInputError(
      `invalid type name ${JSON.stringify(text)}: expected "namespace/type" with letters, digits, ".", "_" or "-" in each part, e.g. "fraud/model"`,
    );
  }
  if (validTypenames.size < MAX_REMEMBERED_TYPENAMES) validTypenames.add(text);
  return text as Typename;
}

/**
 * Type names already validated, by namespace then type: decoding an address then builds no
 * `namespace/type` string just to look it up.
 */
const typenamesByParts = new Map<string, Map<string, Typename>>();
let typenamesByPartsCount = 0;

function typenameOfParts(namespace: string, type: string): Typename {
  const known = typenamesByParts.get(namespace)?.get(type);
  if (known !== undefined) return known;
  const tn = typename(`${namespace}/${type}`);
  if (typenamesByPartsCount < MAX_REMEMBERED_TYPENAMES) {
    let types = typenamesByParts.get(namespace);
    if (types === undefined) typenamesByParts.set(namespace, (types = new Map()));
    types.set(type, tn);
    typenamesByPartsCount++;
  }
  return tn;
}

/**
 * The logical address of one function instance: `namespace/type/id`. The string form is
 * the partition key of the message stream, so every message to one address lands on one
 * shard, in order.
 *
 * @example
 * const account = Address.of('fraud/count', 'acct-42');
 * account.toString(); // 'fraud/count/acct-42'
 */
export class Address {
  /** `namespace/type/id`. */
  readonly key: string;
  /** The function type of this address, `namespace/type`. */
  readonly typename: Typename;

  private constructor(
    readonly namespace: string,
    readonly type: string,
    readonly id: string,
    typename: Typename,
  ) {
    this.typename = typename;
    this.key = `${typename}/${id}`;
  }

  /** The address of instance `id` of function type `fnType` (`namespace/type`). */
  static of(fnType: string, id: string): Address {
    const tn = typename(fnType);
    const slash = tn.indexOf('/');
    return Address.fromParts(tn.slice(0, slash), tn.slice(slash + 1), id);
  }

  /** Builds an address from its three parts, validating each. */
  static fromParts(namespace: string, type: string, id: string): Address {
    const tn = typenameOfParts(namespace, type);
    if (typeof id !== 'string' || id.length === 0) {
      throw new InvalidInputError(
        `invalid address ${JSON.stringify(`${namespace}/${type}/${id}`)}: the id must be a non-empty string`,
      );
    }
    return new Address(namespace, type, id, tn);
  }

  /** Parses `namespace/type/id`; the id may itself contain `/`. */
  static parse(text: string): Address {
    const first = text.indexOf('/');
    const second = first < 0 ? -1 : text.indexOf('/', first + 1);
    if (first <= 0 || second <= first + 1 || second === text.length - 1) {
      throw new InvalidInputError(
        `invalid address ${JSON.stringify(text)}: expected "namespace/type/id", e.g. "fraud/count/acct-42"`,
      );
    }
    return Address.fromParts(text.slice(0, first), text.slice(first + 1, second), text.slice(second + 1));
  }

  equals(other: Address | undefined): boolean {
    return other !== undefined && other.key === this.key;
  }

  toString(): string {
    return this.key;
  }

  toJSON(): string {
    return this.key;
  }
}
