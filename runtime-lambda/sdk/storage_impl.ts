import { InvalidInputError } from '../core/errors';
import type { StateMutation } from '../core/Invocation';
import type { TypedValue } from '../core/TypedValue';
import { TypeMismatchError, UnknownStateError } from './errors';
import type { ValueSpec } from './ValueSpec';

/*
 * Internal: the address-scoped storage behind `ctx.storage`.
 *
 * Each function definition gets one prototype with an accessor per declared state; the
 * prototype's own prototype is a Proxy that throws UnknownStateError for any other name,
 * so known names cost a plain accessor call and only mistakes reach the Proxy.
 */

const CELLS = Symbol('cells');

/** Names looked up by the runtime itself (inspection, promises, JSON), answered `undefined`. */
const INTRINSIC = new Set(['then', 'toJSON', 'constructor', 'toString', 'valueOf', 'inspect', 'asymmetricMatch', '$$typeof']);

/** One state value during a batch. */
export class Cell {
  mutated = false;

  constructor(
    readonly spec: ValueSpec<unknown>,
    private current: TypedValue | null,
    private readonly fnType: string,
  ) {}

  get(): unknown {
    const current = this.current;
    if (current === null || current.value === null) return null;
    if (current.typename !== this.spec.typename) {
      throw new TypeMismatchError(this.spec.typename, current.typename, `state "${this.spec.name}" of function ${this.fnType}`);
    }
    return this.spec.type.deserialize(current.value);
  }

  set(value: unknown): void {
    if (value === null || value === undefined) {
      this.current = null;
    } else {
      const bytes = this.spec.type.serialize(value);
      if (!(bytes instanceof Uint8Array)) {
        throw new InvalidInputError(`state "${this.spec.name}": the serializer of ${this.spec.typename} did not return bytes`);
      }
      this.current = { typename: this.spec.typename, value: bytes };
    }
    this.mutated = true;
  }

  mutation(): StateMutation {
    return { name: this.spec.name, value: this.current };
  }
}

/** Builds storages for one function definition. */
export class StorageFactory {
  private readonly proto: object;

  constructor(fnType: string, specs: readonly ValueSpec<unknown>[]) {
    const declared = specs.map((s) => s.name);
    const reject = (key: string | symbol): never => {
      throw new UnknownStateError(fnType, String(key), declared);
    };
    const guard = new Proxy(Object.create(null) as object, {
      get: (_target, key) => (typeof key === 'symbol' || INTRINSIC.has(key) ? undefined : reject(key)),
      set: (_target, key, value, receiver) => {
        if (typeof key === 'symbol') return Reflect.defineProperty(receiver as object, key, { value, writable: true });
        return reject(key);
      },
      has: () => false,
      deleteProperty: (_target, key) => reject(key),
    });
    const proto = Object.create(guard) as object;
    specs.forEach((spec, i) => {
      Object.defineProperty(proto, spec.name, {
        enumerable: true,
        get(this: { [CELLS]: Cell[] }) {
          return this[CELLS][i].get();
        },
        set(this: { [CELLS]: Cell[] }, value: unknown) {
          this[CELLS][i].set(value);
        },
      });
    });
    Object.defineProperty(proto, 'toJSON', {
      value(this: { [CELLS]: Cell[] }) {
        return Object.fromEntries(this[CELLS].map((c) => [c.spec.name, c.get()]));
      },
    });
    this.proto = Object.freeze(proto);
  }

  create(cells: Cell[]): object {
    return Object.create(this.proto, { [CELLS]: { value: cells } }) as object;
  }
}
