import type { MonitorEvent, MonitorState } from './state.js';

const pad = (text: string, width: number) => (text.length > width ? `${text.slice(0, width - 1)}…` : text.padEnd(width));
const age = (ms: number) => (ms < 1000 ? `${ms}ms` : `${(ms / 1000).toFixed(1)}s`);

/** Full-screen table for a terminal. */
export function renderScreen(state: MonitorState, now = Date.now()): string {
  const lines = [
    `ARC monitor — ${new Date(now).toISOString()}   (DOWN after two missed heartbeats; Ctrl-C quits)`,
    '',
    `${pad('SERVICE', 22)}${pad('INSTANCE', 28)}${pad('STATUS', 10)}${pad('AGE', 8)}${pad('SESS', 6)}${pad('LOAD', 6)}${pad('CPU%', 7)}${pad('MEM MB', 8)}${pad('LAG ms', 8)}${pad('HOP p50/p99 ms', 16)}${pad('RECV', 8)}${pad('INVAL', 7)}${pad('STALE', 7)}${pad('DLQ', 6)}DROP`,
  ];
  const views = [...state.services.values()].sort((a, b) => a.service.localeCompare(b.service) || a.instanceId.localeCompare(b.instanceId));
  for (const view of views) {
    const m = view.heartbeat.metrics;
    const bus = m.bus;
    lines.push(
      `${pad(view.service, 22)}${pad(view.instanceId, 28)}${pad(view.status, 10)}${pad(age(now - view.lastSeen), 8)}${pad(String(m.active_sessions), 6)}${pad(m.load === undefined ? '-' : `${Math.round(m.load * 100)}%`, 6)}${pad(String(m.cpu_percent), 7)}${pad(String(m.memory_mb), 8)}${pad(String(m.event_loop_lag_ms ?? '-'), 8)}${pad(bus ? `${bus.hop_p50_ms}/${bus.hop_p99_ms}` : '-', 16)}${pad(String(bus?.received ?? '-'), 8)}${pad(String(bus?.invalid ?? '-'), 7)}${pad(String(bus?.stale ?? '-'), 7)}${pad(String(bus?.dead_lettered ?? '-'), 6)}${bus?.dropped ?? '-'}`,
    );
  }
  if (views.length === 0) lines.push('(no heartbeats yet)');
  lines.push('', 'RECENT ERRORS');
  for (const error of state.errors.slice(0, 10)) lines.push(`${new Date(error.at).toISOString().slice(11, 23)}  ${pad(error.subject, 44)} ${error.summary}`);
  if (state.errors.length === 0) lines.push('(none)');
  return lines.join('\n');
}

/** One line per change, for logs and pipes. */
export function renderEvent(event: MonitorEvent, now = Date.now()): string {
  const at = new Date(now).toISOString();
  switch (event.type) {
    case 'up':
      return `${at} UP     ${event.service} ${event.instance_id} (${event.status})`;
    case 'status':
      return `${at} STATUS ${event.service} ${event.instance_id} → ${event.status}`;
    case 'down':
      return `${at} DOWN   ${event.service} ${event.instance_id} (silent ${age(event.silent_ms)})`;
    case 'error':
      return `${at} ERROR  ${event.subject} ${event.summary}`;
  }
}
