import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FunctionResolver } from '../../../runtime-lambda/core/ports/FunctionEndpoint';
import { moduleResolver } from '../../../runtime-lambda/module/moduleResolver';
import { parseModule } from '../../../runtime-lambda/module/parseModule';

/** The suite's module.yaml; `${PORT}` stands for the port its functions are called on. */
const MODULE_TEMPLATE = join(__dirname, '..', 'module.yaml');

/** The suite's module with its functions called on `port`: its function resolver and its egress ids. */
export interface ConformanceModule {
  readonly functions: FunctionResolver;
  readonly egressIds: readonly string[];
}

export function conformanceModule(port: number): ConformanceModule {
  const text = readFileSync(MODULE_TEMPLATE, 'utf8').replaceAll('${PORT}', String(port));
  const module = parseModule(text, MODULE_TEMPLATE);
  const egressIds = module.egresses.flatMap((e) => ('id' in e ? [e.id] : []));
  return { functions: moduleResolver(module), egressIds };
}
