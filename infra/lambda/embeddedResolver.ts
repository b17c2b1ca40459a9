import { ConfigurationError, parseFunctionEndpoints } from '../../runtime-lambda/aws/envConfig';
import type { FunctionResolver } from '../../runtime-lambda/core/ports/FunctionEndpoint';
import { StatefulFunctions } from '../../runtime-lambda/sdk';

/**
 * The functions of a dispatcher with embedded functions: the registry exported as
 * `STATEFUN_EMBEDDED_EXPORT` (default `functions`) by `registryModule`, then the remote
 * endpoints of `STATEFUN_FUNCTIONS` (when set) for the types the registry does not serve.
 *
 * @throws ConfigurationError when the module has no such export or it is not a `StatefulFunctions`.
 *
 * @example
 * const functions = embeddedResolver(await import('./functions/fraud-detection/lambda'), process.env);
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
  const embedded = registry.resolver();
  const remote = env.STATEFUN_FUNCTIONS?.trim() ? parseFunctionEndpoints(env) : undefined;
  return { resolve: (fnType) => embedded.resolve(fnType) ?? remote?.resolve(fnType) };
}
