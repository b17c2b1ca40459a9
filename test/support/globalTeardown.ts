import type { RunningEmulators } from './emulators';
import type { RunningKafka } from './kafka';

/** Jest globalTeardown of the "integration" project: stops what globalSetup started. */
export default async function globalTeardown(): Promise<void> {
  const holder = globalThis as { __STATEFUN_EMULATORS__?: RunningEmulators; __STATEFUN_KAFKA__?: RunningKafka };
  await Promise.all([holder.__STATEFUN_EMULATORS__?.stop(), holder.__STATEFUN_KAFKA__?.stop()]);
  delete holder.__STATEFUN_EMULATORS__;
  delete holder.__STATEFUN_KAFKA__;
}
