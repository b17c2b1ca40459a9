import { existsSync } from 'node:fs';
import { withUndecodableSink } from '../aws/kinesisRecords';
import type { DeadLetter } from '../core/AddressState';
import { InvalidInputError, describeError } from '../core/errors';
import { systemClock } from '../core/ports/Clock';
import type { FunctionEndpoint, FunctionResolver } from '../core/ports/FunctionEndpoint';
import type { KafkaIngressSpec, StatefunModule } from '../module/model';
import { DevKafkaIngress, type DevKafkaOpts, devKafkaEgress, devKafkaProducers, lineTime as time } from './DevKafka';
import type { EgressHandler } from './LocalEffectSink';
import { LocalRuntime } from './LocalRuntime';
import { PlaygroundEgress } from './PlaygroundEgress';
import { PlaygroundIngress } from './PlaygroundIngress';
import { valuePreview } from './valuePreview';

/**
 * Options of {@link startDevModule}.
 *
 * @example
 * const opts: DevModuleOpts = { functions: moduleResolver(module), stateFile: '.statefun/dev-state.json' };
 */
export interface DevModuleOpts {
  /** Where the module's function types run (`moduleResolver(module)` calls its HTTP endpoints). */
  readonly functions: FunctionResolver;
  /** Keeps the state across restarts (see {@link LocalRuntimeOptions.stateFile}). @default - in memory only */
  readonly stateFile?: string;
  /** How often the state file is written while messages flow; also at stop. @default 1000 ms */
  readonly snapshotIntervalMs?: number;
  /** Where lines go: one per message handled, egress record and dead letter. @default - stdout */
  readonly out?: (line: string) => void;
  /** No line per message handled or egress record; dead letters, failed calls and backoffs are still told. */
  readonly quiet?: boolean;
  /**
   * A call to a function that has not answered for this long is told (once), since the
   * endpoint retries within its `timeouts.call` budget without a word. @default 5000 ms
   */
  readonly slowCallMs?: number;
  /**
   * Messages the log may hold not yet dispatched; past it the playground ingress answers 503
   * and the Kafka consumers pause (the producers are faster than the functions). @default 100_000
   */
  readonly maxPendingMessages?: number;
  /** Where the module's Kafka ingresses and egresses run. @default - the brokers their `address` names */
  readonly kafka?: DevKafkaOpts;
}

/** A module running under {@link startDevModule}. */
export interface DevModuleSession {
  readonly runtime: LocalRuntime;
  /** The playground ingress, e.g. `http://127.0.0.1:8090`, when the module has one. */
  readonly ingressUrl?: string;
  /** The playground egress, e.g. `http://127.0.0.1:8091`, when the module has one. */
  readonly egressUrl?: string;
  /** The module's Kafka ingresses, consuming, with the broker each reads. */
  readonly kafkaIngresses: readonly { readonly spec: KafkaIngressSpec; readonly bootstrap: string }[];
  /** Resolves once everything sent so far is processed (timers not yet due aside). */
  idle(): Promise<void>;
  /**
   * Stops: the ingress stops taking requests, the work under way is finished, the state file
   * is written, then the egress closes. Unread egress records are dropped.
   */
  stop(): Promise<void>;
}

/**
 * Runs a StateFun module on the embedded runtime with the real clock (delayed messages fire
 * as time passes), serving its playground ingress and egress; see docs/local-dev.md.
 *
 * Messages that arrive while a round runs are taken by the next round: many concurrent
 * requests make few, large dispatches. The state file is written at most every
 * `snapshotIntervalMs` while messages flow, and at stop.
 *
 * Kafka ingresses consume their topics (see {@link DevKafkaIngress}) and commit offsets once
 * the records are in the written state file (without one: once applied); Kafka egresses
 * produce the functions' `KafkaProducerRecord`s with a `statefun-id` header.
 *
 * @throws {@link InvalidInputError} naming every part of the module that cannot run locally
 * (Kinesis ingresses and egresses), a Kafka broker that does not answer or a missing topic,
 * and the servers' errors (e.g. `EADDRINUSE`).
 *
 * @example
 * const session = await startDevModule(readModuleFile('module.yaml'), { functions: moduleResolver(module) });
 * process.once('SIGINT', () => void session.stop());
 */
export async function startDevModule(module: StatefunModule, opts: DevModuleOpts): Promise<DevModuleSession> {
  refuseUnsupported(module);
  const out = opts.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const quiet = opts.quiet ?? false;
  const maxPending = opts.maxPendingMessages ?? 100_000;
  const ingressSpec = module.ingresses.find((i) => i.kind === 'playground');
  const egressSpec = module.egresses.find((e) => e.kind === 'playground');

  const kafkaOpts = opts.kafka ?? {};
  const kafkaEgressSpecs = module.egresses.flatMap((e) => (e.kind === 'kafka' ? [e] : []));
  const producers = kafkaEgressSpecs.length > 0 ? devKafkaProducers(kafkaOpts) : undefined;
  const egress = egressSpec ? await PlaygroundEgress.start({ port: egressSpec.port, host: egressSpec.host, topics: egressSpec.topics }) : undefined;
  const egresses: Record<string, EgressHandler> = {};
  if (egress && egressSpec) egresses[egressSpec.id] = quiet ? egress.handler : withEgressLines(egress.handler, out);
  for (const spec of kafkaEgressSpecs) egresses[spec.id] = devKafkaEgress(spec, producers!, { ...kafkaOpts, out, quiet });
  const kafkaIngresses: DevKafkaIngress[] = [];
  const commitDelivered = () => Promise.all(kafkaIngresses.map((i) => i.commitDelivered(out)));
  const resumed = opts.stateFile !== undefined && existsSync(opts.stateFile);
  const snapshotIntervalMs = opts.snapshotIntervalMs ?? 1000;
  let ingress: PlaygroundIngress | undefined;
  const closeAll = async () => {
    await Promise.all(kafkaIngresses.map((i) => i.pause()));
    await ingress?.close();
  };
  const releaseAll = async () => {
    await Promise.all(kafkaIngresses.map((i) => i.close()));
    await producers?.close();
    await egress?.close();
  };
  let runtime: LocalRuntime;
  try {
    runtime = new LocalRuntime({
      // The undecodable-record sink outside the lines: its "failures" are the dead letters told below.
      functions: withUndecodableSink(withLines(opts.functions, out, quiet, new SlowCalls(out, opts.slowCallMs ?? 5000))),
      egresses,
      clock: systemClock,
      ...(opts.stateFile !== undefined ? { stateFile: opts.stateFile, onStateSaved: () => void commitDelivered() } : {}),
      snapshotIntervalMs,
      onDeadLetter: (deadLetter) => out(deadLetterLine(deadLetter)),
      onBackingOff: (b) =>
        out(`${time()}  ${b.address.key} backs off after ${b.attempts} failed attempt(s): ${b.lastError}; its messages wait, next attempt at ${new Date(b.retryAtMs).toISOString().slice(11, 19)}`),
    });
  } catch (error) {
    await releaseAll();
    throw error;
  }
  const pump = new Pump(
    runtime,
    (error) => out(`${time()}  runtime error: ${describeError(error)}`),
    () => {
      for (const kafkaIngress of kafkaIngresses) kafkaIngress.resume();
      if (!kafkaIngresses.some((i) => i.hasUncommitted)) return;
      // Without a state file, applied is as durable as it gets; with one, the next write commits.
      if (opts.stateFile === undefined) void commitDelivered();
      else pump.kickAfter(snapshotIntervalMs);
    },
  );

  try {
    for (const spec of module.ingresses) {
      if (spec.kind !== 'kafka') continue;
      kafkaIngresses.push(await DevKafkaIngress.start(spec, { ...kafkaOpts, runtime, functions: opts.functions, resumed, kick: () => pump.kick(), out, quiet, maxPendingMessages: maxPending }));
    }
    if (ingressSpec) {
      ingress = await PlaygroundIngress.start({
        port: ingressSpec.port,
        host: ingressSpec.host,
        maxBodyBytes: ingressSpec.maxBodyBytes,
        accept: (target, value) => {
          if (opts.functions.resolve(target.typename) === undefined) {
            return { status: 404, message: `no endpoint of ${module.file} serves function type ${target.typename}` };
          }
          if (runtime.pendingMessages >= maxPending) {
            return { status: 503, message: `${runtime.pendingMessages} messages wait to be processed, the most statefun dev holds: send again later` };
          }
          runtime.send(target, value);
          pump.kick();
          return undefined;
        },
      });
    }
  } catch (error) {
    await closeAll();
    await pump.stop();
    await releaseAll();
    throw error;
  }
  // Restored messages not yet processed, and timers that came due while stopped.
  pump.kick();

  let stopping: Promise<void> | undefined;
  return {
    runtime,
    ...(ingress ? { ingressUrl: ingress.url } : {}),
    ...(egress ? { egressUrl: egress.url } : {}),
    kafkaIngresses: kafkaIngresses.map((i) => ({ spec: i.spec, bootstrap: i.bootstrap })),
    idle: () => pump.idle(),
    stop: () =>
      (stopping ??= (async () => {
        await closeAll();
        await pump.stop();
        runtime.saveState();
        await commitDelivered();
        await releaseAll();
      })()),
  };
}

/** Runs the runtime's rounds one at a time, whenever a message arrives or a timer comes due. */
class Pump {
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;

  private later: NodeJS.Timeout | undefined;

  constructor(
    private readonly runtime: LocalRuntime,
    private readonly onError: (error: unknown) => void,
    /** After each run of rounds, the log drained. */
    private readonly onIdle: () => void = () => undefined,
  ) {}

  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.loop();
  }

  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** A round in `ms` (one pending at a time), e.g. for the state file's next write. */
  kickAfter(ms: number): void {
    if (this.later !== undefined || this.stopped) return;
    this.later = setTimeout(() => {
      this.later = undefined;
      this.kick();
    }, ms);
    this.later.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.later);
    await this.idle();
  }

  private async loop(): Promise<void> {
    try {
      do {
        this.again = false;
        // Fires the timers due, then processes until the log and the outbox are empty,
        // taking what arrives meanwhile.
        await this.runtime.fireDueTimers();
      } while (this.again);
    } catch (error) {
      this.onError(error);
    } finally {
      this.running = undefined;
      this.armTimer();
      this.onIdle();
    }
  }

  private armTimer(): void {
    clearTimeout(this.timer);
    const due = this.runtime.nextTimerDueAt;
    if (due === undefined || this.stopped) return;
    // setTimeout takes at most 2^31-1 ms; a later timer is looked at again then.
    this.timer = setTimeout(() => this.kick(), Math.min(Math.max(0, due - Date.now()), 2 ** 31 - 1));
    this.timer.unref();
  }
}

/** Kinesis ingresses and egresses cannot run on the embedded runtime: one error naming them all. */
function refuseUnsupported(module: StatefunModule): void {
  const problems: string[] = [];
  for (const part of [...module.ingresses, ...module.egresses]) {
    const where = `${part.source.file}, document ${part.source.document} (${part.source.kind})`;
    if (part.kind === 'kinesis') {
      problems.push(`${where}: Kinesis ${part.source.kind.endsWith('ingress') ? 'ingresses' : 'egresses'} do not run under statefun dev, which has no Kinesis; deploy the module (cdk deploy) or run it on local AWS (statefun dev --aws-local)`);
    }
  }
  if (problems.length > 0) {
    throw new InvalidInputError(`${module.file} cannot run under statefun dev as it is: take these out of the module (or use a copy without them), or use the playground ingress and egress:\n  ${problems.join('\n  ')}`);
  }
}

/** Prints a line per message each function handled (after it answered, unless `quiet`), per failed call and per slow call. */
/** Calls under way, told once when one has not answered for `afterMs`. */
class SlowCalls {
  private readonly calls = new Set<{ readonly key: string; readonly sinceMs: number; told: boolean }>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly out: (line: string) => void,
    private readonly afterMs: number,
  ) {}

  watch<T>(key: string, call: Promise<T>): Promise<T> {
    const entry = { key, sinceMs: Date.now(), told: false };
    this.calls.add(entry);
    if (this.timer === undefined) {
      this.timer = setInterval(() => this.check(), Math.min(1000, this.afterMs));
      this.timer.unref();
    }
    return call.finally(() => {
      this.calls.delete(entry);
      if (this.calls.size === 0) this.timer = void clearInterval(this.timer);
    });
  }

  private check(): void {
    const now = Date.now();
    for (const call of this.calls) {
      if (call.told || now - call.sinceMs < this.afterMs) continue;
      call.told = true;
      this.out(`${time()}  ${call.key}: no answer yet after ${((now - call.sinceMs) / 1000).toFixed(1)} s; the call is retried until the endpoint's timeouts.call runs out`);
    }
  }
}

function withLines(functions: FunctionResolver, out: (line: string) => void, quiet: boolean, slow: SlowCalls): FunctionResolver {
  const wrapped = new Map<string, FunctionEndpoint>();
  return {
    resolve(fnType) {
      let endpoint = wrapped.get(fnType);
      if (endpoint !== undefined) return endpoint;
      const inner = functions.resolve(fnType);
      if (inner === undefined) return undefined;
      endpoint = {
        async invoke(request, options) {
          let response;
          try {
            response = await slow.watch(request.target.key, inner.invoke(request, options));
          } catch (error) {
            out(`${time()}  ${request.target.key}: the call failed: ${describeError(error)}`);
            throw error;
          }
          if (!quiet && response.kind === 'result') {
            for (const { caller, argument } of request.invocations) {
              out(`${time()}  ${request.target.key} ← ${argument.typename} ${valuePreview(argument)}${caller ? ` (from ${caller.key})` : ''}`);
            }
          }
          return response;
        },
      };
      wrapped.set(fnType, endpoint);
      return endpoint;
    },
  };
}

function withEgressLines(handler: EgressHandler, out: (line: string) => void): EgressHandler {
  return async (record) => {
    await handler(record);
    out(`${time()}  egress ${record.egress} ← ${valuePreview(record.argument)}`);
  };
}

function deadLetterLine(deadLetter: DeadLetter): string {
  const value = 'envelope' in deadLetter ? deadLetter.envelope.argument : deadLetter.egressRecord.argument;
  return `${time()}  DEAD LETTER ${deadLetter.address}: ${deadLetter.reason} [${value.typename} ${valuePreview(value)}]`;
}
