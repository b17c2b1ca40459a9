/**
 * The AWS part of `npm run bench`: an application on emulated AWS (DynamoDB Local + moto, or
 * `AWS_ENDPOINT_URL`) through the REAL dispatcher and relay handlers, driven by the
 * {@link LocalPoller}, with a {@link CostMeter} on every client that AWS would bill.
 *
 * Two sets of clients: the metered ones are those of the handlers (state store, relay,
 * delay scheduler) and of the producers; the others belong to what is free or not part of
 * the data plane (Lambda's event source mappings reading the streams, provisioning, the
 * checks at the end), so their calls are neither counted nor billed.
 */
import { randomUUID } from 'node:crypto';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { DescribeStreamSummaryCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { CreateScheduleGroupCommand, DeleteScheduleGroupCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import type { InitializeMiddleware } from '@smithy/types';
import type { CancelledTimer, ScheduledTimer } from '../../../runtime-lambda/core/Effects';
import type { Clock } from '../../../runtime-lambda/core/ports/Clock';
import type { FunctionResolver } from '../../../runtime-lambda/core/ports/FunctionEndpoint';
import { CostMeter } from '../../../runtime-lambda/aws/CostMeter';
import type { DelayScheduler } from '../../../runtime-lambda/aws/DelayScheduler';
import { DynamoStateStore } from '../../../runtime-lambda/aws/DynamoStateStore';
import { DynamoEgressFence } from '../../../runtime-lambda/aws/EgressFence';
import { dynamoItemSize } from '../../../runtime-lambda/aws/dynamoItemSize';
import type { IngressSpec } from '../../../runtime-lambda/aws/kinesisRecords';
import {
  type LocalAwsClients,
  type LocalAwsEndpoints,
  type LocalAwsResources,
  LocalDelayScheduler,
  deleteLocalAws,
  localAwsClients,
  provisionLocalAws,
} from '../../../runtime-lambda/aws/LocalAws';
import { LocalPoller } from '../../../runtime-lambda/aws/LocalPoller';
import type { DynamoDBStreamEvent, KinesisStreamEvent, StreamBatchResponse } from '../../../runtime-lambda/aws/lambdaEvents';
import { createDispatcherHandler } from '../../../runtime-lambda/handlers/dispatcher';
import { createRelayHandler } from '../../../runtime-lambda/handlers/relay';
import { SchedulerDelayScheduler } from '../../../runtime-lambda/aws/SchedulerDelayScheduler';
import { type FiredSchedule, SchedulerTimeline } from '../../support/schedulerTimeline';

/**
 * Memory of the two Lambdas: the defaults of the `StatefulFunctions` construct
 * (infra/lib/StatefulFunctions.ts: `dispatcherMemorySizeMiB ?? 512`, `relayMemorySizeMiB ?? 256`), arm64.
 */
export const DISPATCHER_MEMORY_MB = 512;
export const RELAY_MEMORY_MB = 256;
/** The construct's default event source mapping: 100 records per batch, one batch per shard at a time. */
export const MAPPING = { batchSize: 100, parallelizationFactor: 1, bisectBatchOnFunctionError: true } as const;

/**
 * What one commit would bill if its effects rode in the state item (one conditional
 * PutItem, the table's stream carrying them to the relay) instead of a transaction with a
 * separate outbox item: DESIGN.md's lever (1), not built yet. Measured on the real items.
 */
export interface OneItemEstimate {
  /** TransactWriteItems seen. */
  transactions: number;
  /** What they billed: 2 units per KB per item. */
  transactionalWriteUnits: number;
  /** What one PutItem of the state item with the effects inside would bill: 1 unit per KB. */
  oneItemWriteUnits: number;
}

/** Lambda invocations recorded per handler, besides the meter's totals. */
export interface LambdaTally {
  dispatcher: { invocations: number; ms: number };
  relay: { invocations: number; ms: number };
}

/** A running app on emulated AWS with its meter. */
export interface MeteredApp {
  readonly meter: CostMeter;
  readonly resources: LocalAwsResources;
  /** Metered clients: the producers' and the handlers'. */
  readonly metered: LocalAwsClients;
  /** Unmetered clients: the event source mappings', provisioning, checks. */
  readonly free: LocalAwsClients;
  readonly poller: LocalPoller;
  /** The store as the checks read it (unmetered client). */
  readonly checkStore: DynamoStateStore;
  readonly lambdas: LambdaTally;
  readonly oneItem: OneItemEstimate;
  readonly ingressStreams: Readonly<Record<string, string>>;
  readonly scheduler: SimulatedDelays;
  /** Read units added for keys DynamoDB Local read for free (no item): AWS bills them. */
  readonly readsCorrected: { units: number };
  /**
   * The meter, Lambda tally and one-item estimate of the message stream's dispatcher and the
   * relay when {@link MeteredAppOptions.meterDeliveryApart} is set (else the main ones).
   */
  readonly delivery: { readonly meter: CostMeter; readonly lambdas: LambdaTally; readonly oneItem: OneItemEstimate };
  /** The records the poller has read so far: take it before putting records, for {@link settle}. */
  readMark(): number;
  /**
   * Waits until the poller has read `records` more records than at `mark` (those just put:
   * until then an idle poller only means it has not looked yet), then until every stream is
   * drained and every handler is done.
   */
  settle(mark?: number, records?: number): Promise<void>;
  stop(): Promise<void>;
}

/** Options of {@link startMeteredApp}. */
export interface MeteredAppOptions {
  readonly name: string;
  readonly functions: FunctionResolver;
  /** Ingress name → spec; each gets a stream `<prefix>-<name>` of `ingressShards` shards. */
  readonly ingresses: Readonly<Record<string, IngressSpec>>;
  readonly ingressShards?: number;
  /** Records per invocation on the ingress streams. @default 100, as on the message stream */
  readonly ingressBatchSize?: number;
  readonly messageShards?: number;
  readonly sqsEgress?: readonly string[];
  readonly clock?: Clock;
  /**
   * How delayed messages travel: `in-process` holds them in {@link CountingScheduler};
   * `scheduler` makes real schedules on the emulator's EventBridge Scheduler
   * ({@link SchedulerDelayScheduler}, templated Kinesis target) that a
   * {@link SchedulerTimeline} fires. @default 'in-process'
   */
  readonly delays?: 'in-process' | 'scheduler';
  /**
   * Meter apart what delivering messages between functions costs: the relay and the
   * dispatcher's invocations on the message stream go to {@link MeteredApp.delivery}, the
   * ingress streams' to the main meter. @default false: one meter for everything
   */
  readonly meterDeliveryApart?: boolean;
}

/** Delayed messages on a simulated timeline: the app's delay scheduler, fired by the workload. */
export interface SimulatedDelays extends DelayScheduler {
  /** Timers fired so far. */
  readonly fired: number;
  /** When timers are real schedules: those that ran, in the order they ran. */
  readonly schedules?: readonly FiredSchedule[];
  /** Timers scheduled and not fired or cancelled yet. */
  pending(): Promise<number>;
  /** Fires every timer due at or before `timeMs` (on the workload's clock); answers how many. */
  fireDue(timeMs: number): Promise<number>;
  stop(): Promise<void>;
}

/** Counts each distinct timer scheduled as one would-be EventBridge Scheduler invocation; answers the new ones. */
function countNewTimers(meter: CostMeter, seen: Set<string>, timers: readonly ScheduledTimer[]): ScheduledTimer[] {
  const fresh = timers.filter((timer) => !seen.has(timer.timerId)); // a re-relayed outbox item: the same schedule name
  for (const timer of fresh) seen.add(timer.timerId);
  meter.calls.set('Scheduler.CreateSchedule (would-be)', (meter.calls.get('Scheduler.CreateSchedule (would-be)') ?? 0) + fresh.length);
  meter.units.schedulerInvocations += fresh.length;
  return fresh;
}

/**
 * The in-process delay scheduler of {@link LocalDelayScheduler} on a simulated timeline:
 * timers are held until {@link fireDue} says their time has come on the workload's clock,
 * then handed to the LocalDelayScheduler to fire now (it puts the envelope on the message
 * stream, as the schedule's target would). Every distinct timer scheduled counts as one
 * would-be EventBridge Scheduler invocation on the meter.
 */
export class CountingScheduler implements SimulatedDelays {
  private readonly held = new Map<string, ScheduledTimer>();
  private readonly seen = new Set<string>();
  fired = 0;

  constructor(
    private readonly inner: LocalDelayScheduler,
    private readonly meter: CostMeter,
  ) {}

  async schedule(timers: readonly ScheduledTimer[]): Promise<void> {
    for (const timer of countNewTimers(this.meter, this.seen, timers)) this.held.set(timer.timerId, timer);
  }

  async cancel(timers: readonly CancelledTimer[]): Promise<void> {
    for (const { timerId } of timers) this.held.delete(timerId);
    await this.inner.cancel(timers);
  }

  async pending(): Promise<number> {
    return this.held.size;
  }

  async fireDue(timeMs: number): Promise<number> {
    const due = [...this.held.values()].filter((t) => t.dueAtMs <= timeMs).sort((a, b) => a.dueAtMs - b.dueAtMs);
    for (const t of due) this.held.delete(t.timerId);
    if (due.length > 0) await this.inner.schedule(due.map((t) => ({ ...t, dueAtMs: 0 })));
    this.fired += due.length;
    return due.length;
  }

  async stop(): Promise<void> {
    this.inner.stop();
  }
}

/**
 * Real one-time schedules on the emulator's EventBridge Scheduler, in a group of their own,
 * made by {@link SchedulerDelayScheduler} (the relay's production path) on the workload's
 * clock, and fired by a {@link SchedulerTimeline} through their real target when the
 * workload says their minute has come.
 */
class EmulatedSchedulerDelays implements SimulatedDelays {
  private readonly seen = new Set<string>();
  private readonly delays: SchedulerDelayScheduler;
  private readonly timeline: SchedulerTimeline;

  constructor(
    private readonly client: SchedulerClient,
    kinesis: KinesisClient,
    private readonly group: string,
    messageStreamArn: string,
    clock: Clock | undefined,
    private readonly meter: CostMeter,
  ) {
    this.delays = new SchedulerDelayScheduler({ client, groupName: group, roleArn: EMULATOR_SCHEDULER_ROLE_ARN, messageStreamArn, ...(clock ? { clock } : {}) });
    this.timeline = new SchedulerTimeline(client, kinesis, group);
  }

  get fired(): number {
    return this.timeline.fired.length;
  }

  get schedules(): readonly FiredSchedule[] {
    return this.timeline.fired;
  }

  async schedule(timers: readonly ScheduledTimer[]): Promise<void> {
    countNewTimers(this.meter, this.seen, timers);
    await this.delays.schedule(timers);
  }

  cancel(timers: readonly CancelledTimer[]): Promise<void> {
    return this.delays.cancel(timers);
  }

  async pending(): Promise<number> {
    return (await this.timeline.pending()).length;
  }

  fireDue(timeMs: number): Promise<number> {
    return this.timeline.fireDue(timeMs);
  }

  async stop(): Promise<void> {
    await this.client.send(new DeleteScheduleGroupCommand({ Name: this.group })).catch(() => undefined);
    this.client.destroy();
  }
}

/** The role a schedule names; the emulator does not assume it. */
const EMULATOR_SCHEDULER_ROLE_ARN = 'arn:aws:iam::123456789012:role/statefun-scheduler';

/** Provisions a fresh app (unique prefix) and runs the real handlers under the poller. */
export async function startMeteredApp(endpoints: LocalAwsEndpoints, options: MeteredAppOptions): Promise<MeteredApp> {
  const main = meteredClients(endpoints);
  const delivery = options.meterDeliveryApart ? meteredClients(endpoints) : main;
  const { meter, clients: metered, oneItem, readsCorrected } = main;
  const free = localAwsClients(endpoints);

  const prefix = `bench-${options.name}-${randomUUID().slice(0, 6)}`;
  const ingressStreams = Object.fromEntries(Object.keys(options.ingresses).map((name) => [name, `${prefix}-${name}`]));
  const resources = await provisionLocalAws(free, {
    prefix,
    messageShards: options.messageShards ?? 2,
    ingressStreams: Object.fromEntries(Object.values(ingressStreams).map((s) => [s, options.ingressShards ?? 2])),
    sqsEgress: options.sqsEgress ?? [],
  });

  const quiet = { warn: (message: string, attributes?: Readonly<Record<string, unknown>>) => { if (process.env.BENCH_VERBOSE) process.stderr.write(`${attributes ? `${message} ${JSON.stringify(attributes)}` : message}\n`); } };
  const scheduler = await simulatedDelays(endpoints, options, resources, prefix, metered, free, meter, quiet);
  const dispatcherOn = (clients: LocalAwsClients) =>
    createDispatcherHandler({
      store: new DynamoStateStore({ tableName: resources.tableName, outboxTableName: resources.outboxTableName, inboxTableName: resources.inboxTableName, client: clients.dynamo }),
      functions: options.functions,
      ingresses: Object.fromEntries(Object.entries(options.ingresses).map(([name, spec]) => [ingressStreams[name]!, spec])),
      ...(options.clock ? { clock: options.clock } : {}),
      logger: quiet,
    });
  const dispatcher = dispatcherOn(metered);
  const deliveryDispatcher = delivery === main ? dispatcher : dispatcherOn(delivery.clients);
  const relay = createRelayHandler({
    kinesis: delivery.clients.kinesis,
    sqs: delivery.clients.sqs,
    messageStream: resources.messageStream,
    egress: resources.egress,
    deadLetterQueueUrl: resources.deadLetterQueueUrl,
    delays: scheduler,
    egressFence: new DynamoEgressFence({ client: delivery.clients.dynamo, inboxTableName: resources.inboxTableName }),
    logger: quiet,
  });
  const lambdas: LambdaTally = { dispatcher: { invocations: 0, ms: 0 }, relay: { invocations: 0, ms: 0 } };
  const deliveryLambdas: LambdaTally = delivery === main ? lambdas : { dispatcher: { invocations: 0, ms: 0 }, relay: { invocations: 0, ms: 0 } };
  const asLambda =
    <E>(handler: (event: E) => Promise<StreamBatchResponse>, memoryMb: number, tally: { invocations: number; ms: number }, meter: CostMeter) =>
    async (event: E): Promise<StreamBatchResponse> => {
      const began = process.hrtime.bigint();
      try {
        return await handler(event);
      } finally {
        const ms = Number(process.hrtime.bigint() - began) / 1e6;
        meter.recordLambdaInvocation(ms, memoryMb);
        tally.invocations++;
        tally.ms += ms;
      }
    };
  const dispatcherLambda = asLambda<KinesisStreamEvent>(dispatcher, DISPATCHER_MEMORY_MB, lambdas.dispatcher, meter);
  const deliveryDispatcherLambda = asLambda<KinesisStreamEvent>(deliveryDispatcher, DISPATCHER_MEMORY_MB, deliveryLambdas.dispatcher, delivery.meter);
  const relayLambda = asLambda<DynamoDBStreamEvent>(relay, RELAY_MEMORY_MB, deliveryLambdas.relay, delivery.meter);

  const poller = new LocalPoller({
    sources: [
      { kind: 'kinesis' as const, client: free.kinesis, stream: resources.messageStream, handler: deliveryDispatcherLambda, mapping: MAPPING },
      ...Object.values(ingressStreams).map((stream) => ({
        kind: 'kinesis' as const,
        client: free.kinesis,
        stream,
        handler: dispatcherLambda,
        mapping: { ...MAPPING, batchSize: options.ingressBatchSize ?? MAPPING.batchSize },
      })),
      { kind: 'dynamodb' as const, api: free.streams, streamArn: resources.outboxStreamArn, handler: relayLambda, mapping: MAPPING },
    ],
    idlePollMs: 20,
    logger: quiet,
  });
  poller.start();
  const checkStore = new DynamoStateStore({ tableName: resources.tableName, outboxTableName: resources.outboxTableName, inboxTableName: resources.inboxTableName, client: free.dynamo });

  let stopped = false;
  return {
    meter,
    resources,
    metered,
    free,
    poller,
    checkStore,
    lambdas,
    oneItem,
    delivery: { meter: delivery.meter, lambdas: deliveryLambdas, oneItem: delivery.oneItem },
    ingressStreams,
    scheduler,
    readsCorrected,
    readMark: () => poller.summary().recordsRead,
    settle: async (mark = 0, records = 0) => {
      const deadline = Date.now() + 60_000;
      while (poller.summary().recordsRead < mark + records) {
        if (Date.now() > deadline) throw new Error(`the poller read ${poller.summary().recordsRead - mark} of the ${records} records put within 60 s`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await poller.waitForIdle({ quietMs: 250, timeoutMs: 5 * 60_000 });
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await poller.stop();
      await scheduler.stop();
      await deleteLocalAws(free, resources, Object.values(ingressStreams));
      metered.destroy();
      if (delivery !== main) delivery.clients.destroy();
      free.destroy();
    },
  };
}

/** The delay path `options.delays` asks for. */
async function simulatedDelays(
  endpoints: LocalAwsEndpoints,
  options: MeteredAppOptions,
  resources: LocalAwsResources,
  prefix: string,
  metered: LocalAwsClients,
  free: LocalAwsClients,
  meter: CostMeter,
  logger: Pick<Console, 'warn'>,
): Promise<SimulatedDelays> {
  if ((options.delays ?? 'in-process') === 'in-process') return new CountingScheduler(new LocalDelayScheduler(metered.kinesis, resources.messageStream, logger), meter);
  const client = new SchedulerClient({ region: endpoints.region, credentials: endpoints.credentials, endpoint: endpoints.aws });
  const group = `${prefix}-timers`;
  await client.send(new CreateScheduleGroupCommand({ Name: group }));
  const { StreamDescriptionSummary } = await free.kinesis.send(new DescribeStreamSummaryCommand({ StreamName: resources.messageStream }));
  return new EmulatedSchedulerDelays(client, metered.kinesis, group, StreamDescriptionSummary!.StreamARN!, options.clock, meter);
}

/** A meter, clients it meters, and the estimates that watch them. */
function meteredClients(endpoints: LocalAwsEndpoints): { meter: CostMeter; clients: LocalAwsClients; oneItem: OneItemEstimate; readsCorrected: { units: number } } {
  const meter = new CostMeter();
  const clients = localAwsClients(endpoints);
  for (const client of [clients.dynamo, clients.kinesis, clients.sqs]) meter.attach(client as Parameters<CostMeter['attach']>[0]);
  const oneItem: OneItemEstimate = { transactions: 0, transactionalWriteUnits: 0, oneItemWriteUnits: 0 };
  estimateOneItemCommits(clients, oneItem);
  return { meter, clients, oneItem, readsCorrected: billMissingItemReads(clients, meter) };
}

/**
 * Watches the store's TransactWriteItems on `clients.dynamo` and adds to `estimate` what they
 * bill (2 units per KB per item) and what one PutItem of the state item with the outbox
 * item's attributes inside would bill instead (1 unit per KB of the merged item), or, for
 * a commit with inbox markers, a transaction of the merged item and the markers.
 */
function estimateOneItemCommits(clients: LocalAwsClients, estimate: OneItemEstimate): void {
  type Put = { Put?: { Item?: Record<string, AttributeValue> } };
  const watch: InitializeMiddleware<object, object> = (next, context) => async (args) => {
    const result = await next(args);
    if (context.commandName === 'TransactWriteItemsCommand') {
      const items = ((args.input as { TransactItems?: Put[] }).TransactItems ?? []).map((t) => t.Put?.Item ?? {});
      estimate.transactions++;
      for (const item of items) estimate.transactionalWriteUnits += 2 * Math.max(1, Math.ceil(dynamoItemSize(item) / 1024));
      // The merged item: the state item with the outbox item's effects attribute inside (its
      // address, version and token repeat the state item's). Inbox markers belong to their
      // receivers' partitions and cannot merge: with any, the commit stays a transaction.
      const merged: Record<string, AttributeValue> = { ...(items[0] ?? {}) };
      const markers = items.slice(1).filter((item) => !item.effects);
      for (const [i, item] of items.slice(1).entries()) if (item.effects) merged[`pendingEffects${i}`] = item.effects;
      const perKb = markers.length > 0 ? 2 : 1;
      estimate.oneItemWriteUnits += perKb * Math.max(1, Math.ceil(dynamoItemSize(merged) / 1024));
      for (const marker of markers) estimate.oneItemWriteUnits += 2 * Math.max(1, Math.ceil(dynamoItemSize(marker) / 1024));
    }
    return result;
  };
  (clients.dynamo.middlewareStack as unknown as { add: (m: InitializeMiddleware<object, object>, o: object) => void }).add(watch, {
    step: 'initialize',
    name: 'benchOneItemEstimate',
  });
}

/**
 * DynamoDB Local reports no capacity for a BatchGetItem key that has no item; DynamoDB bills
 * every key read, found or not: each item's size rounded up to 4 KB, at least one 4 KB unit,
 * times 0.5 for an eventually consistent read ("Read request units", DynamoDB developer
 * guide). Adds the difference to the meter's read units, so a cold address costs what AWS
 * charges for it. Answers the running total added.
 */
function billMissingItemReads(clients: LocalAwsClients, meter: CostMeter): { units: number } {
  const added = { units: 0 };
  type Keys = { Keys?: unknown[]; ConsistentRead?: boolean };
  type Capacity = { TableName?: string; CapacityUnits?: number; ReadCapacityUnits?: number };
  const watch: InitializeMiddleware<object, object> = (next, context) => async (args) => {
    const result = await next(args);
    if (context.commandName === 'BatchGetItemCommand') {
      const input = args.input as { RequestItems?: Record<string, Keys> };
      const output = result.output as { Responses?: Record<string, Record<string, AttributeValue>[]>; UnprocessedKeys?: Record<string, Keys>; ConsumedCapacity?: Capacity[] };
      for (const [table, request] of Object.entries(input.RequestItems ?? {})) {
        const factor = request.ConsistentRead ? 1 : 0.5;
        const found = output.Responses?.[table] ?? [];
        const unprocessed = output.UnprocessedKeys?.[table]?.Keys?.length ?? 0;
        const missing = (request.Keys?.length ?? 0) - unprocessed - found.length;
        const billed = found.reduce((sum, item) => sum + Math.max(1, Math.ceil(dynamoItemSize(item) / 4096)) * factor, 0) + missing * factor;
        const reported = (output.ConsumedCapacity ?? []).filter((c) => c.TableName === undefined || c.TableName === table).reduce((sum, c) => sum + (c.CapacityUnits ?? c.ReadCapacityUnits ?? 0), 0);
        if (billed > reported) {
          meter.units.dynamoReadUnits += billed - reported;
          added.units += billed - reported;
        }
      }
    }
    return result;
  };
  (clients.dynamo.middlewareStack as unknown as { add: (m: InitializeMiddleware<object, object>, o: object) => void }).add(watch, {
    step: 'initialize',
    name: 'benchBillMissingItemReads',
  });
  return added;
}
