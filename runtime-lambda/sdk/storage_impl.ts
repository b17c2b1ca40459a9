import { InvalidInputError } from '../core/errors';
import type { StateMutation } from '../core/Invocation';
import type { TypedValue } from '../core/TypedValue';
import { TypeMismatchError, UnknownStateError } from './errors';
import { builtInWireValue } from './Types';
import type { ValueSpec } from './ValueSpec';

/*
 * Internal: the address-scoped storage behind `ctx.storage`: a Proxy over the batch's
 * cells, with one handler per function definition (measured faster than building an object
 * with accessors per batch). Unknown names throw UnknownStateError; `Object.keys`, spread and
 * JSON.stringify see the declared names.
 */

/** Names looked up by the runtime itself (inspection, promises, JSON), answered `undefined`. */
const INTRINSIC = new Set(['then', 'toJSON', 'constructor', 'toString', 'valueOf', 'inspect', 'asymmetricMatch', '$$typeof']);

/**
 * One state value during a batch. A built-in type's value (immutable) is decoded at most
 * once and, when written, serialized once, by {@link mutation}; it reads back as the wire
 * would give it. Other types are decoded on every read and serialized on every write, so
 * a mutable value read or written is never shared with the stored one.
 */
export class Cell {
  mutated = false;
  private readonly wireValue: ((value: unknown) => unknown) | undefined;
  /** Whether `decoded` holds the value (built-in types only). */
  private isDecoded = false;
  private decoded: unknown = null;
  /** A built-in value assigned and not serialized yet. */
  private unserialized: unknown = null;

  constructor(
    readonly spec: ValueSpec<unknown>,
    private current: TypedValue | null,
    private readonly fnType: string,
  ) {
    this.wireValue = builtInWireValue(spec.type);
  }

  get(): unknown {
    if (this.isDecoded) return this.decoded;
    const current = this.current;
    if (current === null || current.value === null) return null;
    if (current.typename !== this.spec.typename) {
      throw new TypeMismatchError(this.spec.typename, current.typename, `state "${this.spec.name}" of function ${this.fnType}`);
    }
    const value = this.spec.type.deserialize(current.value);
    if (this.wireValue !== undefined) {
      this.decoded = value;
      this.isDecoded = true;
    }
    return value;
  }

  set(value: unknown): void {
    if (value === null || value === undefined) {
      this.current = null;
      this.unserialized = null;
      this.decoded = null;
      this.isDecoded = true;
    } else if (this.wireValue !== undefined) {
      this.decoded = this.wireValue(value);
      this.isDecoded = true;
      this.unserialized = value;
    } else {
      this.current = { typename: this.spec.typename, value: this.serialize(value) };
    }
    this.mutated = true;
  }

  mutation(): StateMutation {
    if (this.unserialized !== null) {
      this.current = { typename: this.spec.typename, value: this.serialize(this.unserialized) };
      this.unserialized = null;
    }
    return { name: this.spec.name, value: this.current };
  }

  private serialize(value: unknown): Uint8Array {
    const bytes = this.spec.type.serialize(value);
    if (!(bytes instanceof Uint8Array)) {
      throw new InvalidInputError(`state "${this.spec.name}": the serializer of ${this.spec.typename} did not return bytes`);
    }
    return bytes;
  }
}

interface Target {
  readonly cells: Cell[];
}

/** Builds storages for one function definition. */
export class StorageFactory {
  private readonly handler: ProxyHandler<Target>;

  constructor(fnType: string, specs: readonly ValueSpec<unknown>[]) {
    const declared = specs.map((s) => s.name);
    const index = new Map(declared.map((name, i) => [name, i]));
    const reject = (key: string | symbol): never => {
      throw new UnknownStateError(fnType, String(key), declared);
    };
    this.handler = {
      get: (target, key) => {
        const i = typeof key === 'string' ? index.get(key) : undefined;
        if (i !== undefined) return target.cells[i].get();
        return typeof key === 'symbol' || INTRINSIC.has(key) ? undefined : reject(key);
      },
      set: (target, key, value) => {
        const i = typeof key === 'string' ? index.get(key) : undefined;
        if (i === undefined) return reject(key);
        target.cells[i].set(value);
        return true;
      },
      has: (_target, key) => typeof key === 'string' && index.has(key),
      deleteProperty: (target, key) => {
        const i = typeof key === 'string' ? index.get(key) : undefined;
        if (i === undefined) return reject(key);
        target.cells[i].set(null);
        return true;
      },
      ownKeys: () => [...declared],
      getOwnPropertyDescriptor: (target, key) => {
        const i = typeof key === 'string' ? index.get(key) : undefined;
        if (i === undefined) return undefined;
        return { value: target.cells[i].get(), writable: true, enumerable: true, configurable: true };
      },
      defineProperty: (_target, key) => reject(key),
      setPrototypeOf: () => false,
    };
  }

  create(cells: Cell[]): object {
    return new Proxy<Target>({ cells }, this.handler);
  }
}
