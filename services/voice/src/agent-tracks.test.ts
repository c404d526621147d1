/**
 * The agent's own tracks never touch a user session: a TTS worker that leaves a room when idle,
 * or dies, does not end the user's session, and a voice worker that restarts finds the users it
 * was listening to. Real nats-server, livekit-server, brain, two TTS workers and voice worker.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { RoomServiceClient } from 'livekit-server-sdk';
import { dispose } from '@livekit/rtc-node';
import { Conversation } from '@arc/cli';
import { espeakSpeech, float32ToInt16 } from '@arc/speech';
import { collect, freePort, startLiveKitServer, startNatsServer, startScriptedOpenAIServer, startWorkerProcess, waitFor } from '@arc/testkit';
import type { Collector, LiveKitServerHandle, ManagedProcess, NatsServerHandle, ScriptedOpenAIServer } from '@arc/testkit';

const IDLE_MS = 4_000;
let nats: NatsServerHandle;
let livekit: LiveKitServerHandle;
let model: ScriptedOpenAIServer;
let voicePort: number;
let voice: ManagedProcess;
const tts = new Map<string, ManagedProcess>();
const workers: ManagedProcess[] = [];
let trackEvents: Collector;
let sessionEnds: Collector;
let completions: Collector;

function startVoice(instanceId: string): ManagedProcess {
  const worker = startWorkerProcess('voice', { nats, livekit }, {
    INSTANCE_ID: instanceId,
    VOICE_HTTP_PORT: String(voicePort),
    VOICE_RECONCILE_INTERVAL_MS: '2000',
    VOICE_MIN_SPEECH_MS: '120',
  });
  workers.push(worker);
  return worker;
}

const question = float32ToInt16(espeakSpeech('What time is it in Paris?'));
const ANSWER = 'It is ten past nine in the evening in Paris.';

before(async () => {
  nats = await startNatsServer();
  voicePort = await freePort();
  livekit = await startLiveKitServer({ webhookUrls: [`http://127.0.0.1:${voicePort}/livekit/webhook`] });
  model = await startScriptedOpenAIServer({ fallback: { type: 'text', text: ANSWER } });
  [trackEvents, sessionEnds, completions] = await Promise.all([
    collect(nats.url, 'agent.voice.track.>'),
    collect(nats.url, 'agent.voice.session.ended'),
    collect(nats.url, 'agent.tts.completed'),
  ]);
  const brain = startWorkerProcess('brain', { nats }, { OPENAI_BASE_URL: model.url });
  workers.push(brain);
  for (const id of ['tts-a', 'tts-b']) {
    const worker = startWorkerProcess('tts', { nats, livekit }, { INSTANCE_ID: id, TTS_IDLE_TIMEOUT_MS: String(IDLE_MS) });
    tts.set(id, worker);
    workers.push(worker);
  }
  voice = startVoice('voice-1');
  await Promise.all([
    voice.waitForOutput(/voice worker ready/, 60_000),
    brain.waitForOutput(/brain ready/, 60_000),
    ...[...tts.values()].map((w) => w.waitForOutput(/TTS worker ready/, 60_000)),
  ]);
});

after(async () => {
  await Promise.all(workers.map((w) => w.stop(10_000)));
  await Promise.all([trackEvents, sessionEnds, completions].map((c) => c?.close()));
  await dispose();
  await model?.close();
  await livekit?.stop();
  await nats?.stop();
});

const joinRoom = (room: string, identity: string) =>
  Conversation.join({ livekitUrl: livekit.url, apiKey: livekit.apiKey, apiSecret: livekit.apiSecret, room, identity, answerTimeoutMs: 15_000 });

async function assertAnswered(user: Conversation, what: string): Promise<void> {
  const result = await user.ask(question);
  assert.ok(result.answer.length > 16_000 * 0.5, `${what}: the agent answered (heard ${Math.round(result.answerMs)} ms of speech)`);
}

const endedIn = (room: string) => sessionEnds.messages.filter((m) => m.payload.room_name === room);

test('a user silent past the TTS idle timeout is answered again', { timeout: 90_000 }, async () => {
  const user = await joinRoom('idle-room', 'idle-user');
  await assertAnswered(user, 'first question');
  const leftIdle = /"room":"idle-room","reason":"idle","msg":"left room"/;
  await Promise.any([...tts.values()].map((w) => w.waitForOutput(leftIdle, IDLE_MS + 15_000)));
  await user.pause(2_000); // the agent's track is gone; the user says nothing for a while longer
  assert.deepEqual(endedIn('idle-room'), [], 'the user session did not end when the agent left');
  await assertAnswered(user, 'after the agent left idle');
  await user.leave();
});

test('the TTS worker holding the room is killed: the next turns move, and questions 40 s later are answered', { timeout: 150_000 }, async () => {
  const user = await joinRoom('kill-room', 'kill-user');
  await assertAnswered(user, 'first question');
  const holder = completions.messages.find((m) => m.payload.target_room === 'kill-room')?.payload.instance_id as string;
  assert.ok(tts.has(holder), `a TTS worker spoke in the room (${holder})`);
  tts.get(holder)!.child.kill('SIGKILL');
  await assertAnswered(user, 'right after the kill');

  // LiveKit times the dead agent out and unpublishes its track while the user stays silent.
  const rooms = new RoomServiceClient(livekit.httpUrl, livekit.apiKey, livekit.apiSecret);
  const startedWaiting = Date.now();
  await waitFor(
    async () => !(await rooms.listParticipants('kill-room')).some((p) => p.identity === `arc-agent-${holder}`),
    90_000,
    'LiveKit to drop the killed agent',
    500,
  );
  await user.pause(Math.max(0, 40_000 - (Date.now() - startedWaiting)));
  assert.deepEqual(endedIn('kill-room'), [], "the user session outlived the agent's track");
  await assertAnswered(user, '40 s after the kill');
  await assertAnswered(user, 'and once more');
  await user.leave();
});

test("no agent.voice.track.published for the agent's tracks", { timeout: 60_000 }, async () => {
  const heartbeats = await collect(nats.url, 'system.health.heartbeat');
  const user = await joinRoom('own-room', 'own-user');
  await assertAnswered(user, 'question');
  const published = trackEvents.messages.filter((m) => m.subject === 'agent.voice.track.published');
  const identities = published.map((m) => m.payload.participant_identity as string);
  assert.ok(identities.includes('own-user'), 'the user track was announced');
  assert.deepEqual(identities.filter((id) => id.startsWith('arc-')), [], 'no ARC participant track was announced as a user track');
  assert.equal(published.filter((m) => m.payload.room_name === 'own-room').length, 1, 'one track announced in the room');
  // The agent did publish a track here: the voice worker saw it and counted it as not a user's.
  const voiceBeat = await waitFor(
    () => heartbeats.messages.find((m) => m.payload.instance_id === 'voice-1' && (m.payload.metrics.agent_tracks_ignored ?? 0) > 0),
    10_000,
    'a voice heartbeat counting agent tracks',
  );
  assert.ok(voiceBeat.payload.metrics.agent_tracks_ignored >= 1);
  await user.leave();
  await heartbeats.close();
});

test('a voice worker killed and restarted finds the user still in the room and answers', { timeout: 120_000 }, async () => {
  const user = await joinRoom('restart-room', 'restart-user');
  await assertAnswered(user, 'before the restart');
  voice.child.kill('SIGKILL');
  await voice.exited;
  voice = startVoice('voice-2');
  await voice.waitForOutput(/voice worker ready/, 60_000);
  // The old listener lingers in the room until LiveKit times it out; the new worker sees that
  // its voice worker sends no heartbeats and takes the room.
  await voice.waitForOutput(/"room":"restart-room","session_id":"[^"]+","user":"restart-user","msg":"session started"/, 20_000);
  await user.pause(1_000);
  await assertAnswered(user, 'after the restart');
  await user.leave();
});
