import { exportEndpoints, startEmulators, type RunningEmulators } from './emulators';
import { startKafkaForRun, type RunningKafka } from './kafka';

/**
 * Jest globalSetup of the "integration" project: starts the emulators and a Kafka broker
 * once per run, in parallel, and hands their endpoints to the test workers through
 * environment variables.
 */
export default async function globalSetup(): Promise<void> {
  // The SDK warns once per worker that its releases after January 2027 need Node 22; the
  // version in package.json is pinned, so the warning is noise in test output.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const [emulators, kafka] = await Promise.allSettled([startEmulators(), startKafkaForRun()]);
  if (emulators.status === 'rejected' || kafka.status === 'rejected') {
    if (emulators.status === 'fulfilled') await emulators.value.stop();
    if (kafka.status === 'fulfilled') await kafka.value?.stop();
    throw emulators.status === 'rejected' ? emulators.reason : (kafka as PromiseRejectedResult).reason;
  }
  exportEndpoints(emulators.value.endpoints);
  const holder = globalThis as { __STATEFUN_EMULATORS__?: RunningEmulators; __STATEFUN_KAFKA__?: RunningKafka };
  holder.__STATEFUN_EMULATORS__ = emulators.value;
  holder.__STATEFUN_KAFKA__ = kafka.value;
  if (emulators.value.started.length > 0 || kafka.value || process.env.STATEFUN_EMULATORS_VERBOSE) {
    const names = emulators.value.started.map((e) => `${e.name} ${e.endpoint}`);
    if (kafka.value) names.push(`Kafka ${kafka.value.bootstrap} (${kafka.value.startupMs} ms)`);
    process.stderr.write(`\n[emulators] ready in ${emulators.value.startupMs} ms: ${names.join(', ') || 'external endpoints'}\n`);
  }
}
