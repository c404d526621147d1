import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { WebhookReceiver, type WebhookEvent } from 'livekit-server-sdk';
import type { Logger } from '@arc/runtime';

const MAX_BODY_BYTES = 1024 * 1024;

export interface WebhookServerOptions {
  host: string;
  port: number;
  apiKey: string;
  apiSecret: string;
  logger: Logger;
  onEvent: (event: WebhookEvent) => void;
  health: () => Record<string, unknown>;
  /** called for rejected webhooks (counted and logged by the worker) */
  onRejected: (reason: string) => void;
}

class BodyTooLargeError extends Error {
  constructor() {
    super(`body over ${MAX_BODY_BYTES} bytes`);
  }
}

const declaredTooLarge = (req: IncomingMessage) => Number(req.headers['content-length'] ?? 0) > MAX_BODY_BYTES;

/**
 * The body, up to MAX_BODY_BYTES. Past that the rest is read and thrown away, so the client is
 * still reading when the 413 comes (destroying the socket instead left it with a reset).
 */
function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    if (declaredTooLarge(req)) {
      req.resume();
      return reject(new BodyTooLargeError());
    }
    let size = 0;
    const parts: Buffer[] = [];
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) parts.push(chunk);
    });
    req.on('end', () => (size > MAX_BODY_BYTES ? reject(new BodyTooLargeError()) : resolve(Buffer.concat(parts).toString('utf8'))));
    req.on('error', reject);
  });
}

/** POST /livekit/webhook (signed by LiveKit with the API key; anything else → 401) and GET /healthz. */
export async function startWebhookServer(options: WebhookServerOptions): Promise<{ server: Server; url: string }> {
  const receiver = new WebhookReceiver(options.apiKey, options.apiSecret);
  const reply = (res: ServerResponse, status: number, body: Record<string, unknown>) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const server = createServer((req, res) => {
    void (async () => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method === 'GET' && path === '/healthz') return reply(res, 200, options.health());
      if (req.method !== 'POST' || path !== '/livekit/webhook') return reply(res, 404, { error: 'not found' });
      let body: string;
      try {
        body = await readBody(req);
      } catch (error) {
        if (!(error instanceof BodyTooLargeError)) throw error;
        res.setHeader('connection', 'close');
        return reply(res, 413, { error: error.message });
      }
      let event: WebhookEvent;
      try {
        // LiveKit puts the signed JWT in the Authorization header, without a scheme.
        event = await receiver.receive(body, req.headers.authorization);
      } catch (error) {
        const reason = (error as Error).message;
        options.onRejected(reason);
        const status = /JSON|Unexpected|parse/i.test(reason) && req.headers.authorization ? 400 : 401;
        return reply(res, status, { error: status === 401 ? 'invalid webhook signature' : 'invalid webhook body' });
      }
      reply(res, 200, { ok: true });
      options.onEvent(event);
    })().catch((error: Error) => {
      options.logger.error({ err: error }, 'webhook handler failed');
      if (!res.headersSent) reply(res, 500, { error: 'internal error' });
    });
  });
  // A client that asks before sending (Expect: 100-continue) hears 413 at once, without sending the body.
  server.on('checkContinue', (req, res) => {
    if (declaredTooLarge(req)) {
      res.setHeader('connection', 'close');
      return reply(res, 413, { error: `body over ${MAX_BODY_BYTES} bytes` });
    }
    res.writeContinue();
    server.emit('request', req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, resolve);
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  return { server, url: `http://${options.host}:${port}` };
}
