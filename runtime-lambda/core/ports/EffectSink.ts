import type { Effects } from '../Effects';

/**
 * Where committed effects go (port): messages onto the message log keyed by target
 * address, timers onto the delay service, egress records onto their sinks, dead letters
 * onto the dead-letter queue. Delivery is at least once: publishing the same effects twice
 * must be harmless, because receivers drop duplicates.
 */
export interface EffectSink {
  publish(effects: Effects): Promise<void>;
}
