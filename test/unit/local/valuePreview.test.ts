import { valuePreview } from '../../../runtime-lambda/local/valuePreview';
import { Types } from '../../../runtime-lambda/sdk/Types';

describe('Function: valuePreview', () => {
  it.each([
    ['a built-in string, decoded', { typename: Types.string.typename, value: Types.string.serialize('Bob') }, '"Bob"'],
    ['a built-in int, decoded', { typename: Types.int.typename, value: Types.int.serialize(42) }, '42'],
    ['a built-in long, decoded', { typename: Types.long.typename, value: Types.long.serialize(7n) }, '"7"'],
    ['JSON text as it is, on one line', { typename: 'example/GreetRequest', value: Buffer.from('{\n  "name": "Bob"\n}') }, '{ "name": "Bob" }'],
    ['bytes that are not text, as their size', { typename: 'example/Blob', value: new Uint8Array([0, 1, 2, 255]) }, '<4 bytes>'],
    ['UTF-8 text with control characters, as its size', { typename: 'example/Proto', value: new Uint8Array([0x0a, 0x03, 0x42, 0x6f, 0x62]) }, '<5 bytes>'],
    ['an absent value', { typename: 'example/Any', value: null }, '(no value)'],
  ])('shows %s', (_case, value, expected) => {
    // Act
    const shown = valuePreview(value);

    // Assess
    expect(shown).toBe(expected);
  });

  it('cuts long text at 120 characters', () => {
    // Act
    const shown = valuePreview({ typename: 'example/Text', value: Buffer.from('x'.repeat(500)) });

    // Assess
    expect(shown).toBe(`${'x'.repeat(120)}…`);
  });
});
