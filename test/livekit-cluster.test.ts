/**
 * LiveKit on two nodes: two real livekit-server nodes sharing a real redis-server, each in its own
 * region, so a room opened through a node is placed on it. One user talks in a room on each node;
 * the voice and TTS workers, given the first node's URL, serve both (LiveKit relays their
 * signalling to the node that holds the room). Then the second node is killed (SIGKILL, as a
 * crashed host): the session of its room ends with reason `livekit_node_lost`, the room on the
 * first node goes on, and the user of the lost room, joining again through the first node, is
 * answered there. The model is the scripted OpenAI-compatible server.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { dispose } from '@livekit/rtc-node';
import { Conversation } from '@arc/cli';
import { espeakSpeech, float32ToInt16 } from '@arc/speech';
import { collect, freePort, startLiveKitCluster, startNatsServer, startScriptedOpenAIServer, startWorkerProcess, waitFor, waitUntilReady } from '@arc/testkit';
import type { Collector, LiveKitCluster, LiveKitServerHandle, ManagedProcess, NatsServerHandle, ScriptedOpenAIServer } from '@arc/testkit';

let nats: NatsServerHandle;
let livekit: LiveKitCluster;
let model: ScriptedOpenAIServer;
let started: Collector;
let ended: Collector;
const workers: ManagedProcess[] = [];

before(async () => {
  nats = await startNatsServer();
  const voicePort = await freePort();
  livekit = await startLiveKitCluster(2, { webhookUrls: [`http://127.0.0.1:${voicePort}/livekit/webhook`] });
  model = await startScriptedOpenAIServer();
  started = await collect(nats.url, 'agent.voice.session.started');
  ended = await collect(nats.url, 'agent.voice.session.ended');
  const servers = { nats, livekit: livekit.nodes[0]! };
  workers.push(
    startWorkerProcess('brain', servers, { INSTANCE_ID: 'brain-1', OPENAI_BASE_URL: model.url }),
    startWorkerProcess('tts', servers, { INSTANCE_ID: 'tts-1' }),
    startWorkerProcess('voice', servers, { INSTANCE_ID: 'voice-1', VOICE_HTTP_PORT: String(voicePort), VOICE_MIN_SPEECH_MS: '120' }),
  );
  await Promise.all([waitUntilReady('brain', workers[0]!), waitUntilReady('tts', workers[1]!), waitUntilReady('voice', workers[2]!)]);
});

after(async () => {
  await Promise.all(workers.map((w) => w.stop(10_000)));
  await Promise.all([started?.close(), ended?.close()]);
  await dispose();
  await model?.close();
  await livekit?.stop();
  await nats?.stop();
});

const join = (room: string, node: LiveKitServerHandle) =>
  Conversation.join({ livekitUrl: node.url, apiKey: node.apiKey, apiSecret: node.apiSecret, room, identity: `${room}-user`, answerTimeoutMs: 15_000 });

test('a room on each LiveKit node is answered; when a node is lost its session ends with livekit_node_lost and the other room goes on', { timeout: 180_000 }, async () => {
  const [first, second] = livekit.nodes as [LiveKitServerHandle, LiveKitServerHandle];
  const north = await join('north', first);
  let south = await join('south', second);
  try {
    const a = await north.ask(float32ToInt16(espeakSpeech('What is the weather like today?')));
    assert.ok(a.answer.length > 0, 'the room on the first node is answered');
    const b = await south.ask(float32ToInt16(espeakSpeech('What time is it in Paris?')));
    assert.ok(b.answer.length > 0, 'the room on the second node is answered');
    // Each room is held by the node it was opened through: only the first node ever had "north".
    assert.doesNotMatch(second.output(), /"room": "north"/, 'the north room is on the first node');
    assert.match(second.output(), /"room": "south"/, 'the south room is on the second node');

    const killedAt = performance.now();
    await second.kill();
    await waitFor(() => ended.messages.some((m) => m.payload.room_name === 'south'), 60_000, 'the session of the lost node ends');
    const endedAfterMs = Math.round(performance.now() - killedAt);
    const southEnd = ended.messages.find((m) => m.payload.room_name === 'south')!.payload;
    assert.equal(southEnd.reason, 'livekit_node_lost', 'the session says its LiveKit node was lost');
    assert.equal(southEnd.total_turns, 1);
    assert.ok(!ended.messages.some((m) => m.payload.room_name === 'north'), 'the room on the first node is not ended');

    const c = await north.ask(float32ToInt16(espeakSpeech('And what about tomorrow morning?')));
    assert.ok(c.answer.length > 0, 'the room on the first node goes on');

    // The user of the lost room comes back through the node that is left, and is answered there.
    await south.leave().catch(() => {});
    south = await join('south', first);
    const d = await south.ask(float32ToInt16(espeakSpeech('Are you still there?')));
    assert.ok(d.answer.length > 0, 'the user of the lost room is answered again through the other node');
    assert.ok(started.messages.filter((m) => m.payload.room_name === 'south').length >= 2, 'a new session started for the returning user');
    const southEnds = ended.messages.filter((m) => m.payload.room_name === 'south').map((m) => String(m.payload.reason));
    console.log(`LiveKit node kill: session of its room ended after ${endedAfterMs} ms (reason ${southEnd.reason}); v2v north ${Math.round(a.voiceToVoiceMs ?? 0)}/${Math.round(c.voiceToVoiceMs ?? 0)} ms before/after, south ${Math.round(b.voiceToVoiceMs ?? 0)} ms, south again through the first node ${Math.round(d.voiceToVoiceMs ?? 0)} ms; south sessions ended: ${southEnds.join(', ')}`);
  } finally {
    await north.leave();
    await south.leave().catch(() => {});
  }
});
