import type { HandlerMetrics } from '../../../runtime-lambda/handlers/observability/telemetry';

/** A {@link HandlerMetrics} that sums what a handler counts, per metric name (all `Count`). */
export class RecordingMetrics implements HandlerMetrics {
  private counts: Record<string, number> = {};

  addMetric(name: string, unit: 'Count', value: number): void {
    if (unit !== 'Count') throw new Error(`unexpected unit ${unit} for ${name}`);
    this.counts[name] = (this.counts[name] ?? 0) + value;
  }

  /** The sums since the last drain, then starts again from none. */
  drain(): Record<string, number> {
    const out = this.counts;
    this.counts = {};
    return out;
  }
}
