import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FunctionResolver } from '../../../runtime-lambda/core/ports/FunctionEndpoint';
import type { StatefunModule } from '../../../runtime-lambda/module/model';
import { moduleResolver } from '../../../runtime-lambda/module/moduleResolver';
import { parseModule } from '../../../runtime-lambda/module/parseModule';

/** The suite's module.yaml template; `${PORT}` is the SDK server's port. */
export const MODULE_TEMPLATE = join(__dirname, '..', 'module.yaml');

/** The suite's module for an SDK server on `port`: the parsed module, its function resolver and its egress ids. */
export interface ConformanceModule {
  readonly module: StatefunModule;
  readonly functions: FunctionResolver;
  readonly egressIds: readonly string[];
}

export function conformanceModule(port: number, template = MODULE_TEMPLATE): ConformanceModule {
  const text = readFileSync(template, 'utf8').replaceAll('${PORT}', String(port));
  const module = parseModule(text, template);
  const egressIds = module.egresses.flatMap((e) => ('id' in e ? [e.id] : []));
  return { module, functions: moduleResolver(module), egressIds };
}
