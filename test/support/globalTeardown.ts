import type { RunningEmulators } from './emulators';

/** Jest globalTeardown of the "integration" project: stops what globalSetup started. */
export default async function globalTeardown(): Promise<void> {
  const holder = globalThis as { __STATEFUN_EMULATORS__?: RunningEmulators };
  await holder.__STATEFUN_EMULATORS__?.stop();
  delete holder.__STATEFUN_EMULATORS__;
}
