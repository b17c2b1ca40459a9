import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type Clock, systemClock } from '../core/ports/Clock';
import { ConfigurationError, requiredEnv, wholeSecondsEnv } from '../aws/envConfig';
import { OutboxRelay } from '../aws/OutboxRelay';
import { Reconciler } from '../aws/Reconciler';
import { configuredOnFirstInvocation, type LambdaContext, lambdaPowertools, powertoolsHandler, traced } from './observability/powertools';
import { type HandlerLogger, type HandlerMetrics, NO_METRICS, RECONCILER_METRICS, SERVICE_NAMES, count } from './observability/telemetry';
import { relayOptionsFromEnv } from './relay';

/** What a scheduled invocation asks for: the EventBridge rule's input. */
export interface ReconcileEvent {
  readonly sweep: 'inbox' | 'timers';
}

/** The reconciler Lambda's handler. */
export type ReconcilerHandler = (event: ReconcileEvent, context?: LambdaContext) => Promise<void>;

/**
 * The reconciler Lambda, run on a schedule: `{"sweep":"inbox"}` wakes addresses with stale
 * inbox entries and republishes commits with stale fences; `{"sweep":"timers"}` fires overdue
 * timers again from their owners' state (see {@link Reconciler}). What it finds is logged and
 * counted ({@link RECONCILER_METRICS}): the relay lost it.
 *
 * @example
 * export const handler = createReconcilerHandler({ reconciler });
 */
export function createReconcilerHandler(options: { readonly reconciler: Reconciler; readonly logger?: HandlerLogger; readonly metrics?: HandlerMetrics }): ReconcilerHandler {
  const logger = options.logger ?? console;
  const metrics = options.metrics ?? NO_METRICS;
  return async (event) => {
    if (event?.sweep === 'inbox') {
      const done = await options.reconciler.sweepInbox();
      count(metrics, RECONCILER_METRICS.addressesWoken, done.addressesWoken);
      count(metrics, RECONCILER_METRICS.commitsRepublished, done.commitsRepublished);
      count(metrics, RECONCILER_METRICS.commitsFailed, done.commitsFailed);
      if (done.addressesWoken + done.commitsRepublished + done.commitsFailed > 0) {
        logger.warn('reconciler: delivered from the tables what the relay had not (see docs/operations.md)', { ...done });
      }
    } else if (event?.sweep === 'timers') {
      const done = await options.reconciler.sweepTimers();
      count(metrics, RECONCILER_METRICS.timersFired, done.timersFired);
      count(metrics, RECONCILER_METRICS.timersLost, done.timersLost);
      if (done.timersFired + done.timersLost > 0) logger.warn('reconciler: fired overdue timers from their owners\' state', { ...done });
    } else {
      throw new ConfigurationError(`reconciler event ${JSON.stringify(event)}: expected {"sweep":"inbox"} or {"sweep":"timers"} (the construct's schedules send these)`);
    }
  };
}

/**
 * The reconciler as configured by its Lambda environment: the tables (`STATEFUN_STATE_TABLE`,
 * `STATEFUN_OUTBOX_TABLE`, `STATEFUN_INBOX_TABLE`), everything the relay reads (it publishes
 * the same way: see `relayHandlerFromEnv`), and optionally
 * `STATEFUN_RECONCILE_STALE_AFTER_SECONDS` (default 900) and `STATEFUN_TIMER_GRACE_SECONDS`
 * (default 900).
 */
export function reconcilerHandlerFromEnv(env: Readonly<Record<string, string | undefined>> = process.env, clock: Clock = systemClock): ReconcilerHandler {
  const tools = lambdaPowertools(env, SERVICE_NAMES.reconciler);
  const reconciler = new Reconciler({
    client: traced(tools, new DynamoDBClient({})),
    stateTableName: requiredEnv(env, 'STATEFUN_STATE_TABLE', 'statefun-state'),
    outboxTableName: requiredEnv(env, 'STATEFUN_OUTBOX_TABLE', 'statefun-outbox'),
    inboxTableName: requiredEnv(env, 'STATEFUN_INBOX_TABLE', 'statefun-inbox'),
    relay: new OutboxRelay(relayOptionsFromEnv(env, tools)),
    clock,
    staleAfterMs: (wholeSecondsEnv(env, 'STATEFUN_RECONCILE_STALE_AFTER_SECONDS', 60, '900') ?? 900) * 1000,
    timerGraceMs: (wholeSecondsEnv(env, 'STATEFUN_TIMER_GRACE_SECONDS', 60, '900') ?? 900) * 1000,
  });
  return powertoolsHandler(tools, createReconcilerHandler({ reconciler, logger: tools.logger, metrics: tools.metrics }));
}

/** The Lambda entry point (`index.handler`), configured from the environment at the first invocation. */
export const handler: ReconcilerHandler = configuredOnFirstInvocation(() => reconcilerHandlerFromEnv());

export default handler;
