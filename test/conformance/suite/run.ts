/*
 * npm run test:conformance [-- --sdk ts,python] [--behaviour <substring>]
 * Runs the conformance suite (test/conformance/suite/behaviours.ts) against the SDKs' functions:
 * one line per SDK and behaviour, then `N passed, M failed`; exits 1 on any failure, 2 on bad arguments.
 */
import { Command, InvalidArgumentError } from 'commander';
import { behaviours, type SdkName } from './behaviours';
import { runConformance } from './runConformance';
import { SDK_NAMES } from './sdks';

function sdkList(value: string): SdkName[] {
  const names = value.split(',').map((s) => s.trim());
  const unknown = names.filter((n) => !SDK_NAMES.includes(n as SdkName));
  if (unknown.length > 0 || names.length === 0) {
    throw new InvalidArgumentError(`unknown SDK ${unknown.map((n) => `"${n}"`).join(', ')}: expected a comma-separated list of ${SDK_NAMES.join(', ')}`);
  }
  return names as SdkName[];
}

async function main(): Promise<void> {
  const program = new Command('test:conformance')
    .description('runs the StateFun conformance suite against our SDK and the official SDKs')
    .option('--sdk <names>', `comma-separated SDKs (${SDK_NAMES.join(', ')})`, sdkList)
    .option('--behaviour <text>', 'only the behaviours whose name contains <text>')
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });
  try {
    program.parse();
  } catch (error) {
    process.exit((error as { exitCode?: number }).exitCode === 0 ? 0 : 2);
  }
  const opts = program.opts<{ sdk?: SdkName[]; behaviour?: string }>();
  const selected = opts.behaviour === undefined ? behaviours : behaviours.filter((b) => b.name.includes(opts.behaviour!));
  if (selected.length === 0) {
    process.stderr.write(`no behaviour's name contains "${opts.behaviour}": the behaviours are\n${behaviours.map((b) => `  ${b.name}`).join('\n')}\n`);
    process.exit(2);
  }
  const results = await runConformance({ ...(opts.sdk ? { sdks: opts.sdk } : {}), behaviours: selected });
  process.exit(results.every((r) => r.ok) ? 0 : 1);
}

void main();
