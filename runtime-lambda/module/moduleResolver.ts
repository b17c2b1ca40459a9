import { LambdaClient, type LambdaClientConfig } from '@aws-sdk/client-lambda';
import { lambdaTransport } from '../aws/LambdaTransport';
import { InvalidInputError } from '../core/errors';
import type { FunctionEndpoint, FunctionResolver } from '../core/ports/FunctionEndpoint';
import { BatchLimitedEndpoint } from '../protocol/BatchLimitedEndpoint';
import { httpTransport } from '../protocol/HttpTransport';
import { RequestReplyEndpoint } from '../protocol/RequestReplyEndpoint';
import type { RequestReplyTransport } from '../protocol/RequestReplyTransport';
import type { EndpointSpec, EndpointTimeouts, StatefunModule } from './model';

/**
 * Options of {@link moduleResolver}.
 *
 * @example
 * const opts: ModuleResolverOpts = { httpHeaders: { authorization: 'Bearer s3cr3t' } };
 */
export interface ModuleResolverOpts {
  /**
   * The client of every Lambda endpoint (`com.statefun-aws.endpoints.v1/lambda`). Its own
   * retries multiply the transport's: create it with `maxAttempts: 1`.
   * @default - one client, created when a Lambda endpoint is first used, from `lambdaClientConfig` and `maxAttempts: 1`
   */
  readonly lambdaClient?: LambdaClient;
  /** Config of the client created when `lambdaClient` is not given. @default - the SDK defaults */
  readonly lambdaClientConfig?: LambdaClientConfig;
  /** Extra headers on every request to an HTTP endpoint, e.g. an authorization header. @default - none */
  readonly httpHeaders?: Readonly<Record<string, string>>;
}

/**
 * The {@link FunctionResolver} of a module's endpoints: a function type goes to the endpoint
 * naming it exactly, else to the one serving its namespace (`ns/*`), as in StateFun; other
 * types resolve to `undefined`. Each type gets its own endpoint, built on first use:
 *
 * - HTTP: `urlPathTemplate` with `{function.name}` replaced by the type's name, called with
 *   {@link httpTransport};
 * - Lambda: `functionName` with `{function.name}` replaced, called with `lambdaTransport`;
 *
 * both behind a {@link BatchLimitedEndpoint} with the endpoint's `maxNumBatchRequests`.
 * StateFun's timeouts map onto the transport as follows: `call` is the budget of one call,
 * all attempts and backoffs included, retried until it is spent; each attempt may take
 * `connect + write + read` (never more than `call`). The async transport has no read or
 * write timeout, so there an attempt may take the whole `call`.
 *
 * @throws {@link InvalidInputError} when both `lambdaClient` and `lambdaClientConfig` are given.
 *
 * @example
 * const functions = moduleResolver(readModuleFile('module.yaml'));
 * const endpoint = functions.resolve('example/greeter');
 */
export function moduleResolver(module: StatefunModule, options: ModuleResolverOpts = {}): FunctionResolver {
  if (options.lambdaClient && options.lambdaClientConfig) {
    throw new InvalidInputError('moduleResolver takes either lambdaClient or lambdaClientConfig, not both: configure the client you pass');
  }
  const exact = new Map<string, EndpointSpec>();
  const byNamespace = new Map<string, EndpointSpec>();
  for (const spec of module.endpoints) {
    if (spec.functions.name === undefined) byNamespace.set(spec.functions.namespace, spec);
    else exact.set(`${spec.functions.namespace}/${spec.functions.name}`, spec);
  }
  let lambdaClient = options.lambdaClient;
  const built = new Map<string, FunctionEndpoint>();

  function transportFor(spec: EndpointSpec, name: string): RequestReplyTransport {
    const retries = { ...attemptLimits(spec.timeouts), maxAttempts: Number.POSITIVE_INFINITY };
    if (spec.kind === 'http') {
      return httpTransport({
        url: spec.urlPathTemplate.replaceAll('{function.name}', name),
        ...retries,
        maxRequestBytes: spec.transport.payloadMaxBytes,
        maxResponseBytes: spec.transport.payloadMaxBytes,
        ...(options.httpHeaders ? { headers: options.httpHeaders } : {}),
      });
    }
    lambdaClient ??= new LambdaClient({ maxAttempts: 1, ...options.lambdaClientConfig });
    return lambdaTransport({ functionName: spec.functionNameTemplate.replaceAll('{function.name}', name), client: lambdaClient, ...retries });
  }

  return {
    resolve(fnType) {
      const known = built.get(fnType);
      if (known !== undefined) return known;
      const slash = fnType.indexOf('/');
      const spec = exact.get(fnType) ?? byNamespace.get(fnType.slice(0, slash));
      if (spec === undefined) return undefined;
      const endpoint = new BatchLimitedEndpoint(new RequestReplyEndpoint(fnType, transportFor(spec, fnType.slice(slash + 1))), spec.maxNumBatchRequests);
      built.set(fnType, endpoint);
      return endpoint;
    },
  };
}

/** StateFun's timeouts as the transport's: the call's budget, and what one attempt may take. */
function attemptLimits(timeouts: EndpointTimeouts): { callTimeoutMs: number; timeoutMs: number } {
  return { callTimeoutMs: timeouts.callMs, timeoutMs: Math.min(timeouts.callMs, timeouts.connectMs + timeouts.writeMs + timeouts.readMs) };
}
