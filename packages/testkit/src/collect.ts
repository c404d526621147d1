import { connect, type NatsConnection } from '@nats-io/transport-node';
import pino from 'pino';

export const silentLogger = pino({ level: 'silent' });

export interface Collector {
  /** decoded JSON messages received so far, with their subjects */
  readonly messages: { subject: string; payload: any }[];
  waitForCount(count: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** A plain NATS subscriber (no ARC bus) that records every message on `subject` — an independent observer for tests. */
export async function collect(url: string, subject: string): Promise<Collector> {
  const nc: NatsConnection = await connect({ servers: url });
  const messages: { subject: string; payload: any }[] = [];
  const sub = nc.subscribe(subject, {
    callback: (_error, msg) => {
      let payload: unknown;
      try {
        payload = msg.json();
      } catch {
        payload = msg.string();
      }
      messages.push({ subject: msg.subject, payload });
    },
  });
  await nc.flush();
  return {
    messages,
    async waitForCount(count, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (messages.length < count) {
        if (Date.now() > deadline) throw new Error(`expected ${count} messages on ${subject}, got ${messages.length}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    async close() {
      if (nc.isClosed()) return;
      try {
        sub.unsubscribe();
        await nc.drain();
      } catch {
        // the server may already be gone (cleanup order in tests); just let go
        await nc.close();
      }
    },
  };
}
