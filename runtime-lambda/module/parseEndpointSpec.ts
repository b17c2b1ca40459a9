import { typename } from '../core/Address';
import { LAMBDA_FUNCTION_NAME } from '../aws/LambdaTransport';
import type { EndpointSpec, EndpointTimeouts, FunctionTypePattern, HttpTransportSpec, HttpTransportType, ModuleSource } from './model';
import type { ModuleNode } from './ModuleNode';

/** The endpoint kinds a module may declare. */
export const ENDPOINT_KINDS = ['io.statefun.endpoints.v2/http', 'io.statefun.endpoints.v1/http', 'com.statefun-aws.endpoints.v1/lambda'] as const;
export type EndpointKind = (typeof ENDPOINT_KINDS)[number];

const ASYNC: HttpTransportType = 'io.statefun.transports.v1/async';
const OKHTTP: HttpTransportType = 'io.statefun.transports.v1/okhttp';

/** StateFun's defaults (`HttpFunctionEndpointSpec`, `NettyRequestReplySpec`, `DefaultHttpRequestReplyClientSpec`). */
const DEFAULT_MAX_NUM_BATCH_REQUESTS = 1000;
const DEFAULT_PAYLOAD_MAX_BYTES = 32 * 1024 * 1024;
const SECOND = 1_000;
const MINUTE = 60 * SECOND;

const PATTERN = '"namespace/name" or "namespace/*" with letters, digits, ".", "_" or "-" in each part, e.g. "example/*"';
const BATCH = 'a whole number of invocations per request, at least 1, e.g. 1000';
const TLS_HINT =
  'not supported: the runtime calls functions with Node.js fetch, which trusts the system CAs plus those in NODE_EXTRA_CA_CERTS (set that for a private CA); client certificates (mutual TLS) are not supported, authenticate with a header instead';

/**
 * Reads the `spec` of an endpoint document of kind `kind` into the typed model, with
 * StateFun's defaults. See docs/statefun-compatibility.md, "module.yaml".
 *
 * @throws {@link InvalidInputError} naming the document, the field and what was expected.
 */
export function parseEndpointSpec(kind: EndpointKind, spec: ModuleNode, source: ModuleSource): EndpointSpec {
  switch (kind) {
    case 'io.statefun.endpoints.v2/http': {
      spec.mapping(['functions', 'urlPathTemplate', 'maxNumBatchRequests', 'transport'], 'a mapping', {
        timeouts: 'not a field of io.statefun.endpoints.v2/http (StateFun ignores it there): move it under spec.transport, as spec.transport.timeouts',
      });
      const { transport, timeouts } = v2Transport(spec.child('transport'));
      return { kind: 'http', source, ...common(spec), urlPathTemplate: urlTemplate(spec.child('urlPathTemplate')), transport, timeouts };
    }
    case 'io.statefun.endpoints.v1/http':
      spec.mapping(['functions', 'urlPathTemplate', 'maxNumBatchRequests', 'timeouts'], 'a mapping');
      return {
        kind: 'http',
        source,
        ...common(spec),
        urlPathTemplate: urlTemplate(spec.child('urlPathTemplate')),
        transport: { type: OKHTTP, payloadMaxBytes: DEFAULT_PAYLOAD_MAX_BYTES },
        timeouts: phasedTimeouts(spec.child('timeouts')),
      };
    case 'com.statefun-aws.endpoints.v1/lambda':
      spec.mapping(['functions', 'functionName', 'maxNumBatchRequests', 'timeouts'], 'a mapping');
      return {
        kind: 'lambda',
        source,
        ...common(spec),
        functionNameTemplate: functionNameTemplate(spec.child('functionName')),
        timeouts: phasedTimeouts(spec.child('timeouts')),
      };
  }
}

function common(spec: ModuleNode): { functions: FunctionTypePattern; maxNumBatchRequests: number } {
  return {
    functions: functionsPattern(spec.child('functions')),
    maxNumBatchRequests: spec.child('maxNumBatchRequests').optionalInteger(BATCH, 1, DEFAULT_MAX_NUM_BATCH_REQUESTS),
  };
}

function functionsPattern(node: ModuleNode): FunctionTypePattern {
  const text = node.text(PATTERN);
  const slash = text.indexOf('/');
  const namespace = text.slice(0, slash);
  const name = text.slice(slash + 1);
  try {
    if (slash < 0) throw new Error('no namespace');
    typename(`${namespace}/${name === '*' ? 'any' : name}`);
  } catch {
    node.expected(PATTERN);
  }
  return name === '*' ? { namespace } : { namespace, name };
}

function urlTemplate(node: ModuleNode): string {
  const what = 'an http:// or https:// URL, with {function.name} where the function type\'s name goes, e.g. "http://functions:8000/{function.name}"';
  const template = node.text(what);
  let url: URL;
  try {
    url = new URL(template.replaceAll('{function.name}', 'name'));
  } catch {
    node.expected(what);
  }
  if (url.protocol === 'http+unix:' || url.protocol === 'https+unix:') {
    throw node.error(`${url.protocol.slice(0, -1)} (a UNIX domain socket) is not supported: expected ${what}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') node.expected(what);
  return template;
}

function functionNameTemplate(node: ModuleNode): string {
  const what =
    'a Lambda function name or ARN, with {function.name} where the function type\'s name goes, e.g. "shop-{function.name}" or "arn:aws:lambda:eu-west-1:123456789012:function:shop"';
  const template = node.text(what);
  const sample = template.replaceAll('{function.name}', 'name');
  if (sample.length > 170 || !LAMBDA_FUNCTION_NAME.test(sample)) node.expected(what);
  return template;
}

/**
 * `spec.transport` of a v2 endpoint. Without `type`, StateFun 3.3 uses its async (Netty)
 * transport (its docs say OkHttp, its code says async).
 */
function v2Transport(node: ModuleNode): { transport: HttpTransportSpec; timeouts: EndpointTimeouts } {
  node.entries('a mapping');
  const type = node.child('type').isAbsent ? ASYNC : node.child('type').choice([ASYNC, OKHTTP], 'a transport type');
  if (type === OKHTTP) {
    node.mapping(['type', 'timeouts'], 'a mapping');
    return { transport: { type, payloadMaxBytes: DEFAULT_PAYLOAD_MAX_BYTES }, timeouts: phasedTimeouts(node.child('timeouts')) };
  }
  node.mapping(['type', 'call', 'connect', 'timeouts', 'pool_ttl', 'pool_size', 'payload_max_bytes'], 'a mapping', {
    trust_cacerts: TLS_HINT,
    client_cert: TLS_HINT,
    client_key: TLS_HINT,
    client_key_password: TLS_HINT,
  });
  // Read only to validate: node's fetch keeps its own connection pool.
  node.child('pool_ttl').duration(0, { allowZero: true });
  node.child('pool_size').optionalInteger('a whole number of connections, at least 1', 1, 1024);
  const payloadMaxBytes = node.child('payload_max_bytes').optionalInteger('a whole number of bytes, at least 1', 1, DEFAULT_PAYLOAD_MAX_BYTES);
  const nested = node.child('timeouts');
  let callMs: number;
  let connectMs: number;
  if (nested.isAbsent) {
    callMs = node.child('call').duration(2 * MINUTE);
    connectMs = node.child('connect').duration(20 * SECOND);
  } else {
    for (const key of ['call', 'connect']) {
      if (!node.child(key).isAbsent) throw node.child(key).error('given twice: expected either spec.transport.call and .connect, or spec.transport.timeouts, not both');
    }
    // StateFun's async transport reads only call and connect here; read and write are accepted and have no effect.
    nested.mapping(['call', 'connect', 'read', 'write'], 'a mapping');
    for (const key of ['read', 'write']) nested.child(key).duration(0, { allowZero: true });
    callMs = nested.child('call').duration(MINUTE);
    connectMs = nested.child('connect').duration(10 * SECOND);
  }
  return { transport: { type, payloadMaxBytes }, timeouts: { callMs, connectMs, readMs: callMs, writeMs: callMs } };
}

/** OkHttp's timeouts (v1, v2 with the okhttp transport, our Lambda kind): connect, read and write no longer than call. */
function phasedTimeouts(node: ModuleNode): EndpointTimeouts {
  node.mapping(['call', 'connect', 'read', 'write'], 'a mapping');
  const callMs = node.child('call').duration(MINUTE);
  const phase = (key: 'connect' | 'read' | 'write') => {
    const given = node.child(key);
    if (given.isAbsent) return Math.min(10 * SECOND, callMs);
    const ms = given.duration(0);
    if (ms > callMs) given.expected(`a duration no longer than ${node.path}.call (${callMs} ms)`);
    return ms;
  };
  return { callMs, connectMs: phase('connect'), readMs: phase('read'), writeMs: phase('write') };
}
