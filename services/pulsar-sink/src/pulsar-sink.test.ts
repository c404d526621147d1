/**
 * The Pulsar sink against a real Apache Pulsar standalone (assembled from Maven Central by
 * scripts/install-pulsar.sh) and a real nats-server with JetStream: every audited event reaches the
 * Pulsar topic of its subject, whole and in order, keyed by its session; a sink that was stopped
 * catches up from where it left off, without duplicates.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectBus, type Bus } from '@arc/bus';
import { ExamplePayloads, isoTimestamp, type Heartbeat, type KnownSubject, type ServiceError } from '@arc/contracts';
import { startNatsServer, startPulsar, startWorkerProcess, waitFor, type ManagedProcess, type NatsServerHandle, type PulsarHandle } from '@arc/testkit';
import { readTopic } from './pulsar-websocket.js';

const TOPIC_PREFIX = 'persistent://public/default/';
let nats: NatsServerHandle;
let pulsar: PulsarHandle;
let bus: Bus;
let sink: ManagedProcess | undefined;

const startSink = async (pulsarUrl = pulsar.wsUrl) => {
  sink = startWorkerProcess('pulsar-sink', { nats }, { PULSAR_WS_URL: pulsarUrl, HEARTBEAT_INTERVAL_MS: '500' });
  await sink.waitForOutput(/Pulsar sink ready/, 30_000);
};

/** A loopback TCP relay in front of Pulsar's web port that can be cut (every connection dropped, new ones refused) and restored. */
async function startRelay(target: URL): Promise<{ url: string; cut(): Promise<void>; restore(): Promise<void>; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let server: Server;
  let port = 0;
  const listen = () =>
    new Promise<void>((resolve) => {
      server = createServer((client) => {
        const upstream = connect(Number(target.port), target.hostname);
        for (const socket of [client, upstream]) {
          sockets.add(socket);
          socket.on('close', () => sockets.delete(socket));
          socket.on('error', () => {});
        }
        client.pipe(upstream).pipe(client);
      });
      server.listen(port, '127.0.0.1', () => {
        port = (server.address() as { port: number }).port;
        resolve();
      });
    });
  const cut = async () => {
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const socket of sockets) socket.destroy();
    });
  };
  await listen();
  return { url: `ws://127.0.0.1:${port}`, cut, restore: listen, close: cut };
}

before(async () => {
  nats = await startNatsServer({ jetstream: true });
  pulsar = await startPulsar();
  bus = await connectBus({ servers: nats.url, service: 'arc-pulsar-sink-test' });
});

after(async () => {
  await sink?.stop(10_000);
  await bus?.close(1_000);
  await pulsar?.stop();
  await nats?.stop();
});

/** One turn of a conversation, as the workers publish it. */
const TURN: KnownSubject[] = ['agent.voice.track.published', 'agent.brain.request', 'agent.brain.partial', 'agent.brain.response', 'agent.tts.request', 'agent.tts.completed'];

test('audited events reach the Pulsar topic of their subject, whole, in order, keyed by session; a restarted sink catches up without duplicates', { timeout: 300_000 }, async () => {
  await startSink();
  const sent = new Map<string, string[]>();
  const publish = (subject: KnownSubject, overrides: Record<string, unknown> = {}) => {
    const payload = { ...(ExamplePayloads[subject] as Record<string, unknown>), timestamp: isoTimestamp(), ...overrides };
    bus.publish(subject, payload as never);
    sent.set(subject, [...(sent.get(subject) ?? []), JSON.stringify(payload)]);
  };
  for (const subject of TURN) publish(subject);
  await bus.flush();

  const readAll = async (subject: string, count: number) => {
    let messages: Awaited<ReturnType<typeof readTopic>> = [];
    await waitFor(async () => (messages = await readTopic(pulsar.wsUrl, `${TOPIC_PREFIX}${subject}`, { count, idleMs: 500 })).length >= count, 60_000, `${count} on ${subject}`, 500);
    return messages;
  };
  for (const subject of TURN) {
    const [message, ...more] = await readAll(subject, 1);
    assert.equal(more.length, 0, `${subject}: one message`);
    assert.deepEqual(JSON.parse(message!.payload.toString()), JSON.parse(sent.get(subject)![0]!), `${subject}: the payload, whole`);
    assert.equal(message!.properties.nats_subject, subject);
    assert.match(message!.properties.audit_seq ?? '', /^\d+$/);
    const payload = JSON.parse(message!.payload.toString()) as { session_id?: string; trace_id?: string };
    if (payload.session_id ?? payload.trace_id) assert.equal(message!.key, payload.session_id ?? payload.trace_id, `${subject}: keyed by its session (or turn)`);
  }

  // Stopped, it misses nothing: what is published meanwhile waits in ARC_AUDIT.
  await sink!.stop(10_000);
  for (let i = 0; i < 5; i++) publish('agent.brain.request', { request_id: `req-while-stopped-${i}` });
  await bus.flush();
  await startSink();
  const requests = await readAll('agent.brain.request', 6);
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  const again = await readTopic(pulsar.wsUrl, `${TOPIC_PREFIX}agent.brain.request`, { idleMs: 1_000 });
  assert.equal(again.length, 6, `no duplicates: ${again.length} messages`);
  assert.deepEqual(
    requests.map((m) => (JSON.parse(m.payload.toString()) as { request_id: string }).request_id),
    sent.get('agent.brain.request')!.map((text) => (JSON.parse(text) as { request_id: string }).request_id),
    'in the order they were published',
  );
  const seqs = requests.map((m) => Number(m.properties.audit_seq));
  assert.deepEqual([...seqs].sort((a, b) => a - b), seqs, 'in audit order');
});

test('while Pulsar is unreachable the sink says so (degraded, pulsar_unavailable) and loses nothing: the events reach Pulsar once it is back', { timeout: 300_000 }, async () => {
  await sink?.stop(10_000);
  const relay = await startRelay(new URL(pulsar.wsUrl));
  const beats: Heartbeat[] = [];
  const errors: ServiceError[] = [];
  const heartbeats = bus.subscribe('system.health.heartbeat', (beat) => void (beat.service === 'arc-pulsar-sink' && beats.push(beat)));
  const reported = bus.subscribe('system.service.error', (error) => void (error.service === 'arc-pulsar-sink' && errors.push(error)));
  try {
    await startSink(relay.url);
    await relay.cut();
    const ids = ['cancel-during-outage-0', 'cancel-during-outage-1', 'cancel-during-outage-2'];
    for (const request_id of ids) bus.publish('agent.brain.cancel', { ...ExamplePayloads['agent.brain.cancel'], timestamp: isoTimestamp(), request_id });
    await bus.flush();
    await waitFor(() => errors.some((e) => e.error_type === 'pulsar_unavailable'), 30_000, 'system.service.error pulsar_unavailable');
    await waitFor(() => beats.at(-1)?.status === 'degraded', 30_000, 'a degraded heartbeat');
    const during = beats.at(-1)!;
    assert.ok((during.metrics.sink?.failed ?? 0) > 0, 'failed sends are counted');

    await relay.restore();
    let messages: Awaited<ReturnType<typeof readTopic>> = [];
    await waitFor(async () => (messages = await readTopic(pulsar.wsUrl, `${TOPIC_PREFIX}agent.brain.cancel`, { count: 3, idleMs: 500 })).length >= 3, 60_000, 'the 3 events in Pulsar', 500);
    assert.deepEqual(messages.map((m) => (JSON.parse(m.payload.toString()) as { request_id: string }).request_id).sort(), ids);
    await waitFor(() => beats.at(-1)?.status === 'healthy' && (beats.at(-1)!.metrics.sink?.forwarded ?? 0) >= 3, 30_000, 'a healthy heartbeat that counts them');
  } finally {
    await heartbeats.unsubscribe();
    await reported.unsubscribe();
    await relay.close();
  }
});
