/**
 * The durable audit (seed 002's Pulsar role, on the NATS already running): a JetStream stream that
 * keeps a side copy of every `agent.…`, `system.>` and `dlq.>` message, within age and size
 * limits. The server stores messages itself, so core delivery stays at-most-once and the hot path
 * does not wait for storage. Request and worker subjects reach it through the bus's `audit.<subject>`
 * copies (see isAuditedByCopy in @arc/contracts); `no_ack` keeps the stream from answering.
 */
import { DeliverPolicy, DiscardPolicy, RetentionPolicy, StorageType, jetstream, jetstreamManager, type StreamConfig } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { auditStreamSubjects, auditedSubject } from '@arc/contracts';

export const AUDIT_STREAM = 'ARC_AUDIT';

export interface AuditLimits {
  /** events older than this are discarded, ms */
  maxAgeMs: number;
  /** the oldest events are discarded beyond this size, bytes */
  maxBytes: number;
  /** copies kept on as many nodes of a NATS cluster (1 on a single server) */
  replicas?: number;
}

export const DEFAULT_AUDIT_LIMITS: AuditLimits = { maxAgeMs: 7 * 24 * 3_600_000, maxBytes: 1024 ** 3, replicas: 1 };

export type AuditStreamState = 'created' | 'updated' | 'present';

export class AuditUnavailableError extends Error {
  override readonly name = 'AuditUnavailableError';
  constructor(options?: { cause?: unknown }) {
    super('the NATS server has no JetStream (start nats-server with -js): no audit stream', options);
  }
}

function streamConfig(limits: AuditLimits): Partial<StreamConfig> & { name: string } {
  return {
    name: AUDIT_STREAM,
    description: 'ARC audit: a side copy of agent, system and dead-letter events (arc audit reads it)',
    subjects: auditStreamSubjects(),
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_age: limits.maxAgeMs * 1_000_000, // nanoseconds
    max_bytes: limits.maxBytes,
    num_replicas: limits.replicas ?? 1,
    no_ack: true,
  };
}

async function manager(nc: NatsConnection) {
  try {
    const jsm = await jetstreamManager(nc, { timeout: 2_000 });
    await jsm.getAccountInfo();
    return jsm;
  } catch (error) {
    throw new AuditUnavailableError({ cause: error });
  }
}

/**
 * Creates the audit stream, or brings its limits to `limits`; safe to call from every worker at
 * once. Throws AuditUnavailableError when the server has no JetStream.
 */
export async function ensureAuditStream(nc: NatsConnection, limits: AuditLimits = DEFAULT_AUDIT_LIMITS): Promise<AuditStreamState> {
  const jsm = await manager(nc);
  const wanted = streamConfig(limits);
  try {
    const info = await jsm.streams.info(AUDIT_STREAM);
    const same =
      info.config.max_age === wanted.max_age &&
      info.config.max_bytes === wanted.max_bytes &&
      info.config.num_replicas === wanted.num_replicas &&
      info.config.no_ack === true &&
      JSON.stringify(info.config.subjects) === JSON.stringify(wanted.subjects);
    if (same) return 'present';
    await jsm.streams.update(AUDIT_STREAM, { ...info.config, ...wanted });
    return 'updated';
  } catch (error) {
    if (!/stream not found/i.test((error as Error).message)) throw error;
  }
  try {
    await jsm.streams.add(wanted);
    return 'created';
  } catch (error) {
    // Another worker created it between our look and our add.
    if (/already in use/i.test((error as Error).message)) return 'present';
    throw error;
  }
}

export interface AuditEvent {
  seq: number;
  subject: string;
  /** when the server stored it, ms since the epoch */
  storedAtMs: number;
  /** the payload, parsed; the raw text when it is not JSON */
  payload: unknown;
}

export interface AuditQuery {
  /** only events stored at or after this time, ms since the epoch */
  sinceMs?: number;
}

/** Every event of the audit stream in order (from `sinceMs` when given), up to the last one stored now. */
export async function* readAudit(nc: NatsConnection, query: AuditQuery = {}): AsyncGenerator<AuditEvent> {
  const jsm = await manager(nc);
  const info = await jsm.streams.info(AUDIT_STREAM);
  const last = info.state.last_seq;
  if (info.state.messages === 0) return;
  const js = jetstream(nc);
  const consumer = await js.consumers.get(
    AUDIT_STREAM,
    query.sinceMs === undefined
      ? { deliver_policy: DeliverPolicy.All }
      : { deliver_policy: DeliverPolicy.StartTime, opt_start_time: new Date(query.sinceMs).toISOString() },
  );
  const decoder = new TextDecoder();
  while (true) {
    const batch = await consumer.fetch({ max_messages: 500, expires: 1_000 });
    let got = 0;
    for await (const m of batch) {
      got++;
      const text = decoder.decode(m.data);
      let payload: unknown = text;
      try {
        payload = JSON.parse(text);
      } catch {
        // kept as text: a dead letter's original, or a message that was never valid
      }
      yield { seq: m.seq, subject: auditedSubject(m.subject), storedAtMs: Math.floor(m.info.timestampNanos / 1e6), payload };
      if (m.seq >= last) return;
    }
    if (got === 0) return;
  }
}

/**
 * The events of one conversation: those with its session_id, and every event of a trace that one
 * of them started (TTS and brain events of a turn carry the turn's trace_id, not the session).
 */
export function conversationFilter(match: { sessionId?: string; traceId?: string }): (event: AuditEvent) => boolean {
  const traces = new Set<string>(match.traceId ? [match.traceId] : []);
  return (event) => {
    const payload = event.payload as { session_id?: unknown; trace_id?: unknown; metadata?: { session_id?: unknown } } | null;
    if (!payload || typeof payload !== 'object') return false;
    const traceId = typeof payload.trace_id === 'string' ? payload.trace_id : undefined;
    if (match.sessionId && (payload.session_id === match.sessionId || payload.metadata?.session_id === match.sessionId)) {
      if (traceId) traces.add(traceId);
      return true;
    }
    return traceId !== undefined && traces.has(traceId);
  };
}
