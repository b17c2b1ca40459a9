/**
 * The dispatcher Lambda with embedded functions: `runtime-lambda/handlers/dispatcher.ts`'s
 * handler, whose functions are the registry of the module that the StatefulFunctions
 * construct bundles in as `statefun-embedded-functions` (then `STATEFUN_FUNCTIONS`' remote
 * endpoints). Environment as the plain dispatcher's, plus `STATEFUN_EMBEDDED_EXPORT`.
 */
import * as registryModule from 'statefun-embedded-functions';
import { DynamoStateStore } from '../../runtime-lambda/aws/DynamoStateStore';
import { parseIngresses, requiredEnv } from '../../runtime-lambda/aws/envConfig';
import { type DispatcherHandler, createDispatcherHandler } from '../../runtime-lambda/handlers/dispatcher';
import { embeddedResolver } from './embeddedResolver';

let fromEnv: DispatcherHandler | undefined;

/** The Lambda entry point (`index.handler`), configured from the environment at the first invocation. */
export const handler: DispatcherHandler = (event) => {
  fromEnv ??= createDispatcherHandler({
    store: new DynamoStateStore({
      tableName: requiredEnv(process.env, 'STATEFUN_STATE_TABLE', 'statefun-state'),
      outboxTableName: requiredEnv(process.env, 'STATEFUN_OUTBOX_TABLE', 'statefun-outbox'),
    }),
    functions: embeddedResolver(registryModule, process.env),
    ingresses: parseIngresses(process.env),
  });
  return fromEnv(event);
};
