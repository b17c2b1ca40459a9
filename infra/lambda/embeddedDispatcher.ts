/**
 * The dispatcher Lambda with embedded functions: `dispatcherHandlerFromEnv` of
 * `runtime-lambda/handlers/dispatcher.ts`, given as embedded functions the registry of the
 * module that the StatefulFunctions construct bundles in as `statefun-embedded-functions`
 * (`STATEFUN_FUNCTIONS`' remote endpoints serve the other types). Environment as the plain
 * dispatcher's, plus `STATEFUN_EMBEDDED_EXPORT`; logs, metrics and traces through Powertools as the
 * plain dispatcher's.
 */
import * as registryModule from 'statefun-embedded-functions';
import { type DispatcherLambdaHandler, dispatcherHandlerFromEnv } from '../../runtime-lambda/handlers/dispatcher';
import { configuredOnFirstInvocation } from '../../runtime-lambda/handlers/observability/powertools';
import { httpHeadersFromEnv } from '../../runtime-lambda/aws/httpHeaderSecrets';
import { embeddedResolver } from './embeddedResolver';

/** The Lambda entry point (`index.handler`), configured from the environment at the first invocation. */
export const handler: DispatcherLambdaHandler = configuredOnFirstInvocation(async () =>
  dispatcherHandlerFromEnv(process.env, { embedded: embeddedResolver(registryModule, process.env), httpHeaders: await httpHeadersFromEnv(process.env) }),
);
