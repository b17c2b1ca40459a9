import { type IncomingHttpHeaders, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Address } from '../../../runtime-lambda/core/Address';
import { ConfigurationError, parseFunctionEndpoints, parseModuleEndpoints } from '../../../runtime-lambda/aws/envConfig';
import { dispatcherHandlerFromEnv } from '../../../runtime-lambda/handlers/dispatcher';
import { configuredOnFirstInvocation } from '../../../runtime-lambda/handlers/observability/powertools';
import { moduleResolver } from '../../../runtime-lambda/module/moduleResolver';
import { parseModule } from '../../../runtime-lambda/module/parseModule';
import { textValue } from '../../helpers/factories';

/** A function endpoint that records what reaches it and answers an empty FromFunction (no effects, as the Python SDK does). */
async function recordingEndpoint() {
  const seen: { path: string; headers: IncomingHttpHeaders }[] = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      seen.push({ path: req.url!, headers: req.headers });
      res.writeHead(200, { 'content-type': 'application/octet-stream' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { seen, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const moduleYaml = (base: string) => `
kind: io.statefun.endpoints.v2/http
spec:
  functions: example/*
  urlPathTemplate: ${base}/statefun/{function.name}
  maxNumBatchRequests: 50
`;

describe('STATEFUN_MODULE_ENDPOINTS: a module.yaml\'s endpoints in the dispatcher', () => {
  it('round-trips the endpoints the construct writes, and calls them with {function.name} substituted and the secret headers', async () => {
    // Prepare
    const endpoint = await recordingEndpoint();
    const endpoints = parseModule(moduleYaml(endpoint.url), 'module.yaml').endpoints;
    const env = { STATEFUN_MODULE_ENDPOINTS: JSON.stringify(endpoints) };

    // Act
    const parsed = parseModuleEndpoints(env);
    const functions = parseFunctionEndpoints({}, { module: moduleResolver({ file: 'env', endpoints: parsed, ingresses: [], egresses: [] }, { httpHeaders: { authorization: 'Bearer t0ken' } }) });
    const reply = await functions.resolve('example/greeter')!.invoke({ target: Address.of('example/greeter', 'ada'), state: [], invocations: [{ argument: textValue('hi') }] });
    await endpoint.close();

    // Assess
    expect(parsed).toEqual(endpoints);
    expect(functions.resolve('other/type')).toBeUndefined();
    expect(reply).toMatchObject({ kind: 'result', messages: [], egress: [] });
    expect(endpoint.seen).toHaveLength(1);
    expect(endpoint.seen[0]!.path).toBe('/statefun/greeter');
    expect(endpoint.seen[0]!.headers.authorization).toBe('Bearer t0ken');
  });

  it('lets the dispatcher start with module endpoints only (no STATEFUN_FUNCTIONS)', () => {
    const make = () =>
      dispatcherHandlerFromEnv({
        STATEFUN_STATE_TABLE: 's',
        STATEFUN_OUTBOX_TABLE: 'o',
        STATEFUN_INBOX_TABLE: 'i',
        AWS_REGION: 'us-east-1',
        STATEFUN_MODULE_ENDPOINTS: JSON.stringify(parseModule(moduleYaml('http://127.0.0.1:1'), 'module.yaml').endpoints),
      });
    expect(make).not.toThrow();
    expect(() => dispatcherHandlerFromEnv({ STATEFUN_STATE_TABLE: 's', STATEFUN_OUTBOX_TABLE: 'o', STATEFUN_INBOX_TABLE: 'i', AWS_REGION: 'us-east-1' })).toThrow(
      'environment variable STATEFUN_FUNCTIONS names no function endpoints',
    );
  });

  const valid = parseModule(moduleYaml('http://127.0.0.1:1'), 'module.yaml').endpoints[0]!;
  it.each([
    ['not JSON', '[{', 'environment variable STATEFUN_MODULE_ENDPOINTS is not valid JSON'],
    ['not an array', '{"kind":"http"}', 'environment variable STATEFUN_MODULE_ENDPOINTS must be a JSON array of endpoints'],
    ['an unknown kind', JSON.stringify([{ ...valid, kind: 'grpc' }]), 'STATEFUN_MODULE_ENDPOINTS[0]: kind must be "http" or "lambda", got "grpc"'],
    ['no functions', JSON.stringify([{ ...valid, functions: 'example/*' }]), 'STATEFUN_MODULE_ENDPOINTS[0]: functions must be {"namespace": <string>, "name"?: <string>}'],
    ['a zero batch cap', JSON.stringify([{ ...valid, maxNumBatchRequests: 0 }]), 'STATEFUN_MODULE_ENDPOINTS[0]: maxNumBatchRequests must be a positive integer'],
    ['a missing timeout', JSON.stringify([{ ...valid, timeouts: { callMs: 1 } }]), 'STATEFUN_MODULE_ENDPOINTS[0]: timeouts must hold positive callMs, connectMs, readMs and writeMs'],
    ['an http endpoint without its URL', JSON.stringify([{ ...valid, urlPathTemplate: undefined }]), 'STATEFUN_MODULE_ENDPOINTS[0]: an http endpoint needs urlPathTemplate and transport.payloadMaxBytes'],
    ['a lambda endpoint without its function', JSON.stringify([{ ...valid, kind: 'lambda' }]), 'STATEFUN_MODULE_ENDPOINTS[0]: a lambda endpoint needs functionNameTemplate'],
  ])('refuses %s, naming the entry and the field', (_what, value, message) => {
    expect(() => parseModuleEndpoints({ STATEFUN_MODULE_ENDPOINTS: value })).toThrow(ConfigurationError);
    expect(() => parseModuleEndpoints({ STATEFUN_MODULE_ENDPOINTS: value })).toThrow(message);
  });
});

describe('configuredOnFirstInvocation', () => {
  it('builds once, async builds included; a failed build fails its invocation and is tried again at the next', async () => {
    // Prepare
    let builds = 0;
    const handler = configuredOnFirstInvocation(async () => {
      builds++;
      if (builds === 1) throw new Error('secret not readable yet');
      return async (event: number) => event * 2;
    });

    // Act
    const first = handler(1);
    await expect(first).rejects.toThrow('secret not readable yet');
    const answers = [await handler(2), await handler(3)];

    // Assess
    expect(answers).toEqual([4, 6]);
    expect(builds).toBe(2);
  });
});
