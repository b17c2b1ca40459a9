/**
 * What the Lambda handlers log and count: the ports the handler factories take (so they run
 * without Lambda, with any logger and metrics sink) and the names of the metrics they emit.
 * The CDK construct reads the same names for its dashboard (`infra/lib/StatefulFunctions.ts`),
 * so a renamed metric cannot silently empty a graph.
 *
 * In the Lambdas, Powertools for AWS Lambda fills the ports (`powertools.ts`):
 * `Logger` is a {@link HandlerLogger}, `Metrics` a {@link HandlerMetrics}.
 */

/**
 * Where a handler logs a failure it recovers from: a message and structured attributes.
 * Powertools' `Logger` fits, and so does `console`.
 *
 * @example
 * const logger: HandlerLogger = new Logger({ serviceName: 'statefun-dispatcher' });
 * logger.warn('address did not commit', { address: 'shop/cart/42' });
 */
export interface HandlerLogger {
  warn(message: string, attributes: Readonly<Record<string, unknown>>): void;
}

/**
 * Where a handler counts what it did. Powertools' `Metrics` fits (it writes CloudWatch EMF
 * and publishes once per invocation).
 *
 * @example
 * const metrics: HandlerMetrics = new Metrics({ namespace: 'StatefulFunctions', serviceName: 'statefun-relay' });
 * metrics.addMetric(RELAY_METRICS.messagesRelayed, 'Count', 3);
 */
export interface HandlerMetrics {
  addMetric(name: string, unit: 'Count' | 'Seconds', value: number): void;
}

/** The default of the handler factories: counts nothing. */
export const NO_METRICS: HandlerMetrics = Object.freeze({ addMetric: () => undefined });

/**
 * Powertools service name of each Lambda (`POWERTOOLS_SERVICE_NAME`): the `service` key of
 * every log line and the `service` dimension of every metric.
 */
export const SERVICE_NAMES = Object.freeze({
  dispatcher: 'statefun-dispatcher',
  relay: 'statefun-relay',
  delayedDelivery: 'statefun-delayed-delivery',
  reconciler: 'statefun-reconciler',
});

/** The namespace of the metrics when `POWERTOOLS_METRICS_NAMESPACE` is not set. */
export const DEFAULT_METRICS_NAMESPACE = 'StatefulFunctions';

/** Metrics of the dispatcher (unit `Count`, per invocation). */
export const DISPATCHER_METRICS = Object.freeze({
  /** Records of the Kinesis batch (message stream and ingresses). */
  recordsReceived: 'RecordsReceived',
  /** Messages applied to their address's state. */
  messagesApplied: 'MessagesApplied',
  /** Messages already applied (a redelivery) and dropped. */
  duplicatesDropped: 'DuplicatesDropped',
  /** Messages committed as dead letters (undecodable records included). */
  deadLetters: 'DeadLetters',
  /** Commits that lost the version race to another dispatcher and were re-run. */
  commitConflicts: 'CommitConflicts',
  /** Addresses whose commit did not happen: their records are delivered again. */
  addressesNotCommitted: 'AddressesNotCommitted',
  /**
   * Ingress records that arrived on their stream longer ago than the duplicate window: each
   * is dropped as a provable duplicate or dead-lettered, never applied (a replay, or a
   * redelivery after a long outage: see docs/exactly-once.md).
   */
  recordsPastDuplicateWindow: 'RecordsPastDuplicateWindow',
  /** Messages parked in their address's inbox because its function failed transiently (applied later, in order). */
  messagesParked: 'MessagesParked',
  /** Addresses the invocation left backing off (their function unavailable, throttled or timing out). */
  addressesBackingOff: 'AddressesBackingOff',
  /**
   * Unit `Seconds`: how long the longest-waiting of those addresses has been backing off;
   * its messages become dead letters when this reaches the retry budget.
   */
  backoffAgeSeconds: 'BackoffAgeSeconds',
});

/** Metrics of the outbox relay (unit `Count`, per invocation; effects of fully relayed items). */
export const RELAY_METRICS = Object.freeze({
  outboxItemsRelayed: 'OutboxItemsRelayed',
  /** Outbox items left for the stream to deliver again (a failed publish). */
  outboxItemsNotRelayed: 'OutboxItemsNotRelayed',
  /** Outbox items that did not decode, published as dead letters. */
  malformedOutboxItems: 'MalformedOutboxItems',
  messagesRelayed: 'MessagesRelayed',
  egressRecordsRelayed: 'EgressRecordsRelayed',
  /** Delayed messages handed to the SQS delay queue or EventBridge Scheduler. */
  timersScheduled: 'TimersScheduled',
  timersCancelled: 'TimersCancelled',
  /** Dead letters put on the dead-letter queue. */
  deadLetters: 'DeadLetters',
});

/** Metrics of the delayed-delivery Lambda (unit `Count`, per invocation). */
export const DELAYED_DELIVERY_METRICS = Object.freeze({
  /** Due timers put on the message stream. */
  timersDelivered: 'TimersDelivered',
  /** Timers not due yet (over SQS' 15-minute hop), sent to the delay queue again. */
  timersDelayedAgain: 'TimersDelayedAgain',
  /** Queue messages reported as failures: received again, then redriven to the dead-letter queue. */
  timersFailed: 'TimersFailed',
});

/**
 * Metrics of the reconciler (unit `Count`, per sweep). Anything but 0 means the relay lost
 * something that the reconciler then delivered from the tables (see `Reconciler`).
 */
export const RECONCILER_METRICS = Object.freeze({
  /** Addresses woken because entries waited in their inbox longer than expected. */
  addressesWoken: 'AddressesWoken',
  /** Commits whose egress and dead letters were published again from the outbox table. */
  commitsRepublished: 'CommitsRepublished',
  /** Commits whose publication failed again: tried at the next sweep. */
  commitsFailed: 'CommitsFailed',
  /** Overdue timers fired again from their owner's state. */
  timersFired: 'TimersRefired',
  /** Overdue timers whose message is gone: they stay pending and never fire. */
  timersLost: 'TimersLost',
});

/** Adds `value` under `name` unless it is 0 (an idle invocation publishes nothing). */
export function count(metrics: HandlerMetrics, name: string, value: number): void {
  if (value > 0) metrics.addMetric(name, 'Count', value);
}
