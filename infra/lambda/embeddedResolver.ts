import { ConfigurationError } from '../../runtime-lambda/aws/envConfig';
import type { FunctionResolver } from '../../runtime-lambda/core/ports/FunctionEndpoint';
import { StatefulFunctions } from '../../runtime-lambda/sdk';

/**
 * The embedded functions of a dispatcher: the resolver of the `StatefulFunctions` registry
 * that `registryModule` exports as `STATEFUN_EMBEDDED_EXPORT` (default `functions`). The
 * dispatcher tries it before the remote endpoints of `STATEFUN_FUNCTIONS`
 * (`dispatcherHandlerFromEnv`'s `embedded` option).
 *
 * @throws ConfigurationError when the module has no such export or it is not a `StatefulFunctions`.
 *
 * @example
 * const embedded = embeddedResolver(await import('./functions/fraud-detection/lambda'), process.env);
 * export const handler = dispatcherHandlerFromEnv(process.env, { embedded });
 */
export function embeddedResolver(registryModule: { readonly [name: string]: unknown }, env: Readonly<Record<string, string | undefined>>): FunctionResolver {
  const exportName = env.STATEFUN_EMBEDDED_EXPORT?.trim() || 'functions';
  const registry = registryModule[exportName];
  if (!(registry instanceof StatefulFunctions)) {
    const exports = Object.keys(registryModule).join(', ') || 'none';
    throw new ConfigurationError(
      `STATEFUN_EMBEDDED_EXPORT: the embedded functions module's export ${JSON.stringify(exportName)} is ${registry === undefined ? 'missing' : `a ${typeof registry}`}, not a StatefulFunctions registry (exports: ${exports}): export the registry under that name or set embeddedFunctions.exportName`,
    );
  }
  return registry.resolver();
}
