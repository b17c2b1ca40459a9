import { typename } from '../core/Address';
import { TerminalError } from '../core/errors';
import type { FunctionEndpoint, FunctionResolver } from '../core/ports/FunctionEndpoint';
import { RequestReplyEndpoint, httpTransport } from '../protocol';
import type { IngressMap, IngressSpec } from './kinesisRecords';

/**
 * A handler's environment is missing a variable or holds a value it cannot use. Thrown at
 * the first invocation (cold start), naming the variable, the bad value and the fix.
 */
export class ConfigurationError extends TerminalError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, { ...options, code: 'INVALID_CONFIGURATION' });
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/** The value of `name`, which must be set and non-empty. */
export function requiredEnv(env: Env, name: string, example: string): string {
  const value = env[name]?.trim();
  if (!value) throw new ConfigurationError(`environment variable ${name} is not set: set it, e.g. ${name}=${example}`);
  return value;
}

/** `name` parsed as a JSON object, `{}` when unset. */
export function jsonObjectEnv(env: Env, name: string, example: string): Record<string, unknown> {
  const text = env[name]?.trim();
  if (!text) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new ConfigurationError(`environment variable ${name} is not valid JSON (${(cause as Error).message}): expected e.g. ${name}='${example}'`, { cause });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigurationError(`environment variable ${name} must be a JSON object, got ${text.slice(0, 80)}: expected e.g. ${name}='${example}'`);
  }
  return parsed as Record<string, unknown>;
}

const INGRESS_EXAMPLE = '{"transactions":"fraud/transaction-manager","clicks":{"functionType":"shop/session","valueType":"shop/Click"}}';

/**
 * `STATEFUN_INGRESSES`: stream name → target function type, or → `{ functionType, valueType? }`.
 *
 * @example
 * parseIngresses({ STATEFUN_INGRESSES: '{"transactions":"fraud/transaction-manager"}' });
 */
export function parseIngresses(env: Env, name = 'STATEFUN_INGRESSES'): IngressMap {
  const raw = jsonObjectEnv(env, name, INGRESS_EXAMPLE);
  const out: Record<string, IngressSpec> = {};
  for (const [stream, value] of Object.entries(raw)) {
    const spec = typeof value === 'string' ? { functionType: value } : (value as IngressSpec | null);
    const where = `${name}: stream ${JSON.stringify(stream)}`;
    if (spec === null || typeof spec !== 'object' || typeof spec.functionType !== 'string') {
      throw new ConfigurationError(`${where} maps to ${JSON.stringify(value)}: expected a function type or {"functionType": ..., "valueType"?: ...}, e.g. ${INGRESS_EXAMPLE}`);
    }
    if (spec.valueType !== undefined && typeof spec.valueType !== 'string') {
      throw new ConfigurationError(`${where}: valueType must be a type name string, got ${JSON.stringify(spec.valueType)}`);
    }
    checkTypename(spec.functionType, `${where}: functionType`);
    if (spec.valueType !== undefined) checkTypename(spec.valueType, `${where}: valueType`);
    out[stream] = spec.valueType === undefined ? { functionType: spec.functionType } : { functionType: spec.functionType, valueType: spec.valueType };
  }
  return out;
}

const FUNCTIONS_EXAMPLE = '{"fraud/*":"https://fraud.example.com/statefun","shop/cart":{"url":"http://cart:8000/statefun","timeoutMs":5000}}';

/**
 * `STATEFUN_FUNCTIONS`: function type (or `namespace/*`, as in StateFun's module.yaml) →
 * the URL of its request-reply HTTP endpoint, or `{ url, timeoutMs?, maxAttempts? }`. An
 * exact type wins over a namespace pattern.
 *
 * @example
 * const functions = parseFunctionEndpoints({ STATEFUN_FUNCTIONS: '{"fraud/*":"https://fraud.example.com/statefun"}' });
 */
export function parseFunctionEndpoints(env: Env, name = 'STATEFUN_FUNCTIONS'): FunctionResolver {
  const raw = jsonObjectEnv(env, name, FUNCTIONS_EXAMPLE);
  if (Object.keys(raw).length === 0) {
    throw new ConfigurationError(`environment variable ${name} names no function endpoints: set it, e.g. ${name}='${FUNCTIONS_EXAMPLE}'`);
  }
  const exact = new Map<string, FunctionEndpoint>();
  const byNamespace = new Map<string, FunctionEndpoint>();
  for (const [pattern, value] of Object.entries(raw)) {
    const spec = typeof value === 'string' ? { url: value } : (value as { url?: unknown; timeoutMs?: unknown; maxAttempts?: unknown } | null);
    const where = `${name}: ${JSON.stringify(pattern)}`;
    if (spec === null || typeof spec !== 'object' || typeof spec.url !== 'string') {
      throw new ConfigurationError(`${where} maps to ${JSON.stringify(value)}: expected a URL or {"url": ..., "timeoutMs"?: n, "maxAttempts"?: n}, e.g. ${FUNCTIONS_EXAMPLE}`);
    }
    const wildcard = pattern.endsWith('/*');
    const fnType = wildcard ? `${pattern.slice(0, -2)}/any` : pattern;
    checkTypename(fnType, `${where}`);
    let endpoint: FunctionEndpoint;
    try {
      endpoint = new RequestReplyEndpoint(
        pattern,
        httpTransport({
          url: spec.url,
          ...(spec.timeoutMs !== undefined ? { timeoutMs: spec.timeoutMs as number } : {}),
          ...(spec.maxAttempts !== undefined ? { maxAttempts: spec.maxAttempts as number } : {}),
        }),
      );
    } catch (cause) {
      throw new ConfigurationError(`${where}: ${(cause as Error).message}`, { cause });
    }
    if (wildcard) byNamespace.set(pattern.slice(0, -2), endpoint);
    else exact.set(pattern, endpoint);
  }
  return { resolve: (fnType) => exact.get(fnType) ?? byNamespace.get(fnType.slice(0, fnType.indexOf('/'))) };
}

function checkTypename(text: string, where: string): void {
  try {
    typename(text);
  } catch (cause) {
    throw new ConfigurationError(`${where}: ${(cause as Error).message}`, { cause });
  }
}
