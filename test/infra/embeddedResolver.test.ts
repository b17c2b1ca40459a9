import { ConfigurationError, parseFunctionEndpoints } from '../../runtime-lambda/aws/envConfig';
import { StatefulFunctions, defineFunction } from '../../runtime-lambda/sdk';
import { embeddedResolver } from '../../infra/lambda/embeddedResolver';

const registry = new StatefulFunctions().withFunction(defineFunction({ typename: 'shop/cart', handle() {} }));

describe('Function: embeddedResolver', () => {
  test('resolves the registry\'s types; merged by the dispatcher, others through STATEFUN_FUNCTIONS', () => {
    // Act
    const env = { STATEFUN_FUNCTIONS: '{"pay/*":"https://pay.example.com/statefun","shop/*":"https://shop.example.com/statefun"}' };
    const resolver = parseFunctionEndpoints(env, { embedded: embeddedResolver({ functions: registry }, env) });
    // Assess
    expect(resolver.resolve('shop/cart')).toBe(registry.resolver().resolve('shop/cart'));
    expect(resolver.resolve('shop/other')).toHaveProperty('fnType', 'shop/*');
    expect(resolver.resolve('pay/charge')).toHaveProperty('fnType', 'pay/*');
    expect(resolver.resolve('other/x')).toBeUndefined();
  });

  test('takes the export named by STATEFUN_EMBEDDED_EXPORT, and only the registry\'s types', () => {
    const resolver = embeddedResolver({ registry }, { STATEFUN_EMBEDDED_EXPORT: 'registry' });
    expect(resolver.resolve('shop/cart')).toBeDefined();
    expect(resolver.resolve('pay/charge')).toBeUndefined();
  });

  test('a missing or wrong export is a ConfigurationError naming it and the exports', () => {
    const missing = () => embeddedResolver({ handler: () => undefined }, {});
    expect(missing).toThrow(ConfigurationError);
    expect(missing).toThrow(
      'STATEFUN_EMBEDDED_EXPORT: the embedded functions module\'s export "functions" is missing, not a StatefulFunctions registry (exports: handler): export the registry under that name or set embeddedFunctions.exportName',
    );
    expect(() => embeddedResolver({ functions: {} }, {})).toThrow('export "functions" is a object, not a StatefulFunctions registry (exports: functions)');
  });
});
