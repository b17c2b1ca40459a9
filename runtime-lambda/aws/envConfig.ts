import { LambdaClient, type LambdaClientConfig } from '@aws-sdk/client-lambda';
import { typename } from '../core/Address';
import { TerminalError } from '../core/errors';
import type { FunctionEndpoint, FunctionResolver } from '../core/ports/FunctionEndpoint';
import { RequestReplyEndpoint, httpTransport } from '../protocol';
import { LAMBDA_FUNCTION_NAME, lambdaTransport } from './LambdaTransport';
import type { IngressMap, IngressSpec } from './kinesisRecords';
import type { EndpointSpec } from '../module/model';

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

/**
 * `name` as a whole number of seconds of at least `min`; undefined when unset.
 *
 * @throws {@link ConfigurationError} naming the variable, the value and an example.
 */
export function wholeSecondsEnv(env: Env, name: string, min: number, example: string): number | undefined {
  const text = env[name]?.trim();
  if (!text) return undefined;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < min) {
    const bound = min === 0 ? ', 0 or more' : ` of at least ${min}`;
    throw new ConfigurationError(`environment variable ${name} must be a whole number of seconds${bound}, got ${JSON.stringify(text)}: set it, e.g. ${name}=${example}, or unset it for the default`);
  }
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

const INGRESS_EXAMPLE = '{"transactions":"fraud/transaction-manager","clicks":{"functionType":"shop/session","valueType":"shop/Click"},"names":{"functionType":["example/person","example/audit"]}}';
const KAFKA_INGRESS_EXAMPLE = '{"names":{"functionType":"example/person","valueType":"io.statefun.types/string"},"clicks":{"functionType":["shop/session","shop/audit"],"valueType":"shop/Click"}}';

/**
 * `STATEFUN_INGRESSES`: stream name → target function type, or → `{ functionType, valueType? }`
 * where `functionType` may list several types (each record goes to every one).
 *
 * @example
 * parseIngresses({ STATEFUN_INGRESSES: '{"transactions":"fraud/transaction-manager"}' });
 */
export function parseIngresses(env: Env, name = 'STATEFUN_INGRESSES'): IngressMap {
  return parseIngressMap(env, name, 'stream', INGRESS_EXAMPLE);
}

/**
 * `STATEFUN_KAFKA_INGRESSES`: Kafka topic → target function type, or → `{ functionType,
 * valueType? }` where `functionType` may list several types (each record goes to every one,
 * the record's key as the id, as StateFun's Kafka ingress routes it).
 *
 * @throws {@link ConfigurationError} naming the variable, the topic, the bad value and an example.
 *
 * @example
 * parseKafkaIngresses({ STATEFUN_KAFKA_INGRESSES: '{"names":{"functionType":"example/person","valueType":"io.statefun.types/string"}}' });
 */
export function parseKafkaIngresses(env: Env, name = 'STATEFUN_KAFKA_INGRESSES'): IngressMap {
  const ingresses = parseIngressMap(env, name, 'topic', KAFKA_INGRESS_EXAMPLE);
  for (const topic of Object.keys(ingresses)) {
    if (!KAFKA_TOPIC.test(topic) || topic === '.' || topic === '..') {
      throw new ConfigurationError(`${name}: ${JSON.stringify(topic)} is not a Kafka topic name: expected 1 to 249 of letters, digits, ".", "_" and "-", e.g. ${KAFKA_INGRESS_EXAMPLE}`);
    }
  }
  return ingresses;
}

/** Kafka's rule for topic names. */
const KAFKA_TOPIC = /^[A-Za-z0-9._-]{1,249}$/;

function parseIngressMap(env: Env, name: string, noun: 'stream' | 'topic', example: string): IngressMap {
  const raw = jsonObjectEnv(env, name, example);
  const out: Record<string, IngressSpec> = {};
  for (const [source, value] of Object.entries(raw)) {
    const spec = typeof value === 'string' ? { functionType: value } : (value as IngressSpec | null);
    const where = `${name}: ${noun} ${JSON.stringify(source)}`;
    const targets = spec === null || typeof spec !== 'object' ? undefined : typeof spec.functionType === 'string' ? [spec.functionType] : spec.functionType;
    if (spec === null || !Array.isArray(targets) || targets.length === 0 || targets.some((t) => typeof t !== 'string')) {
      throw new ConfigurationError(`${where} maps to ${JSON.stringify(value)}: expected a function type or {"functionType": <type or [types]>, "valueType"?: ...}, e.g. ${example}`);
    }
    const unknown = Object.keys(spec).filter((key) => key !== 'functionType' && key !== 'valueType');
    if (unknown.length > 0) {
      throw new ConfigurationError(`${where} has unknown key${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => JSON.stringify(k)).join(', ')}: expected {"functionType": <type or [types]>, "valueType"?: <type>}`);
    }
    if (spec.valueType !== undefined && typeof spec.valueType !== 'string') {
      throw new ConfigurationError(`${where}: valueType must be a type name string, got ${JSON.stringify(spec.valueType)}`);
    }
    for (const functionType of targets) checkTypename(functionType, `${where}: functionType`);
    if (spec.valueType !== undefined) checkTypename(spec.valueType, `${where}: valueType`);
    out[source] = spec.valueType === undefined ? { functionType: spec.functionType } : { functionType: spec.functionType, valueType: spec.valueType };
  }
  return out;
}

const FUNCTIONS_EXAMPLE =
  '{"fraud/*":{"lambda":"arn:aws:lambda:us-east-1:123456789012:function:fraud","timeoutMs":10000},"shop/cart":"http://cart:8000/statefun"}';
const ENDPOINT_FORMS = '"<url>", {"url": "<url>", "timeoutMs"?: n, "maxAttempts"?: n} or {"lambda": "<function name or ARN>", "timeoutMs"?: n, "maxAttempts"?: n}';
const ENDPOINT_KEYS = new Set(['url', 'lambda', 'timeoutMs', 'maxAttempts']);

/** Options of {@link parseFunctionEndpoints}. */
export interface FunctionEndpointsOptions {
  /** @default 'STATEFUN_FUNCTIONS' */
  readonly name?: string;
  /**
   * Functions served in this process, tried first; with them, the variable may be unset.
   * @default - none: the variable must name at least one endpoint
   */
  readonly embedded?: FunctionResolver;
  /**
   * The endpoints of a StateFun module (see {@link parseModuleEndpoints}), tried after
   * `embedded` and before the variable's; with them, the variable may be unset.
   * @default - none
   */
  readonly module?: FunctionResolver;
  /** Headers on every request to an HTTP endpoint (e.g. from `STATEFUN_HTTP_HEADER_SECRETS`). @default - none */
  readonly httpHeaders?: Readonly<Record<string, string>>;
  /**
   * The Lambda client of every `{"lambda": ...}` endpoint (created once, at parse time, only
   * when one is configured). Its own retries multiply the transport's: give it `maxAttempts: 1`.
   * @default - a client with the SDK defaults (region and credentials of the Lambda environment) and `maxAttempts: 1`
   */
  readonly lambdaClient?: LambdaClient;
  /** Config of the client created when `lambdaClient` is not given. @default - the SDK defaults */
  readonly lambdaClientConfig?: LambdaClientConfig;
}

/**
 * `STATEFUN_FUNCTIONS`: function type (or `namespace/*`, as in StateFun's module.yaml) → its
 * remote endpoint. An exact type wins over a namespace pattern; `embedded` functions win over both.
 *
 * | value | endpoint |
 * | --- | --- |
 * | `"<url>"` or `{"url", "timeoutMs"?, "maxAttempts"?}` | HTTP request-reply ({@link httpTransport}) |
 * | `{"lambda": "<name or ARN>", "timeoutMs"?, "maxAttempts"?}` | a Lambda serving `lambdaHandler` ({@link lambdaTransport}) |
 *
 * @throws {@link ConfigurationError} naming the variable, the entry, the bad value and the fix.
 *
 * @example
 * const functions = parseFunctionEndpoints({
 *   STATEFUN_FUNCTIONS: '{"fraud/*":{"lambda":"arn:aws:lambda:us-east-1:123456789012:function:fraud"},"shop/cart":"http://cart:8000/statefun"}',
 * });
 */
export function parseFunctionEndpoints(env: Env, options: FunctionEndpointsOptions = {}): FunctionResolver {
  const name = options.name ?? 'STATEFUN_FUNCTIONS';
  if (options.lambdaClient && options.lambdaClientConfig) {
    throw new TypeError('parseFunctionEndpoints takes either lambdaClient or lambdaClientConfig, not both: configure the client you pass');
  }
  const raw = jsonObjectEnv(env, name, FUNCTIONS_EXAMPLE);
  if (Object.keys(raw).length === 0 && !options.embedded && !options.module) {
    throw new ConfigurationError(`environment variable ${name} names no function endpoints: set it, e.g. ${name}='${FUNCTIONS_EXAMPLE}'`);
  }
  let lambdaClient = options.lambdaClient;
  const exact = new Map<string, FunctionEndpoint>();
  const byNamespace = new Map<string, FunctionEndpoint>();
  for (const [pattern, value] of Object.entries(raw)) {
    const where = `${name}: ${JSON.stringify(pattern)}`;
    const spec = typeof value === 'string' ? { url: value } : (value as Record<string, unknown> | null);
    if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) {
      throw new ConfigurationError(`${where} maps to ${JSON.stringify(value)}: expected ${ENDPOINT_FORMS}, e.g. ${name}='${FUNCTIONS_EXAMPLE}'`);
    }
    const unknown = Object.keys(spec).filter((key) => !ENDPOINT_KEYS.has(key));
    if (unknown.length > 0) {
      throw new ConfigurationError(`${where} has unknown key${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => JSON.stringify(k)).join(', ')}: expected ${ENDPOINT_FORMS}`);
    }
    if ((spec.url === undefined) === (spec.lambda === undefined)) {
      throw new ConfigurationError(
        `${where} maps to ${JSON.stringify(value)}: give exactly one of "url" (an HTTP endpoint) and "lambda" (a function name or ARN): expected ${ENDPOINT_FORMS}`,
      );
    }
    const wildcard = pattern.endsWith('/*');
    const fnType = wildcard ? `${pattern.slice(0, -2)}/any` : pattern;
    checkTypename(fnType, `${where}`);
    const tuning = {
      ...(spec.timeoutMs !== undefined ? { timeoutMs: positiveIntegerField(spec.timeoutMs, 'timeoutMs', where, '(milliseconds per attempt), e.g. "timeoutMs": 10000') } : {}),
      ...(spec.maxAttempts !== undefined ? { maxAttempts: positiveIntegerField(spec.maxAttempts, 'maxAttempts', where, '(attempts per call, the first included), e.g. "maxAttempts": 3') } : {}),
    };
    let endpoint: FunctionEndpoint;
    if (spec.lambda !== undefined) {
      if (typeof spec.lambda !== 'string' || !LAMBDA_FUNCTION_NAME.test(spec.lambda) || spec.lambda.length > 170) {
        throw new ConfigurationError(
          `${where}: "lambda" must be a Lambda function name or ARN, got ${JSON.stringify(spec.lambda)}: e.g. "arn:aws:lambda:us-east-1:123456789012:function:fraud" or "fraud-functions" (optionally with ":alias")`,
        );
      }
      lambdaClient ??= new LambdaClient({ maxAttempts: 1, ...options.lambdaClientConfig });
      endpoint = new RequestReplyEndpoint(pattern, lambdaTransport({ functionName: spec.lambda, client: lambdaClient, ...tuning }));
    } else {
      if (typeof spec.url !== 'string') {
        throw new ConfigurationError(`${where}: "url" must be a string, got ${JSON.stringify(spec.url)}: e.g. "https://fraud.example.com/statefun"`);
      }
      try {
        endpoint = new RequestReplyEndpoint(pattern, httpTransport({ url: spec.url, ...tuning, ...(options.httpHeaders ? { headers: options.httpHeaders } : {}) }));
      } catch (cause) {
        throw new ConfigurationError(`${where}: ${(cause as Error).message}`, { cause });
      }
    }
    if (wildcard) byNamespace.set(pattern.slice(0, -2), endpoint);
    else exact.set(pattern, endpoint);
  }
  const { embedded, module } = options;
  const remote = (fnType: string) => exact.get(fnType) ?? byNamespace.get(fnType.slice(0, fnType.indexOf('/')));
  return { resolve: (fnType) => embedded?.resolve(fnType) ?? module?.resolve(fnType) ?? remote(fnType) };
}

/**
 * `STATEFUN_MODULE_ENDPOINTS`: the function endpoints of a StateFun module.yaml, as the
 * `StatefulFunctions` construct read and validated them at synth time (a JSON array of the
 * module model's endpoints); `[]` when unset. Checked again here for shape, so a hand-edited
 * value fails at the start with the entry and the field, not at the first call.
 *
 * @example
 * const endpoints = parseModuleEndpoints(process.env);
 */
export function parseModuleEndpoints(env: Env, name = 'STATEFUN_MODULE_ENDPOINTS'): readonly EndpointSpec[] {
  const text = env[name]?.trim();
  if (!text) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new ConfigurationError(`environment variable ${name} is not valid JSON (${(cause as Error).message}): the StatefulFunctions construct writes it from your module.yaml; deploy again`, { cause });
  }
  if (!Array.isArray(parsed)) throw new ConfigurationError(`environment variable ${name} must be a JSON array of endpoints, got ${text.slice(0, 80)}`);
  return parsed.map((entry: unknown, i) => {
    const where = `${name}[${i}]`;
    const e = entry as Partial<Record<string, unknown>> | null;
    const functions = e?.functions as { namespace?: unknown; name?: unknown } | undefined;
    const timeouts = e?.timeouts as Record<string, unknown> | undefined;
    const problem =
      e === null || typeof e !== 'object'
        ? 'expected an object'
        : e.kind !== 'http' && e.kind !== 'lambda'
          ? `kind must be "http" or "lambda", got ${JSON.stringify(e.kind)}`
          : typeof functions?.namespace !== 'string' || (functions.name !== undefined && typeof functions.name !== 'string')
            ? 'functions must be {"namespace": <string>, "name"?: <string>}'
            : !Number.isSafeInteger(e.maxNumBatchRequests) || (e.maxNumBatchRequests as number) < 1
              ? 'maxNumBatchRequests must be a positive integer'
              : ['callMs', 'connectMs', 'readMs', 'writeMs'].some((k) => typeof timeouts?.[k] !== 'number' || (timeouts[k] as number) <= 0)
                ? 'timeouts must hold positive callMs, connectMs, readMs and writeMs'
                : e.kind === 'http' && (typeof e.urlPathTemplate !== 'string' || typeof (e.transport as { payloadMaxBytes?: unknown } | undefined)?.payloadMaxBytes !== 'number')
                  ? 'an http endpoint needs urlPathTemplate and transport.payloadMaxBytes'
                  : e.kind === 'lambda' && typeof e.functionNameTemplate !== 'string'
                    ? 'a lambda endpoint needs functionNameTemplate'
                    : undefined;
    if (problem !== undefined) throw new ConfigurationError(`${where}: ${problem}, got ${JSON.stringify(entry).slice(0, 200)}`);
    return entry as EndpointSpec;
  });
}

function positiveIntegerField(value: unknown, field: string, where: string, hint: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new ConfigurationError(`${where}: ${field} must be a positive integer, got ${JSON.stringify(value)}: give a whole number ${hint}`);
  }
  return value;
}

function checkTypename(text: string, where: string): void {
  try {
    typename(text);
  } catch (cause) {
    throw new ConfigurationError(`${where}: ${(cause as Error).message}`, { cause });
  }
}
