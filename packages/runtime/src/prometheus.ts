/**
 * Prometheus metrics of a worker, served at /metrics when METRICS_PORT is set: the figures of its
 * last heartbeat as gauges, bus messages per subject and outcome as counters, and histograms of
 * bus hop latency and of each stage (voice-to-voice, STT, model, first audio…).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Bus } from '@arc/bus';
import type { Heartbeat } from '@arc/contracts';
import type { Attributes } from '@opentelemetry/api';
import { recordSpan } from './tracing.js';

/** Milliseconds: from a bus hop (well under 1 ms) to a long answer. */
const BUCKETS_MS = [0.25, 0.5, 1, 2, 5, 10, 25, 50, 100, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000, 10000, 30000];

const stageHistogram = new Histogram({
  name: 'arc_stage_duration_ms',
  help: 'duration of one stage of a turn, ms (voice_to_voice, stt, end_of_turn_wait, llm, llm_first_token, tts_first_audio, tts_synthesis…)',
  labelNames: ['stage'],
  buckets: BUCKETS_MS,
  registers: [],
});

/**
 * Records how long one stage took: in the worker's /metrics, and as a span of the turn's trace
 * when `traceId` is given and tracing is on (`root`: the turn's own span).
 */
export function observeStage(
  stage: string,
  ms: number,
  traceId?: string,
  options: { root?: boolean; attributes?: Attributes; /** wall-clock start (default: ms ago) */ startMs?: number } = {},
): void {
  if (!Number.isFinite(ms) || ms < 0) return;
  stageHistogram.observe({ stage }, ms);
  if (traceId) {
    const { startMs = Date.now() - ms, ...rest } = options;
    recordSpan({ traceId, name: stage, startMs, endMs: startMs + ms, ...rest });
  }
}

/** `{ bus: { hop_p99_ms: 1 } }` → [["bus_hop_p99_ms", 1]]: the numeric figures of a heartbeat. */
export function numericFigures(value: unknown, prefix = ''): [string, number][] {
  if (typeof value === 'number' && Number.isFinite(value)) return [[prefix, value]];
  if (!value || typeof value !== 'object' || Array.isArray(value)) return [];
  return Object.entries(value).flatMap(([key, inner]) => numericFigures(inner, prefix ? `${prefix}_${key}` : key));
}

export interface MetricsServer {
  readonly url: string;
  close(): Promise<void>;
}

export class WorkerMetrics {
  readonly registry = new Registry();
  private readonly gauges = new Map<string, Gauge>();

  constructor(
    private readonly bus: Bus,
    private readonly lastHeartbeat: () => Omit<Heartbeat, 'timestamp'> | undefined,
  ) {
    this.registry.setDefaultLabels({ service: bus.service, instance_id: bus.instanceId });
    collectDefaultMetrics({ register: this.registry, prefix: 'arc_process_' });
    this.registry.registerMetric(stageHistogram);
    const hop = new Histogram({ name: 'arc_bus_hop_latency_ms', help: 'payload timestamp → handler start, ms', buckets: BUCKETS_MS, registers: [this.registry] });
    bus.metrics.onHop((ms) => hop.observe(ms));
    const messages = new Counter({
      name: 'arc_bus_messages_total',
      help: 'bus messages by subject and outcome (published, received, handled, invalid, stale, dead_lettered, handler_errors, dropped)',
      labelNames: ['subject', 'outcome'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [subject, counts] of Object.entries(bus.snapshot().subjects)) {
          for (const [outcome, n] of Object.entries(counts)) if (n > 0) this.inc({ subject, outcome }, n);
        }
      },
    });
    void messages;
  }

  /** The last heartbeat's figures as gauges named arc_<path> (arc_event_loop_lag_ms, arc_bus_hop_p99_ms, …). */
  private refreshGauges(): void {
    const beat = this.lastHeartbeat();
    if (!beat) return;
    for (const [name, value] of numericFigures({ ...beat.metrics, uptime_seconds: beat.uptime_seconds })) {
      const metric = `arc_${name.replace(/[^a-zA-Z0-9_]/g, '_')}`;
      let gauge = this.gauges.get(metric);
      if (!gauge) {
        gauge = new Gauge({ name: metric, help: `heartbeat figure ${name}`, registers: [this.registry] });
        this.gauges.set(metric, gauge);
      }
      gauge.set(value);
    }
  }

  async render(): Promise<string> {
    this.refreshGauges();
    return this.registry.metrics();
  }

  /** Serves GET /metrics on 127.0.0.1:`port` (0: any free port), or on `host` when given. */
  serve(port: number, host = '127.0.0.1'): Promise<MetricsServer> {
    const server: Server = createServer((req, res) => {
      if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('see /metrics\n');
        return;
      }
      this.render().then(
        (text) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(text),
        (error: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${error.message}\n`),
      );
    });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        const { port: bound } = server.address() as AddressInfo;
        resolve({
          url: `http://${host}:${bound}/metrics`,
          close: () => new Promise<void>((done) => server.close(() => done())),
        });
      });
    });
  }
}
