/**
 * The chaos test: a seeded random workload through the REAL handlers (dispatcher + relay)
 * on local AWS (DynamoDB Local for state, outbox and its stream; moto for Kinesis and SQS),
 * driven by the {@link LocalPoller}, with faults injected at every boundary. It checks the
 * final state of every address and the egress against an oracle computed from the workload
 * and prints exactly one line:
 *
 *     chaos: messages=N lost=L duplicated=D reordered=R
 *
 * exiting non-zero unless all three are 0. See docs/chaos.md.
 *
 *     npx tsx test/chaos/chaos.ts [--messages N] [--addresses A] [--seed S] [--fault-rate P]
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes, randomUUID } from 'node:crypto';
import { QueryCommand } from '@aws-sdk/client-dynamodb';
import {
  type KinesisClient,
  PutRecordsCommand,
  type PutRecordsCommandInput,
  type PutRecordsCommandOutput,
  type ServiceInputTypes,
  type ServiceOutputTypes,
} from '@aws-sdk/client-kinesis';
import type { InitializeMiddleware } from '@smithy/types';
import { Address } from '../../runtime-lambda/core/Address';
import type { AddressState } from '../../runtime-lambda/core/AddressState';
import { RetryableError } from '../../runtime-lambda/core/errors';
import type { InvocationRequest, InvocationResponse, InvocationResult } from '../../runtime-lambda/core/Invocation';
import type { FunctionEndpoint } from '../../runtime-lambda/core/ports/FunctionEndpoint';
import type { Commit, StateStore } from '../../runtime-lambda/core/ports/StateStore';
import type { ValueSpec } from '../../runtime-lambda/core/ValueSpec';
import { DynamoStateStore } from '../../runtime-lambda/aws/DynamoStateStore';
import { DynamoEgressFence } from '../../runtime-lambda/aws/EgressFence';
import { decodeEffects } from '../../runtime-lambda/aws/effectsCodec';
import { decodeMessageBundle } from '../../runtime-lambda/aws/messageRecords';
import { type LocalAwsClients, type LocalAwsEndpoints, type LocalAwsResources, deleteLocalAws, localAwsClients, provisionLocalAws } from '../../runtime-lambda/aws/LocalAws';
import { LocalPoller, type PollerProgress } from '../../runtime-lambda/aws/LocalPoller';
import type { DynamoDBStreamEvent, KinesisStreamEvent, StreamBatchResponse } from '../../runtime-lambda/aws/lambdaEvents';
import { type DispatcherHandlerOptions, createDispatcherHandler } from '../../runtime-lambda/handlers/dispatcher';
import { type RelayHandlerOptions, createRelayHandler } from '../../runtime-lambda/handlers/relay';
import type { LambdaContext } from '../../runtime-lambda/handlers/observability/powertools';
import type { HandlerLogger } from '../../runtime-lambda/handlers/observability/telemetry';
import { mulberry32 } from '../../functions/fraud-detection/sample';
import { drainQueue } from '../support/drainQueue';
import { readKinesisStream } from '../support/readKinesisStream';

/** The part of a Lambda context the dispatcher reads. */
type RemainingTime = Pick<LambdaContext, 'getRemainingTimeInMillis'>;

// ---------------------------------------------------------------- options

/** What one chaos run does. */
export interface ChaosOptions {
  /** Messages in the workload: ingress records plus function-to-function messages. */
  readonly messages: number;
  /** Function instances the workload spreads over. */
  readonly addresses: number;
  readonly seed: number;
  /** Probability of each fault at each boundary it applies to. */
  readonly faultRate: number;
  /** One-shot senders of the fan-in run (`test/chaos/fanIn.ts`); 0 skips it. */
  readonly fanInSenders: number;
  /** Messages of the failures run (`test/chaos/failures.ts`); 0 skips it. */
  readonly failureMessages: number;
}

export const DEFAULT_CHAOS: ChaosOptions = { messages: 10_000, addresses: 500, seed: 42, faultRate: 0.05, fanInSenders: 20_000, failureMessages: 600 };

/** Function instances of the failures run (a quarter of them of the type that fails). */
export const FAILURE_ADDRESSES = 100;

/** The largest state item the fan-in receiver may write (the exactly-once issue's bound). */
export const FAN_IN_MAX_ITEM_BYTES = 64 * 1024;

/** A command line that cannot be run; `main` prints it with the usage and exits 2. */
export class UsageError extends Error {}

export const USAGE =
  'usage: npx tsx test/chaos/chaos.ts [--messages N (>= 1)] [--addresses A (>= 1)] [--seed S (integer)] [--fault-rate P (0..0.5)] [--fan-in-senders S (>= 0, 0 skips the fan-in run)] [--failure-messages F (>= 0, 0 skips the failures run)]';

/** Parses `--messages N --addresses A --seed S --fault-rate P --fan-in-senders S --failure-messages F` (also `--name=value`). */
export function parseChaosArgs(argv: readonly string[]): ChaosOptions {
  const out: { -readonly [K in keyof ChaosOptions]: ChaosOptions[K] } = { ...DEFAULT_CHAOS };
  const keys: Record<string, keyof ChaosOptions> = {
    '--messages': 'messages',
    '--addresses': 'addresses',
    '--seed': 'seed',
    '--fault-rate': 'faultRate',
    '--fan-in-senders': 'fanInSenders',
    '--failure-messages': 'failureMessages',
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const key = keys[flag];
    if (key === undefined) throw new UsageError(`unknown argument ${JSON.stringify(arg)}`);
    const text = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (text === undefined || text === '' || text.startsWith('--')) throw new UsageError(`${flag} needs a value`);
    const value = Number(text);
    if (key === 'faultRate') {
      if (!Number.isFinite(value) || value < 0 || value > 0.5) throw new UsageError(`${flag} must be a number from 0 to 0.5, got ${JSON.stringify(text)}`);
    } else if (key === 'fanInSenders' || key === 'failureMessages') {
      if (!/^\d+$/.test(text) || !Number.isSafeInteger(value)) throw new UsageError(`${flag} must be a whole number (0 skips the ${key === 'fanInSenders' ? 'fan-in' : 'failures'} run), got ${JSON.stringify(text)}`);
    } else if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(value) || (key !== 'seed' && value < 1)) {
      throw new UsageError(`${flag} must be ${key === 'seed' ? 'an integer' : 'a positive integer'}, got ${JSON.stringify(text)}`);
    }
    out[key] = value;
  }
  return out;
}

// ---------------------------------------------------------------- workload and oracle

/** One chain: an ingress record to `path[0]`, then a message along each hop; egress at the end if `egress`. */
export interface Chain {
  readonly c: number;
  /** Address ids (`n<i>`) visited in order; hop k's message `c.k` goes to `path[k]`, sent by `path[k-1]`. */
  readonly path: readonly string[];
  readonly egress: boolean;
}

/**
 * Chains until `messages` messages: random starts, 0 to 8 hops, a quarter of the hops back
 * to an address already on the chain (cycles, self-sends included), a third ending in egress.
 */
export function workload(options: Pick<ChaosOptions, 'messages' | 'addresses' | 'seed'>): Chain[] {
  const random = mulberry32(options.seed);
  const pick = () => `n${Math.floor(random() * options.addresses)}`;
  const chains: Chain[] = [];
  let total = 0;
  while (total < options.messages) {
    const hops = Math.min(Math.floor(random() * 9), options.messages - total - 1);
    const path = [pick()];
    for (let k = 0; k < hops; k++) path.push(random() < 0.25 ? path[Math.floor(random() * path.length)]! : pick());
    chains.push({ c: chains.length, path, egress: random() < 0.33 });
    total += path.length;
  }
  return chains;
}

export const FN_TYPE = 'chaos/node';
const INGRESS_STREAM_SUFFIX = 'ingress';
export const HOP_TYPE = 'chaos/hop';
export const EGRESS = 'chaos/out';
/** An egress whose queue is deleted (the failures run): every record to it is refused for good. */
export const POISON_EGRESS = 'chaos/poison';
const LOG: ValueSpec = { name: 'log', typename: 'chaos/log' };
const COUNT: ValueSpec = { name: 'count', typename: 'chaos/count' };

/**
 * The payload of a hop: chain, hop index, the hops still ahead, what ends the chain (0 nothing,
 * 1 an egress record to {@link EGRESS}, 2 one to {@link POISON_EGRESS}) and `p` bytes of
 * padding on that record (the failures run's oversize effects).
 */
export interface Hop {
  readonly c: number;
  readonly k: number;
  readonly h: readonly string[];
  readonly e: 0 | 1 | 2;
  readonly p?: number;
}

const text = (bytes: Uint8Array | null | undefined) => (bytes ? Buffer.from(bytes).toString('utf8') : '');
const bytes = (value: string) => new Uint8Array(Buffer.from(value, 'utf8'));

/**
 * The workload's function, at the core's protocol level: it appends each message's id
 * (`c.k`) to its `log`, counts messages in `count`, forwards the chain to its next hop (of
 * the type `typeOf` names for its id) or emits egress `<id>|<c>` at the chain's end.
 */
export function chaosFunctionOf(typeOf: (id: string) => string): FunctionEndpoint {
  return { invoke: (request) => invokeChaos(request, typeOf) };
}

/** {@link chaosFunctionOf} with every address of {@link FN_TYPE}. */
export const chaosFunction: FunctionEndpoint = chaosFunctionOf(() => FN_TYPE);

async function invokeChaos(request: InvocationRequest, typeOf: (id: string) => string): Promise<InvocationResponse> {
  const log = request.state.find((s) => s.name === LOG.name);
  const count = request.state.find((s) => s.name === COUNT.name);
  if (log === undefined || count === undefined) return { kind: 'incomplete', missing: [LOG, COUNT] };
  const ids = text(log.value.value) === '' ? [] : text(log.value.value).split(',');
  let n = Number(text(count.value.value) || '0');
  const result: { -readonly [K in keyof InvocationResult]: InvocationResult[K] extends readonly (infer E)[] ? E[] : InvocationResult[K] } = {
    kind: 'result',
    mutations: [],
    messages: [],
    delayed: [],
    egress: [],
  };
  for (const invocation of request.invocations) {
    const hop = JSON.parse(text(invocation.argument.value)) as Hop;
    ids.push(`${hop.c}.${hop.k}`);
    n++;
    if (hop.h.length > 0) {
      const next: Hop = { ...hop, k: hop.k + 1, h: hop.h.slice(1) };
      result.messages.push({ target: Address.of(typeOf(hop.h[0]!), hop.h[0]!), argument: { typename: HOP_TYPE, value: bytes(JSON.stringify(next)) } });
    } else if (hop.e !== 0) {
      // Random padding: the store deflates, and a run of one letter would shrink to nothing.
      const record = `${request.target.id}|${hop.c}${hop.p ? `|${randomBytes(Math.ceil((hop.p * 3) / 4)).toString('base64')}` : ''}`;
      result.egress.push({ egress: hop.e === 2 ? POISON_EGRESS : EGRESS, argument: { typename: 'chaos/egress', value: bytes(record) } });
    }
  }
  result.mutations.push({ name: LOG.name, value: { typename: LOG.typename, value: bytes(ids.join(',')) } });
  result.mutations.push({ name: COUNT.name, value: { typename: COUNT.typename, value: bytes(String(n)) } });
  return result;
}

/** What the oracle found. */
export interface Verdict {
  readonly messages: number;
  readonly lost: number;
  readonly duplicated: number;
  readonly reordered: number;
  /** Details for stderr: counts by kind. */
  readonly details: Record<string, number>;
}

/** Counts positions where `actual` goes back in `expected`'s order (ids not in `expected` ignored). */
function inversions(expected: readonly string[], actual: readonly string[]): number {
  const rank = new Map(expected.map((id, i) => [id, i]));
  let last = -1;
  let out = 0;
  for (const id of actual) {
    const r = rank.get(id);
    if (r === undefined) continue;
    if (r < last) out++;
    else last = r;
  }
  return out;
}

const firstOccurrences = (ids: readonly string[]) => [...new Set(ids)];

/**
 * Checks the final logs (address id → message ids in applied order) and the egress (in
 * queue order, deduplicated by record id as a consumer would) against the workload:
 * - lost: a message missing from its target's log, an egress record never delivered, or a count off;
 * - duplicated: a message applied twice, an egress record for one chain under two ids;
 * - reordered: per sender and target, a message applied before one sent earlier (ingress:
 *   per key in production order; function messages: in the sender's own log order);
 *   egress per address out of its log order.
 */
export function judge(chains: readonly Chain[], logs: ReadonlyMap<string, readonly string[]>, counts: ReadonlyMap<string, number>, egress: readonly { address: string; c: number }[]): Verdict {
  const details: Record<string, number> = { lostMessages: 0, lostEgress: 0, countMismatches: 0, duplicatedMessages: 0, duplicatedEgress: 0, unexpected: 0, reorderedIngress: 0, reorderedMessages: 0, reorderedEgress: 0 };
  const targetOf = new Map<string, string>();
  const senderOf = new Map<string, string>();
  const chainById = new Map(chains.map((chain) => [chain.c, chain]));
  let messages = 0;
  const ingressOrder = new Map<string, string[]>();
  for (const chain of chains) {
    chain.path.forEach((address, k) => {
      const id = `${chain.c}.${k}`;
      targetOf.set(id, address);
      if (k > 0) senderOf.set(id, chain.path[k - 1]!);
      messages++;
    });
    const list = ingressOrder.get(chain.path[0]!) ?? [];
    list.push(`${chain.c}.0`);
    ingressOrder.set(chain.path[0]!, list);
  }
  // Lost, duplicated, unexpected.
  const seen = new Map<string, number>();
  for (const [address, ids] of logs) {
    for (const id of ids) {
      if (targetOf.get(id) !== address) details.unexpected!++;
      seen.set(id, (seen.get(id) ?? 0) + 1);
    }
    const expectedCount = ids.length;
    if ((counts.get(address) ?? 0) !== expectedCount) details.countMismatches!++;
  }
  for (const id of targetOf.keys()) {
    const n = seen.get(id) ?? 0;
    if (n === 0) {
      details.lostMessages!++;
      if (process.env.CHAOS_VERBOSE) process.stderr.write(`[chaos] lost ${id} -> ${targetOf.get(id)} from ${senderOf.get(id) ?? 'ingress'}\n`);
    }
    if (n > 1) details.duplicatedMessages! += n - 1;
  }
  // Order: ingress per key, function messages per (sender, target), egress per address.
  const expectedPairs = new Map<string, string[]>();
  const expectedEgress = new Map<string, string[]>();
  for (const [address, ids] of logs) {
    for (const id of firstOccurrences(ids)) {
      const [c, k] = id.split('.').map(Number) as [number, number];
      const chain = chainById.get(c);
      if (chain === undefined || chain.path[k] !== address) continue;
      if (k + 1 < chain.path.length) {
        const pair = `${address}>${chain.path[k + 1]}`;
        const list = expectedPairs.get(pair) ?? [];
        list.push(`${c}.${k + 1}`);
        expectedPairs.set(pair, list);
      } else if (chain.egress) {
        const list = expectedEgress.get(address) ?? [];
        list.push(String(c));
        expectedEgress.set(address, list);
      }
    }
  }
  for (const [address, ids] of logs) {
    const unique = firstOccurrences(ids);
    details.reorderedIngress! += inversions(ingressOrder.get(address) ?? [], unique.filter((id) => id.endsWith('.0')));
    const bySender = new Map<string, string[]>();
    for (const id of unique) {
      const sender = senderOf.get(id);
      if (sender === undefined) continue;
      const list = bySender.get(sender) ?? [];
      list.push(id);
      bySender.set(sender, list);
    }
    for (const [sender, received] of bySender) details.reorderedMessages! += inversions(expectedPairs.get(`${sender}>${address}`) ?? [], received);
  }
  // Egress.
  const egressChains = new Map<number, number>();
  const egressByAddress = new Map<string, string[]>();
  for (const record of egress) {
    egressChains.set(record.c, (egressChains.get(record.c) ?? 0) + 1);
    const list = egressByAddress.get(record.address) ?? [];
    list.push(String(record.c));
    egressByAddress.set(record.address, list);
  }
  for (const chain of chains) {
    if (!chain.egress) continue;
    const n = egressChains.get(chain.c) ?? 0;
    if (n === 0) details.lostEgress!++;
    if (n > 1) details.duplicatedEgress! += n - 1;
  }
  for (const [address, list] of egressByAddress) details.reorderedEgress! += inversions(expectedEgress.get(address) ?? [], list);

  return {
    messages,
    lost: details.lostMessages! + details.lostEgress! + details.countMismatches!,
    duplicated: details.duplicatedMessages! + details.duplicatedEgress! + details.unexpected!,
    reordered: details.reorderedIngress! + details.reorderedMessages! + details.reorderedEgress!,
    details,
  };
}

// ---------------------------------------------------------------- faults

/** The injected faults and how often each fired. */
export interface FaultCounts {
  crashBeforeCommit: number;
  crashAfterCommit: number;
  crashBeforeCheckpoint: number;
  relayCrashMidBatch: number;
  partialPutRecords: number;
  batchDeliveredTwice: number;
  racingDispatchers: number;
  functionThrows: number;
  functionTimesOut: number;
}

/** Thrown to kill an invocation the way a dying Lambda does. */
export class InjectedCrash extends Error {
  constructor(where: string) {
    super(`injected crash: ${where}`);
  }
}

/**
 * Per-invocation context. An invocation chosen to crash dies at one of its commits: just
 * before it (the function ran, nothing was written) or just after it (written, but the
 * invocation never answers, so nothing is checkpointed). Once dead, it commits nothing more.
 */
interface InvocationContext {
  crashAt?: { readonly commit: number; readonly before: boolean };
  commits: number;
  crashed?: InjectedCrash;
}
export const invocation = new AsyncLocalStorage<InvocationContext>();

/** Debugging aid: every outbox stream sequence number handed to the relay, in delivery order. */
const relayedSequenceNumbers: string[] = [];

/** A store that crashes the invocation around the commit the context chose. */
export class CrashingStore implements StateStore {
  constructor(
    private readonly inner: StateStore,
    private readonly faults: FaultCounts,
  ) {}
  load(addresses: Parameters<StateStore['load']>[0]) {
    return this.inner.load(addresses);
  }
  readInbox(addresses: Parameters<StateStore['readInbox']>[0], limit: number) {
    return this.inner.readInbox(addresses, limit);
  }
  clearInbox(address: Parameters<StateStore['clearInbox']>[0], keys: readonly string[]) {
    return this.inner.clearInbox(address, keys);
  }
  quarantine(...args: Parameters<StateStore['quarantine']>) {
    return this.inner.quarantine(...args);
  }
  async commit(commit: Commit): Promise<void> {
    const context = invocation.getStore();
    if (context?.crashed) throw context.crashed;
    const index = context ? context.commits++ : -1;
    const crashHere = context?.crashAt !== undefined && context.crashAt.commit === index;
    if (crashHere && context.crashAt!.before) {
      this.faults.crashBeforeCommit++;
      context.crashed = new InjectedCrash(`after invoking ${commit.address.key}, before its commit`);
      throw context.crashed;
    }
    await this.inner.commit(commit);
    if (crashHere) {
      this.faults.crashAfterCommit++;
      context.crashed = new InjectedCrash(`after the commit of ${commit.address.key}, before the checkpoint`);
    }
  }
}

/** Runs `handler` as one Lambda invocation (with `lambda`'s context), which dies if `crashAt` says so. */
export async function asInvocation<E>(
  handler: (event: E, lambda?: RemainingTime) => Promise<StreamBatchResponse>,
  event: E,
  crashAt?: InvocationContext['crashAt'],
  lambda?: RemainingTime,
): Promise<StreamBatchResponse> {
  const context: InvocationContext = { commits: 0, ...(crashAt ? { crashAt } : {}) };
  const response = await invocation.run(context, () => handler(event, lambda));
  if (context.crashed) throw context.crashed;
  return response;
}

/** A seeded source of faults: `chance()` is true with the fault rate; `faults` counts those that fired. */
export interface FaultDice {
  readonly random: () => number;
  readonly chance: () => boolean;
  readonly faults: FaultCounts;
}

/** The {@link FaultDice} of one run: the same seed, the same faults at the same places. */
export function faultDice(seed: number, faultRate: number): FaultDice {
  const random = mulberry32(seed);
  return { random, chance: () => random() < faultRate, faults: noFaults() };
}

/** Every fault counter at zero. */
function noFaults(): FaultCounts {
  return {
    crashBeforeCommit: 0,
    crashAfterCommit: 0,
    crashBeforeCheckpoint: 0,
    relayCrashMidBatch: 0,
    partialPutRecords: 0,
    batchDeliveredTwice: 0,
    racingDispatchers: 0,
    functionThrows: 0,
    functionTimesOut: 0,
  };
}

/** What {@link runUnderFaults} drives. */
export interface FaultyRunOptions {
  readonly dispatcher: DispatcherHandlerOptions;
  /** The app's resources: the relay publishes to its message stream, egresses and dead-letter queue. */
  readonly resources: LocalAwsResources;
  /** The pollers' clients. */
  readonly clients: LocalAwsClients;
  /** The relay's clients (its Kinesis client gets the partial-`PutRecords` faults). */
  readonly relayClients: LocalAwsClients;
  /** The ingress streams the dispatcher reads besides the message stream. */
  readonly ingressStreams: readonly string[];
  readonly dice: FaultDice;
  readonly logger: HandlerLogger;
  /** Told the poller's progress every 10 seconds, after `label`. */
  readonly progress: (text: string) => void;
  readonly label: string;
}

/**
 * The dispatcher handler under the chaos faults: two dispatchers racing on one batch,
 * crashes before or after a commit, a batch delivered twice. `lambda` is each invocation's
 * Lambda context (its remaining time sets the dispatcher's deadline).
 */
export function faultyDispatcher(options: DispatcherHandlerOptions, dice: FaultDice, lambda?: () => RemainingTime): (event: KinesisStreamEvent) => Promise<StreamBatchResponse> {
  const { chance, random, faults } = dice;
  const primary = createDispatcherHandler(options);
  const rival = createDispatcherHandler(options);
  // A crash in one invocation out of 1/(2 × fault rate), at a random commit of it.
  const crashAt = () => (chance() || chance() ? { commit: Math.floor(random() * 4), before: random() < 0.5 } : undefined);
  return async (event) => {
    if (chance()) {
      faults.racingDispatchers++;
      const [response] = await Promise.all([asInvocation(primary, event, crashAt(), lambda?.()), asInvocation(rival, event, crashAt(), lambda?.()).catch(() => undefined)]);
      return response;
    }
    const response = await asInvocation(primary, event, crashAt(), lambda?.());
    if (chance()) {
      faults.batchDeliveredTwice++;
      return asInvocation(primary, event, undefined, lambda?.());
    }
    return response;
  };
}

/**
 * The relay handler under the chaos faults: dying mid-batch, a batch delivered twice, and
 * (on `relayClients.kinesis`) `PutRecords` failing single entries.
 */
export function faultyRelay(options: Omit<RelayHandlerOptions, 'kinesis' | 'sqs' | 'messageStream' | 'egress' | 'deadLetterQueueUrl' | 'egressFence'>, resources: LocalAwsResources, relayClients: LocalAwsClients, dice: FaultDice): (event: DynamoDBStreamEvent) => Promise<StreamBatchResponse> {
  const { chance, faults } = dice;
  partialPutRecordsFailures(relayClients.kinesis, resources.messageStream, chance, faults);
  const relayHandler = createRelayHandler({ ...relayOptionsOf(resources, relayClients), ...options });
  return async (event) => {
    if (process.env.CHAOS_VERBOSE) for (const r of event.Records) relayedSequenceNumbers.push(r.dynamodb.SequenceNumber);
    if (event.Records.length >= 2 && chance()) {
      faults.relayCrashMidBatch++;
      await relayHandler({ Records: event.Records.slice(0, Math.ceil(event.Records.length / 2)) });
      throw new InjectedCrash('relay died mid-batch');
    }
    const response = await relayHandler(event);
    if (chance()) {
      faults.batchDeliveredTwice++;
      return relayHandler(event);
    }
    return response;
  };
}

/** What the relay publishes to: the app's message stream, egresses and dead-letter queue, with its egress fence. */
export function relayOptionsOf(resources: LocalAwsResources, clients: LocalAwsClients): Pick<RelayHandlerOptions, 'kinesis' | 'sqs' | 'messageStream' | 'egress' | 'deadLetterQueueUrl' | 'egressFence'> {
  return {
    kinesis: clients.kinesis,
    sqs: clients.sqs,
    messageStream: resources.messageStream,
    egress: resources.egress,
    deadLetterQueueUrl: resources.deadLetterQueueUrl,
    egressFence: new DynamoEgressFence({ client: clients.dynamo, inboxTableName: resources.inboxTableName }),
  };
}

/**
 * The real dispatcher and relay handlers under a {@link LocalPoller} (batches of 100, two
 * lanes per shard, the outbox stream's by item key as on AWS, bisect on error, unlimited
 * retries), with the egress fence and the faults of docs/chaos.md ({@link faultyDispatcher},
 * {@link faultyRelay}) and crashes before the checkpoint. Runs until everything is
 * processed, then stops the poller; answers its counters.
 */
export async function runUnderFaults(options: FaultyRunOptions): Promise<Omit<PollerProgress, 'checkpoints'>> {
  const { chance, faults } = options.dice;
  const { resources } = options;
  const dispatcher = faultyDispatcher(options.dispatcher, options.dice);
  const relay = faultyRelay({ retry: { maxAttempts: 8, baseDelayMs: 2, maxDelayMs: 20 }, logger: options.logger }, resources, options.relayClients, options.dice);
  const mapping = { batchSize: 100, parallelizationFactor: 2, bisectBatchOnFunctionError: true, maxRetryAttempts: -1 };
  const poller = new LocalPoller({
    sources: [
      ...[...options.ingressStreams, resources.messageStream].map((stream) => ({ kind: 'kinesis' as const, client: options.clients.kinesis, stream, handler: dispatcher, mapping })),
      { kind: 'dynamodb', api: options.clients.streams, streamArn: resources.outboxStreamArn, handler: relay, mapping },
    ],
    idlePollMs: 50,
    crashBeforeCheckpoint: () => {
      if (!chance()) return false;
      faults.crashBeforeCheckpoint++;
      return true;
    },
    logger: options.logger,
  });
  poller.start();
  const ticker = setInterval(() => options.progress(`${options.label}poller ${JSON.stringify(poller.summary())}`), 10_000);
  try {
    await poller.waitForIdle({ quietMs: 2000, timeoutMs: 20 * 60_000 });
  } finally {
    clearInterval(ticker);
    await poller.stop();
  }
  return poller.summary();
}

/** The function behind a fault layer: at most one transient failure (a throw or a timeout) per distinct request. */
function flakyFunction(inner: FunctionEndpoint, chance: () => boolean, faults: FaultCounts): FunctionEndpoint {
  const failedOnce = new Set<string>();
  return {
    async invoke(request) {
      const key = `${request.target.key}|${request.invocations.length}|${text(request.invocations[0]?.argument.value)}`;
      if (!failedOnce.has(key) && chance()) {
        failedOnce.add(key);
        if (chance() || faults.functionThrows <= faults.functionTimesOut) {
          faults.functionThrows++;
          throw new Error(`injected: function on ${request.target.key} threw`);
        }
        faults.functionTimesOut++;
        await new Promise((resolve) => setTimeout(resolve, 25));
        throw new RetryableError(`injected: function on ${request.target.key} timed out after 25 ms`, { code: 'FUNCTION_TIMEOUT' });
      }
      return inner.invoke(request);
    },
  };
}

/**
 * Kinesis throttling as PutRecords answers it: entries left out of the request and
 * answered ProvisionedThroughputExceededException (an SDK middleware on the relay's
 * client; no emulator fails single entries).
 */
export function partialPutRecordsFailures(client: KinesisClient, stream: string, chance: () => boolean, faults: FaultCounts): void {
  const inject: InitializeMiddleware<ServiceInputTypes, ServiceOutputTypes> = (next) => async (args) => {
    const input = args.input as PutRecordsCommandInput;
    if (!input.Records || input.StreamName !== stream) return next(args);
    const fails = input.Records.map(() => chance());
    if (!fails.includes(true)) return next(args);
    faults.partialPutRecords++;
    const kept = input.Records.filter((_, i) => !fails[i]);
    const result = kept.length > 0 ? await next({ ...args, input: { ...input, Records: kept } }) : { output: { Records: [], $metadata: {} } as PutRecordsCommandOutput, response: {} };
    const output = result.output as PutRecordsCommandOutput;
    const answers = [...(output.Records ?? [])];
    output.Records = input.Records.map((_, i) =>
      fails[i] ? { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'Rate exceeded for shard (injected)' } : answers.shift()!,
    );
    output.FailedRecordCount = fails.filter(Boolean).length;
    return result as Awaited<ReturnType<typeof next>>;
  };
  client.middlewareStack.add(inject, { step: 'initialize', name: 'chaosPartialPutRecords' });
}

// ---------------------------------------------------------------- the run

/** The outcome of {@link runChaos}. */
export interface ChaosResult extends Verdict {
  /** `chaos: messages=N lost=L duplicated=D reordered=R` */
  readonly line: string;
  readonly elapsedMs: number;
  readonly faults: FaultCounts;
  readonly deadLetters: number;
  readonly poller: Omit<PollerProgress, 'checkpoints'>;
}

/** The line the run prints. */
export function chaosLine(v: Pick<Verdict, 'messages' | 'lost' | 'duplicated' | 'reordered'>): string {
  return `chaos: messages=${v.messages} lost=${v.lost} duplicated=${v.duplicated} reordered=${v.reordered}`;
}

/** Runs the workload with faults on `endpoints` (resources made and deleted with a unique prefix). */
export async function runChaos(options: ChaosOptions, endpoints: LocalAwsEndpoints, progress: (text: string) => void = () => {}): Promise<ChaosResult> {
  const began = Date.now();
  const chains = workload(options);
  const dice = faultDice(options.seed ^ 0x5eed, options.faultRate);
  const { chance, faults } = dice;
  const clients = localAwsClients(endpoints);
  const relayClients = localAwsClients(endpoints);
  const prefix = `chaos-${randomUUID().slice(0, 8)}`;
  const ingressStream = `${prefix}-${INGRESS_STREAM_SUFFIX}`;
  let resources: LocalAwsResources | undefined;
  const warnings = { count: 0 };
  const quiet = { warn: (message: string, attributes?: Readonly<Record<string, unknown>>) => { warnings.count++; if (process.env.CHAOS_VERBOSE) progress(attributes ? `${message} ${JSON.stringify(attributes)}` : message); } };
  try {
    resources = await provisionLocalAws(clients, { prefix, messageShards: 4, ingressStreams: { [ingressStream]: 2 }, sqsEgress: [EGRESS] });
    progress(`provisioned ${prefix}; ${chains.length} chains`);

    await produceChains(clients.kinesis, ingressStream, chains);

    const store = new CrashingStore(
      new DynamoStateStore({ tableName: resources.tableName, outboxTableName: resources.outboxTableName, inboxTableName: resources.inboxTableName, client: clients.dynamo }),
      faults,
    );
    const flaky = flakyFunction(chaosFunction, chance, faults);
    const resolver = { resolve: (type: string) => (type === FN_TYPE ? flaky : undefined) };
    const dispatcherOptions = {
      store,
      functions: resolver,
      ingresses: { [ingressStream]: { functionType: FN_TYPE, valueType: HOP_TYPE } },
      dispatcher: { invokeRetry: { maxAttempts: 4, baseDelayMs: 2, maxDelayMs: 20 }, concurrency: 32 },
      logger: quiet,
    };
    // Two relay lanes, by item key as on AWS: one sender's commits may reach the relay in
    // either order; inboxes keep messages in order, egress fences egress (docs/exactly-once.md).
    const poller = await runUnderFaults({
      dispatcher: dispatcherOptions,
      resources,
      clients,
      relayClients,
      ingressStreams: [ingressStream],
      dice,
      logger: quiet,
      progress,
      label: '',
    });
    progress('drained; checking');

    const { states, logs, counts } = await finalLogs(clients, resources, Array.from({ length: options.addresses }, (_, i) => Address.of(FN_TYPE, `n${i}`)));
    const egress = await deliveredEgress(clients, resources);
    const deadLetters = (await drainQueue(clients.sqs, resources.deadLetterQueueUrl)).length;
    const verdict = judge(chains, logs, counts, egress);
    if (process.env.CHAOS_VERBOSE && verdict.lost > 0) await explainLosses(chains, logs, states, clients, resources, progress);
    return { ...verdict, line: chaosLine(verdict), elapsedMs: Date.now() - began, faults, deadLetters, poller };
  } finally {
    if (resources) await deleteLocalAws(clients, resources, [ingressStream]);
    clients.destroy();
    relayClients.destroy();
  }
}

/**
 * Produces the workload's ingress: one record per chain to `stream`, keyed by its first
 * address, in chain order; `extra` adds fields to a chain's first hop.
 */
export async function produceChains(kinesis: KinesisClient, stream: string, chains: readonly Chain[], extra: (chain: Chain) => Partial<Hop> = () => ({})): Promise<void> {
  const records = chains.map((chain) => ({
    PartitionKey: chain.path[0]!,
    Data: bytes(JSON.stringify({ c: chain.c, k: 0, h: chain.path.slice(1), e: chain.egress ? 1 : 0, ...extra(chain) } satisfies Hop)),
  }));
  for (let i = 0; i < records.length; i += 500) {
    const out = await kinesis.send(new PutRecordsCommand({ StreamName: stream, Records: records.slice(i, i + 500) }));
    if (out.FailedRecordCount) throw new Error(`producing the workload: ${out.FailedRecordCount} records failed`);
  }
}

/** The final state of `addresses`, and their logs and counts by address id. */
export async function finalLogs(
  clients: LocalAwsClients,
  resources: LocalAwsResources,
  addresses: readonly Address[],
): Promise<{ states: ReadonlyMap<string, AddressState>; logs: Map<string, string[]>; counts: Map<string, number> }> {
  const store = new DynamoStateStore({ tableName: resources.tableName, outboxTableName: resources.outboxTableName, inboxTableName: resources.inboxTableName, client: clients.dynamo });
  const states = await store.load(addresses);
  const logs = new Map<string, string[]>();
  const counts = new Map<string, number>();
  for (const address of addresses) {
    const state = states.get(address.key)!;
    const log = text(state.values.get(LOG.name)?.value);
    logs.set(address.id, log === '' ? [] : log.split(','));
    counts.set(address.id, Number(text(state.values.get(COUNT.name)?.value) || '0'));
  }
  return { states, logs, counts };
}

/** The egress queue's records (`<address>|<chain>[|padding]`), drained, once per record id as a consumer dedups them. */
export async function deliveredEgress(clients: LocalAwsClients, resources: LocalAwsResources): Promise<{ address: string; c: number }[]> {
  const byId = new Map<string, { address: string; c: number }>();
  for (const message of await drainQueue(clients.sqs, (resources.egress[EGRESS] as { sqsQueueUrl: string }).sqsQueueUrl)) {
    if (byId.has(message.id)) continue;
    const [address, c] = message.body.split('|');
    byId.set(message.id, { address: address!, c: Number(c) });
  }
  return [...byId.values()];
}

/** Debugging aid (CHAOS_VERBOSE): for each lost hop, what its sender committed and where the receiver stands. */
async function explainLosses(
  chains: readonly Chain[],
  logs: ReadonlyMap<string, readonly string[]>,
  states: ReadonlyMap<string, AddressState>,
  clients: ReturnType<typeof localAwsClients>,
  resources: LocalAwsResources,
  progress: (text: string) => void,
): Promise<void> {
  const inOutboxStream = new Map<string, string>();
  const streamShards = (await clients.streams.describeStream(resources.outboxStreamArn)).shards;
  for (const shard of streamShards) {
    let iterator = await clients.streams.getShardIterator(resources.outboxStreamArn, shard.ShardId, 'TRIM_HORIZON');
    for (let empty = 0; iterator && empty < 2; ) {
      const got = await clients.streams.getRecords(iterator, 1000);
      if (got.records.length === 0) empty++;
      for (const r of got.records) inOutboxStream.set(`${r.dynamodb.Keys?.address && 'S' in r.dynamodb.Keys.address ? r.dynamodb.Keys.address.S : '?'}#${r.dynamodb.Keys?.version && 'N' in r.dynamodb.Keys.version ? r.dynamodb.Keys.version.N : '?'}`, r.dynamodb.SequenceNumber);
      iterator = got.nextShardIterator;
    }
  }
  progress(`outbox stream: ${streamShards.length} shards (${streamShards.map((s) => `${s.ShardId}<-${s.ParentShardId ?? '-'}`).join(' ')}), ${inOutboxStream.size} items`);
  const onStream = new Map<string, string[]>();
  for (const r of await readKinesisStream(clients.kinesis, resources.messageStream)) {
    for (const e of decodeMessageBundle(Buffer.from(r.kinesis.data, 'base64'), r.kinesis.partitionKey)) onStream.set(e.id, [...(onStream.get(e.id) ?? []), r.eventID]);
  }
  for (const chain of chains) {
    for (let k = 1; k < chain.path.length; k++) {
      const id = `${chain.c}.${k}`;
      const receiver = chain.path[k]!;
      if (logs.get(receiver)?.includes(id)) continue;
      if (!logs.get(chain.path[k - 1]!)?.includes(`${chain.c}.${k - 1}`)) continue; // lost upstream
      const sender = Address.of(FN_TYPE, chain.path[k - 1]!);
      const items = await clients.dynamo.send(new QueryCommand({ TableName: resources.outboxTableName, KeyConditionExpression: 'address = :a', ExpressionAttributeValues: { ':a': { S: sender.key } }, ConsistentRead: true }));
      const found = (items.Items ?? []).flatMap((item) =>
        decodeEffects(item.effects!.B!).messages
          .filter((m) => text(m.argument.value).startsWith(`{"c":${chain.c},"k":${k},`))
          .map((m) => `outbox v${item.version!.N} ${m.id} pos=${m.origin.kind === 'function' ? m.origin.position : '?'} on stream: ${onStream.get(m.id)?.join(',') ?? 'NO'}; in outbox stream: ${describeRelay(inOutboxStream.get(`${sender.key}#${item.version!.N}`))}`),
      );
      const receiverState = states.get(Address.of(FN_TYPE, receiver).key)!;
      const senderState = states.get(sender.key)!;
      progress(`lost ${id}: ${sender.key} (v${senderState.version} epoch ${senderState.epochMs}) -> ${receiver}; ${found.join('; ') || 'no outbox item'}; receiver at v${receiverState.version} lists ${receiverState.inboxApplied.size} inbox entries as applied`);
    }
  }
}

function describeRelay(seq: string | undefined): string {
  if (seq === undefined) return 'NO';
  const at = relayedSequenceNumbers.indexOf(seq);
  if (at < 0) {
    const later = relayedSequenceNumbers.filter((n) => n.length > seq.length || (n.length === seq.length && n > seq)).length;
    return `seq ${seq}, NEVER handed to the relay (${later} higher sequence numbers were)`;
  }
  return `seq ${seq}, handed to the relay at delivery #${at} of ${relayedSequenceNumbers.length}`;
}


// ---------------------------------------------------------------- command line

async function endpointsFromEnv(): Promise<{ endpoints: LocalAwsEndpoints; stop: () => Promise<void> }> {
  // The test support starts DynamoDB Local and moto unless the environment names endpoints.
  const { startEmulators } = await import('../support/emulators');
  const emulators = await startEmulators();
  const e = emulators.endpoints;
  return {
    endpoints: { dynamodb: e.dynamodb, aws: e.aws, region: e.region, credentials: { accessKeyId: e.accessKeyId, secretAccessKey: e.secretAccessKey } },
    stop: () => emulators.stop(),
  };
}

export async function main(argv: readonly string[]): Promise<number> {
  let options: ChaosOptions;
  try {
    options = parseChaosArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`chaos: ${error.message}\n${USAGE}\n`);
    return 2;
  }
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const log = (line: string) => process.stderr.write(`[chaos] ${line}\n`);
  const { endpoints, stop } = await endpointsFromEnv();
  try {
    log(`messages=${options.messages} addresses=${options.addresses} seed=${options.seed} fault-rate=${options.faultRate}`);
    const result = await runChaos(options, endpoints, log);
    log(`faults ${JSON.stringify(result.faults)}`);
    log(`poller ${JSON.stringify(result.poller)}`);
    log(`details ${JSON.stringify(result.details)} deadLetters=${result.deadLetters} in ${(result.elapsedMs / 1000).toFixed(1)} s`);
    process.stdout.write(`${result.line}\n`);
    let clean = result.lost === 0 && result.duplicated === 0 && result.reordered === 0 && result.deadLetters === 0;
    if (options.fanInSenders > 0) {
      const { runFanIn } = await import('./fanIn');
      const fanIn = await runFanIn({ senders: options.fanInSenders, seed: options.seed, faultRate: options.faultRate }, endpoints, log);
      log(`fan-in in ${(fanIn.elapsedMs / 1000).toFixed(1)} s`);
      process.stdout.write(`${fanIn.line}\n`);
      clean &&= fanIn.lost === 0 && fanIn.duplicated === 0 && fanIn.maxItemBytes <= FAN_IN_MAX_ITEM_BYTES;
    }
    if (options.failureMessages > 0) {
      const { runFailures } = await import('./failures');
      const failures = await runFailures({ messages: options.failureMessages, addresses: FAILURE_ADDRESSES, seed: options.seed, faultRate: options.faultRate }, endpoints, log);
      log(`failures details ${JSON.stringify(failures.details)} in ${(failures.elapsedMs / 1000).toFixed(1)} s`);
      process.stdout.write(`${failures.line}\n`);
      clean &&= failures.lost === 0 && failures.duplicated === 0 && failures.reordered === 0 && failures.unexpectedDeadLetters === 0;
    }
    return clean ? 0 : 1;
  } finally {
    await stop();
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`chaos: failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(3);
    },
  );
}
