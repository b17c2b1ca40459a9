import { InvalidInputError } from '../core/errors';
import type { PayloadStore } from '../core/ports/PayloadStore';

/** The {@link PayloadStore} of the local runtime: a map, referenced as `memory:<key>`. */
export class InMemoryPayloadStore implements PayloadStore {
  private readonly objects = new Map<string, Uint8Array>();

  async put(key: string, bytes: Uint8Array): Promise<string> {
    this.objects.set(key, bytes.slice());
    return `memory:${key}`;
  }

  async get(ref: string): Promise<Uint8Array> {
    const bytes = ref.startsWith('memory:') ? this.objects.get(ref.slice('memory:'.length)) : undefined;
    if (bytes === undefined) throw new InvalidInputError(`no payload at ${JSON.stringify(ref)} in this runtime`);
    return bytes.slice();
  }
}
