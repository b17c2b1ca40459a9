/** Flink's time unit labels (`TimeUtils.TimeUnit`, which StateFun's module.yaml uses), each with its length in ns. */
const UNIT_NS = new Map<string, bigint>();
for (const [ns, labels] of [
  [86_400_000_000_000n, ['d', 'day', 'days']],
  [3_600_000_000_000n, ['h', 'hour', 'hours']],
  [60_000_000_000n, ['min', 'm', 'minute', 'minutes']],
  [1_000_000_000n, ['s', 'sec', 'secs', 'second', 'seconds']],
  [1_000_000n, ['ms', 'milli', 'millis', 'millisecond', 'milliseconds']],
  [1_000n, ['µs', 'micro', 'micros', 'microsecond', 'microseconds']],
  [1n, ['ns', 'nano', 'nanos', 'nanosecond', 'nanoseconds']],
] as const) {
  for (const label of labels) UNIT_NS.set(label, ns);
}

/**
 * Reads a duration written as Flink's `TimeUtils.parseDuration` reads it: whole digits, then
 * an optional unit label in any case, with or without a space (`"1 min"`, `"30s"`, `"2m"`,
 * `"1minutes"`, `"10 second"`), no unit meaning milliseconds. A YAML number is read as
 * milliseconds too, as StateFun does.
 *
 * @returns the duration in ms, rounded up to a whole ms; `undefined` when `value` is not a
 * duration (the caller names the field in its error).
 *
 * @example
 * parseFlinkDuration('1 min'); // 60000
 */
export function parseFlinkDuration(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const match = /^(\d+)\s*(\S*)$/u.exec(value.trim());
  if (match === null) return undefined;
  const unitNs = match[2] === '' ? 1_000_000n : UNIT_NS.get(match[2].toLowerCase());
  if (unitNs === undefined) return undefined;
  const ms = Number((BigInt(match[1]) * unitNs + 999_999n) / 1_000_000n);
  return Number.isSafeInteger(ms) ? ms : undefined;
}
