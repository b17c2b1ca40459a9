import { Address } from '../../../runtime-lambda/core/Address';
import type { DeadLetter } from '../../../runtime-lambda/core/AddressState';
import type { EgressRecord } from '../../../runtime-lambda/core/Effects';
import type { TypedValue } from '../../../runtime-lambda/core/TypedValue';
import { LocalRuntime } from '../../../runtime-lambda/local/LocalRuntime';
import { Types } from '../../../runtime-lambda/sdk';
import type { SdkName } from './behaviours';
import { conformanceModule } from './conformanceModule';
import { type Exchange, RecordingProxy } from './RecordingProxy';

/** A behaviour's check that did not hold; its message says what was expected and what came. */
export class ConformanceFailure extends Error {
  override readonly name = 'ConformanceFailure';
}

/** The egress the conformance functions report to (string records); the runner's own observation point. */
export const OUT_EGRESS = 'conformance/out';

/**
 * A fresh embedded runtime for one behaviour, on a simulated clock, calling an SDK's
 * functions through the suite's module.yaml and a {@link RecordingProxy}: it records every
 * call of a function as it crossed the wire, every egress record and every dead letter.
 */
export class Scenario {
  readonly runtime: LocalRuntime;
  private readonly egress = new Map<string, EgressRecord[]>();

  /** Starts the proxy to the SDK's server on `sdkPort` and the runtime; {@link close} stops the proxy. */
  static async start(sdk: SdkName, sdkPort: number): Promise<Scenario> {
    const proxy = await RecordingProxy.start(sdkPort);
    try {
      return new Scenario(sdk, proxy);
    } catch (error) {
      await proxy.close();
      throw error;
    }
  }

  private constructor(
    /** The SDK whose functions are called. */
    readonly sdk: SdkName,
    private readonly proxy: RecordingProxy,
  ) {
    const { functions, egressIds } = conformanceModule(proxy.port);
    const record = (egress: string) => (r: EgressRecord) => void this.records(egress).push(r);
    this.runtime = new LocalRuntime({
      functions,
      egresses: Object.fromEntries([OUT_EGRESS, ...egressIds].map((id) => [id, record(id)])),
      // A failing function is retried for 2 simulated minutes, once a minute, then dead-lettered.
      retryBudgetMs: 2 * 60_000,
      dispatcher: { invokeRetry: { maxAttempts: 1, baseDelayMs: 0, maxDelayMs: 0 }, retryBackoff: { baseDelayMs: 60_000, maxDelayMs: 60_000 } },
    });
  }

  /** Sends string commands from outside (no caller) to `ns/type/id`, in order; call {@link run} to process them. */
  send(target: string, ...commands: string[]): this {
    for (const command of commands) this.sendValue(target, { typename: Types.string.typename, value: Types.string.serialize(command) });
    return this;
  }

  sendValue(target: string, value: TypedValue): this {
    this.runtime.send(parseAddress(target), value);
    return this;
  }

  async run(): Promise<this> {
    await this.runtime.runUntilIdle();
    return this;
  }

  /** Moves the simulated clock, firing delayed messages and retries on the way; see {@link LocalRuntime.advanceBy}. */
  async advanceBy(ms: number): Promise<this> {
    await this.runtime.advanceBy(ms);
    return this;
  }

  records(egress: string): EgressRecord[] {
    let list = this.egress.get(egress);
    if (!list) this.egress.set(egress, (list = []));
    return list;
  }

  /** The string reports the functions wrote to {@link OUT_EGRESS}, in order. */
  reports(): string[] {
    return this.records(OUT_EGRESS).map(({ argument }) => {
      if (argument.typename !== Types.string.typename || argument.value === null) {
        throw new ConformanceFailure(`a report on ${OUT_EGRESS} is not a string: typename ${argument.typename}`);
      }
      return Types.string.deserialize(argument.value);
    });
  }

  get deadLetters(): readonly DeadLetter[] {
    return this.runtime.deadLetters;
  }

  /** The stored values of an address, by state name: typename and bytes. */
  stored(target: string): Map<string, TypedValue> {
    const state = this.runtime.state(parseAddress(target));
    return new Map([...state.values].map(([name, v]) => [name, { typename: v.typename, value: v.value }]));
  }

  /** Every call of a function, as it crossed the wire, in order. */
  get exchanges(): readonly Exchange[] {
    return this.proxy.exchanges;
  }

  /** The calls of one function type, in order. */
  calls(fnType: string): Exchange[] {
    return this.exchanges.filter((e) => e.fnType === fnType);
  }

  close(): Promise<void> {
    return this.proxy.close();
  }
}

function parseAddress(target: string): Address {
  const at = target.lastIndexOf('/');
  return Address.of(target.slice(0, at), target.slice(at + 1));
}
