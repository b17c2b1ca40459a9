/*
 * docs/official-sdks.md shows the examples' Lambda entry points as they are, and its
 * "try it" request is what it says: a first visit of ada.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeToFunction } from '../../../runtime-lambda/protocol/codec';
import { personBatch } from './officialGreeter';

const ROOT = join(__dirname, '..', '..', '..');
const doc = readFileSync(join(ROOT, 'docs/official-sdks.md'), 'utf8');
const blocks = [...doc.matchAll(/```[a-z]*\n([\s\S]*?)```/g)].map((m) => m[1]);

/** A source file without its leading comment or docstring. */
function code(path: string): string {
  const text = readFileSync(join(ROOT, path), 'utf8');
  return text.replace(/^\/\*[\s\S]*?\*\/\n|^"""[\s\S]*?"""\n\n/, '');
}

describe('docs/official-sdks.md', () => {
  it.each(['functions/official-sdk-js/lambda.ts', 'functions/official-sdk-python/lambda_function.py'])('shows %s verbatim', (path) => {
    // Assess
    expect(blocks).toContain(code(path));
  });

  it('tries the examples with a first visit of ada', () => {
    // Prepare
    const requests = [...doc.matchAll(/"?request"?: "([A-Za-z0-9+/=]+)"/g)].map((m) => m[1]);
    const { invocations, ...batch } = personBatch('ada', null);

    // Assess
    expect(requests).toHaveLength(2);
    for (const request of requests) {
      expect(decodeToFunction(Buffer.from(request!, 'base64'))).toEqual({
        ...batch,
        state: [{ name: 'visits', value: { typename: '', value: null } }],
        invocations: invocations.map(({ argument }) => ({ argument: { typename: argument.typename, value: new Uint8Array(argument.value!) } })),
      });
    }
  });
});
