/**
 * The embedded local runtime (entry point `./local`): a whole application in one process on
 * the dispatcher the Lambda uses, for `npm start`, development and your functions' tests.
 *
 * @example
 * import { LocalRuntime, SimulatedClock } from './runtime-lambda/local';
 */
export { InMemoryStateStore } from './InMemoryStateStore';
export type { OutboxEntry } from './InMemoryStateStore';
export { LocalEffectSink } from './LocalEffectSink';
export type { EgressHandler } from './LocalEffectSink';
export { LocalRuntime } from './LocalRuntime';
export type { IngressSpec, LocalRuntimeOptions, LocalRuntimeStats } from './LocalRuntime';
export { SimulatedClock } from './SimulatedClock';
export { startDevModule } from './devModule';
export type { DevModuleOpts, DevModuleSession } from './devModule';
export { PlaygroundIngress } from './PlaygroundIngress';
export type { IngressRefusal, PlaygroundIngressOpts } from './PlaygroundIngress';
export { PLAYGROUND_EGRESS_RECORD_TYPE, PlaygroundEgress } from './PlaygroundEgress';
export type { PlaygroundEgressOpts } from './PlaygroundEgress';
