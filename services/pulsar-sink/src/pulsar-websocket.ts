/**
 * Apache Pulsar through its WebSocket API (the broker's `webSocketServiceEnabled`): a producer per
 * topic, and a reader. The API is plain JSON over WebSocket, so no native Pulsar client is needed.
 * https://pulsar.apache.org/docs/next/client-libraries-websocket/
 */
import WebSocket from 'ws';

export class PulsarSendError extends Error {
  override readonly name = 'PulsarSendError';
}

/** persistent://tenant/namespace/topic → persistent/tenant/namespace/topic (the WebSocket path form). */
function topicPath(topic: string): string {
  const match = /^(persistent|non-persistent):\/\/([^/]+)\/([^/]+)\/(.+)$/.exec(topic);
  if (!match) throw new PulsarSendError(`not a fully qualified Pulsar topic: "${topic}"`);
  return `${match[1]}/${match[2]}/${match[3]}/${encodeURIComponent(match[4]!)}`;
}

function opened(socket: WebSocket, what: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.terminate();
      reject(new PulsarSendError(`${what}: no connection within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('open', () => (clearTimeout(timer), resolve()));
    socket.once('error', (error) => (clearTimeout(timer), reject(new PulsarSendError(`${what}: ${error.message}`))));
    socket.once('unexpected-response', (_req, res) => (clearTimeout(timer), reject(new PulsarSendError(`${what}: HTTP ${res.statusCode} ${res.statusMessage ?? ''}`.trim()))));
  });
}

export interface PulsarMessage {
  payload: Buffer;
  properties?: Record<string, string>;
  key?: string;
}

/** One topic's producer: sends are pipelined, and each resolves with its message id once Pulsar has stored it. */
export class PulsarProducer {
  private readonly pending = new Map<string, { resolve: (id: string) => void; reject: (error: Error) => void }>();
  private next = 0;
  private closedWith: Error | undefined;

  private constructor(
    readonly topic: string,
    private readonly socket: WebSocket,
  ) {
    socket.on('message', (data) => this.onReply(data.toString()));
    socket.on('close', (code, reason) => this.fail(new PulsarSendError(`producer of ${topic} closed (${code} ${reason.toString()})`.trim())));
    socket.on('error', (error) => this.fail(new PulsarSendError(`producer of ${topic}: ${error.message}`)));
  }

  static async open(serviceUrl: string, topic: string, timeoutMs = 5_000): Promise<PulsarProducer> {
    const socket = new WebSocket(`${serviceUrl.replace(/\/$/, '')}/ws/v2/producer/${topicPath(topic)}`);
    await opened(socket, `Pulsar producer of ${topic}`, timeoutMs);
    return new PulsarProducer(topic, socket);
  }

  get usable(): boolean {
    return this.closedWith === undefined;
  }

  send(message: PulsarMessage): Promise<string> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    const context = String(++this.next);
    return new Promise((resolve, reject) => {
      this.pending.set(context, { resolve, reject });
      const body = { payload: message.payload.toString('base64'), context, ...(message.properties ? { properties: message.properties } : {}), ...(message.key ? { key: message.key } : {}) };
      this.socket.send(JSON.stringify(body), (error) => {
        if (error) this.settle(context, new PulsarSendError(`send to ${this.topic}: ${error.message}`));
      });
    });
  }

  private onReply(text: string): void {
    let reply: { result?: string; messageId?: string; context?: string; errorMsg?: string };
    try {
      reply = JSON.parse(text);
    } catch {
      return;
    }
    if (!reply.context) return;
    if (reply.result === 'ok' && reply.messageId) this.settle(reply.context, undefined, reply.messageId);
    else this.settle(reply.context, new PulsarSendError(`Pulsar refused a message for ${this.topic}: ${reply.result ?? '?'} ${reply.errorMsg ?? ''}`.trim()));
  }

  private settle(context: string, error: Error | undefined, messageId = ''): void {
    const waiter = this.pending.get(context);
    if (!waiter) return;
    this.pending.delete(context);
    if (error) waiter.reject(error);
    else waiter.resolve(messageId);
  }

  private fail(error: Error): void {
    this.closedWith ??= error;
    for (const context of [...this.pending.keys()]) this.settle(context, error);
  }

  close(): void {
    this.fail(new PulsarSendError(`producer of ${this.topic} closed`));
    this.socket.close();
  }
}

export interface ReadMessage {
  messageId: string;
  payload: Buffer;
  properties: Record<string, string>;
  key?: string;
  publishTime: string;
}

/**
 * The messages of a topic from the earliest, in order, until `count` have come or `idleMs` passes
 * without one (a reader: no subscription is left behind).
 */
export async function readTopic(serviceUrl: string, topic: string, options: { count?: number; idleMs?: number } = {}): Promise<ReadMessage[]> {
  const { count = Number.POSITIVE_INFINITY, idleMs = 2_000 } = options;
  const socket = new WebSocket(`${serviceUrl.replace(/\/$/, '')}/ws/v2/reader/${topicPath(topic)}?messageId=earliest`);
  await opened(socket, `Pulsar reader of ${topic}`, 5_000);
  const messages: ReadMessage[] = [];
  await new Promise<void>((resolve) => {
    let timer = setTimeout(resolve, idleMs);
    socket.on('message', (data) => {
      const m = JSON.parse(data.toString()) as { messageId: string; payload: string; properties?: Record<string, string>; key?: string; publishTime: string };
      messages.push({ messageId: m.messageId, payload: Buffer.from(m.payload, 'base64'), properties: m.properties ?? {}, publishTime: m.publishTime, ...(m.key ? { key: m.key } : {}) });
      socket.send(JSON.stringify({ messageId: m.messageId }));
      clearTimeout(timer);
      if (messages.length >= count) resolve();
      else timer = setTimeout(resolve, idleMs);
    });
    socket.once('close', () => resolve());
  });
  socket.close();
  return messages;
}
