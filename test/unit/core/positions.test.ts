import { createHash } from 'node:crypto';
import { batchId } from '../../../runtime-lambda/core/ids';
import { MAX_EFFECTS_PER_BATCH, comparePositions, isPosition, senderPosition } from '../../../runtime-lambda/core/positions';

describe('Function: comparePositions', () => {
  it('compares 56-digit Kinesis sequence numbers numerically, beyond float precision', () => {
    // Prepare
    const a = '49650012345678901234567890123456789012345678901234567890';
    const b = '49650012345678901234567890123456789012345678901234567891';

    // Assess
    expect(comparePositions(a, b)).toBeLessThan(0);
    expect(comparePositions(b, a)).toBeGreaterThan(0);
    expect(comparePositions(a, a)).toBe(0);
    expect(comparePositions('9', '10')).toBeLessThan(0);
    expect(Number(a) === Number(b)).toBe(true); // why strings: numbers cannot tell them apart
  });

  it('orders Kafka offsets numerically, up to the largest 64-bit offset', () => {
    // Prepare
    const offsets = ['0', '9', '10', '99', '100', '9007199254740993', '9223372036854775807'];

    // Assess
    for (let i = 1; i < offsets.length; i++) expect(comparePositions(offsets[i - 1]!, offsets[i]!)).toBeLessThan(0);
    expect([...offsets].reverse().sort(comparePositions)).toEqual(offsets);
  });

  it('accepts only canonical decimals', () => {
    // Assess
    expect(['0', '7', '4965001234'].map(isPosition)).toEqual([true, true, true]);
    expect(['', '07', '-1', '1.5', '1e3', ' 1'].map(isPosition)).toEqual([false, false, false, false, false, false]);
  });
});

describe('Function: senderPosition', () => {
  it('grows with the index, then the version, then the epoch', () => {
    // Prepare
    const ordered = [
      senderPosition(1_700_000_000_000, 1, 0),
      senderPosition(1_700_000_000_000, 1, 1),
      senderPosition(1_700_000_000_000, 1, MAX_EFFECTS_PER_BATCH - 1),
      senderPosition(1_700_000_000_000, 2, 0),
      senderPosition(1_700_000_000_000, 2 ** 39, 0),
      senderPosition(1_700_000_000_001, 1, 0), // the sender's state was deleted and created again
    ];

    // Assess
    for (let i = 1; i < ordered.length; i++) expect(comparePositions(ordered[i - 1]!, ordered[i]!)).toBeLessThan(0);
    expect(ordered.every(isPosition)).toBe(true);
  });
});

describe('Function: batchId', () => {
  it('is the same for the same address, version and messages, and differs otherwise', () => {
    // Prepare
    const base = batchId('a/b/c', 3, ['in/0/1', 'in/0/2']);

    // Assess
    expect(batchId('a/b/c', 3, ['in/0/1', 'in/0/2'])).toBe(base);
    expect(base).toBe(createHash('sha256').update('a/b/c\u00003\u0000in/0/1\u0000in/0/2').digest('base64url').slice(0, 24));
    expect(base).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(new Set([
      base,
      batchId('a/b/d', 3, ['in/0/1', 'in/0/2']),
      batchId('a/b/c', 4, ['in/0/1', 'in/0/2']),
      batchId('a/b/c', 3, ['in/0/1']),
      batchId('a/b/c', 3, ['in/0/2', 'in/0/1']),
      batchId('a/b/c', 3, ['in/0/1in/0/2']),
    ]).size).toBe(6);
  });
});
