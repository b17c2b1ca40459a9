import { exportEndpoints, startEmulators, type RunningEmulators } from './emulators';

/**
 * Jest globalSetup of the "integration" project: starts the emulators once per run and
 * hands their endpoints to the test workers through environment variables.
 */
export default async function globalSetup(): Promise<void> {
  const emulators = await startEmulators();
  exportEndpoints(emulators.endpoints);
  (globalThis as { __STATEFUN_EMULATORS__?: RunningEmulators }).__STATEFUN_EMULATORS__ = emulators;
  if (emulators.started.length > 0 || process.env.STATEFUN_EMULATORS_VERBOSE) {
    const names = emulators.started.map((e) => `${e.name} ${e.endpoint}`).join(', ');
    process.stderr.write(`\n[emulators] ready in ${emulators.startupMs} ms: ${names || 'external endpoints'}\n`);
  }
}
