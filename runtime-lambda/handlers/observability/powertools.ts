/**
 * Powertools for AWS Lambda (TypeScript) in the runtime's Lambdas: one `Logger`, `Metrics`
 * and `Tracer` per Lambda, configured from its environment, and the wrapper that runs an
 * invocation with them (Lambda context in the logs, an X-Ray subsegment, metrics published
 * once per invocation).
 *
 * The handler factories (`createDispatcherHandler` and the others) do not import this
 * module: they take a {@link HandlerLogger} and a {@link HandlerMetrics}, so they run in tests
 * and in the local runtime without Lambda. Outside Lambda, `Tracer` is disabled by itself.
 */
import { LogLevel, Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import { ConfigurationError } from '../../aws/envConfig';
import { DEFAULT_METRICS_NAMESPACE, type HandlerLogger, type HandlerMetrics } from './telemetry';

/** The Lambda context fields Powertools' `Logger` adds to each log line. */
export interface LambdaContext {
  readonly functionName: string;
  readonly functionVersion: string;
  readonly invokedFunctionArn: string;
  readonly memoryLimitInMB: string;
  readonly awsRequestId: string;
  /** Milliseconds left before Lambda stops the invocation (absent outside Lambda). */
  getRemainingTimeInMillis?(): number;
}

/** The Powertools utilities of one Lambda. */
export interface LambdaPowertools {
  /** The service name (`POWERTOOLS_SERVICE_NAME`, or the Lambda's default). */
  readonly service: string;
  readonly logger: Logger & HandlerLogger;
  readonly metrics: Metrics & HandlerMetrics;
  /** Absent when tracing is off (`POWERTOOLS_TRACE_ENABLED=false`): the X-Ray SDK is then never loaded. */
  readonly tracer?: Tracer;
}

/**
 * The Powertools of a Lambda, from its environment:
 *
 * | variable | meaning |
 * | --- | --- |
 * | `POWERTOOLS_SERVICE_NAME` | `service` of every log line and metric (default: the `service` argument, e.g. `statefun-relay`) |
 * | `POWERTOOLS_METRICS_NAMESPACE` | CloudWatch namespace of the metrics (default `StatefulFunctions`) |
 * | `POWERTOOLS_TRACE_ENABLED` | `false` turns tracing off: no `Tracer`, and the X-Ray SDK (whose process-wide async hook slows every `await`) is not even loaded |
 * | `POWERTOOLS_LOG_LEVEL` | `TRACE`, `DEBUG`, `INFO` (default), `WARN`, `ERROR`, `CRITICAL` or `SILENT`; Lambda's own log level (`AWS_LAMBDA_LOG_LEVEL`) wins when set |
 *
 * @throws {@link ConfigurationError} for an unknown log level.
 *
 * @example
 * const tools = lambdaPowertools(process.env, SERVICE_NAMES.relay);
 */
export function lambdaPowertools(env: Readonly<Record<string, string | undefined>>, service: string): LambdaPowertools {
  const serviceName = env.POWERTOOLS_SERVICE_NAME?.trim() || service;
  const level = env.POWERTOOLS_LOG_LEVEL?.trim().toUpperCase();
  if (level !== undefined && level !== '' && !Object.values(LogLevel).includes(level as never)) {
    throw new ConfigurationError(
      `POWERTOOLS_LOG_LEVEL=${JSON.stringify(env.POWERTOOLS_LOG_LEVEL)} is not a log level: set one of ${Object.values(LogLevel).join(', ')}, e.g. POWERTOOLS_LOG_LEVEL=INFO`,
    );
  }
  const logger = new Logger({ serviceName, ...(level ? { logLevel: level as keyof typeof LogLevel } : {}) });
  const metrics = new Metrics({ serviceName, namespace: env.POWERTOOLS_METRICS_NAMESPACE?.trim() || DEFAULT_METRICS_NAMESPACE, logger });
  const tracing = env.POWERTOOLS_TRACE_ENABLED?.trim().toLowerCase() !== 'false';
  return { service: serviceName, logger, metrics, ...(tracing ? { tracer: new (loadTracer())({ serviceName }) } : {}) };
}

/** Loads Powertools' Tracer only when it is used: importing it installs the X-Ray SDK's async hook. */
function loadTracer(): typeof Tracer {
  return (require('@aws-lambda-powertools/tracer') as typeof import('@aws-lambda-powertools/tracer')).Tracer;
}

/**
 * `client`, captured by the Lambda's tracer so its calls appear as X-Ray subsegments, or
 * as it is when tracing is off.
 *
 * @example
 * const kinesis = traced(tools, new KinesisClient({}));
 */
export function traced<T>(tools: LambdaPowertools, client: T): T {
  return tools.tracer ? tools.tracer.captureAWSv3Client(client) : client;
}

/**
 * Runs each invocation of `handler` with `tools`: the Lambda context on every log line, an
 * X-Ray subsegment `## <service>` annotated with the cold start and the service (the AWS
 * SDK clients captured with `tracer.captureAWSv3Client` add theirs under it), an invocation
 * that throws logged as an error, and the invocation's metrics published as EMF at its end.
 *
 * @example
 * const tools = lambdaPowertools(process.env, SERVICE_NAMES.relay);
 * export const handler = powertoolsHandler(tools, createRelayHandler({ ...options, logger: tools.logger, metrics: tools.metrics }));
 */
export function powertoolsHandler<E, R>(tools: LambdaPowertools, handler: (event: E, context?: LambdaContext) => Promise<R>): (event: E, context?: LambdaContext) => Promise<R> {
  const { service, logger, metrics, tracer } = tools;
  return async (event, context) => {
    if (context) logger.addContext(context);
    const segment = tracer?.getSegment();
    const subsegment = segment?.addNewSubsegment(`## ${service}`);
    if (subsegment) tracer!.setSegment(subsegment);
    tracer?.annotateColdStart();
    tracer?.addServiceNameAnnotation();
    try {
      return await handler(event, context);
    } catch (error) {
      logger.error('invocation failed: Lambda retries the batch', error as Error);
      tracer?.addErrorAsMetadata(error as Error);
      throw error;
    } finally {
      if (segment && subsegment) {
        subsegment.close();
        tracer!.setSegment(segment);
      }
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
    }
  };
}

/**
 * A Lambda entry point that builds its handler at the first invocation, from the
 * environment, and reuses it: importing the module reads no configuration, so tests and
 * bundling can load it anywhere. The build may be async (e.g. reading secrets); a build that
 * fails fails its invocation and is tried again at the next.
 *
 * @example
 * export const handler = configuredOnFirstInvocation(() => relayHandlerFromEnv());
 */
export function configuredOnFirstInvocation<E, R>(
  build: () => ((event: E, context?: LambdaContext) => Promise<R>) | Promise<(event: E, context?: LambdaContext) => Promise<R>>,
): (event: E, context?: LambdaContext) => Promise<R> {
  let configured: Promise<(event: E, context?: LambdaContext) => Promise<R>> | undefined;
  return async (event, context) => {
    configured ??= (async () => build())();
    let handler;
    try {
      handler = await configured;
    } catch (error) {
      configured = undefined;
      throw error;
    }
    return handler(event, context);
  };
}
