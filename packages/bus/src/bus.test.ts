import { after, afterEach, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { ExamplePayloads, isoTimestamp, ownerSubject, workerSubject as targeted, type BrainRequest, type BrainResponse } from '@arc/contracts';
import { collect, startNatsServer, waitFor, type NatsServerHandle } from '@arc/testkit';
import {
  BadSubjectError,
  BusError,
  connectBus,
  InvalidPayloadError,
  NoRespondersError,
  NoWorkerError,
  PayloadTooLargeError,
  StickyRouter,
  type Bus,
  type MessageMeta,
} from './index.js';

let nats: NatsServerHandle;
const buses: Bus[] = [];
async function bus(service = 'arc-test'): Promise<Bus> {
  const b = await connectBus({ servers: nats.url, service });
  buses.push(b);
  return b;
}

before(async () => {
  nats = await startNatsServer();
});
// Each test starts with no subscribers left over from the previous one.
afterEach(async () => {
  await Promise.all(buses.splice(0).map((b) => b.close(1000)));
});
after(async () => {
  await nats.stop();
});

const request = (): Omit<BrainRequest, 'timestamp' | 'trace_id'> => {
  const { timestamp: _t, trace_id: _id, ...rest } = ExamplePayloads['agent.brain.request'];
  return rest;
};

test('publish fills timestamp and trace_id; subscriber gets the typed payload with hop latency', async () => {
  const [a, b] = [await bus(), await bus()];
  const received: { payload: BrainRequest; hop: number }[] = [];
  b.subscribe('agent.brain.request', (payload, meta) => {
    received.push({ payload, hop: meta.hopLatencyMs });
  });
  await b.flush();
  const { payload, sent } = a.publish('agent.brain.request', request());
  assert.equal(sent, true);
  assert.match(payload.trace_id, /^[0-9a-f]{32}$/);
  await waitFor(() => received.length === 1, 5000, 'delivery');
  assert.equal(received[0]!.payload.user_input, "What's the weather like today?");
  assert.equal(received[0]!.payload.trace_id, payload.trace_id);
  assert.equal(received[0]!.payload.timestamp, payload.timestamp);
  assert.ok(received[0]!.hop >= -5 && received[0]!.hop < 1000);
  const metrics = b.snapshot();
  assert.equal(metrics.handled, 1);
  assert.equal(metrics.hop_samples, 1);
  assert.equal(metrics.subjects['agent.brain.request']?.received, 1);
});

test("targeted replies: an answering event published with its owner reaches the seed subject and the owner's subject only", async () => {
  const [brain, voice1, voice2, monitor] = [await bus(), await bus(), await bus(), await bus()];
  const got = { voice1: [] as BrainResponse[], voice2: [] as BrainResponse[], monitor: [] as BrainResponse[] };
  voice1.subscribe(ownerSubject('agent.brain.response', 'voice-1'), (r) => void got.voice1.push(r));
  voice2.subscribe(ownerSubject('agent.brain.response', 'voice-2'), (r) => void got.voice2.push(r));
  monitor.subscribe('agent.brain.response', (r) => void got.monitor.push(r));
  await Promise.all([voice1.flush(), voice2.flush(), monitor.flush()]);
  const { timestamp: _t, trace_id: _id, ...answer } = ExamplePayloads['agent.brain.response'];
  brain.publish('agent.brain.response', { ...answer, request_id: 'owned' }, { owner: 'voice-1' });
  brain.publish('agent.brain.response', { ...answer, request_id: 'unowned' });
  await waitFor(() => got.monitor.length === 2 && got.voice1.length === 1, 5000, 'delivery');
  await sleep(100);
  assert.deepEqual(got.voice1.map((r) => r.request_id), ['owned']);
  assert.equal(got.voice2.length, 0, "another voice worker's events never reach it");
  assert.deepEqual(got.monitor.map((r) => r.request_id), ['owned', 'unowned']);
  assert.equal(voice1.snapshot().subjects['agent.brain.to.voice-1.response']?.handled, 1);
  assert.throws(() => brain.publish('agent.brain.request', request(), { owner: 'voice-1' }), /no owner subject/);
  assert.throws(() => brain.publish('agent.brain.response', answer, { owner: 'voice.1' }), /instance id/);
});

test('publishing an invalid payload throws a typed error naming the field; nothing is sent', async () => {
  const a = await bus();
  assert.throws(
    () => a.publish('agent.brain.request', { ...request(), constraints: { max_tokens: -1 } }),
    (error: unknown) => error instanceof InvalidPayloadError && error instanceof BusError && /constraints\.max_tokens/.test(error.message),
  );
  assert.throws(() => a.publishRaw('agent..request', '{}'), (error: unknown) => error instanceof BadSubjectError && error instanceof BusError);
  assert.equal(a.snapshot().published, 0);
});

test('invalid messages are dead-lettered with reason and original bytes, never handed over', async () => {
  const [a, b] = [await bus(), await bus('arc-receiver')];
  const dlq = await collect(nats.url, 'dlq.>');
  let handled = 0;
  b.subscribe('agent.brain.request', () => {
    handled++;
  });
  await b.flush();
  a.publishRaw('agent.brain.request', '{not json');
  a.publishRaw('agent.brain.request', JSON.stringify({ ...ExamplePayloads['agent.brain.request'], user_input: undefined, timestamp: isoTimestamp() }));
  await dlq.waitForCount(2);
  assert.equal(handled, 0);
  const [notJson, missing] = dlq.messages;
  assert.equal(notJson!.subject, 'dlq.agent.brain.request.invalid_payload');
  assert.match(notJson!.payload.reason, /not JSON/);
  assert.equal(Buffer.from(notJson!.payload.original_payload_base64, 'base64').toString(), '{not json');
  assert.equal(notJson!.payload.service, 'arc-receiver');
  assert.match(missing!.payload.reason, /user_input: is required/);
  assert.equal(missing!.payload.trace_id, ExamplePayloads['agent.brain.request'].trace_id);
  assert.equal(b.snapshot().invalid, 2);
  assert.equal(b.snapshot().dead_lettered, 2);
  await dlq.close();
});

test("a tenant's bus sends and subscribes under t.<tenant>. (wildcards too), hands over subjects without it, and dead-letters inside its namespace", async () => {
  const acme = await connectBus({ servers: nats.url, service: 'arc-acme', tenant: 'acme' });
  const other = await bus('arc-untenanted');
  buses.push(acme);
  const onWire = await collect(nats.url, '>');
  const seen: string[] = [];
  acme.subscribe('agent.>', (_payload, meta) => void seen.push(meta.subject));
  let untenanted = 0;
  other.subscribe('agent.>', () => void untenanted++);
  await acme.flush();
  await other.flush();
  acme.publish('agent.brain.request', request());
  acme.publishRaw('agent.brain.request', '{not json');
  await waitFor(() => onWire.messages.some((m) => m.subject.startsWith('t.acme.dlq.')), 5_000, 'the dead letter');
  await acme.flush();
  assert.deepEqual(seen, ['agent.brain.request'], 'the handler sees the subject without the prefix; the bad message never reaches it');
  const subjects = onWire.messages.map((m) => m.subject);
  assert.ok(subjects.includes('t.acme.agent.brain.request'), subjects.join(', '));
  assert.ok(subjects.includes('t.acme.dlq.agent.brain.request.invalid_payload'), subjects.join(', '));
  const letter = onWire.messages.find((m) => m.subject.startsWith('t.acme.dlq.'))!.payload;
  assert.equal(letter.original_subject, 'agent.brain.request');
  assert.equal(untenanted, 0, 'a client outside the tenant hears none of it');
  await assert.rejects(connectBus({ servers: nats.url, service: 'x', tenant: 'Not.A.Tenant' }), /invalid tenant id/);
  await onWire.close();
});

test('stale messages are dropped, counted and dead-lettered; the TTL is configurable', async () => {
  const a = await bus();
  const b = await connectBus({ servers: nats.url, service: 'arc-ttl', ttlMs: 500 });
  buses.push(b);
  const dlq = await collect(nats.url, 'dlq.agent.brain.request.stale');
  let handled = 0;
  b.subscribe('agent.brain.request', () => {
    handled++;
  });
  await b.flush();
  a.publish('agent.brain.request', { ...request(), timestamp: isoTimestamp(Date.now() - 2_000) });
  a.publish('agent.brain.request', { ...request(), timestamp: isoTimestamp(Date.now() - 100) });
  await dlq.waitForCount(1);
  await waitFor(() => handled === 1, 5000, 'fresh message');
  assert.equal(b.snapshot().stale, 1);
  assert.match(dlq.messages[0]!.payload.reason, /over the 500 ms TTL/);
  await dlq.close();
});

test('a throwing handler → dlq.<subject>.handler_error and system.service.error; the worker goes on', async () => {
  const [a, b] = [await bus(), await bus('arc-thrower')];
  const dlq = await collect(nats.url, 'dlq.agent.tts.request.handler_error');
  const errors = await collect(nats.url, 'system.service.error');
  let calls = 0;
  b.subscribe('agent.tts.request', async (payload) => {
    calls++;
    if (payload.text === 'boom') throw new Error('synthesis exploded');
  });
  await b.flush();
  const { timestamp: _t, trace_id: _id, ...tts } = ExamplePayloads['agent.tts.request'];
  a.publish('agent.tts.request', { ...tts, text: 'boom' });
  a.publish('agent.tts.request', { ...tts, text: 'fine' });
  await dlq.waitForCount(1);
  await errors.waitForCount(1);
  await waitFor(() => calls === 2, 5000, 'second message');
  assert.match(errors.messages[0]!.payload.error_message, /synthesis exploded/);
  assert.equal(errors.messages[0]!.payload.service, 'arc-thrower');
  assert.equal(b.snapshot().handler_errors, 1);
  await Promise.all([dlq.close(), errors.close()]);
});

test('queue groups give each message to one member', async () => {
  const [a, b1, b2] = [await bus(), await bus(), await bus()];
  const seen: string[] = [];
  for (const member of [b1, b2]) {
    member.subscribe('agent.brain.request', (p) => void seen.push(p.request_id), { queue: 'arc-brain' });
    await member.flush();
  }
  for (let i = 0; i < 50; i++) a.publish('agent.brain.request', { ...request(), request_id: `req-${i}` });
  await waitFor(() => seen.length === 50, 5000, '50 deliveries');
  await sleep(100);
  assert.equal(seen.length, 50);
  assert.equal(new Set(seen).size, 50);
  assert.ok(b1.snapshot().handled > 0 && b2.snapshot().handled > 0, 'both members served');
});

test('wildcard subscriptions validate each concrete subject; unknown subjects are dead-lettered', async () => {
  const [a, b] = [await bus(), await bus()];
  const dlq = await collect(nats.url, 'dlq.agent.unknown.thing.unknown_subject');
  const subjects: string[] = [];
  b.subscribe('agent.>', (_payload, meta) => void subjects.push(meta.subject));
  await b.flush();
  const { timestamp: _t, trace_id: _id, ...cancel } = ExamplePayloads['agent.tts.cancel'];
  a.publish('agent.tts.cancel', cancel);
  a.publishRaw('agent.unknown.thing', '{}');
  await dlq.waitForCount(1);
  await waitFor(() => subjects.length === 1, 5000, 'cancel');
  assert.deepEqual(subjects, ['agent.tts.cancel']);
  await dlq.close();
});

test('payloads over max_payload are refused with a clear error', async () => {
  const small = await startNatsServer({ maxPayload: 4096 });
  const a = await connectBus({ servers: small.url, service: 'arc-big' });
  assert.equal(a.maxPayloadBytes, 4096);
  assert.throws(
    () => a.publish('agent.brain.request', { ...request(), user_input: 'x'.repeat(5000) }),
    (error: unknown) => error instanceof PayloadTooLargeError && /over the server's max_payload of 4096 bytes/.test(error.message),
  );
  await a.close(1000);
  await small.stop();
});

test('publishes while disconnected are counted as dropped; the bus reconnects by itself', async () => {
  const own = await startNatsServer();
  const a = await connectBus({ servers: own.url, service: 'arc-flaky' });
  await own.stop();
  await waitFor(() => !a.isConnected, 10_000, 'disconnect noticed');
  const outcome = a.publish('agent.brain.request', request());
  assert.equal(outcome.sent, false);
  assert.equal(a.snapshot().dropped, 1);
  await own.restart();
  await waitFor(() => a.isConnected, 15_000, 'reconnect');
  assert.equal(a.publish('agent.brain.request', request()).sent, true);
  await a.close(1000);
  await own.stop();
});

test('close drains: a handler already running finishes before close resolves', async () => {
  const [a, b] = [await bus(), await connectBus({ servers: nats.url, service: 'arc-drain' })];
  let finished = false;
  let started = false;
  b.subscribe('agent.brain.request', async () => {
    started = true;
    await sleep(200);
    finished = true;
  });
  await b.flush();
  a.publish('agent.brain.request', request());
  await waitFor(() => started, 5000, 'handler start');
  await b.close(2000);
  assert.equal(finished, true);
});

test('request/reply: the TTS affinity handshake, worker subjects and no-responder errors', async () => {
  const [voice, tts] = [await bus('arc-voice-test'), await bus('arc-tts-test')];
  const workerSubject = targeted('agent.tts.request', tts.instanceId);
  assert.equal(workerSubject, `agent.tts.worker.${tts.instanceId}.request`);
  const texts: string[] = [];
  const accept = (payload: { request_id: string; target_room: string; text: string }, meta: MessageMeta) => {
    texts.push(payload.text);
    meta.respond?.({ request_id: payload.request_id, instance_id: tts.instanceId, target_room: payload.target_room, worker_subject: workerSubject });
  };
  tts.subscribe('agent.tts.request', accept, { queue: 'arc-tts' });
  tts.subscribe(workerSubject, accept);
  await tts.flush();
  const { timestamp: _t, trace_id: _id, ...speak } = ExamplePayloads['agent.tts.request'];
  const first = await voice.request('agent.tts.request', { ...speak, text: 'first' }, { timeoutMs: 2000 });
  assert.equal(first.reply.worker_subject, workerSubject);
  assert.equal(first.reply.trace_id, first.payload.trace_id, 'the reply carries the trace');
  voice.publish(first.reply.worker_subject as typeof workerSubject, { ...speak, text: 'second' });
  await waitFor(() => texts.length === 2, 5000, 'targeted request');
  assert.deepEqual(texts, ['first', 'second']);

  await assert.rejects(voice.request(targeted('agent.tts.request', 'gone-worker'), { ...speak }, { timeoutMs: 2000 }), NoRespondersError);
  assert.throws(() => targeted('agent.tts.request', 'bad.id'), /invalid subject/);
});

test('sticky router: first message to the queue group, later ones to the worker that took it, in order; a gone worker hands over', async () => {
  const sender = await bus('arc-sender');
  const workers = await Promise.all(['w1', 'w2'].map((id) => connectBus({ servers: nats.url, service: 'arc-worker', instanceId: id })));
  buses.push(...workers);
  const heard: { worker: string; room: string; text: string }[] = [];
  for (const worker of workers) {
    const own = targeted('agent.tts.request', worker.instanceId);
    const take = async (payload: { request_id: string; target_room: string; text: string }, meta: MessageMeta) => {
      heard.push({ worker: worker.instanceId, room: payload.target_room, text: payload.text });
      await sleep(Math.random() * 5); // replies take their time; the order is the router's job
      meta.respond?.({ request_id: payload.request_id, instance_id: worker.instanceId, target_room: payload.target_room, worker_subject: own });
    };
    worker.subscribe('agent.tts.request', take, { queue: 'arc-tts' });
    worker.subscribe(own, take);
    await worker.flush();
  }
  const router = new StickyRouter(sender, { subject: 'agent.tts.request', keyOf: (r) => r.target_room, ackTimeoutMs: 1000 });
  const { timestamp: _t, trace_id: _id, ...speak } = ExamplePayloads['agent.tts.request'];
  const say = (room: string, text: string) => router.send({ ...speak, request_id: `${room}-${text}`, target_room: room, text });
  await Promise.all(['1', '2', '3', '4', '5'].map((n) => say('room-a', n)));
  const inA = heard.filter((h) => h.room === 'room-a');
  assert.deepEqual(inA.map((h) => h.text), ['1', '2', '3', '4', '5'], 'in order');
  assert.equal(new Set(inA.map((h) => h.worker)).size, 1, 'one worker serves the room');
  const holder = router.workerFor('room-a')!;
  assert.match(holder, /^agent\.tts\.worker\.w[12]\.request$/);

  // The holder goes away: the next message goes back to the queue group and the other worker takes it.
  const gone = workers.find((w) => holder.includes(`.${w.instanceId}.`))!;
  await gone.close(1000);
  const handedOver = await say('room-a', '6');
  assert.notEqual(handedOver.worker_subject, holder);
  assert.equal(router.workerFor('room-a'), handedOver.worker_subject);

  const survivor = workers.find((w) => w !== gone)!;
  await survivor.close(1000);
  await assert.rejects(say('room-a', '7'), (error: unknown) => error instanceof NoWorkerError && error.key === 'room-a' && error instanceof BusError);
  router.release('room-a');
  assert.equal(router.workerFor('room-a'), undefined);
});
