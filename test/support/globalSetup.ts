import { exportEndpoints, startEmulators, type RunningEmulators } from './emulators';

/**
 * Jest globalSetup of the "integration" project: starts the emulators once per run and
 * hands their endpoints to the test workers through environment variables.
 */
export default async function globalSetup(): Promise<void> {
  // The SDK warns once per worker that its releases after January 2027 need Node 22; the
  // version in package.json is pinned, so the warning is noise in test output.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const emulators = await startEmulators();
  exportEndpoints(emulators.endpoints);
  (globalThis as { __STATEFUN_EMULATORS__?: RunningEmulators }).__STATEFUN_EMULATORS__ = emulators;
  if (emulators.started.length > 0 || process.env.STATEFUN_EMULATORS_VERBOSE) {
    const names = emulators.started.map((e) => `${e.name} ${e.endpoint}`).join(', ');
    process.stderr.write(`\n[emulators] ready in ${emulators.startupMs} ms: ${names || 'external endpoints'}\n`);
  }
}
