import type { HandlerMetrics } from '../../../runtime-lambda/handlers/observability/telemetry';

/**
 * A {@link HandlerMetrics} that sums what a handler counts, per metric name; a `Seconds`
 * metric keeps its largest value under `<name>:Seconds`.
 */
export class RecordingMetrics implements HandlerMetrics {
  private counts: Record<string, number> = {};

  addMetric(name: string, unit: 'Count' | 'Seconds', value: number): void {
    if (unit === 'Seconds') this.counts[`${name}:Seconds`] = Math.max(this.counts[`${name}:Seconds`] ?? 0, value);
    else this.counts[name] = (this.counts[name] ?? 0) + value;
  }

  /** The sums since the last drain, then starts again from none. */
  drain(): Record<string, number> {
    const out = this.counts;
    this.counts = {};
    return out;
  }
}
