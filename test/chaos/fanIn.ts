/**
 * The fan-in chaos run: `senders` one-shot senders (the fraud demo's transaction managers)
 * each send ONE message to one receiver (its merchant scorer), through the REAL dispatcher
 * and relay handlers on DynamoDB Local and moto, driven by the {@link LocalPoller} with the
 * relay on two item-key lanes and the chaos run's faults ({@link runUnderFaults}). It measures the receiver's state item at every commit and prints:
 *
 *     chaos-fan-in: senders=S max_item_bytes=B lost=L duplicated=D
 *
 * The receiver keeps a bitmap of the senders it has heard from (one bit each) and a count
 * of duplicates, so its own values stay small and the item size shows what the runtime
 * keeps for deduplication. See docs/chaos.md.
 */
import { randomUUID } from 'node:crypto';
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { Address } from '../../runtime-lambda/core/Address';
import type { InvocationRequest, InvocationResponse, InvocationResult } from '../../runtime-lambda/core/Invocation';
import type { FunctionEndpoint } from '../../runtime-lambda/core/ports/FunctionEndpoint';
import type { Commit, StateStore } from '../../runtime-lambda/core/ports/StateStore';
import type { ValueSpec } from '../../runtime-lambda/core/ValueSpec';
import { DynamoStateStore } from '../../runtime-lambda/aws/DynamoStateStore';
import { dynamoItemSize } from '../../runtime-lambda/aws/dynamoItemSize';
import { type LocalAwsEndpoints, deleteLocalAws, localAwsClients, provisionLocalAws } from '../../runtime-lambda/aws/LocalAws';
import { encodeStateItem } from '../../runtime-lambda/aws/stateItem';
import { CrashingStore, type FaultCounts, faultDice, runUnderFaults } from './chaos';

/** What one fan-in run does. */
export interface FanInOptions {
  readonly senders: number;
  readonly seed: number;
  readonly faultRate: number;
}

/** The outcome of {@link runFanIn}. */
export interface FanInResult {
  readonly senders: number;
  /** The largest state item the receiver's commits wrote, in DynamoDB's size accounting. */
  readonly maxItemBytes: number;
  readonly lost: number;
  readonly duplicated: number;
  readonly faults: FaultCounts;
  readonly elapsedMs: number;
  /** `chaos-fan-in: senders=S max_item_bytes=B lost=L duplicated=D` */
  readonly line: string;
}

const SENDER_TYPE = 'fanin/sender';
const RECEIVER = Address.of('fanin/receiver', 'one');
const SEEN: ValueSpec = { name: 'seen', typename: 'fanin/bitmap' };
const DUPLICATES: ValueSpec = { name: 'duplicates', typename: 'fanin/count' };
const INDEX_TYPE = 'fanin/sender-index';

const utf8 = (bytes: Uint8Array | null | undefined) => (bytes ? Buffer.from(bytes).toString('utf8') : '');
const encoded = (text: string) => new Uint8Array(Buffer.from(text, 'utf8'));
type Result = { -readonly [K in keyof InvocationResult]: InvocationResult[K] extends readonly (infer E)[] ? E[] : InvocationResult[K] };
const emptyResult = (): Result => ({ kind: 'result', mutations: [], messages: [], delayed: [], egress: [] });

/** A one-shot sender: no state; its ingress record (its own index) goes to the receiver. */
const sender: FunctionEndpoint = {
  async invoke(request: InvocationRequest): Promise<InvocationResponse> {
    const result = emptyResult();
    for (const invocation of request.invocations) result.messages.push({ target: RECEIVER, argument: { typename: INDEX_TYPE, value: invocation.argument.value } });
    return result;
  },
};

/** The receiver: one bit per sender index in `seen`, and how many indexes came again. */
function receiver(senders: number): FunctionEndpoint {
  return {
    async invoke(request: InvocationRequest): Promise<InvocationResponse> {
      const seenState = request.state.find((s) => s.name === SEEN.name);
      const duplicatesState = request.state.find((s) => s.name === DUPLICATES.name);
      if (seenState === undefined || duplicatesState === undefined) return { kind: 'incomplete', missing: [SEEN, DUPLICATES] };
      const seen = new Uint8Array(Math.ceil(senders / 8));
      if (seenState.value.value) seen.set(seenState.value.value);
      let duplicates = Number(utf8(duplicatesState.value.value) || '0');
      for (const invocation of request.invocations) {
        const index = Number(utf8(invocation.argument.value));
        const bit = 1 << (index % 8);
        if (seen[index >> 3]! & bit) duplicates++;
        seen[index >> 3]! |= bit;
      }
      const result = emptyResult();
      result.mutations.push({ name: SEEN.name, value: { typename: SEEN.typename, value: seen } });
      result.mutations.push({ name: DUPLICATES.name, value: { typename: DUPLICATES.typename, value: encoded(String(duplicates)) } });
      return result;
    },
  };
}

/** `store`, recording the size of every state item of `address` it commits. */
function measuringItems(store: StateStore, address: Address, sizes: number[]): StateStore {
  return {
    load: (addresses) => store.load(addresses),
    readInbox: (addresses, limit) => store.readInbox(addresses, limit),
    clearInbox: (target, keys) => store.clearInbox(target, keys),
    quarantine: (...args) => store.quarantine(...args),
    async commit(commit: Commit) {
      await store.commit(commit);
      // The same encoding and size accounting DynamoStateStore checks against the 400 KB limit.
      if (commit.address.equals(address)) sizes.push(dynamoItemSize(encodeStateItem(commit.state, 'x'.repeat(36))));
    },
  };
}

/** Runs the fan-in workload on `endpoints` (resources made and deleted with a unique prefix). */
export async function runFanIn(options: FanInOptions, endpoints: LocalAwsEndpoints, progress: (text: string) => void = () => {}): Promise<FanInResult> {
  const began = Date.now();
  const dice = faultDice(options.seed ^ 0xfa41, options.faultRate);
  const { faults } = dice;
  const clients = localAwsClients(endpoints);
  const relayClients = localAwsClients(endpoints);
  const prefix = `fanin-${randomUUID().slice(0, 8)}`;
  const ingressStream = `${prefix}-transactions`;
  const resources = await provisionLocalAws(clients, { prefix, messageShards: 2, ingressStreams: { [ingressStream]: 2 } });
  const quiet = { warn: () => undefined };
  try {
    progress(`fan-in: provisioned ${prefix}; ${options.senders} one-shot senders to ${RECEIVER.key}`);
    const records = Array.from({ length: options.senders }, (_, i) => ({ PartitionKey: `tx-${i}`, Data: encoded(String(i)) }));
    for (let i = 0; i < records.length; i += 500) {
      const out = await clients.kinesis.send(new PutRecordsCommand({ StreamName: ingressStream, Records: records.slice(i, i + 500) }));
      if (out.FailedRecordCount) throw new Error(`producing the fan-in workload: ${out.FailedRecordCount} records failed`);
    }

    const sizes: number[] = [];
    const store = new CrashingStore(
      measuringItems(
        new DynamoStateStore({ tableName: resources.tableName, outboxTableName: resources.outboxTableName, inboxTableName: resources.inboxTableName, client: clients.dynamo }),
        RECEIVER,
        sizes,
      ),
      faults,
    );
    const endpointsByType: Record<string, FunctionEndpoint> = { [SENDER_TYPE]: sender, [RECEIVER.typename]: receiver(options.senders) };
    // Two lanes everywhere, the relay's by item key as on AWS: no effect here has an order
    // to keep but each sender's messages, which the inbox keeps.
    await runUnderFaults({
      dispatcher: {
        store,
        functions: { resolve: (type) => endpointsByType[type] },
        ingresses: { [ingressStream]: { functionType: SENDER_TYPE, valueType: INDEX_TYPE } },
        dispatcher: { invokeRetry: { maxAttempts: 4, baseDelayMs: 2, maxDelayMs: 20 }, concurrency: 32 },
        logger: quiet,
      },
      resources,
      clients,
      relayClients,
      ingressStreams: [ingressStream],
      dice,
      logger: quiet,
      progress,
      label: 'fan-in: ',
    });

    const state = (await store.load([RECEIVER])).get(RECEIVER.key)!;
    const seen = state.values.get(SEEN.name)?.value ?? new Uint8Array(0);
    let heard = 0;
    for (let i = 0; i < options.senders; i++) if ((seen[i >> 3] ?? 0) & (1 << (i % 8))) heard++;
    const duplicated = Number(utf8(state.values.get(DUPLICATES.name)?.value) || '0');
    const maxItemBytes = Math.max(0, ...sizes);
    const lost = options.senders - heard;
    progress(`fan-in: ${sizes.length} receiver commits, items of ${Math.min(...sizes)} to ${maxItemBytes} bytes; faults ${JSON.stringify(faults)}`);
    return {
      senders: options.senders,
      maxItemBytes,
      lost,
      duplicated,
      faults,
      elapsedMs: Date.now() - began,
      line: `chaos-fan-in: senders=${options.senders} max_item_bytes=${maxItemBytes} lost=${lost} duplicated=${duplicated}`,
    };
  } finally {
    await deleteLocalAws(clients, resources, [ingressStream]);
    clients.destroy();
    relayClients.destroy();
  }
}
