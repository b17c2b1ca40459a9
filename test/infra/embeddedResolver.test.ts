import { ConfigurationError } from '../../runtime-lambda/aws/envConfig';
import { StatefulFunctions, defineFunction } from '../../runtime-lambda/sdk';
import { embeddedResolver } from '../../infra/lambda/embeddedResolver';

const registry = new StatefulFunctions().withFunction(defineFunction({ typename: 'shop/cart', handle() {} }));

describe('Function: embeddedResolver', () => {
  test('resolves the registry\'s types, and others through STATEFUN_FUNCTIONS', () => {
    // Act
    const resolver = embeddedResolver({ functions: registry }, { STATEFUN_FUNCTIONS: '{"pay/*":"https://pay.example.com/statefun"}' });
    // Assess
    expect(resolver.resolve('shop/cart')).toBeDefined();
    expect(resolver.resolve('pay/charge')).toBeDefined();
    expect(resolver.resolve('other/x')).toBeUndefined();
  });

  test('takes the export named by STATEFUN_EMBEDDED_EXPORT; without STATEFUN_FUNCTIONS only the registry', () => {
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
