import type { Heartbeat } from '@arc/contracts';

export interface ServiceView {
  service: string;
  instanceId: string;
  status: Heartbeat['status'] | 'DOWN';
  lastSeen: number;
  intervalMs: number;
  heartbeat: Heartbeat;
}

export interface ErrorView {
  at: number;
  subject: string;
  summary: string;
}

export type MonitorEvent =
  | { type: 'up'; service: string; instance_id: string; status: string }
  | { type: 'status'; service: string; instance_id: string; status: string }
  | { type: 'down'; service: string; instance_id: string; silent_ms: number }
  | { type: 'error'; subject: string; summary: string };

/**
 * What operators see, built from heartbeats and error subjects. A service instance is DOWN
 * when two heartbeat intervals pass without a beat. Pure state: no I/O, so it is testable.
 */
export class MonitorState {
  readonly services = new Map<string, ServiceView>();
  readonly errors: ErrorView[] = [];

  constructor(
    private readonly defaultIntervalMs = 30_000,
    private readonly maxErrors = 20,
  ) {}

  heartbeat(beat: Heartbeat, now = Date.now()): MonitorEvent[] {
    const instanceId = beat.instance_id ?? beat.service;
    const key = `${beat.service}/${instanceId}`;
    const previous = this.services.get(key);
    this.services.set(key, {
      service: beat.service,
      instanceId,
      status: beat.status,
      lastSeen: now,
      intervalMs: beat.interval_ms ?? this.defaultIntervalMs,
      heartbeat: beat,
    });
    if (!previous || previous.status === 'DOWN') return [{ type: 'up', service: beat.service, instance_id: instanceId, status: beat.status }];
    if (previous.status !== beat.status) return [{ type: 'status', service: beat.service, instance_id: instanceId, status: beat.status }];
    return [];
  }

  error(subject: string, payload: Record<string, unknown>, now = Date.now()): MonitorEvent[] {
    const origin = String(payload.service ?? payload.instance_id ?? '');
    const kind = String(payload.error_type ?? '');
    const text = String(payload.error_message ?? payload.reason ?? '');
    const summary = [origin, kind, text].filter(Boolean).join(' · ').slice(0, 300);
    this.errors.unshift({ at: now, subject, summary });
    this.errors.length = Math.min(this.errors.length, this.maxErrors);
    return [{ type: 'error', subject, summary }];
  }

  /** Marks instances DOWN after two missed intervals; a stopped instance ("stopping") is removed. */
  tick(now = Date.now()): MonitorEvent[] {
    const events: MonitorEvent[] = [];
    for (const [key, view] of this.services) {
      const silent = now - view.lastSeen;
      if (view.status === 'stopping' && silent > view.intervalMs) {
        this.services.delete(key);
      } else if (view.status !== 'DOWN' && silent > 2 * view.intervalMs) {
        view.status = 'DOWN';
        events.push({ type: 'down', service: view.service, instance_id: view.instanceId, silent_ms: silent });
      }
    }
    return events;
  }
}
