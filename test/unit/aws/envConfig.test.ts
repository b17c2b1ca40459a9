import { ConfigurationError, parseFunctionEndpoints, parseIngresses, parseKafkaIngresses } from '../../../runtime-lambda/aws/envConfig';
import { dispatcherHandlerFromEnv } from '../../../runtime-lambda/handlers/dispatcher';
import { reconcilerHandlerFromEnv } from '../../../runtime-lambda/handlers/reconciler';
import { kinesisEvent } from '../../helpers/awsEventFactories';

describe('Function: parseIngresses / parseFunctionEndpoints', () => {
  it('reads the short and the long form of ingresses', () => {
    // Act
    const ingresses = parseIngresses({
      STATEFUN_INGRESSES: '{"orders":"shop/cart","clicks":{"functionType":"shop/session","valueType":"shop/Click"},"names":{"functionType":["example/person","example/audit"]}}',
    });

    // Assess
    expect(ingresses).toEqual({
      orders: { functionType: 'shop/cart' },
      clicks: { functionType: 'shop/session', valueType: 'shop/Click' },
      names: { functionType: ['example/person', 'example/audit'] },
    });
    expect(parseIngresses({})).toEqual({});
  });

  it.each([
    ['{"orders":', 'STATEFUN_INGRESSES is not valid JSON'],
    ['["shop/cart"]', 'STATEFUN_INGRESSES must be a JSON object'],
    ['{"orders":42}', 'STATEFUN_INGRESSES: stream "orders" maps to 42: expected a function type'],
    ['{"orders":"cart"}', 'STATEFUN_INGRESSES: stream "orders": functionType: invalid type name "cart"'],
    ['{"orders":{"functionType":[]}}', 'STATEFUN_INGRESSES: stream "orders" maps to {"functionType":[]}: expected a function type or {"functionType": <type or [types]>'],
    ['{"orders":{"functionType":["shop/cart",3]}}', 'STATEFUN_INGRESSES: stream "orders" maps to {"functionType":["shop/cart",3]}: expected a function type'],
    ['{"orders":{"functionType":["shop/cart","cart"]}}', 'STATEFUN_INGRESSES: stream "orders": functionType: invalid type name "cart"'],
  ])('rejects STATEFUN_INGRESSES=%s', (value, message) => {
    expect(() => parseIngresses({ STATEFUN_INGRESSES: value })).toThrow(ConfigurationError);
    expect(() => parseIngresses({ STATEFUN_INGRESSES: value })).toThrow(message);
  });

  it('rejects an ingress with a key it does not know, a misspelt valueType say', () => {
    // Act
    const act = () => parseIngresses({ STATEFUN_INGRESSES: '{"orders":{"functionType":"shop/cart","valuetype":"shop/Order"}}' });

    // Assess
    expect(act).toThrow(ConfigurationError);
    expect(act).toThrow('STATEFUN_INGRESSES: stream "orders" has unknown key "valuetype": expected {"functionType": <type or [types]>, "valueType"?: <type>}');
  });

  it('reads STATEFUN_KAFKA_INGRESSES: topic → a type, several, and a value type', () => {
    // Act
    const ingresses = parseKafkaIngresses({
      STATEFUN_KAFKA_INGRESSES: '{"names":{"functionType":"example/person","valueType":"io.statefun.types/string"},"click.v2_a-b":{"functionType":["shop/session","shop/audit"]},"orders":"shop/cart"}',
    });

    // Assess
    expect(ingresses).toEqual({
      names: { functionType: 'example/person', valueType: 'io.statefun.types/string' },
      'click.v2_a-b': { functionType: ['shop/session', 'shop/audit'] },
      orders: { functionType: 'shop/cart' },
    });
    expect(parseKafkaIngresses({})).toEqual({});
    expect(parseKafkaIngresses({ STATEFUN_KAFKA_INGRESSES: '  ' })).toEqual({});
  });

  it.each([
    ['{"names":', 'STATEFUN_KAFKA_INGRESSES is not valid JSON'],
    ['["example/person"]', 'STATEFUN_KAFKA_INGRESSES must be a JSON object, got ["example/person"]: expected e.g. STATEFUN_KAFKA_INGRESSES=\'{"names":{"functionType":"example/person"'],
    ['{"names":null}', 'STATEFUN_KAFKA_INGRESSES: topic "names" maps to null: expected a function type or {"functionType": <type or [types]>, "valueType"?: ...}, e.g. {"names":'],
    ['{"names":{"valueType":"io.statefun.types/string"}}', 'STATEFUN_KAFKA_INGRESSES: topic "names" maps to {"valueType":"io.statefun.types/string"}: expected a function type'],
    ['{"names":"person"}', 'STATEFUN_KAFKA_INGRESSES: topic "names": functionType: invalid type name "person"'],
    ['{"names":{"functionType":"example/person","valueType":7}}', 'STATEFUN_KAFKA_INGRESSES: topic "names": valueType must be a type name string, got 7'],
    ['{"names":{"functionType":"example/person","valueType":"string"}}', 'STATEFUN_KAFKA_INGRESSES: topic "names": valueType: invalid type name "string"'],
    ['{"names":{"functionType":"example/person","targets":["example/greeter"]}}', 'STATEFUN_KAFKA_INGRESSES: topic "names" has unknown key "targets"'],
    ['{"my/topic":"example/person"}', 'STATEFUN_KAFKA_INGRESSES: "my/topic" is not a Kafka topic name: expected 1 to 249 of letters, digits, ".", "_" and "-"'],
    ['{"..":"example/person"}', 'STATEFUN_KAFKA_INGRESSES: ".." is not a Kafka topic name'],
    [`{"${'t'.repeat(250)}":"example/person"}`, 'is not a Kafka topic name'],
  ])('rejects STATEFUN_KAFKA_INGRESSES=%s', (value, message) => {
    const act = () => parseKafkaIngresses({ STATEFUN_KAFKA_INGRESSES: value });
    expect(act).toThrow(ConfigurationError);
    expect(act).toThrow(message);
  });

  it('resolves exact types before namespace patterns', () => {
    // Act
    const functions = parseFunctionEndpoints({
      STATEFUN_FUNCTIONS: '{"shop/*":"http://shop:8000/","shop/cart":{"url":"http://cart:8000/","timeoutMs":500}}',
    });

    // Assess
    expect((functions.resolve('shop/cart') as unknown as { fnType: string }).fnType).toBe('shop/cart');
    expect((functions.resolve('shop/session') as unknown as { fnType: string }).fnType).toBe('shop/*');
    expect(functions.resolve('fraud/model')).toBeUndefined();
  });

  it.each([
    [undefined, 'STATEFUN_FUNCTIONS names no function endpoints'],
    ['{"shop/cart":"ftp://x"}', 'STATEFUN_FUNCTIONS: "shop/cart": httpTransport: invalid url "ftp://x"'],
    ['{"shop/cart":{"url":"http://x/","timeoutMs":-1}}', 'timeoutMs must be a positive integer, got -1'],
    ['{"cart":"http://x/"}', 'STATEFUN_FUNCTIONS: "cart": invalid type name "cart"'],
  ])('rejects STATEFUN_FUNCTIONS=%s', (value, message) => {
    const env = value === undefined ? {} : { STATEFUN_FUNCTIONS: value };
    expect(() => parseFunctionEndpoints(env)).toThrow(ConfigurationError);
    expect(() => parseFunctionEndpoints(env)).toThrow(message);
  });

  it('reads the Lambda form: a function name or ARN, with optional tuning, next to the HTTP forms', () => {
    // Act
    const functions = parseFunctionEndpoints(
      {
        STATEFUN_FUNCTIONS: JSON.stringify({
          'fraud/*': { lambda: 'arn:aws:lambda:us-east-1:123456789012:function:fraud', timeoutMs: 10000, maxAttempts: 2 },
          'shop/cart': { lambda: 'cart-functions:live' },
          'shop/*': 'http://shop:8000/',
        }),
      },
      { lambdaClientConfig: { region: 'us-east-1' } },
    );

    // Assess
    expect(functions.resolve('fraud/model')).toHaveProperty('fnType', 'fraud/*');
    expect(functions.resolve('shop/cart')).toHaveProperty('fnType', 'shop/cart');
    expect(functions.resolve('shop/session')).toHaveProperty('fnType', 'shop/*');
  });

  it('tries embedded functions first and then needs no STATEFUN_FUNCTIONS', () => {
    // Prepare
    const local = { invoke: jest.fn() };
    const embedded = { resolve: (type: string) => (type === 'shop/cart' ? local : undefined) };

    // Act
    const onlyEmbedded = parseFunctionEndpoints({}, { embedded });
    const merged = parseFunctionEndpoints({ STATEFUN_FUNCTIONS: '{"shop/*":{"lambda":"shop"}}' }, { embedded, lambdaClientConfig: { region: 'us-east-1' } });

    // Assess
    expect(onlyEmbedded.resolve('shop/cart')).toBe(local);
    expect(onlyEmbedded.resolve('shop/session')).toBeUndefined();
    expect(merged.resolve('shop/cart')).toBe(local);
    expect(merged.resolve('shop/session')).toHaveProperty('fnType', 'shop/*');
  });

  it.each([
    ['{"shop/cart":{"lambda":42}}', 'STATEFUN_FUNCTIONS: "shop/cart": "lambda" must be a Lambda function name or ARN, got 42: e.g. "arn:aws:lambda:us-east-1:123456789012:function:fraud" or "fraud-functions" (optionally with ":alias")'],
    ['{"shop/cart":{"lambda":""}}', 'STATEFUN_FUNCTIONS: "shop/cart": "lambda" must be a Lambda function name or ARN, got ""'],
    ['{"shop/cart":{"lambda":"https://lambda.example.com/"}}', '"lambda" must be a Lambda function name or ARN, got "https://lambda.example.com/"'],
    ['{"shop/cart":{"lambda":"arn:aws:s3:::bucket"}}', '"lambda" must be a Lambda function name or ARN, got "arn:aws:s3:::bucket"'],
    ['{"shop/cart":{"lambda":"f","url":"http://x/"}}', 'STATEFUN_FUNCTIONS: "shop/cart" maps to {"lambda":"f","url":"http://x/"}: give exactly one of "url" (an HTTP endpoint) and "lambda" (a function name or ARN)'],
    ['{"shop/cart":{"timeoutMs":5}}', 'STATEFUN_FUNCTIONS: "shop/cart" maps to {"timeoutMs":5}: give exactly one of "url"'],
    ['{"shop/cart":{"lamda":"f"}}', 'STATEFUN_FUNCTIONS: "shop/cart" has unknown key "lamda": expected "<url>", {"url": "<url>", "timeoutMs"?: n, "maxAttempts"?: n} or {"lambda": "<function name or ARN>", "timeoutMs"?: n, "maxAttempts"?: n}'],
    ['{"shop/cart":{"lambda":"f","timeoutMs":"5s"}}', 'STATEFUN_FUNCTIONS: "shop/cart": timeoutMs must be a positive integer, got "5s": give a whole number (milliseconds per attempt), e.g. "timeoutMs": 10000'],
    ['{"shop/cart":{"lambda":"f","maxAttempts":0}}', 'STATEFUN_FUNCTIONS: "shop/cart": maxAttempts must be a positive integer, got 0: give a whole number (attempts per call, the first included), e.g. "maxAttempts": 3'],
    ['{"shop/cart":["f"]}', 'STATEFUN_FUNCTIONS: "shop/cart" maps to ["f"]: expected "<url>", {"url": "<url>", "timeoutMs"?: n, "maxAttempts"?: n} or {"lambda": "<function name or ARN>", "timeoutMs"?: n, "maxAttempts"?: n}, e.g. STATEFUN_FUNCTIONS=\''],
    ['{"shop":{"lambda":"f"}}', 'STATEFUN_FUNCTIONS: "shop": invalid type name "shop"'],
  ])('rejects the Lambda form STATEFUN_FUNCTIONS=%s', (value, message) => {
    const parse = () => parseFunctionEndpoints({ STATEFUN_FUNCTIONS: value }, { lambdaClientConfig: { region: 'us-east-1' } });
    expect(parse).toThrow(ConfigurationError);
    expect(parse).toThrow(message);
  });

  it.each(['0', '-1', 'seven'])('rejects STATEFUN_OUTBOX_TTL_DAYS=%s naming the variable and the fix', (value) => {
    const make = () => dispatcherHandlerFromEnv({ STATEFUN_STATE_TABLE: 's', STATEFUN_OUTBOX_TABLE: 'o', STATEFUN_INBOX_TABLE: 'i', STATEFUN_FUNCTIONS: '{"a/b":"http://x/"}', STATEFUN_OUTBOX_TTL_DAYS: value });
    expect(make).toThrow(ConfigurationError);
    expect(make).toThrow(`environment variable STATEFUN_OUTBOX_TTL_DAYS must be a positive number, got "${value}": set it, e.g. STATEFUN_OUTBOX_TTL_DAYS=7, or unset it for the default`);
  });

  it.each(['60', '0', 'a week'])('rejects STATEFUN_DUPLICATE_WINDOW_SECONDS=%s naming the variable and the fix', (value) => {
    const make = () => dispatcherHandlerFromEnv({ STATEFUN_STATE_TABLE: 's', STATEFUN_OUTBOX_TABLE: 'o', STATEFUN_INBOX_TABLE: 'i', STATEFUN_FUNCTIONS: '{"a/b":"http://x/"}', STATEFUN_DUPLICATE_WINDOW_SECONDS: value });
    expect(make).toThrow(ConfigurationError);
    expect(make).toThrow(value === '60' ? 'STATEFUN_DUPLICATE_WINDOW_SECONDS must be a whole number of seconds of at least 3600, got 60' : `environment variable STATEFUN_DUPLICATE_WINDOW_SECONDS must be a positive number, got "${value}"`);
  });

  it.each(['-1', '1.5', 'a day'])('rejects STATEFUN_RETRY_BUDGET_SECONDS=%s naming the variable and the fix', (value) => {
    const make = () => dispatcherHandlerFromEnv({ STATEFUN_STATE_TABLE: 's', STATEFUN_OUTBOX_TABLE: 'o', STATEFUN_INBOX_TABLE: 'i', STATEFUN_FUNCTIONS: '{"a/b":"http://x/"}', STATEFUN_RETRY_BUDGET_SECONDS: value });
    expect(make).toThrow(ConfigurationError);
    expect(make).toThrow(`environment variable STATEFUN_RETRY_BUDGET_SECONDS must be a whole number of seconds, 0 or more, got "${value}": set it, e.g. STATEFUN_RETRY_BUDGET_SECONDS=86400, or unset it for the default`);
  });

  it.each([
    ['STATEFUN_RECONCILE_STALE_AFTER_SECONDS', '30'],
    ['STATEFUN_TIMER_GRACE_SECONDS', 'soon'],
  ])('rejects %s=%s for the reconciler, naming the variable and the fix', (name, value) => {
    const make = () => reconcilerHandlerFromEnv({ STATEFUN_STATE_TABLE: 's', STATEFUN_OUTBOX_TABLE: 'o', STATEFUN_INBOX_TABLE: 'i', STATEFUN_MESSAGE_STREAM: 'm', [name]: value });
    expect(make).toThrow(ConfigurationError);
    expect(make).toThrow(`environment variable ${name} must be a whole number of seconds of at least 60, got "${value}": set it, e.g. ${name}=900, or unset it for the default`);
  });

  it.each([[{}], [{ sweep: 'everything' }], [null]])('the reconciler refuses an event that is not a sweep: %j', async (event) => {
    const handler = reconcilerHandlerFromEnv({ STATEFUN_STATE_TABLE: 's', STATEFUN_OUTBOX_TABLE: 'o', STATEFUN_INBOX_TABLE: 'i', STATEFUN_MESSAGE_STREAM: 'm', AWS_REGION: 'us-east-1' });
    await expect(handler(event as never)).rejects.toThrow(`reconciler event ${JSON.stringify(event)}: expected {"sweep":"inbox"} or {"sweep":"timers"}`);
  });

  it('names a missing table variable and how to set it', () => {
    expect(() => dispatcherHandlerFromEnv({ STATEFUN_OUTBOX_TABLE: 'o', STATEFUN_FUNCTIONS: '{"a/b":"http://x/"}' })).toThrow(
      'environment variable STATEFUN_STATE_TABLE is not set: set it, e.g. STATEFUN_STATE_TABLE=statefun-state',
    );
  });

  it('builds a handler from a complete environment', async () => {
    // Act
    const handler = dispatcherHandlerFromEnv({
      STATEFUN_STATE_TABLE: 's',
      STATEFUN_OUTBOX_TABLE: 'o',
      STATEFUN_INBOX_TABLE: 'i',
      STATEFUN_FUNCTIONS: '{"a/*":"http://x/"}',
      STATEFUN_INGRESSES: '{"orders":"a/b"}',
    });

    // Assess
    await expect(handler(kinesisEvent())).resolves.toEqual({ batchItemFailures: [] });
  });
});
