import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';
import type { BusMetrics } from '@arc/contracts';

export type Counter = Exclude<keyof BusMetrics, 'hop_p50_ms' | 'hop_p99_ms'>;
const COUNTERS: readonly Counter[] = [
  'received',
  'handled',
  'invalid',
  'stale',
  'dead_lettered',
  'handler_errors',
  'published',
  'dropped',
];

const zeroCounts = (): Record<Counter, number> =>
  Object.fromEntries(COUNTERS.map((name) => [name, 0])) as Record<Counter, number>;

export interface BusMetricsSnapshot extends BusMetrics {
  /** counters per concrete subject */
  subjects: Record<string, Record<Counter, number>>;
  /** hop latency samples in this window */
  hop_samples: number;
  hop_p999_ms: number;
}

/** Counters per subject plus a hop-latency histogram (payload timestamp → handler start). */
export class BusMetricsRecorder {
  private readonly totals = zeroCounts();
  private readonly perSubject = new Map<string, Record<Counter, number>>();
  private hop: RecordableHistogram = createHistogram();
  private readonly hopListeners: ((ms: number) => void)[] = [];

  count(subject: string, counter: Counter, by = 1): void {
    this.totals[counter] += by;
    let counts = this.perSubject.get(subject);
    if (!counts) {
      // Bounded: unknown subjects from a wildcard subscription fold into one bucket.
      if (this.perSubject.size >= 256) subject = '(other)';
      counts = this.perSubject.get(subject) ?? zeroCounts();
      this.perSubject.set(subject, counts);
    }
    counts[counter] += by;
  }

  recordHopMs(ms: number): void {
    // Histogram of integer microseconds; clocks of two processes may disagree slightly.
    this.hop.record(Math.max(1, Math.round(ms * 1000)));
    for (const listener of this.hopListeners) listener(ms);
  }

  /** Calls `listener` with every hop latency recorded (the Prometheus histogram). */
  onHop(listener: (ms: number) => void): void {
    this.hopListeners.push(listener);
  }

  get(counter: Counter): number {
    return this.totals[counter];
  }

  /** Counters are cumulative; latency percentiles cover the window since the last reset. */
  snapshot(options: { resetLatency?: boolean } = {}): BusMetricsSnapshot {
    const samples = this.hop.count;
    const pct = (p: number) => (samples === 0 ? 0 : this.hop.percentile(p) / 1000);
    const snapshot: BusMetricsSnapshot = {
      ...this.totals,
      hop_p50_ms: pct(50),
      hop_p99_ms: pct(99),
      hop_p999_ms: pct(99.9),
      hop_samples: samples,
      subjects: Object.fromEntries([...this.perSubject].map(([subject, counts]) => [subject, { ...counts }])),
    };
    if (options.resetLatency) this.hop = createHistogram();
    return snapshot;
  }
}
