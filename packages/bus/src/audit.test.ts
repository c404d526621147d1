import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ExamplePayloads, workerSubject } from '@arc/contracts';
import { startNatsServer, waitFor, type NatsServerHandle } from '@arc/testkit';
import { AuditUnavailableError, NoRespondersError, conversationFilter, connectBus, ensureAuditStream, readAudit, type AuditEvent, type Bus } from './index.js';

let nats: NatsServerHandle;
let plain: NatsServerHandle;
let voice: Bus;
let tts: Bus;
before(async () => {
  [nats, plain] = await Promise.all([startNatsServer({ jetstream: true }), startNatsServer()]);
  voice = await connectBus({ servers: nats.url, service: 'arc-voice-test' });
  tts = await connectBus({ servers: nats.url, service: 'arc-tts-test' });
});
after(async () => {
  await Promise.all([voice.close(1000), tts.close(1000)]);
  await Promise.all([nats.stop(), plain.stop()]);
});

const strip = <T extends { timestamp: string; trace_id?: string }>(payload: T): Omit<T, 'timestamp' | 'trace_id'> => {
  const { timestamp: _t, trace_id: _id, ...rest } = payload;
  return rest;
};

async function readAll(bus: Bus): Promise<AuditEvent[]> {
  const events: AuditEvent[] = [];
  for await (const event of readAudit(bus.natsConnection)) events.push(event);
  return events;
}

test('the audit stream is created once, kept by every worker, and its limits follow the configuration', async () => {
  const limits = { maxAgeMs: 3_600_000, maxBytes: 64 * 1024 * 1024 };
  const states = await Promise.all([ensureAuditStream(voice.natsConnection, limits), ensureAuditStream(tts.natsConnection, limits)]);
  // Both workers may add at once: JetStream takes an identical add as a no-op.
  for (const state of states) assert.ok(state === 'created' || state === 'present', state);
  assert.equal(await ensureAuditStream(voice.natsConnection, limits), 'present');
  assert.equal(await ensureAuditStream(voice.natsConnection, { ...limits, maxAgeMs: 7_200_000 }), 'updated');
  const other = await connectBus({ servers: plain.url, service: 'arc-no-jetstream' });
  await assert.rejects(ensureAuditStream(other.natsConnection), AuditUnavailableError);
  await other.close(1000);
});

test('with the audit on, requests still get their worker reply and a gone worker is still refused at once', async () => {
  await ensureAuditStream(voice.natsConnection);
  const subject = workerSubject('agent.tts.request', tts.instanceId);
  tts.subscribe('agent.tts.request', (payload: { request_id: string; target_room: string }, meta) =>
    meta.respond?.({ request_id: payload.request_id, instance_id: tts.instanceId, target_room: payload.target_room, worker_subject: subject }),
  );
  await tts.flush();
  const { reply } = await voice.request('agent.tts.request', strip(ExamplePayloads['agent.tts.request']), { timeoutMs: 2000 });
  assert.equal(reply.worker_subject, subject, 'the stream must not answer in the worker’s place');
  const startedAt = Date.now();
  await assert.rejects(voice.request(workerSubject('agent.tts.request', 'gone-worker'), strip(ExamplePayloads['agent.tts.request']), { timeoutMs: 3000 }), NoRespondersError);
  assert.ok(Date.now() - startedAt < 1000, `refused after ${Date.now() - startedAt} ms: the stream's interest hid the missing worker`);
});

test('a conversation’s events are read back in order, its turns found by session and by trace', async () => {
  await ensureAuditStream(voice.natsConnection);
  const sessionTraces: string[] = [];
  for (const [session, text] of [['s-audit', 'first question'], ['s-other', 'unrelated'], ['s-audit', 'second question']] as const) {
    const { payload } = voice.publish('agent.brain.request', { ...strip(ExamplePayloads['agent.brain.request']), session_id: session, request_id: `${session}-${text}`, user_input: text });
    if (session === 's-audit') sessionTraces.push(payload.trace_id);
    // The TTS events of a turn name no session: they are found through the turn's trace.
    voice.publish('agent.tts.request', { ...strip(ExamplePayloads['agent.tts.request']), trace_id: payload.trace_id, text: `answer to ${text}` });
    voice.publish('agent.tts.completed', { ...strip(ExamplePayloads['agent.tts.completed']), trace_id: payload.trace_id });
  }
  await voice.flush();
  let events: AuditEvent[] = [];
  await waitFor(async () => (events = await readAll(voice)).filter((e) => e.subject === 'agent.tts.completed').length >= 3, 5000, 'events stored');
  for (let i = 1; i < events.length; i++) assert.ok(events[i]!.seq > events[i - 1]!.seq, 'in stream order');
  assert.ok(events.some((e) => e.subject === 'agent.tts.request'), 'request subjects are kept through their copy, under their own subject');

  const conversation = events.filter(conversationFilter({ sessionId: 's-audit' }));
  assert.deepEqual(
    conversation.map((e) => [e.subject, (e.payload as { user_input?: string; text?: string }).user_input ?? (e.payload as { text?: string }).text ?? '']),
    [
      ['agent.brain.request', 'first question'],
      ['agent.tts.request', 'answer to first question'],
      ['agent.tts.completed', ''],
      ['agent.brain.request', 'second question'],
      ['agent.tts.request', 'answer to second question'],
      ['agent.tts.completed', ''],
    ],
  );
  const oneTurn = events.filter(conversationFilter({ traceId: sessionTraces[1] }));
  assert.deepEqual(oneTurn.map((e) => e.subject), ['agent.brain.request', 'agent.tts.request', 'agent.tts.completed']);
});
