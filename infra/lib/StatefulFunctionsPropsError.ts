/**
 * A {@link StatefulFunctions} prop holds a value the construct cannot deploy. Thrown at
 * synth time (in the constructor), naming the construct, the prop, the bad value and the fix.
 *
 * @example
 * try {
 *   new StatefulFunctions(stack, 'App', { ...props, messageStreamShardCount: 0 });
 * } catch (error) {
 *   if (error instanceof StatefulFunctionsPropsError) console.error(error.prop, error.message);
 * }
 */
export class StatefulFunctionsPropsError extends Error {
  override readonly name = 'StatefulFunctionsPropsError';

  /**
   * @param path the construct path, e.g. `FraudDetection/App`
   * @param prop the prop, e.g. `messageStreamShardCount` or `ingresses[1].functionType`
   * @param value the value it holds
   * @param fix what to do instead
   */
  constructor(
    readonly path: string,
    readonly prop: string,
    readonly value: unknown,
    fix: string,
  ) {
    super(`StatefulFunctions ${path}: ${prop} is ${show(value)}: ${fix}`);
  }
}

function show(value: unknown): string {
  if (value === undefined) return 'not set';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value !== null && typeof value === 'object' && 'toHumanString' in value && typeof value.toHumanString === 'function') {
    return String(value.toHumanString());
  }
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
