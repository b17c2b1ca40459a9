import { ConfigurationError, parseFunctionEndpoints, parseIngresses } from '../../../runtime-lambda/aws/envConfig';
import { dispatcherHandlerFromEnv } from '../../../runtime-lambda/handlers/dispatcher';
import { kinesisEvent } from '../../helpers/awsEventFactories';

describe('Function: parseIngresses / parseFunctionEndpoints', () => {
  it('reads the short and the long form of ingresses', () => {
    // Act
    const ingresses = parseIngresses({
      STATEFUN_INGRESSES: '{"orders":"shop/cart","clicks":{"functionType":"shop/session","valueType":"shop/Click"}}',
    });

    // Assess
    expect(ingresses).toEqual({
      orders: { functionType: 'shop/cart' },
      clicks: { functionType: 'shop/session', valueType: 'shop/Click' },
    });
    expect(parseIngresses({})).toEqual({});
  });

  it.each([
    ['{"orders":', 'STATEFUN_INGRESSES is not valid JSON'],
    ['["shop/cart"]', 'STATEFUN_INGRESSES must be a JSON object'],
    ['{"orders":42}', 'STATEFUN_INGRESSES: stream "orders" maps to 42: expected a function type'],
    ['{"orders":"cart"}', 'STATEFUN_INGRESSES: stream "orders": functionType: invalid type name "cart"'],
  ])('rejects STATEFUN_INGRESSES=%s', (value, message) => {
    expect(() => parseIngresses({ STATEFUN_INGRESSES: value })).toThrow(ConfigurationError);
    expect(() => parseIngresses({ STATEFUN_INGRESSES: value })).toThrow(message);
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
      STATEFUN_FUNCTIONS: '{"a/*":"http://x/"}',
      STATEFUN_INGRESSES: '{"orders":"a/b"}',
    });

    // Assess
    await expect(handler(kinesisEvent())).resolves.toEqual({ batchItemFailures: [] });
  });
});
