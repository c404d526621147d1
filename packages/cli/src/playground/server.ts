/**
 * The playground: a local web page to talk to the agent with the browser microphone. Serves
 * the page, LiveKit tokens for it, and a server-sent-event stream of the conversation (from
 * NATS: what the user said, what the agent answers, worker heartbeats and errors).
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { AccessToken } from 'livekit-server-sdk';
import { connectBus, type Bus } from '@arc/bus';

export interface PlaygroundOptions {
  port: number;
  host?: string;
  natsUrl: string;
  livekitUrl: string;
  apiKey: string;
  apiSecret: string;
}

export interface Playground {
  url: string;
  close(): Promise<void>;
}

type PlaygroundEvent =
  | { type: 'user'; room: string; text: string; turn?: number }
  | { type: 'agent_partial'; room: string; text: string; sequence: number; request_id: string }
  | { type: 'agent'; room: string; text: string; request_id: string }
  | { type: 'agent_error'; room: string; text: string; error_type: string }
  | { type: 'service'; service: string; instance_id: string; status: string; active_sessions: number }
  | { type: 'error'; subject: string; text: string };

const PAGE = fileURLToPath(new URL('../../static/playground.html', import.meta.url));
const LIVEKIT_CLIENT = createRequire(import.meta.url).resolve('livekit-client') // the "require" export is the UMD build (global LivekitClient);
const ROOM_NAME = /^[A-Za-z0-9_-]{1,64}$/;

export async function startPlayground(options: PlaygroundOptions): Promise<Playground> {
  const bus: Bus = await connectBus({ servers: options.natsUrl, service: 'arc-playground', connectTimeoutMs: 5_000 });
  const clients = new Set<{ room: string | undefined; res: ServerResponse }>();
  // session_id → room, learned from session starts and brain requests seen on the bus.
  const roomOfSession = new Map<string, string>();
  const roomOfRequest = new Map<string, string>();

  const broadcast = (event: PlaygroundEvent) => {
    const line = `data: ${JSON.stringify(event)}\n\n`;
    for (const client of clients) {
      // Conversation events go only to the page in that room; heartbeats and errors to all.
      if ('room' in event && event.room !== client.room) continue;
      client.res.write(line);
    }
  };
  const remember = <K, V>(map: Map<K, V>, key: K, value: V) => {
    map.set(key, value);
    if (map.size > 10_000) map.delete(map.keys().next().value as K);
  };

  const observe = { deadLetter: false } as const;
  bus.subscribe('agent.voice.session.started', (s) => remember(roomOfSession, s.session_id, s.room_name), observe);
  bus.subscribe('agent.tts.request', (t) => remember(roomOfSession, t.session_id, t.target_room), observe);
  bus.subscribe('agent.brain.request', (request) => {
    const room = roomOfSession.get(request.session_id) ?? request.session_id;
    remember(roomOfRequest, request.request_id, room);
    broadcast({ type: 'user', room, text: request.user_input, ...(request.turn_index === undefined ? {} : { turn: request.turn_index }) });
  }, observe);
  bus.subscribe('agent.brain.partial', (p) => {
    const room = roomOfRequest.get(p.request_id);
    if (room) broadcast({ type: 'agent_partial', room, text: p.text, sequence: p.sequence, request_id: p.request_id });
  }, observe);
  bus.subscribe('agent.brain.response', (r) => {
    const room = roomOfRequest.get(r.request_id) ?? roomOfSession.get(r.session_id);
    if (room) broadcast({ type: 'agent', room, text: r.agent_response, request_id: r.request_id });
  }, observe);
  bus.subscribe('agent.brain.error', (e) => {
    const room = roomOfRequest.get(e.request_id);
    if (room) broadcast({ type: 'agent_error', room, text: e.fallback_response, error_type: e.error_type });
  }, observe);
  bus.subscribe('system.health.heartbeat', (beat) => {
    broadcast({ type: 'service', service: beat.service, instance_id: beat.instance_id ?? beat.service, status: beat.status, active_sessions: beat.metrics.active_sessions });
  }, observe);
  bus.subscribe('*.*.error', (payload, meta) => {
    const p = payload as { error_type?: string; error_message?: string };
    broadcast({ type: 'error', subject: meta.subject, text: `${p.error_type ?? ''} ${p.error_message ?? ''}`.trim() });
  }, observe);
  await bus.flush();

  const send = (res: ServerResponse, status: number, type: string, body: string | Buffer) => {
    res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
    res.end(body);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://playground');
    if (req.method !== 'GET') return send(res, 405, 'text/plain', 'method not allowed');
    switch (url.pathname) {
      case '/':
        return send(res, 200, 'text/html; charset=utf-8', readFileSync(PAGE));
      case '/livekit-client.js':
        return send(res, 200, 'text/javascript', readFileSync(LIVEKIT_CLIENT));
      case '/token': {
        const room = url.searchParams.get('room') ?? '';
        if (!ROOM_NAME.test(room)) return send(res, 400, 'application/json', JSON.stringify({ error: 'room: 1-64 of A-Z a-z 0-9 _ -' }));
        const identity = `web-${Math.random().toString(36).slice(2, 8)}`;
        const token = new AccessToken(options.apiKey, options.apiSecret, { identity, ttl: '1h' });
        token.addGrant({ roomJoin: true, room, canPublish: true, canSubscribe: true });
        return send(res, 200, 'application/json', JSON.stringify({ token: await token.toJwt(), url: options.livekitUrl, identity }));
      }
      case '/events': {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
        res.write(': connected\n\n');
        const client = { room: url.searchParams.get('room') ?? undefined, res };
        clients.add(client);
        req.on('close', () => clients.delete(client));
        return;
      }
      default:
        return send(res, 404, 'text/plain', 'not found');
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: Error) => send(res, 500, 'text/plain', error.message));
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, resolve);
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  return {
    url: `http://${host}:${port}/`,
    async close() {
      for (const client of clients) client.res.end();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await bus.close(1_000);
    },
  };
}
