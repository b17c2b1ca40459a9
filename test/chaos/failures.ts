/**
 * The failures run of the chaos test: the faults that do not go away on a retry, through
 * the REAL dispatcher, relay and reconciler on DynamoDB Local and moto, on a simulated clock
 * that every part shares (the pollers translate the emulators' wall-clock stamps onto it):
 *
 * - **an outage of one function type** (`chaos/fragile`, served over real HTTP) for 20
 *   simulated minutes: 503, then 429 (throttling), then connection refused (the server is
 *   closed), then no answer at all, while `chaos/node` keeps working. Its messages are parked
 *   and applied in order when it is back; nothing is dead-lettered;
 * - **retry timers that are lost** (one in ten schedules: a delay scheduler that gave up):
 *   the reconciler fires them from their owners' state;
 * - **a relay outage of 25 simulated hours**, longer than the outbox stream's 24-hour
 *   retention: the relay's poller is stopped, the stream trims what it held, and the
 *   reconciler delivers it all from the tables;
 * - **poison egress**: chains that end in an egress whose queue is deleted; each record
 *   becomes a dead letter and the rest flows on;
 * - **oversize effects**: three messages to one address whose egress together exceed the
 *   400 KB item limit (split into commits that fit: all applied) and one message whose own
 *   egress cannot fit (the only message dead-lettered).
 *
 * It prints one line:
 *
 *     chaos-failures: outage_min=M relay_outage_h=H poison=P oversize=O lost=L duplicated=D reordered=R unexpected_dead_letters=U
 */
import { type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { DeleteQueueCommand } from '@aws-sdk/client-sqs';
import { Address } from '../../runtime-lambda/core/Address';
import type { CancelledTimer, ScheduledTimer } from '../../runtime-lambda/core/Effects';
import type { FunctionEndpoint } from '../../runtime-lambda/core/ports/FunctionEndpoint';
import type { DelayScheduler } from '../../runtime-lambda/aws/DelayScheduler';
import { DynamoStateStore } from '../../runtime-lambda/aws/DynamoStateStore';
import { type LocalAwsClients, type LocalAwsEndpoints, type LocalAwsResources, deleteLocalAws, localAwsClients, provisionLocalAws, putOnMessageStream } from '../../runtime-lambda/aws/LocalAws';
import { LocalPoller } from '../../runtime-lambda/aws/LocalPoller';
import { OutboxRelay } from '../../runtime-lambda/aws/OutboxRelay';
import { Reconciler } from '../../runtime-lambda/aws/Reconciler';
import { RequestReplyEndpoint } from '../../runtime-lambda/protocol/RequestReplyEndpoint';
import { decodeToFunction, encodeFromFunction } from '../../runtime-lambda/protocol/codec';
import { httpTransport } from '../../runtime-lambda/protocol/HttpTransport';
import { SimulatedClock } from '../../runtime-lambda/local/SimulatedClock';
import { drainQueue } from '../support/drainQueue';
import {
  type Chain,
  CrashingStore,
  EGRESS,
  FN_TYPE,
  type FaultCounts,
  HOP_TYPE,
  type Hop,
  POISON_EGRESS,
  chaosFunctionOf,
  deliveredEgress,
  faultDice,
  finalLogs,
  faultyDispatcher,
  faultyRelay,
  judge,
  produceChains,
  relayOptionsOf,
  workload,
} from './chaos';

/** What one failures run does. */
export interface FailuresOptions {
  /** Messages of the random workload (the special chains come on top). */
  readonly messages: number;
  readonly addresses: number;
  readonly seed: number;
  /** The rate of the chaos run's own faults (crashes, races, redeliveries) underneath. */
  readonly faultRate: number;
}

/** The outcome of {@link runFailures}. */
export interface FailuresResult {
  /** Simulated minutes from the fragile type's first refused call to its first answer after the outage. */
  readonly outageMinutes: number;
  /** Simulated hours the relay was stopped. */
  readonly relayOutageHours: number;
  /** Poison egress records dead-lettered as expected. */
  readonly poison: number;
  /** Oversize messages dead-lettered as expected. */
  readonly oversize: number;
  readonly lost: number;
  readonly duplicated: number;
  readonly reordered: number;
  readonly unexpectedDeadLetters: number;
  /** Counters for stderr. */
  readonly details: Record<string, number | string>;
  readonly elapsedMs: number;
  readonly line: string;
}

/** The type that fails; the ids `n<i>` with `i % 4 === 0` are of it. */
const FRAGILE_TYPE = 'chaos/fragile';
const typeOf = (id: string) => (Number(id.slice(1)) % 4 === 0 ? FRAGILE_TYPE : FN_TYPE);

/**
 * The fragile type's outage: each mode until its minute (simulated, from the outage's start).
 * The windows widen as the addresses' retries space out (1 s doubling to 10 minutes), so
 * each mode meets retries.
 */
const OUTAGE = [
  ['unavailable', 2],
  ['throttled', 5],
  ['refused', 10],
  ['hanging', 20],
] as const;
type ServerMode = 'up' | (typeof OUTAGE)[number][0];

/** How long the relay is stopped. */
const RELAY_OUTAGE_MS = 25 * 60 * 60_000;
/**
 * Padding (random base64 characters, which the store's deflate shrinks to about 3/4) that
 * makes three egress records too big for one 400 KB commit, each fitting alone (and within
 * SQS' 256 KiB message).
 */
const SPLIT_PADDING = 200_000;
/** Padding that no commit can hold. */
const OVERSIZE_PADDING = 700_000;
/** The smallest move of the clock towards the next timer: timers close together fire together. */
const TIMER_STEP_MS = 15_000;
/** A move past the reconciler's stale age and timer grace (15 minutes each). */
const RECONCILE_STEP_MS = 16 * 60_000;
/** The dispatcher's invocations are given this much time (their deadline comes 2.5 s before its end). */
const DISPATCHER_INVOCATION_MS = 10_000;

/**
 * The fragile function over real HTTP: the chaos function behind a server whose mode
 * follows the simulated clock through the outage. `refused` closes the server (its port
 * then refuses connections); `hanging` takes requests and never answers.
 */
class FragileServer {
  /** Calls made to the type, by the server's mode when they were made (a refused call never reaches the server). */
  readonly calls: Record<ServerMode, number> = { up: 0, unavailable: 0, throttled: 0, refused: 0, hanging: 0 };
  /** Simulated time of the first call that failed, and of the first answered after the outage. */
  firstFailureMs: number | undefined;
  firstAnswerAfterMs: number | undefined;
  private mode: ServerMode = 'up';
  private port = 0;
  private readonly held = new Set<ServerResponse>();
  private readonly server: Server;

  constructor(
    private readonly fn: FunctionEndpoint,
    private readonly clock: SimulatedClock,
    private readonly outageStartMs: number,
  ) {
    this.server = createServer((req, res) => {
      const mode = this.mode;
      if (mode === 'hanging') return void this.held.add(res);
      if (mode === 'unavailable') return void res.writeHead(503).end('redeploying');
      if (mode === 'throttled') return void res.writeHead(429, { 'retry-after': '1' }).end('slow down');
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        this.fn.invoke(decodeToFunction(Buffer.concat(chunks))).then(
          (response) => {
            if (this.clock.now() >= this.outageEndMs) this.firstAnswerAfterMs ??= this.clock.now();
            res.writeHead(200).end(encodeFromFunction(response));
          },
          (error: unknown) => res.writeHead(500).end(String(error)),
        );
      });
    });
  }

  get outageEndMs(): number {
    return this.outageStartMs + OUTAGE.at(-1)![1] * 60_000;
  }

  /** The type's endpoint, as the dispatcher calls it: over HTTP, each call counted. */
  endpoint(url: string): FunctionEndpoint {
    const http = new RequestReplyEndpoint(FRAGILE_TYPE, httpTransport({ url, maxAttempts: 2, initialBackoffMs: 10, timeoutMs: 3000 }));
    return {
      invoke: (request, options) => {
        this.calls[this.mode]++;
        if (this.mode !== 'up') this.firstFailureMs ??= this.clock.now();
        return http.invoke(request, options);
      },
    };
  }

  async start(): Promise<string> {
    await this.listen();
    this.port = (this.server.address() as AddressInfo).port;
    return `http://127.0.0.1:${this.port}/statefun`;
  }

  /** Takes the mode the simulated clock says. */
  async follow(): Promise<void> {
    const sinceStart = this.clock.now() - this.outageStartMs;
    const next: ServerMode = sinceStart < 0 ? 'up' : (OUTAGE.find(([, untilMinute]) => sinceStart < untilMinute * 60_000)?.[0] ?? 'up');
    if (next === this.mode) return;
    for (const res of this.held) res.destroy();
    this.held.clear();
    if (next === 'refused') await this.close();
    if (this.mode === 'refused') await this.listen(this.port);
    this.mode = next;
  }

  async stop(): Promise<void> {
    for (const res of this.held) res.destroy();
    if (this.mode !== 'refused') await this.close();
  }

  private listen(port = 0): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  private close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

/**
 * A delay scheduler on the simulated clock that loses one schedule in `loseOneIn` (as a
 * Scheduler whose retry window is spent, or a delay queue redriven away, would): the
 * driver fires what is due after each move of the clock.
 */
class LossyDelays implements DelayScheduler {
  lost = 0;
  fired = 0;
  private readonly pending = new Map<string, ScheduledTimer>();
  private readonly lostIds = new Set<string>();
  private scheduled = 0;

  constructor(
    private readonly clients: LocalAwsClients,
    private readonly messageStream: string,
    private readonly loseOneIn: number,
  ) {}

  async schedule(timers: readonly ScheduledTimer[]): Promise<void> {
    for (const timer of timers) {
      if (this.pending.has(timer.timerId) || this.lostIds.has(timer.timerId)) continue;
      if (++this.scheduled % this.loseOneIn === 0) {
        this.lostIds.add(timer.timerId);
        this.lost++;
        continue;
      }
      this.pending.set(timer.timerId, timer);
    }
  }

  async cancel(timers: readonly CancelledTimer[]): Promise<void> {
    for (const { timerId } of timers) this.pending.delete(timerId);
  }

  nextDueMs(): number | undefined {
    let next: number | undefined;
    for (const timer of this.pending.values()) if (next === undefined || timer.dueAtMs < next) next = timer.dueAtMs;
    return next;
  }

  /** Puts every timer due by `nowMs` on the message stream. */
  async fireDue(nowMs: number): Promise<void> {
    const due = [...this.pending.values()].filter((timer) => timer.dueAtMs <= nowMs);
    for (let i = 0; i < due.length; i += 500) await putOnMessageStream(this.clients.kinesis, this.messageStream, due.slice(i, i + 500).map((timer) => timer.envelope));
    for (const timer of due) this.pending.delete(timer.timerId);
    this.fired += due.length;
  }
}

/** The special chains: poison egress, one split batch, one oversize message. Numbered after the workload's. */
function specialChains(first: number): { poison: Chain[]; split: Chain[]; oversize: Chain; hops: Map<number, Pick<Hop, 'e' | 'p'>> } {
  const hops = new Map<number, Pick<Hop, 'e' | 'p'>>();
  let c = first;
  const poison = [['n1'], ['n2', 'n3'], ['n5', 'n4', 'n6']].map((path) => {
    hops.set(c, { e: 2 });
    return { c: c++, path, egress: false };
  });
  const split = [0, 1, 2].map(() => {
    hops.set(c, { e: 1, p: SPLIT_PADDING });
    return { c: c++, path: ['n7'], egress: true };
  });
  hops.set(c, { e: 1, p: OVERSIZE_PADDING });
  const oversize = { c: c++, path: ['n7'], egress: true };
  return { poison, split, oversize, hops };
}

const text = (base64: string) => Buffer.from(base64, 'base64').toString('utf8');

/** Runs the failures scenario on `endpoints` (resources made and deleted with a unique prefix). */
export async function runFailures(options: FailuresOptions, endpoints: LocalAwsEndpoints, progress: (text: string) => void = () => {}): Promise<FailuresResult> {
  const began = Date.now();
  const random = workload(options);
  const specials = specialChains(random.length);
  const half = Math.ceil(random.length / 2);
  // Phase A (the function outage) and phase B (the relay outage) each get half the workload;
  // poison in both, the split and the oversize messages in A (behind the first split message).
  const phaseA = [...random.slice(0, half), specials.split[0]!, specials.oversize, ...specials.split.slice(1), ...specials.poison.slice(0, 2)];
  const phaseB = [...random.slice(half), specials.poison[2]!];
  const dice = faultDice(options.seed ^ 0xfa11, options.faultRate);
  const clients = localAwsClients(endpoints);
  const relayClients = localAwsClients(endpoints);
  const clock = new SimulatedClock(Date.now());
  const prefix = `chaos-f-${randomUUID().slice(0, 8)}`;
  // One ingress stream per type: an ingress names the type its records go to.
  const ingressStreams = { [FN_TYPE]: `${prefix}-ingress`, [FRAGILE_TYPE]: `${prefix}-ingress-fragile` };
  const quiet = { warn: (message: string, attributes?: Readonly<Record<string, unknown>>) => void (process.env.CHAOS_VERBOSE && progress(attributes ? `${message} ${JSON.stringify(attributes)}` : message)) };
  const nodeFunction = chaosFunctionOf(typeOf);
  const fragile = new FragileServer(nodeFunction, clock, clock.now());
  let healthyCallsDuringOutage = 0;
  const healthy: FunctionEndpoint = {
    invoke(request) {
      if (clock.now() < fragile.outageEndMs) healthyCallsDuringOutage++;
      return nodeFunction.invoke(request);
    },
  };
  let resources: LocalAwsResources | undefined;
  const pollers: { dispatcher?: LocalPoller; relay?: LocalPoller } = {};
  try {
    resources = await provisionLocalAws(clients, { prefix, messageShards: 4, ingressStreams: { [ingressStreams[FN_TYPE]]: 2, [ingressStreams[FRAGILE_TYPE]]: 1 }, sqsEgress: [EGRESS, POISON_EGRESS] });
    const poisonQueue = (resources.egress[POISON_EGRESS] as { sqsQueueUrl: string }).sqsQueueUrl;
    await clients.sqs.send(new DeleteQueueCommand({ QueueUrl: poisonQueue }));
    const url = await fragile.start();
    progress(`failures: provisioned ${prefix}; ${phaseA.length} + ${phaseB.length} chains; the fragile type at ${url}`);

    const delays = new LossyDelays(clients, resources.messageStream, 10);
    const relayRetry = { maxAttempts: 8, baseDelayMs: 2, maxDelayMs: 20 };
    const reconciler = new Reconciler({
      client: clients.dynamo,
      stateTableName: resources.tableName,
      outboxTableName: resources.outboxTableName,
      inboxTableName: resources.inboxTableName,
      relay: new OutboxRelay({ ...relayOptionsOf(resources, clients), delays, retry: relayRetry }),
      clock,
    });
    const store = new CrashingStore(
      new DynamoStateStore({ tableName: resources.tableName, outboxTableName: resources.outboxTableName, inboxTableName: resources.inboxTableName, client: clients.dynamo }),
      dice.faults,
    );
    const fragileEndpoint = fragile.endpoint(url);
    const dispatcher = faultyDispatcher(
      {
        store,
        functions: { resolve: (type: string) => (type === FN_TYPE ? healthy : type === FRAGILE_TYPE ? fragileEndpoint : undefined) },
        ingresses: Object.fromEntries(Object.entries(ingressStreams).map(([functionType, stream]) => [stream, { functionType, valueType: HOP_TYPE }])),
        dispatcher: { invokeRetry: { maxAttempts: 2, baseDelayMs: 2, maxDelayMs: 20 }, concurrency: 32 },
        clock,
        logger: quiet,
      },
      dice,
      () => ({ getRemainingTimeInMillis: () => DISPATCHER_INVOCATION_MS }),
    );
    const relay = faultyRelay({ delays, retry: relayRetry, logger: quiet }, resources, relayClients, dice);
    const mapping = { batchSize: 100, parallelizationFactor: 2, bisectBatchOnFunctionError: true, maxRetryAttempts: -1 };
    const res = resources;
    const startRelay = () => {
      pollers.relay = new LocalPoller({ sources: [{ kind: 'dynamodb', api: clients.streams, streamArn: res.outboxStreamArn, handler: relay, mapping }], clock, idlePollMs: 50, logger: quiet });
      pollers.relay.start();
    };
    pollers.dispatcher = new LocalPoller({
      sources: [...Object.values(ingressStreams), resources.messageStream].map((stream) => ({ kind: 'kinesis' as const, client: clients.kinesis, stream, handler: dispatcher, mapping })),
      clock,
      idlePollMs: 50,
      logger: quiet,
    });
    pollers.dispatcher.start();
    startRelay();

    const idle = async (quietMs: number) => {
      for (const poller of [pollers.dispatcher, pollers.relay]) await poller?.waitForIdle({ quietMs, timeoutMs: 10 * 60_000 });
    };
    const moveTo = async (timeMs: number) => {
      clock.set(timeMs);
      await fragile.follow();
    };
    const sweeps = { addressesWoken: 0, commitsRepublished: 0, timersRefired: 0, rounds: 0 };
    /** Until nothing moves: fires due timers (moving the clock to them), then lets the reconciler look. */
    const settle = async (phase: string) => {
      for (let round = 0; ; round++) {
        if (round > 1000) throw new Error(`failures: phase ${phase} did not settle in 1000 rounds`);
        await idle(500);
        const due = delays.nextDueMs();
        if (due !== undefined) {
          await moveTo(Math.max(due, clock.now() + TIMER_STEP_MS));
          await delays.fireDue(clock.now());
          continue;
        }
        await idle(2000);
        if (delays.nextDueMs() !== undefined) continue;
        await moveTo(clock.now() + RECONCILE_STEP_MS);
        const inbox = await reconciler.sweepInbox();
        const timers = await reconciler.sweepTimers();
        sweeps.rounds++;
        sweeps.addressesWoken += inbox.addressesWoken;
        sweeps.commitsRepublished += inbox.commitsRepublished;
        sweeps.timersRefired += timers.timersFired;
        if (timers.timersLost > 0) throw new Error(`failures: ${timers.timersLost} overdue timer(s) had no outbox item to fire from`);
        progress(`failures: ${phase} at +${Math.round((clock.now() - fragile.outageEndMs) / 60_000)} min after the outage: reconciler ${JSON.stringify({ ...inbox, ...timers })}; fragile calls ${JSON.stringify(fragile.calls)}; timers fired ${delays.fired}, lost ${delays.lost}`);
        if (inbox.addressesWoken + inbox.commitsRepublished + inbox.commitsFailed + timers.timersFired === 0) return;
      }
    };

    const produce = async (chains: readonly Chain[]) => {
      for (const [type, stream] of Object.entries(ingressStreams)) {
        await produceChains(clients.kinesis, stream, chains.filter((chain) => typeOf(chain.path[0]!) === type), (chain) => specials.hops.get(chain.c) ?? {});
      }
    };

    // Phase A: the fragile type fails from now on for 20 simulated minutes.
    await fragile.follow();
    await produce(phaseA);
    await settle('function outage');
    if (fragile.firstAnswerAfterMs === undefined || fragile.firstFailureMs === undefined) throw new Error('failures: the fragile type was never called during or after its outage');
    for (const [mode] of OUTAGE) if (fragile.calls[mode] === 0) throw new Error(`failures: the outage's "${mode}" mode was never called: the run proves nothing about it`);
    if (healthyCallsDuringOutage === 0) throw new Error('failures: the healthy type was not called during the outage: the run proves nothing about isolation');

    // Phase B: the relay stops; the workload's second half commits; 25 hours pass.
    await pollers.relay!.stop();
    const relayStoppedAt = clock.now();
    await produce(phaseB);
    await pollers.dispatcher.waitForIdle({ quietMs: 2000, timeoutMs: 10 * 60_000 });
    await moveTo(clock.now() + RELAY_OUTAGE_MS);
    const relayOutageHours = Math.floor((clock.now() - relayStoppedAt) / 3_600_000);
    startRelay();
    await settle('relay outage');
    const trimmed = pollers.relay!.summary().recordsTrimmed;
    if (trimmed === 0) throw new Error('failures: the outbox stream trimmed nothing during the relay outage: the run proves nothing about it');
    await Promise.all([pollers.dispatcher.stop(), pollers.relay!.stop()]);
    progress('failures: settled; checking');

    // The verdict: the oracle over every chain but the oversize one, in production order
    // (which the ingress order per key follows), egress by record id.
    const judged = [...phaseA, ...phaseB].filter((chain) => chain !== specials.oversize);
    const { logs, counts } = await finalLogs(clients, resources, Array.from({ length: options.addresses }, (_, i) => Address.of(typeOf(`n${i}`), `n${i}`)));
    const verdict = judge(judged, logs, counts, await deliveredEgress(clients, resources));

    // Dead letters: each poison chain's record once, the oversize message once, nothing else.
    const expected = new Map<string, number>([...specials.poison.map((chain) => [`egress ${chain.c}`, 0] as const), [`message ${specials.oversize.c}.0`, 0]]);
    let unexpectedDeadLetters = 0;
    const deadLetterIds = new Set<string>();
    for (const message of await drainQueue(clients.sqs, resources.deadLetterQueueUrl)) {
      if (deadLetterIds.has(message.id)) continue; // a redelivered dead letter, as a consumer would drop it
      deadLetterIds.add(message.id);
      const letter = JSON.parse(message.body) as { reason: string; envelope?: { argument: { value: string } }; egressRecord?: { argument: { value: string } } };
      const key = letter.egressRecord ? `egress ${text(letter.egressRecord.argument.value).split('|')[1]}` : `message ${((h: Hop) => `${h.c}.${h.k}`)(JSON.parse(text(letter.envelope!.argument.value)) as Hop)}`;
      if (expected.has(key)) expected.set(key, expected.get(key)! + 1);
      else {
        unexpectedDeadLetters++;
        progress(`failures: unexpected dead letter ${key}: ${letter.reason}`);
      }
    }
    const poison = specials.poison.filter((chain) => expected.get(`egress ${chain.c}`)! >= 1).length;
    const oversize = expected.get(`message ${specials.oversize.c}.0`)! >= 1 ? 1 : 0;
    const result = {
      outageMinutes: Math.floor((fragile.firstAnswerAfterMs - fragile.firstFailureMs) / 60_000),
      relayOutageHours,
      poison,
      oversize,
      lost: verdict.lost + (specials.poison.length - poison) + (1 - oversize),
      // An applied oversize message counts in `duplicated` (the oracle's ids it does not expect).
      duplicated: verdict.duplicated + [...expected.values()].reduce((n, seen) => n + Math.max(0, seen - 1), 0),
      reordered: verdict.reordered,
      unexpectedDeadLetters,
    };
    return {
      ...result,
      details: {
        ...verdict.details,
        ...sweeps,
        fragileCalls: JSON.stringify(fragile.calls),
        healthyCallsDuringOutage,
        timersScheduledLost: delays.lost,
        timersFired: delays.fired,
        outboxRecordsTrimmed: trimmed,
        ...(dice.faults satisfies FaultCounts),
      },
      elapsedMs: Date.now() - began,
      line: failuresLine(result),
    };
  } finally {
    await Promise.all([pollers.dispatcher?.stop(), pollers.relay?.stop()]);
    await fragile.stop();
    if (resources) await deleteLocalAws(clients, { ...resources, egress: { [EGRESS]: resources.egress[EGRESS]! } }, Object.values(ingressStreams));
    clients.destroy();
    relayClients.destroy();
  }
}

/** The line the run prints. */
export function failuresLine(r: Pick<FailuresResult, 'outageMinutes' | 'relayOutageHours' | 'poison' | 'oversize' | 'lost' | 'duplicated' | 'reordered' | 'unexpectedDeadLetters'>): string {
  return `chaos-failures: outage_min=${r.outageMinutes} relay_outage_h=${r.relayOutageHours} poison=${r.poison} oversize=${r.oversize} lost=${r.lost} duplicated=${r.duplicated} reordered=${r.reordered} unexpected_dead_letters=${r.unexpectedDeadLetters}`;
}
