import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Bus } from '@arc/bus';
import type { HealthStatus, Heartbeat } from '@arc/contracts';

export interface HeartbeatSource {
  service: string;
  bus: Bus;
  intervalMs: number;
  activeSessions: () => number;
  /** extra metrics from the worker (models in use, voice-to-voice latency, …) */
  extraMetrics?: () => Partial<Heartbeat['metrics']>;
}

const round = (value: number, digits = 2) => Number(value.toFixed(digits));
/**
 * The event-loop delay histogram samples the loop every LAG_RESOLUTION_MS and records the time
 * between samples, so an idle loop reads about LAG_RESOLUTION_MS: the lag is what lies beyond it.
 */
const LAG_RESOLUTION_MS = 10;

/** Builds system.health.heartbeat payloads: process health plus bus metrics, per interval. */
export class HeartbeatReporter {
  private readonly startedAt = Date.now();
  private lastCpu = process.cpuUsage();
  private lastAt = process.hrtime.bigint();
  private readonly loopDelay = monitorEventLoopDelay({ resolution: LAG_RESOLUTION_MS });
  private timer: NodeJS.Timeout | undefined;
  private lastBuilt: Omit<Heartbeat, 'timestamp'> | undefined;

  constructor(private readonly source: HeartbeatSource) {
    this.loopDelay.enable();
  }

  build(status: HealthStatus): Omit<Heartbeat, 'timestamp'> {
    const now = process.hrtime.bigint();
    const cpu = process.cpuUsage(this.lastCpu);
    const elapsedUs = Number(now - this.lastAt) / 1000;
    this.lastCpu = process.cpuUsage();
    this.lastAt = now;
    const bus = this.source.bus.snapshot({ resetLatency: true });
    const lagMs = this.loopDelay.count > 0 ? Math.max(0, this.loopDelay.percentile(99) / 1e6 - LAG_RESOLUTION_MS) : 0;
    this.loopDelay.reset();
    return {
      service: this.source.service,
      instance_id: this.source.bus.instanceId,
      status,
      uptime_seconds: round((Date.now() - this.startedAt) / 1000, 1),
      interval_ms: this.source.intervalMs,
      metrics: {
        active_sessions: this.source.activeSessions(),
        cpu_percent: round(elapsedUs > 0 ? ((cpu.user + cpu.system) / elapsedUs) * 100 : 0, 1),
        memory_mb: round(process.memoryUsage.rss() / 1024 / 1024, 1),
        event_loop_lag_ms: round(lagMs),
        bus: {
          hop_p50_ms: round(bus.hop_p50_ms, 3),
          hop_p99_ms: round(bus.hop_p99_ms, 3),
          received: bus.received,
          handled: bus.handled,
          invalid: bus.invalid,
          stale: bus.stale,
          dead_lettered: bus.dead_lettered,
          handler_errors: bus.handler_errors,
          published: bus.published,
          dropped: bus.dropped,
        },
        ...this.source.extraMetrics?.(),
      },
    };
  }

  publish(status: HealthStatus): void {
    this.lastBuilt = this.build(status);
    this.source.bus.publish('system.health.heartbeat', this.lastBuilt);
  }

  /** The heartbeat published last (what /metrics reports between beats). */
  get last(): Omit<Heartbeat, 'timestamp'> | undefined {
    return this.lastBuilt;
  }

  start(status: () => HealthStatus): void {
    this.timer = setInterval(() => this.publish(status()), this.source.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.loopDelay.disable();
  }
}
