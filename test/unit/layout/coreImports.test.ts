import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const ROOT = join(__dirname, '../../..');
const CORE = join(ROOT, 'runtime-lambda/core');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

function importsOf(file: string): string[] {
  const source = readFileSync(file, 'utf8');
  return [...source.matchAll(/(?:from|import|require\()\s*['"]([^'"]+)['"]/g)].map((m) => m[1]!);
}

describe('Layout: runtime-lambda/core', () => {
  it('imports no AWS SDK and nothing from the adapters, the local runtime or the SDK', () => {
    // Prepare
    const files = sourceFiles(CORE);

    // Act
    const offending = files.flatMap((file) =>
      importsOf(file)
        .filter((spec) => /^@aws-sdk\/|^aws-sdk$|^aws-cdk|(^|\/)(aws|local|sdk|handlers)(\/|$)/.test(spec) && !spec.startsWith('./'))
        .map((spec) => `${relative(ROOT, file)} imports ${spec}`),
    );

    // Assess
    expect(files.length).toBeGreaterThan(10);
    expect(offending).toEqual([]);
  });
});
