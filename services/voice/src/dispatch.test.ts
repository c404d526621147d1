/**
 * Sessions dispatched over the bus (seed 002's workflow) with three voice workers, each given
 * every webhook by LiveKit (three receiver URLs: each track_published arrives three times, at
 * three workers). Real nats-server, livekit-server and workers; the model is the scripted
 * OpenAI-compatible server. Each user gets one session, one listener and one answer per turn;
 * the seed's own test event starts a session, and an incomplete one is dead-lettered naming the
 * field.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { RoomServiceClient } from 'livekit-server-sdk';
import { dispose } from '@livekit/rtc-node';
import { connectBus, type Bus } from '@arc/bus';
import { Conversation } from '@arc/cli';
import { ExamplePayloads, isoTimestamp } from '@arc/contracts';
import { espeakSpeech, float32ToInt16 } from '@arc/speech';
import { collect, freePort, startLiveKitServer, startNatsServer, startScriptedOpenAIServer, startWorkerProcess, waitFor } from '@arc/testkit';
import type { Collector, LiveKitServerHandle, ManagedProcess, NatsServerHandle, ScriptedOpenAIServer } from '@arc/testkit';

const VOICES = ['voice-a', 'voice-b', 'voice-c'];
const metricsPorts: number[] = [];
/** the answering events (targeted replies: each is also sent to its owner's subject) */
const ANSWERS = ['agent.brain.partial', 'agent.brain.response', 'agent.brain.error', 'agent.tts.completed', 'agent.tts.error'] as const;
let answers: Collector[] = [];
let nats: NatsServerHandle;
let livekit: LiveKitServerHandle;
let model: ScriptedOpenAIServer;
let bus: Bus;
let started: Collector;
let ended: Collector;
let requests: Collector;
const workers: ManagedProcess[] = [];

before(async () => {
  nats = await startNatsServer();
  const ports = [await freePort(), await freePort(), await freePort()];
  livekit = await startLiveKitServer({ webhookUrls: ports.map((port) => `http://127.0.0.1:${port}/livekit/webhook`) });
  model = await startScriptedOpenAIServer();
  started = await collect(nats.url, 'agent.voice.session.started');
  ended = await collect(nats.url, 'agent.voice.session.ended');
  requests = await collect(nats.url, 'agent.brain.request');
  answers = await Promise.all(ANSWERS.map((subject) => collect(nats.url, subject)));
  for (let i = 0; i < VOICES.length; i++) metricsPorts.push(await freePort());
  bus = await connectBus({ servers: nats.url, service: 'arc-dispatch-test' });
  workers.push(startWorkerProcess('brain', { nats }, { OPENAI_BASE_URL: model.url }), startWorkerProcess('tts', { nats, livekit }));
  VOICES.forEach((id, i) => workers.push(startWorkerProcess('voice', { nats, livekit }, { INSTANCE_ID: id, VOICE_HTTP_PORT: String(ports[i]), METRICS_PORT: String(metricsPorts[i]), VOICE_MIN_SPEECH_MS: '120' })));
  await Promise.all([workers[0]!.waitForOutput(/brain ready/, 60_000), workers[1]!.waitForOutput(/TTS worker ready/, 60_000), ...workers.slice(2).map((w) => w.waitForOutput(/voice worker ready/, 90_000))]);
});

after(async () => {
  await Promise.all(workers.map((w) => w.stop(10_000)));
  await Promise.all([started, ended, requests, ...answers].map((c) => c?.close()));
  await bus?.close(1_000);
  await dispose();
  await model?.close();
  await livekit?.stop();
  await nats?.stop();
});

test('a webhook that reaches three voice workers starts one session: one listener in the room, one brain request and one answer per turn', { timeout: 120_000 }, async () => {
  const user = await Conversation.join({ livekitUrl: livekit.url, apiKey: livekit.apiKey, apiSecret: livekit.apiSecret, room: 'thrice', identity: 'thrice-user', answerTimeoutMs: 15_000 });
  try {
    const result = await user.ask(float32ToInt16(espeakSpeech('Please tell me a short story.')));
    assert.ok(result.answer.length > 0, 'the agent answered');
    const rooms = new RoomServiceClient(livekit.url.replace(/^ws/, 'http'), livekit.apiKey, livekit.apiSecret);
    const listeners = async () => (await rooms.listParticipants('thrice')).filter((p) => p.identity.startsWith('arc-listener-')).map((p) => p.identity);
    await waitFor(async () => (await listeners()).length === 1, 10_000, 'one listener left in the room').catch(async (e) => {
      // What each side saw, for the failure report.
      console.log('listeners in the room', await listeners());
      console.log('sessions started', JSON.stringify(started.messages.map((m) => m.payload)));
      console.log('sessions ended', JSON.stringify(ended.messages.map((m) => m.payload)));
      for (const w of workers.slice(2)) console.log('voice worker log', w.output().split('\n').filter((l) => /session|dispatch|listener|duplicate|track/i.test(l)).join('\n').slice(-6000));
      throw e;
    });
    const inRoom = (c: Collector) => c.messages.filter((m) => m.payload.room_name === 'thrice');
    const duplicates = inRoom(ended).filter((m) => m.payload.reason === 'duplicate_session').length;
    assert.equal(inRoom(started).length - duplicates, 1, `one session kept (${inRoom(started).length} started, ${duplicates} ended as duplicates)`);
    const kept = (await listeners())[0]!;
    const keeper = inRoom(started).map((m) => m.payload.instance_id as string).find((id) => kept.endsWith(id));
    assert.ok(keeper, `the listener ${kept} is the kept session's`);
    const turnRequests = requests.messages.filter((m) => /short story/i.test(String(m.payload.user_input)));
    assert.equal(turnRequests.length, 1, `one brain request for the turn, not ${turnRequests.length}`);
    console.log(`three webhooks for one track: ${inRoom(started).length} sessions started, ${duplicates} ended as duplicates, kept by ${keeper}`);
  } finally {
    await user.leave();
  }
});

test("the seed's test event starts a session; an incomplete one is dead-lettered naming the field", { timeout: 60_000 }, async () => {
  const event = { ...ExamplePayloads['agent.voice.track.published'], timestamp: isoTimestamp(), room_name: 'seed-room' };
  const { reply } = await bus.request('agent.voice.track.published', event, { timeoutMs: 5_000 });
  assert.ok(VOICES.includes(reply.instance_id), `taken by a voice worker (${reply.instance_id})`);
  await waitFor(() => started.messages.some((m) => m.payload.room_name === 'seed-room' && m.payload.instance_id === reply.instance_id), 5_000, 'agent.voice.session.started for the seed room');

  const dead = await collect(nats.url, 'dlq.agent.voice.track.published.>');
  try {
    const { track_sid: _missing, ...incomplete } = { ...event, room_name: 'seed-room-2' };
    bus.publishRaw('agent.voice.track.published', JSON.stringify(incomplete));
    await dead.waitForCount(1, 5_000);
    assert.match(dead.messages[0]!.subject, /^dlq\.agent\.voice\.track\.published\./);
    assert.match(String(dead.messages[0]!.payload.reason), /track_sid/);
    assert.ok(!started.messages.some((m) => m.payload.room_name === 'seed-room-2'), 'no session for it');
  } finally {
    await dead.close();
  }
});

/** Messages a voice worker received on each subject, from its Prometheus /metrics. */
async function receivedBy(port: number): Promise<Map<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const counts = new Map<string, number>();
  for (const match of text.matchAll(/^arc_bus_messages_total\{([^}]*)\} (\d+)/gm)) {
    const labels = Object.fromEntries([...match[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    if (labels.outcome === 'received') counts.set(labels.subject!, Number(match[2]));
  }
  return counts;
}

test("targeted replies: with three rooms over three voice workers, each receives its own sessions' brain and TTS events, not every room's", { timeout: 120_000 }, async () => {
  const rooms = ['share-1', 'share-2', 'share-3'];
  const users = await Promise.all(rooms.map((room) => Conversation.join({ livekitUrl: livekit.url, apiKey: livekit.apiKey, apiSecret: livekit.apiSecret, room, identity: `${room}-user`, answerTimeoutMs: 20_000 })));
  try {
    const heard = await Promise.all(users.map((user) => user.ask(float32ToInt16(espeakSpeech('What is the weather like today?')))));
    for (const result of heard) assert.ok(result.answer.length > 0, 'every room is answered');
    await new Promise((resolve) => setTimeout(resolve, 1_000)); // the last TTS completions
    const ownerOf = new Map(requests.messages.map((m) => [m.payload.request_id as string, m.payload.owner_instance as string | undefined]));
    const brainAnswers = answers.slice(0, 3).flatMap((c) => c.messages);
    const duplicates = new Set(ended.messages.filter((m) => m.payload.reason === 'duplicate_session').map((m) => m.payload.session_id as string));
    const rows = [];
    for (const [i, id] of VOICES.entries()) {
      const received = await receivedBy(metricsPorts[i]!);
      const targeted = (subject: string) => received.get(`${subject.replace(/\.([a-z]+)$/, `.to.${id}.$1`)}`) ?? 0;
      const own = brainAnswers.filter((m) => ownerOf.get(m.payload.request_id as string) === id).length;
      const gotBrain = ANSWERS.slice(0, 3).reduce((sum, subject) => sum + targeted(subject), 0);
      assert.equal(gotBrain, own, `${id} received the brain events of its own requests only`);
      for (const subject of ANSWERS) assert.equal(received.get(subject) ?? 0, 0, `${id} does not read ${subject}`);
      rows.push({
        worker: id,
        'sessions kept': started.messages.filter((m) => m.payload.instance_id === id && !duplicates.has(m.payload.session_id as string)).length,
        'received (targeted)': ANSWERS.reduce((sum, subject) => sum + targeted(subject), 0),
        'every room (as before)': answers.reduce((sum, c) => sum + c.messages.length, 0),
      });
    }
    console.log('answering events each voice worker received (brain partial/response/error, TTS completed/error), all rooms since the workers started:');
    console.table(rows);
  } finally {
    await Promise.all(users.map((user) => user.leave()));
  }
});
