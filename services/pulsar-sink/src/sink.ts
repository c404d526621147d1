/**
 * Seed 002's "duplicate events to Pulsar topics", fed from the durable audit: a durable JetStream
 * consumer on ARC_AUDIT reads every kept event in order and sends it to the Pulsar topic of its
 * subject (`agent.brain.request` → `<prefix>agent.brain.request`). An event is acknowledged to
 * JetStream only once Pulsar has stored it, so the copy is at-least-once and survives restarts of
 * the sink, of NATS and of Pulsar. The hot path never waits: the sink only reads the stream.
 */
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { AUDIT_STREAM } from '@arc/bus';
import { auditedSubject } from '@arc/contracts';
import type { Logger } from '@arc/runtime';
import { PulsarProducer } from './pulsar-websocket.js';

export interface PulsarSinkOptions {
  nc: NatsConnection;
  /** the broker's web service, ws://host:8080 */
  pulsarUrl: string;
  /** prepended to the subject: persistent://tenant/namespace/ */
  topicPrefix: string;
  /** durable consumer name on ARC_AUDIT: where the sink left off */
  consumer: string;
  /** events sent to Pulsar and not yet stored there, at most */
  maxInFlight: number;
  logger: Logger;
  /** Pulsar is unreachable (true) or back (false) */
  onOutage(down: boolean, reason: string): void;
}

/** `session_id` (or a turn's `trace_id`) as the Pulsar key, so a conversation's events share one. */
function keyOf(data: Uint8Array): string | undefined {
  try {
    const payload = JSON.parse(new TextDecoder().decode(data)) as { session_id?: unknown; trace_id?: unknown };
    for (const value of [payload.session_id, payload.trace_id]) if (typeof value === 'string' && value) return value;
  } catch {
    // not JSON (a dead letter's raw original): no key
  }
  return undefined;
}

export class AuditUnavailableError extends Error {
  override readonly name = 'AuditUnavailableError';
}

export class PulsarSink {
  private readonly producers = new Map<string, Promise<PulsarProducer>>();
  private messages: ConsumerMessages | undefined;
  private stopped = false;
  private down = false;
  private running: Promise<void> | undefined;
  forwarded = 0;
  failed = 0;
  inFlight = 0;

  constructor(private readonly options: PulsarSinkOptions) {}

  get topics(): number {
    return this.producers.size;
  }

  topicFor(subject: string): string {
    return `${this.options.topicPrefix}${auditedSubject(subject)}`;
  }

  async start(): Promise<void> {
    const { nc, consumer, maxInFlight } = this.options;
    const jsm = await jetstreamManager(nc, { timeout: 5_000 }).catch((error: Error) => {
      throw new AuditUnavailableError(`the Pulsar sink reads the ${AUDIT_STREAM} stream, and this NATS has no JetStream (run nats-server with -js): ${error.message}`);
    });
    await jsm.streams.info(AUDIT_STREAM).catch((error: Error) => {
      throw new AuditUnavailableError(`no ${AUDIT_STREAM} stream to read (${error.message}): the workers make it when ARC_AUDIT is on`);
    });
    try {
      await jsm.consumers.info(AUDIT_STREAM, consumer);
    } catch {
      // first start: everything the audit keeps is copied, from its first event
      await jsm.consumers.add(AUDIT_STREAM, { durable_name: consumer, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All, max_ack_pending: maxInFlight, ack_wait: 30_000_000_000 });
    }
    const source = await jetstream(nc).consumers.get(AUDIT_STREAM, consumer);
    this.messages = await source.consume({ max_messages: Math.min(500, maxInFlight) });
    this.running = (async () => {
      for await (const m of this.messages!) this.forward(m);
    })().catch((error: Error) => {
      if (!this.stopped) this.options.logger.error({ err: error }, 'audit consumer stopped');
    });
  }

  private forward(m: JsMsg): void {
    const topic = this.topicFor(m.subject);
    this.inFlight++;
    const properties = { nats_subject: auditedSubject(m.subject), audit_seq: String(m.seq), stored_at: new Date(Math.floor(m.info.timestampNanos / 1e6)).toISOString() };
    const key = keyOf(m.data);
    this.producer(topic)
      .then((producer) => producer.send({ payload: Buffer.from(m.data), properties, ...(key ? { key } : {}) }))
      .then(
        () => {
          m.ack();
          this.forwarded++;
          if (this.down) this.outage(false, 'Pulsar stores events again');
        },
        (error: Error) => {
          this.failed++;
          this.producers.delete(topic);
          // JetStream delivers it again after the delay: nothing is lost while Pulsar is away
          m.nak(2_000);
          if (!this.down) this.outage(true, error.message);
        },
      )
      .finally(() => this.inFlight--);
  }

  private outage(down: boolean, reason: string): void {
    this.down = down;
    this.options.onOutage(down, reason);
  }

  private producer(topic: string): Promise<PulsarProducer> {
    let producer = this.producers.get(topic);
    if (!producer) {
      producer = PulsarProducer.open(this.options.pulsarUrl, topic);
      this.producers.set(topic, producer);
      producer.catch(() => this.producers.delete(topic));
    }
    return producer.then((open) => {
      if (open.usable) return open;
      this.producers.delete(topic);
      return this.producer(topic);
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.messages?.close();
    await this.running;
    // what is in flight either lands (and is acknowledged) or is delivered again next start
    const until = Date.now() + 5_000;
    while (this.inFlight > 0 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 20));
    for (const producer of this.producers.values()) void producer.then((p) => p.close(), () => {});
    this.producers.clear();
  }
}
