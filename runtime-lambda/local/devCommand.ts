import { mkdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { moduleResolver } from '../module/moduleResolver';
import { readModuleFile } from '../module/parseModule';
import type { CommandContext } from './commandContext';
import { startDevModule } from './devModule';

interface DevOpts {
  readonly module?: string;
  readonly stateFile?: string;
  readonly inMemory?: boolean;
  readonly quiet?: boolean;
}

/** Where the state of `statefun dev --module <file>` is kept unless told: beside the module. */
export function defaultStateFile(moduleFile: string): string {
  return join(dirname(resolve(moduleFile)), '.statefun', 'dev-state.json');
}

/**
 * Adds `statefun dev --module module.yaml` to `program`: runs the module on the embedded
 * runtime until SIGINT or SIGTERM (a second one exits at once, code 130), then stops cleanly
 * and answers 0. See docs/local-dev.md.
 *
 * @example
 * statefun dev --module module.yaml --quiet
 */
export function addDevCommand(program: Command, ctx: CommandContext, stopSignal: () => Promise<string> = nextSignal): void {
  program
    .command('dev')
    .description('run a StateFun module.yaml locally: its HTTP functions, playground ingress and egress, state kept in a file')
    .addOption(new Option('--module <file>', 'the module.yaml to run').makeOptionMandatory())
    .addOption(new Option('--state-file <path>', 'where the state is kept across restarts (default: .statefun/dev-state.json beside the module)').conflicts('inMemory'))
    .option('--in-memory', 'keep no state across restarts')
    .option('--quiet', 'no line per message handled (dead letters and errors are still printed)')
    .action(async (opts: DevOpts) => {
      const module = readModuleFile(opts.module!);
      const stateFile = opts.inMemory ? undefined : resolve(opts.stateFile ?? defaultStateFile(opts.module!));
      if (stateFile !== undefined) mkdirSync(dirname(stateFile), { recursive: true });
      const session = await startDevModule(module, {
        functions: moduleResolver(module),
        ...(stateFile !== undefined ? { stateFile } : {}),
        quiet: opts.quiet ?? false,
        out: (line) => ctx.output.out(line),
      });
      const addresses = [...session.runtime.store.all()].length;
      ctx.output.out(`statefun dev: running ${module.file}`);
      for (const endpoint of module.endpoints) {
        const served = `${endpoint.functions.namespace}/${endpoint.functions.name ?? '*'}`;
        ctx.output.out(`  functions ${served} → ${endpoint.kind === 'http' ? endpoint.urlPathTemplate : endpoint.functionNameTemplate}`);
      }
      if (session.ingressUrl) ctx.output.out(`  playground ingress ${session.ingressUrl}/<namespace>/<type>/<id>`);
      if (session.egressUrl) ctx.output.out(`  playground egress ${session.egressUrl}/<topic>`);
      ctx.output.out(stateFile === undefined ? '  state in memory only (--in-memory)' : `  state ${relative(process.cwd(), stateFile) || stateFile} (${addresses} addresses restored)`);
      ctx.output.out('statefun dev: ready (Ctrl-C to stop)');
      const signal = await stopSignal();
      ctx.output.out(`statefun dev: ${signal}: stopping: finishing the calls under way (Ctrl-C again to quit at once)`);
      await session.stop();
      ctx.output.out(`statefun dev: stopped${stateFile === undefined ? '' : `; state written to ${relative(process.cwd(), stateFile) || stateFile}`}`);
    });
}

/** The next SIGINT or SIGTERM; a second one exits at once. */
function nextSignal(): Promise<string> {
  return new Promise((resolveSignal) => {
    const first = (signal: NodeJS.Signals) => {
      process.off('SIGINT', first);
      process.off('SIGTERM', first);
      process.once('SIGINT', () => process.exit(130));
      process.once('SIGTERM', () => process.exit(130));
      resolveSignal(signal);
    };
    process.on('SIGINT', first);
    process.on('SIGTERM', first);
  });
}
