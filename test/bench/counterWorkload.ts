import type { FunctionEndpoint } from '../../runtime-lambda/core/ports/FunctionEndpoint';
import { LocalRuntime } from '../../runtime-lambda/local/LocalRuntime';
import { StatefulFunctions, Types, defineFunction } from '../../runtime-lambda/sdk';

/** The benchmark's function: an embedded TypeScript counter, one per address. */
export const counter = defineFunction({
  typename: 'bench/counter',
  state: { count: Types.int },
  handle(ctx, message) {
    ctx.storage.count = (ctx.storage.count ?? 0) + message.as(Types.int);
  },
});

/** The result of one run of the counter workload. */
export interface CounterRun {
  readonly addresses: number;
  readonly messages: number;
  readonly seconds: number;
  /** CPU time of the process over the same span, every thread (GC helpers too). */
  readonly cpuSeconds: number;
  readonly invocations: number;
  /** Sum of all counters after the run: must equal `messages`. */
  readonly total: number;
}

/**
 * Sends `messages` increments round-robin over `addresses` counters through the local
 * runtime (log, dispatcher, protocol, SDK, store, relay) and times the processing.
 */
export async function runCounterWorkload(addresses: number, messages: number, batchSize: number): Promise<CounterRun> {
  const registry = new StatefulFunctions().withFunction(counter);
  let invocations = 0;
  const resolver = registry.resolver();
  // One counting wrapper per type, made once: the dispatcher resolves on every invocation.
  const counting = new Map<string, FunctionEndpoint>();
  const runtime = new LocalRuntime({
    functions: {
      resolve: (fnType) => {
        let counted = counting.get(fnType);
        if (counted === undefined) {
          const endpoint = resolver.resolve(fnType);
          if (endpoint === undefined) return undefined;
          counted = { invoke: (request) => (invocations++, endpoint.invoke(request)) };
          counting.set(fnType, counted);
        }
        return counted;
      },
    },
    ingresses: [{ name: 'increments', target: 'bench/counter' }],
    batchSize,
  });
  const one = { typename: Types.int.typename, value: Types.int.serialize(1) };
  const keys = Array.from({ length: addresses }, (_, i) => `c${i}`);
  for (let i = 0; i < messages; i++) runtime.ingest('increments', keys[i % addresses]!, one);

  const started = process.hrtime.bigint();
  const cpuStarted = process.cpuUsage();
  await runtime.runUntilIdle();
  const cpu = process.cpuUsage(cpuStarted);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;

  let total = 0;
  for (const state of runtime.store.all()) {
    const stored = state.values.get('count');
    if (stored) total += Types.int.deserialize(stored.value);
  }
  return { addresses, messages, seconds, cpuSeconds, invocations, total };
}
