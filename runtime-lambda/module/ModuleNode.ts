import { InvalidInputError } from '../core/errors';
import { parseFlinkDuration } from './flinkDuration';

/**
 * One value of a module.yaml document, with where it is: every read names the file, the
 * document, its kind and the field path in its error, e.g. `module.yaml, document 2
 * (io.statefun.endpoints.v2/http): spec.timeouts.call: expected a duration like "1 min" or
 * "30s", got "soon"`. A YAML `null` (a key with nothing after it) reads as absent.
 *
 * Internal to the module parser.
 */
export class ModuleNode {
  constructor(
    /** `module.yaml, document 2 (io.statefun.endpoints.v2/http)`. */
    readonly where: string,
    /** The field path from the document's root, e.g. `spec.timeouts.call`; `''` for the root. */
    readonly path: string,
    readonly value: unknown,
    /** Children that come from elsewhere (the legacy format moves `meta.id` into the spec). */
    private readonly overrides: ReadonlyMap<string, ModuleNode> = new Map(),
    /** The mapping key this node is the value of; `''` for the root and list items. */
    readonly key = '',
  ) {}

  get isAbsent(): boolean {
    return this.value === undefined || this.value === null;
  }

  /** The same node, named in errors as in `where`. */
  within(where: string): ModuleNode {
    return new ModuleNode(where, this.path, this.value, this.overrides, this.key);
  }

  /** The same node with `child(key)` answering `node`. */
  withChild(key: string, node: ModuleNode): ModuleNode {
    return new ModuleNode(this.where, this.path, this.value, new Map([...this.overrides, [key, node]]), this.key);
  }

  /** The error for this node: `<where>: <path>: <message>`. */
  error(message: string): InvalidInputError {
    return new InvalidInputError(`${this.where}: ${this.path === '' ? '' : `${this.path}: `}${message}`);
  }

  /** Throws that this node is not `what`, showing what it is. */
  expected(what: string): never {
    if (this.isAbsent) throw this.error(`missing: expected ${what}`);
    throw this.error(`expected ${what}, got ${show(this.value)}`);
  }

  child(key: string): ModuleNode {
    const override = this.overrides.get(key);
    if (override !== undefined) return override;
    const value = isMapping(this.value) ? this.value[key] : undefined;
    return new ModuleNode(this.where, this.path === '' ? key : `${this.path}.${key}`, value, undefined, key);
  }

  /**
   * Checks this is a mapping whose keys are all in `known` (an absent node passes, as an
   * empty mapping). `hints` replace the message for a known mistake.
   */
  mapping(known: readonly string[], what: string, hints: Readonly<Record<string, string>> = {}): this {
    if (this.isAbsent) return this;
    if (!isMapping(this.value)) this.expected(what);
    for (const key of Object.keys(this.value)) {
      if (known.includes(key) || this.overrides.has(key)) continue;
      throw this.child(key).error(hints[key] ?? `unknown field: expected one of ${known.join(', ')}`);
    }
    return this;
  }

  /** The keys of a mapping, as nodes. */
  entries(what: string): ModuleNode[] {
    if (this.isAbsent) return [];
    if (!isMapping(this.value)) this.expected(what);
    return Object.keys(this.value).map((key) => this.child(key));
  }

  /** The items of a list; an absent node is required unless `optional`. */
  items(what: string, { optional = false, nonEmpty = false } = {}): ModuleNode[] {
    if (this.isAbsent && optional) return [];
    if (!Array.isArray(this.value)) this.expected(what);
    if (nonEmpty && this.value.length === 0) throw this.error(`expected ${what}, got an empty list`);
    return this.value.map((item, index) => new ModuleNode(this.where, `${this.path}[${index}]`, item));
  }

  /** A non-empty string. */
  text(what = 'a string'): string {
    if (typeof this.value !== 'string' || this.value.trim() === '') this.expected(what);
    return this.value;
  }

  optionalText(what = 'a string'): string | undefined {
    return this.isAbsent ? undefined : this.text(what);
  }

  /** A string, number or boolean as text (Kafka and Kinesis client properties). */
  scalarText(what: string): string {
    const value = this.value;
    if (typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))) return String(value);
    this.expected(what);
  }

  /** A whole number in `[min, max]`; digits in a string are accepted, as StateFun's JSON mapper does. */
  integer(what: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
    const value = typeof this.value === 'string' && /^\d+$/.test(this.value) ? Number(this.value) : this.value;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) this.expected(what);
    return value;
  }

  optionalInteger(what: string, min: number, fallback: number, max?: number): number {
    return this.isAbsent ? fallback : this.integer(what, min, max);
  }

  /** A duration in ms, longer than 0 unless `allowZero`: Flink's syntax (`1 min`, `30s`, `2m`), or a number of ms. */
  duration(fallback: number, { allowZero = false } = {}): number {
    if (this.isAbsent) return fallback;
    const what = 'a duration like "1 min" or "30s"';
    const ms = parseFlinkDuration(this.value);
    if (ms === undefined) this.expected(what);
    if (ms === 0 && !allowZero) this.expected(`${what}, longer than 0`);
    return ms;
  }

  /** One of `choices`. */
  choice<T extends string>(choices: readonly T[], what: string): T {
    if (typeof this.value !== 'string' || !(choices as readonly string[]).includes(this.value)) {
      this.expected(`${what}: one of ${choices.join(', ')}`);
    }
    return this.value as T;
  }
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** How a bad value is shown in an error. */
function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object' && value !== null) return 'a mapping';
  return String(value);
}
