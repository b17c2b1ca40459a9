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
import { embeddedResolver } from './embeddedResolver';

let fromEnv: DispatcherLambdaHandler | undefined;

/** The Lambda entry point (`index.handler`), configured from the environment at the first invocation. */
export const handler: DispatcherLambdaHandler = (event, context) => {
  fromEnv ??= dispatcherHandlerFromEnv(process.env, { embedded: embeddedResolver(registryModule, process.env) });
  return fromEnv(event, context);
};
