import { type AttributeValue, type DynamoDBClient, GetItemCommand, ScanCommand, type ScanCommandOutput } from '@aws-sdk/client-dynamodb';
import { Address } from '../core/Address';
import { type Effects, NO_EFFECTS, type ScheduledTimer } from '../core/Effects';
import type { Envelope } from '../core/Envelope';
import { RetryableError, describeError } from '../core/errors';
import type { Clock } from '../core/ports/Clock';
import { FENCE_PARTITION_PREFIX, INBOX_ATTR, OUTBOX_ATTR } from './commitItems';
import { decodeEffects } from './effectsCodec';
import type { OutboxRelay } from './OutboxRelay';
import { STATE_ATTR, decodeStateItem } from './stateItem';

/** The type of the wake-up the reconciler sends an address with entries waiting in its inbox. */
export const RECONCILER_WAKE_TYPE = 'statefun.internal/reconcile';

/** Options of a {@link Reconciler}. */
export interface ReconcilerOptions {
  readonly client: DynamoDBClient;
  readonly stateTableName: string;
  readonly outboxTableName: string;
  readonly inboxTableName: string;
  /** Publishes what the reconciler finds undelivered, as the relay Lambda does (the same sinks, fences and delay scheduler). */
  readonly relay: OutboxRelay;
  readonly clock: Clock;
  /**
   * How old an inbox entry, parked entry or egress fence must be before the reconciler acts
   * on it: well above the relay's usual delay, so it rarely repeats the relay's work.
   * @default 15 minutes
   */
  readonly staleAfterMs?: number;
  /**
   * How far past its due time a pending timer must be before the reconciler fires it from
   * its owner's state (a later delivery of the original is then a duplicate).
   * @default 15 minutes
   */
  readonly timerGraceMs?: number;
}

/** What one inbox sweep did. */
export interface InboxSweep {
  /** Addresses woken because entries waited in their inbox. */
  readonly addressesWoken: number;
  /** Commits whose egress and dead letters were published again from the outbox table. */
  readonly commitsRepublished: number;
  /** Fences left in place: their publication failed and is tried at the next sweep. */
  readonly commitsFailed: number;
}

/** What one timer sweep did. */
export interface TimerSweep {
  /** Overdue timers fired again from their owner's state. */
  readonly timersFired: number;
  /** Overdue timers whose message is no longer anywhere (their outbox item is gone): they stay pending. */
  readonly timersLost: number;
}

/**
 * Delivers, from the tables, what a lost relay left undelivered: the outbox table is the
 * authority, the streams only the fast path. Whatever the cause (a relay outage longer than
 * the outbox stream's 24 hours, a batch the mapping skipped, a delay queue or schedule that
 * gave up), every committed effect leaves a trace until it is delivered:
 *
 * - a message: its inbox entry, until the receiver applies it. {@link sweepInbox} wakes every
 *   address with an entry older than `staleAfterMs` (a parked entry too, so a lost retry
 *   timer cannot strand a backing-off address);
 * - egress records and dead letters: the commit's fence, until the relay publishes them.
 *   {@link sweepInbox} publishes each stale fence's commit again from its outbox item, each
 *   address's in commit order;
 * - a timer: its entry in the owner's pending timers, until it fires. {@link sweepTimers}
 *   fires every timer overdue by `timerGraceMs` again from the outbox item of the commit that
 *   scheduled it (kept until a day after the timer's due time).
 *
 * Doing it twice is harmless: a woken address applies each inbox entry once, a timer fires
 * only while pending, a fence is gone once its commit is published.
 *
 * @example
 * const reconciler = new Reconciler({ client, stateTableName, outboxTableName, inboxTableName, relay, clock: systemClock });
 * await reconciler.sweepInbox(); // every 15 minutes
 * await reconciler.sweepTimers(); // every few hours: it scans the state table
 */
export class Reconciler {
  private readonly staleAfterMs: number;
  private readonly timerGraceMs: number;

  constructor(private readonly options: ReconcilerOptions) {
    this.staleAfterMs = options.staleAfterMs ?? 15 * 60_000;
    this.timerGraceMs = options.timerGraceMs ?? 15 * 60_000;
  }

  /** Wakes addresses with stale inbox entries and republishes commits with stale fences. */
  async sweepInbox(): Promise<InboxSweep> {
    const cutoffSeconds = Math.floor((this.options.clock.now() - this.staleAfterMs) / 1000);
    const receivers = new Set<string>();
    const fences = new Map<string, { key: string; version: number }[]>();
    await this.scan(
      this.options.inboxTableName,
      { FilterExpression: '#at < :cutoff', ProjectionExpression: '#address, #key, #version', ExpressionAttributeNames: { '#at': INBOX_ATTR.at, '#address': INBOX_ATTR.address, '#key': INBOX_ATTR.key, '#version': INBOX_ATTR.version }, ExpressionAttributeValues: { ':cutoff': { N: String(cutoffSeconds) } } },
      (item) => {
        const partition = item[INBOX_ATTR.address]?.S ?? '';
        if (!partition.startsWith(FENCE_PARTITION_PREFIX)) return void receivers.add(partition);
        const sender = partition.slice(FENCE_PARTITION_PREFIX.length);
        const list = fences.get(sender) ?? [];
        list.push({ key: item[INBOX_ATTR.key]!.S!, version: Number(item[INBOX_ATTR.version]!.N) });
        fences.set(sender, list);
      },
    );

    const wakeUps: Envelope[] = [...receivers].map((key) => ({
      id: `reconcile/${cutoffSeconds}/${key}`,
      target: Address.parse(key),
      argument: { typename: RECONCILER_WAKE_TYPE, value: null },
      origin: { kind: 'function', source: '#reconciler', position: String(cutoffSeconds) },
    }));
    if (wakeUps.length > 0) await this.publish([{ ...NO_EFFECTS, messages: wakeUps }]);

    let commitsRepublished = 0;
    let commitsFailed = 0;
    for (const [sender, list] of fences) {
      list.sort((a, b) => (a.key < b.key ? -1 : 1));
      for (const fence of list) {
        const effects = await this.outboxEffects(sender, fence.version);
        const outcome = await this.options.relay.relay([{ ...NO_EFFECTS, egress: effects?.egress ?? [], deadLetters: effects?.deadLetters ?? [] }], [{ sender, key: fence.key }]);
        if (outcome.firstIncomplete !== undefined) {
          commitsFailed += list.length - list.indexOf(fence);
          break;
        }
        commitsRepublished++;
      }
    }
    return { addressesWoken: wakeUps.length, commitsRepublished, commitsFailed };
  }

  /** Fires the timers overdue by the grace period again, from their owners' state and outbox items. */
  async sweepTimers(): Promise<TimerSweep> {
    const cutoffMs = this.options.clock.now() - this.timerGraceMs;
    const overdue: { owner: string; timerId: string; version: number | undefined }[] = [];
    await this.scan(
      this.options.stateTableName,
      { FilterExpression: '#next < :cutoff', ExpressionAttributeNames: { '#next': STATE_ATTR.nextTimerDue }, ExpressionAttributeValues: { ':cutoff': { N: String(cutoffMs) } } },
      (item) => {
        const state = decodeStateItem(item, this.options.stateTableName);
        state.timers.forEach((timer, timerId) => {
          if (timer.dueAtMs < cutoffMs) overdue.push({ owner: state.address.key, timerId, version: timer.version });
        });
      },
    );
    const found: ScheduledTimer[] = [];
    let timersLost = 0;
    for (const { owner, timerId, version } of overdue) {
      const effects = version === undefined ? undefined : await this.outboxEffects(owner, version);
      const timer = effects?.timers.find((t) => t.timerId === timerId);
      if (timer === undefined) timersLost++;
      else found.push(timer);
    }
    if (found.length > 0) await this.publish([{ ...NO_EFFECTS, timers: found }]);
    return { timersFired: found.length, timersLost };
  }

  private async publish(items: readonly Effects[]): Promise<void> {
    const outcome = await this.options.relay.relay(items);
    if (outcome.firstIncomplete !== undefined) {
      throw new RetryableError(`the reconciler could not publish: ${outcome.errors.map((e) => describeError(e.error)).join('; ')}; the next sweep tries again`, { code: 'RECONCILE_INCOMPLETE' });
    }
  }

  /** The effects of the commit `version` of `address`, read consistently; undefined when the item is gone. */
  private async outboxEffects(address: string, version: number): Promise<Effects | undefined> {
    const out = await this.options.client.send(
      new GetItemCommand({ TableName: this.options.outboxTableName, Key: { [OUTBOX_ATTR.address]: { S: address }, [OUTBOX_ATTR.version]: { N: String(version) } }, ConsistentRead: true }),
    );
    const bytes = out.Item?.[OUTBOX_ATTR.effects]?.B;
    return bytes === undefined ? undefined : decodeEffects(bytes);
  }

  /** Scans `tableName` page by page, handing each item to `visit`. */
  private async scan(tableName: string, input: Omit<ConstructorParameters<typeof ScanCommand>[0], 'TableName' | 'ExclusiveStartKey'>, visit: (item: Record<string, AttributeValue>) => void): Promise<void> {
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page: ScanCommandOutput = await this.options.client.send(new ScanCommand({ ...input, TableName: tableName, ...(start ? { ExclusiveStartKey: start } : {}) }));
      for (const item of page.Items ?? []) visit(item);
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
  }
}
