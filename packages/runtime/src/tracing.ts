/**
 * OpenTelemetry traces of ARC's stages, exported over OTLP/HTTP when the standard variables ask
 * for it (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT; OTEL_TRACES_EXPORTER=none
 * turns it off; OTEL_SERVICE_NAME overrides the service name). Off otherwise: nothing is created.
 *
 * One user turn is one trace across the three workers: the trace id is the bus `trace_id` of the
 * turn, and every stage span is a child of the turn's root span, whose span id is the first 16 hex
 * digits of the trace id. Each worker derives the parent from the `trace_id` it already receives,
 * so no span id travels in payloads or headers (see contracts: `trace_id`).
 */
import { trace, context, TraceFlags, type Tracer, type Attributes } from '@opentelemetry/api';
import { BasicTracerProvider, BatchSpanProcessor, RandomIdGenerator, type IdGenerator } from '@opentelemetry/sdk-trace-base';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';

/** The bus trace id (32 hex, or a UUID) as an OpenTelemetry trace id. */
export function otelTraceId(busTraceId: string): string | undefined {
  const hex = busTraceId.replace(/-/g, '').toLowerCase();
  return /^[0-9a-f]{32}$/.test(hex) && !/^0+$/.test(hex) ? hex : undefined;
}

/** The span id of a turn's root span: derived from its trace id, so every worker can name it. */
export function rootSpanId(traceId: string): string {
  const id = traceId.slice(0, 16);
  return /^0+$/.test(id) ? '0000000000000001' : id;
}

/** Gives the next span the ids asked for (a turn's root), random ones otherwise; either order of asking. */
class TurnIdGenerator implements IdGenerator {
  private readonly random = new RandomIdGenerator();
  private wanted: { traceId?: string; spanId?: string } = {};
  set next(ids: { traceId: string; spanId: string } | undefined) {
    this.wanted = { ...ids };
  }
  generateTraceId(): string {
    const id = this.wanted.traceId ?? this.random.generateTraceId();
    this.wanted.traceId = undefined;
    return id;
  }
  generateSpanId(): string {
    const id = this.wanted.spanId ?? this.random.generateSpanId();
    this.wanted.spanId = undefined;
    return id;
  }
}

let tracer: Tracer | undefined;
let provider: BasicTracerProvider | undefined;
const ids = new TurnIdGenerator();

export function tracingRequested(env: NodeJS.ProcessEnv = process.env): boolean {
  if ((env.OTEL_TRACES_EXPORTER ?? '').toLowerCase() === 'none' || env.OTEL_SDK_DISABLED === 'true') return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

/** Starts the exporter when the OTEL_* variables ask for it; returns whether tracing is on. */
export function startTracing(service: string, instanceId: string, env: NodeJS.ProcessEnv = process.env): boolean {
  if (tracer || !tracingRequested(env)) return tracer !== undefined;
  provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME ?? service, 'service.instance.id': instanceId }),
    idGenerator: ids,
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter(), { scheduledDelayMillis: 500 })],
  });
  tracer = provider.getTracer('arc');
  return true;
}

/** Sends the spans still buffered and stops exporting (on shutdown). */
export async function stopTracing(): Promise<void> {
  await provider?.shutdown();
  provider = undefined;
  tracer = undefined;
}

export interface StageSpan {
  /** the bus trace_id of the turn */
  traceId: string;
  name: string;
  /** wall-clock ms since the epoch */
  startMs: number;
  endMs: number;
  attributes?: Attributes;
  /** the turn's root span itself (the voice worker records it) rather than a child of it */
  root?: boolean;
}

/** Records one finished stage of a turn as a span (nothing when tracing is off). */
export function recordSpan(stage: StageSpan): void {
  if (!tracer) return;
  const traceId = otelTraceId(stage.traceId);
  if (!traceId) return;
  const options = { startTime: stage.startMs, ...(stage.attributes ? { attributes: stage.attributes } : {}) };
  if (stage.root) {
    ids.next = { traceId, spanId: rootSpanId(traceId) };
    tracer.startSpan(stage.name, { ...options, root: true }).end(stage.endMs);
    ids.next = undefined;
    return;
  }
  const parent = trace.setSpanContext(context.active(), { traceId, spanId: rootSpanId(traceId), traceFlags: TraceFlags.SAMPLED, isRemote: true });
  tracer.startSpan(stage.name, options, parent).end(stage.endMs);
}
