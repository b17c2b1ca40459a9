import { Address, typename } from '../../../runtime-lambda/core/Address';
import { InvalidInputError } from '../../../runtime-lambda/core/errors';

describe('Class: Address', () => {
  it('parses namespace/type/id, keeping slashes inside the id', () => {
    // Act
    const address = Address.parse('fraud/count/acct/42');

    // Assess
    expect([address.namespace, address.type, address.id, address.typename, address.key]).toEqual([
      'fraud',
      'count',
      'acct/42',
      'fraud/count',
      'fraud/count/acct/42',
    ]);
  });

  it('builds the same address from a type name and an id', () => {
    // Act
    const address = Address.of('fraud/count', 'acct-42');

    // Assess
    expect(address.equals(Address.parse('fraud/count/acct-42'))).toBe(true);
    expect(address.equals(Address.parse('fraud/count/acct-43'))).toBe(false);
    expect(JSON.stringify({ address })).toBe('{"address":"fraud/count/acct-42"}');
  });

  it.each([
    ['', 'invalid address "": expected "namespace/type/id", e.g. "fraud/count/acct-42"'],
    ['fraud', 'invalid address "fraud": expected "namespace/type/id", e.g. "fraud/count/acct-42"'],
    ['fraud/count', 'invalid address "fraud/count": expected "namespace/type/id", e.g. "fraud/count/acct-42"'],
    ['fraud/count/', 'invalid address "fraud/count/": expected "namespace/type/id", e.g. "fraud/count/acct-42"'],
    ['/count/x', 'invalid address "/count/x": expected "namespace/type/id", e.g. "fraud/count/acct-42"'],
    ['fr aud/count/x', 'invalid type name "fr aud/count": expected "namespace/type" with letters, digits, ".", "_" or "-" in each part, e.g. "fraud/model"'],
  ])('rejects the malformed address %j with a message naming it', (text, expected) => {
    // Act
    const act = () => Address.parse(text);

    // Assess
    expect(act).toThrow(InvalidInputError);
    expect(act).toThrow(expected);
  });

  it('rejects an empty id', () => {
    // Act
    const act = () => Address.of('fraud/count', '');

    // Assess
    expect(act).toThrow(InvalidInputError);
    expect(act).toThrow('invalid address "fraud/count/": the id must be a non-empty string');
  });

  it('validates type names', () => {
    // Assess
    expect(typename('io.statefun.types/int')).toBe('io.statefun.types/int');
    expect(() => typename('no-slash')).toThrow(
      'invalid type name "no-slash": expected "namespace/type" with letters, digits, ".", "_" or "-" in each part, e.g. "fraud/model"',
    );
  });
});
