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
  bus = await connectBus({ servers: nats.url, service: 'arc-dispatch-test' });
  workers.push(startWorkerProcess('brain', { nats }, { OPENAI_BASE_URL: model.url }), startWorkerProcess('tts', { nats, livekit }));
  VOICES.forEach((id, i) => workers.push(startWorkerProcess('voice', { nats, livekit }, { INSTANCE_ID: id, VOICE_HTTP_PORT: String(ports[i]), VOICE_MIN_SPEECH_MS: '120' })));
  await Promise.all([workers[0]!.waitForOutput(/brain ready/, 60_000), workers[1]!.waitForOutput(/TTS worker ready/, 60_000), ...workers.slice(2).map((w) => w.waitForOutput(/voice worker ready/, 90_000))]);
});

after(async () => {
  await Promise.all(workers.map((w) => w.stop(10_000)));
  await Promise.all([started, ended, requests].map((c) => c?.close()));
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
