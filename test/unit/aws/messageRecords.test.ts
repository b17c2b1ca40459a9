import { randomBytes } from 'node:crypto';
import { deflateRawSync } from 'node:zlib';
import { Address } from '../../../runtime-lambda/core/Address';
import type { Envelope } from '../../../runtime-lambda/core/Envelope';
import { InvalidInputError } from '../../../runtime-lambda/core/errors';
import {
  MalformedRecordError,
  decodeMessageBundle,
  encodeMessageBundle,
  encodeMessageBundleText,
  encodeMessageBundles,
  isMessageBundle,
  partitionKeyOf,
  recordBytes,
} from '../../../runtime-lambda/aws/messageRecords';
import { ingressEnvelope, textValue } from '../../helpers/factories';

const T = Address.of('test/journal', 'a/b');
const S = Address.of('test/sender', 's1');

function envelopesOfEveryKind(): Envelope[] {
  return [
    { id: 'b1.m0', target: T, caller: S, argument: textValue('one'), origin: { kind: 'function', source: S.key, position: '4096' } },
    ingressEnvelope(T, '49650012345678901234567890123456789012345678901234567890', 'raw', 'transactions/shardId-000000000001'),
    { id: 'b2.t0', target: T, caller: T, argument: { typename: 'test/empty', value: null }, origin: { kind: 'timer', timerId: 'b2.t0' }, forwardTo: S },
    { id: 'b3.m1', target: T, argument: { typename: 'test/bytes', value: new Uint8Array(0) }, origin: { kind: 'function', source: S.key, position: '0' } },
  ];
}

/** A bundle with a hand-written JSON body, for malformed-field cases. */
function withBody(body: unknown, header = [0x00, 0x53, 0x46, 0x42, 1, 1]): Uint8Array {
  return Uint8Array.from([...header, ...Buffer.from(typeof body === 'string' ? body : JSON.stringify(body), 'utf8')]);
}

const goodEnvelope = { i: 'x', a: { t: 'test/text', v: 'aGk=' }, o: { k: 'f', s: 'test/sender/s1', p: '7' } };

describe('Function: encodeMessageBundle / decodeMessageBundle', () => {
  it('round-trips envelopes of every origin, keeping order, null and empty values', () => {
    // Prepare
    const envelopes = envelopesOfEveryKind();

    // Act
    const record = encodeMessageBundle(envelopes);
    const decoded = decodeMessageBundle(record.data, record.partitionKey);

    // Assess
    expect(record.partitionKey).toBe('test/journal/a/b');
    expect(record.count).toBe(4);
    expect(isMessageBundle(record.data)).toBe(true);
    expect(Buffer.from(record.data.subarray(0, 6)).toString('hex')).toMatch(/^0053464201(01|02)$/);
    expect(decoded).toEqual(envelopes);
    expect(decoded[0]!.target).toBeInstanceOf(Address);
    expect(decoded[0]!.argument.value).toBeInstanceOf(Uint8Array);
  });

  it('deflates large bundles and reads them back', () => {
    // Prepare
    const envelopes = Array.from({ length: 50 }, (_, i) => ingressEnvelope(T, i + 1, `message number ${i} with some repetitive text`));

    // Act
    const record = encodeMessageBundle(envelopes);

    // Assess
    expect(record.data[5]).toBe(2);
    expect(decodeMessageBundle(record.data)).toEqual(envelopes);
  });

  it('round-trips the JSON text form, also after the JSON is re-serialized with other spacing and key order', () => {
    // Prepare
    const envelopes = envelopesOfEveryKind();

    // Act
    const bundle = encodeMessageBundleText(envelopes);
    const parsed = JSON.parse(bundle.text) as Record<string, unknown>;
    const reordered = JSON.stringify({ e: parsed.e, t: parsed.t, sfb: parsed.sfb }, null, 2);

    // Assess
    expect(bundle.text.startsWith('{"sfb":1,"t":"test/journal/a/b","e":[')).toBe(true);
    expect(bundle.partitionKey).toBe('test/journal/a/b');
    expect(bundle.count).toBe(4);
    expect(decodeMessageBundle(Buffer.from(bundle.text, 'utf8'), bundle.partitionKey)).toEqual(envelopes);
    expect(decodeMessageBundle(Buffer.from(reordered, 'utf8'))).toEqual(envelopes);
  });

  it('rejects a JSON text record that is not a bundle of this version', () => {
    const text = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value), 'utf8');
    expect(() => decodeMessageBundle(text({ t: T.key, e: [goodEnvelope] }))).toThrow(/without "sfb" is not a message bundle/);
    expect(() => decodeMessageBundle(text({ sfb: 2, t: T.key, e: [goodEnvelope] }))).toThrow(/"sfb" 2; this runtime reads version 1/);
    expect(() => decodeMessageBundle(text('{"sfb":1,"t":'))).toThrow(/not valid JSON/);
    expect(() => decodeMessageBundle(text('{"sfb":1,"t":"test/journal/a/b","e":[]}'))).toThrow(MalformedRecordError);
    expect(() => encodeMessageBundleText([])).toThrow(InvalidInputError);
  });

  it('hashes partition keys longer than the 256 characters Kinesis allows, and checks them on decode', () => {
    // Prepare
    const long = Address.of('test/journal', 'x'.repeat(300));

    // Act
    const record = encodeMessageBundle([ingressEnvelope(long, 1, 'hi')]);

    // Assess
    expect(record.partitionKey).toMatch(/^#[A-Za-z0-9_-]{43}$/);
    expect(record.partitionKey).toBe(partitionKeyOf(long));
    expect(decodeMessageBundle(record.data, record.partitionKey)[0]!.target.key).toBe(long.key);
  });

  it('rejects no envelopes and envelopes to different targets', () => {
    expect(() => encodeMessageBundle([])).toThrow(InvalidInputError);
    expect(() => encodeMessageBundle([])).toThrow('no envelopes to encode');
    const mixed = [ingressEnvelope(T, 1, 'a'), ingressEnvelope(S, 2, 'b')];
    expect(() => encodeMessageBundle(mixed)).toThrow(InvalidInputError);
    expect(() => encodeMessageBundle(mixed)).toThrow('goes to test/sender/s1, not test/journal/a/b');
  });

  it('splits a bundle over records that fit the size limit, in order', () => {
    // Prepare
    const envelopes = Array.from({ length: 10 }, (_, i) => ingressEnvelope(T, i + 1, randomBytes(2000).toString('base64')));

    // Act
    const records = encodeMessageBundles(envelopes, 8000);

    // Assess
    expect(records.length).toBeGreaterThan(1);
    for (const record of records) expect(recordBytes(record)).toBeLessThanOrEqual(8000);
    expect(records.flatMap((r) => decodeMessageBundle(r.data))).toEqual(envelopes);
    expect(() => encodeMessageBundles([envelopes[0]!], 100)).toThrow('more than 100: send smaller messages');
  });

  describe('malformed input', () => {
    const cases: [string, Uint8Array, string][] = [
      ['empty', new Uint8Array(0), 'starts neither with the magic 00534642 ("\\0SFB") nor with "{" (the JSON text form) but with nothing'],
      ['raw text', Buffer.from('amount=12'), 'but with 616d6f756e743d31'],
      ['raw JSON (no "sfb")', Buffer.from('{"amount":12}'), 'JSON record without "sfb" is not a message bundle; raw records belong on an ingress stream'],
      ['truncated header', Uint8Array.of(0x00, 0x53, 0x46, 0x42, 1), 'is truncated: its 6-byte header is incomplete'],
      ['unknown version', withBody(goodEnvelope, [0x00, 0x53, 0x46, 0x42, 9, 1]), 'format version 9; this runtime reads version 1'],
      ['unknown encoding', withBody(goodEnvelope, [0x00, 0x53, 0x46, 0x42, 1, 7]), 'unknown body encoding 7'],
      ['bad deflate', withBody('not deflated', [0x00, 0x53, 0x46, 0x42, 1, 2]), 'body cannot be read'],
      ['bad JSON', withBody('{"t":"test/journal/a","e":['), 'is not valid JSON'],
      ['truncated body', encodeMessageBundle([ingressEnvelope(T, 1, 'hello')]).data.slice(0, 30), 'is not valid JSON'],
      ['not an object', withBody([1, 2]), 'field "bundle" must be an object, got [1,2]'],
      ['bad target address', withBody({ t: 'no-slashes', e: [goodEnvelope] }), 'field "t": invalid address "no-slashes"'],
      ['missing target', withBody({ e: [goodEnvelope] }), 'field "t" must be a non-empty string, got nothing'],
      ['no envelopes', withBody({ t: 'test/journal/a', e: [] }), '"e" must be a non-empty array of envelopes, got []'],
      ['bad caller', withBody({ t: 'test/journal/a', e: [{ ...goodEnvelope, c: 'x//y' }] }), 'field "e[0].c": invalid address "x//y"'],
      ['bad forwardTo', withBody({ t: 'test/journal/a', e: [{ ...goodEnvelope, f: 7 }] }), 'field "e[0].f" must be a non-empty string, got 7'],
      ['missing id', withBody({ t: 'test/journal/a', e: [{ ...goodEnvelope, i: '' }] }), 'field "e[0].i" must be a non-empty string, got ""'],
      ['bad base64', withBody({ t: 'test/journal/a', e: [{ ...goodEnvelope, a: { t: 'test/text', v: 'a?b' } }] }), 'field "e[0].a.v" must be canonical base64'],
      ['bad origin kind', withBody({ t: 'test/journal/a', e: [{ ...goodEnvelope, o: { k: 'z' } }] }), 'field "e[0].o.k" must be "f" (function), "i" (ingress) or "t" (timer), got "z"'],
      ['bad position', withBody({ t: 'test/journal/a', e: [{ ...goodEnvelope, o: { k: 'i', s: 'in/0', p: '007' } }] }), 'field "e[0].o.p" must be a decimal position without leading zeros, got "007"'],
      ['timer without id', withBody({ t: 'test/journal/a', e: [{ ...goodEnvelope, o: { k: 't' } }] }), 'field "e[0].o.t" must be a non-empty string, got nothing'],
    ];

    it.each(cases)('rejects %s with MalformedRecordError', (_name, data, message) => {
      // Act
      const decode = () => decodeMessageBundle(data);

      // Assess
      expect(decode).toThrow(MalformedRecordError);
      expect(decode).toThrow(message);
      try {
        decode();
      } catch (error) {
        expect((error as MalformedRecordError).code).toBe('MALFORMED_RECORD');
        expect((error as MalformedRecordError).retryable).toBe(false);
      }
    });

    it('rejects a deflate bomb instead of inflating it', () => {
      // Prepare
      const bomb = deflateRawSync(Buffer.alloc(20 * 1024 * 1024, 0x20));
      const data = Uint8Array.from([0x00, 0x53, 0x46, 0x42, 1, 2, ...bomb]);

      // Act & Assess
      expect(() => decodeMessageBundle(data)).toThrow('body cannot be read');
    });

    it('rejects a bundle whose partition key is not its target', () => {
      // Prepare
      const record = encodeMessageBundle([ingressEnvelope(T, 1, 'hello')]);

      // Act & Assess
      expect(() => decodeMessageBundle(record.data, 'test/journal/other')).toThrow(MalformedRecordError);
      expect(() => decodeMessageBundle(record.data, 'test/journal/other')).toThrow(
        'arrived with partition key "test/journal/other", expected "test/journal/a/b"',
      );
    });
  });
});
