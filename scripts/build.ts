/**
 * Bundles every Lambda entry point with esbuild into `dist/<name>/index.js`:
 * - `runtime-lambda/handlers/<name>.ts` (the runtime's Lambdas), and
 * - `functions/<app>/lambda.ts` (an application's functions served as a Lambda).
 * The CDK construct bundles the same entry points the same way.
 */
import { build } from 'esbuild';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const ROOT = join(__dirname, '..');

function entryPoints(): Record<string, string> {
  const entries: Record<string, string> = {};
  const handlers = join(ROOT, 'runtime-lambda/handlers');
  if (existsSync(handlers)) {
    for (const file of readdirSync(handlers)) {
      if (file.endsWith('.ts') && !file.endsWith('.d.ts')) entries[file.slice(0, -3)] = join(handlers, file);
    }
  }
  const functions = join(ROOT, 'functions');
  for (const app of readdirSync(functions)) {
    const lambda = join(functions, app, 'lambda.ts');
    if (statSync(join(functions, app)).isDirectory() && existsSync(lambda)) entries[`${app}-functions`] = lambda;
  }
  return entries;
}

async function main(): Promise<void> {
  const entries = entryPoints();
  const names = Object.keys(entries);
  if (names.length === 0) throw new Error('no Lambda entry points found under runtime-lambda/handlers or functions/*/lambda.ts');
  for (const name of names) {
    const outfile = join(ROOT, 'dist', name, 'index.js');
    const result = await build({
      entryPoints: [entries[name]!],
      outfile,
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      minify: true,
      sourcemap: true,
      metafile: true,
      // The Lambda Node.js runtime ships the AWS SDK v3; bundling our pinned one keeps behaviour identical everywhere.
      logLevel: 'warning',
    });
    const bytes = Object.values(result.metafile.outputs).reduce((sum, o) => sum + (o.bytes ?? 0), 0);
    console.log(`built ${relative(ROOT, outfile)} from ${relative(ROOT, entries[name]!)} (${(bytes / 1024).toFixed(0)} KiB with source map)`);
  }
}

main().catch((error: unknown) => {
  console.error(`build failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
