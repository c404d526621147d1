import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { AccessToken } from 'livekit-server-sdk';
import { AudioStream, Room, RoomEvent, TrackKind, dispose, type AudioFrame } from '@livekit/rtc-node';
import { connectBus, type Bus } from '@arc/bus';
import { MoonshineStt, int16ToFloat32, wordErrors } from '@arc/speech';
import { REPO_ROOT, collect, startLiveKitServer, startNatsServer, startProcess, waitFor, type LiveKitServerHandle, type ManagedProcess, type NatsServerHandle } from '@arc/testkit';

const MAIN = join(REPO_ROOT, 'services', 'tts', 'dist', 'main.js');
const SPEECH_RMS = 300;

let nats: NatsServerHandle;
let livekit: LiveKitServerHandle;
let bus: Bus;
let worker: ManagedProcess;
const rooms: Room[] = [];

function startTtsWorker(instance: string): ManagedProcess {
  return startProcess(process.execPath, [MAIN], {
    env: {
      ...process.env,
      NATS_URL: nats.url,
      LIVEKIT_URL: livekit.url,
      LIVEKIT_API_KEY: livekit.apiKey,
      LIVEKIT_API_SECRET: livekit.apiSecret,
      INSTANCE_ID: instance,
      LOG_FORMAT: 'json',
      LOG_LEVEL: 'debug',
      HEARTBEAT_INTERVAL_MS: '500',
    },
  });
}

/** A participant that records the agent's audio with arrival times (16 kHz mono). */
async function listen(roomName: string) {
  const token = new AccessToken(livekit.apiKey, livekit.apiSecret, { identity: `listener-${roomName}` });
  token.addGrant({ roomJoin: true, room: roomName, canSubscribe: true, canPublish: true });
  const room = new Room();
  rooms.push(room);
  const frames: { at: number; data: Int16Array; speech: boolean }[] = [];
  const agents = new Set<string>();
  room.on(RoomEvent.TrackSubscribed, (track, _pub, participant) => {
    if (track.kind !== TrackKind.KIND_AUDIO) return;
    agents.add(participant.identity);
    void (async () => {
      for await (const frame of new AudioStream(track, 16000, 1) as unknown as AsyncIterable<AudioFrame>) {
        let sum = 0;
        for (const s of frame.data) sum += s * s;
        frames.push({ at: Date.now(), data: new Int16Array(frame.data), speech: Math.sqrt(sum / frame.data.length) > SPEECH_RMS });
      }
    })().catch(() => {});
  });
  await room.connect(livekit.url, await token.toJwt(), { autoSubscribe: true, dynacast: false });
  const recording = () => {
    const speech = frames.filter((f) => f.speech);
    const first = speech[0]?.at;
    const audio = frames.filter((f) => first !== undefined && f.at >= first - 200);
    const pcm = new Int16Array(audio.reduce((n, f) => n + f.data.length, 0));
    let at = 0;
    for (const f of audio) (pcm.set(f.data, at), (at += f.data.length));
    return { pcm, firstSpeechAt: first, lastSpeechAt: speech.at(-1)?.at, frames };
  };
  return { room, agents, recording };
}

const speak = (text: string, room: string, extra: Record<string, unknown> = {}) => ({
  request_id: `tts-${Math.random().toString(36).slice(2, 10)}`,
  text,
  session_id: `session-${room}`,
  target_room: room,
  ...extra,
});

before(async () => {
  nats = await startNatsServer();
  livekit = await startLiveKitServer();
  bus = await connectBus({ servers: nats.url, service: 'arc-tts-test' });
  worker = startTtsWorker('tts-a');
  await worker.waitForOutput(/TTS worker ready/, 60_000);
});

after(async () => {
  await worker?.stop(10_000);
  for (const room of rooms) await room.disconnect().catch(() => {});
  await dispose();
  await bus?.close(1000);
  await livekit?.stop();
  await nats?.stop();
});

test('the listener hears the requested text, first audio before the third sentence is synthesized', { timeout: 90_000 }, async () => {
  const listener = await listen('room-hear');
  const completed = await collect(nats.url, 'agent.tts.completed');
  const text = 'The weather today is sunny and warm. It will rain tomorrow afternoon. Please take an umbrella with you.';
  const requestedAt = Date.now();
  const { reply, payload } = await bus.request('agent.tts.request', speak(text, 'room-hear'), { timeoutMs: 5000 });
  assert.equal(reply.instance_id, 'tts-a');
  assert.equal(reply.worker_subject, 'agent.tts.worker.tts-a.request');
  await waitFor(() => completed.messages.some((m) => m.payload.request_id === payload.request_id), 30_000, 'agent.tts.completed');
  await new Promise((resolve) => setTimeout(resolve, 500));
  const done = completed.messages.find((m) => m.payload.request_id === payload.request_id)!.payload;
  assert.equal(done.status, 'completed');
  assert.equal(done.ready_for_playback, true);
  assert.ok(done.audio_track_sid.startsWith('TR_'));
  assert.ok(done.duration_ms > 3000, `duration ${done.duration_ms}`);
  assert.equal(done.trace_id, payload.trace_id);

  const { pcm, firstSpeechAt } = listener.recording();
  assert.ok(firstSpeechAt !== undefined, 'agent audio received');
  assert.ok([...listener.agents].some((id) => id.startsWith('arc-agent')));
  const stt = await MoonshineStt.load();
  const heard = (await stt.transcribe(int16ToFloat32(pcm))).text;
  const wer = wordErrors(text, heard);
  assert.ok(wer.wer <= 0.2, `WER ${(wer.wer * 100).toFixed(1)}%: heard "${heard}"`);

  // Proof of streaming: the listener had audio before the worker finished the third sentence.
  const third = worker
    .output()
    .split('\n')
    .filter((l) => l.includes('sentence synthesized') && l.includes(payload.request_id))
    .map((l) => JSON.parse(l) as { sentence: number; synthesized_at: number })
    .find((l) => l.sentence === 2);
  assert.ok(third, 'third sentence logged');
  assert.ok(firstSpeechAt! < third!.synthesized_at, `first audio at +${firstSpeechAt! - requestedAt} ms, third sentence at +${third!.synthesized_at - requestedAt} ms`);
  console.log(`first audio at the listener +${firstSpeechAt! - requestedAt} ms; third sentence synthesized +${third!.synthesized_at - requestedAt} ms; WER ${(wer.wer * 100).toFixed(1)}%`);
  await completed.close();
});

/**
 * Audio sent before a cancel is already on its way: in WebRTC's send path and the listener's
 * jitter buffer, which reached 150 ms on a loaded CI machine;
 * nothing synthesized or queued after the cancel may be heard.
 */
const IN_FLIGHT_MS = 250;

test('cancel mid-answer: no agent audio reaches the listener beyond what was in flight at the cancel', { timeout: 90_000 }, async () => {
  const listener = await listen('room-cancel');
  const completed = await collect(nats.url, 'agent.tts.completed');
  const long = 'This is a long answer that goes on and on. '.repeat(8);
  const { payload } = await bus.request('agent.tts.request', speak(long, 'room-cancel'), { timeoutMs: 5000 });
  await waitFor(() => listener.recording().firstSpeechAt, 20_000, 'agent audio');
  await new Promise((resolve) => setTimeout(resolve, 800));
  const cancelledAt = Date.now();
  bus.publish('agent.tts.cancel', { target_room: 'room-cancel', reason: 'barge_in' });
  await waitFor(() => completed.messages.find((m) => m.payload.request_id === payload.request_id), 10_000, 'cancelled outcome');
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const outcome = completed.messages.find((m) => m.payload.request_id === payload.request_id)!.payload;
  assert.equal(outcome.status, 'cancelled');
  const lastSpeech = listener.recording().lastSpeechAt!;
  console.log(`last agent audio ${lastSpeech - cancelledAt} ms after the cancel`);
  assert.ok(lastSpeech - cancelledAt <= IN_FLIGHT_MS, `agent audio ${lastSpeech - cancelledAt} ms after the cancel`);
  await completed.close();
});

test('a cancel while a sentence is being synthesized in its thread: nothing more is heard, the cancel is not held up', { timeout: 90_000 }, async () => {
  const listener = await listen('room-cancel-synth');
  const completed = await collect(nats.url, 'agent.tts.completed');
  // One long sentence: its first words are spoken on their own, the rest (~6 s of speech) is
  // still being synthesized in the inference thread when the cancel comes.
  const long = `Here is the answer ${'with many more words that keep the model busy for a good while '.repeat(5)}and then it ends.`;
  const { payload } = await bus.request('agent.tts.request', speak(long, 'room-cancel-synth'), { timeoutMs: 5000 });
  await waitFor(() => listener.recording().firstSpeechAt, 20_000, 'the first words');
  const cancelledAt = Date.now();
  bus.publish('agent.tts.cancel', { target_room: 'room-cancel-synth', reason: 'barge_in' });
  const outcome = await waitFor(() => completed.messages.find((m) => m.payload.request_id === payload.request_id)?.payload, 10_000, 'cancelled outcome');
  const answeredIn = Date.now() - cancelledAt;
  await new Promise((resolve) => setTimeout(resolve, 1500));
  assert.equal(outcome.status, 'cancelled');
  const lastSpeech = listener.recording().lastSpeechAt!;
  console.log(`cancelled outcome ${answeredIn} ms after the cancel; last agent audio ${lastSpeech - cancelledAt} ms after it`);
  assert.ok(lastSpeech - cancelledAt <= IN_FLIGHT_MS, `agent audio ${lastSpeech - cancelledAt} ms after the cancel`);
  assert.ok(outcome.duration_ms < 3_000, `only the first words were spoken (${outcome.duration_ms} ms of audio)`);
  // The rest takes well over a second to synthesize; the cancel's outcome does not wait for it.
  assert.ok(answeredIn < 1_000, `cancelled outcome after ${answeredIn} ms`);
  await completed.close();
});

test('bad input: unknown voice, missing room, over-long and unspeakable text, invalid payloads → errors, no crash', { timeout: 90_000 }, async () => {
  await listen('room-bad');
  const errors = await collect(nats.url, 'agent.tts.error');
  const dlq = await collect(nats.url, 'dlq.agent.tts.request.>');
  const cases: [Record<string, unknown>, string][] = [
    [speak('Hello there.', 'room-bad', { voice_id: 'en_US-nobody-medium' }), 'unknown_voice'],
    [speak('Hello there.', 'room-that-does-not-exist'), 'room_not_found'],
    [speak('word '.repeat(1000), 'room-bad'), 'text_too_long'],
    [speak('?!... ;;', 'room-bad'), 'nothing_to_say'],
  ];
  for (const [request] of cases) bus.publish('agent.tts.request', request as never);
  bus.publishRaw('agent.tts.request', JSON.stringify(speak('', 'room-bad')));
  bus.publishRaw('agent.tts.request', '{"text": 42}');
  await waitFor(() => errors.messages.length >= cases.length, 30_000, 'four agent.tts.error');
  await dlq.waitForCount(2, 10_000);
  for (const [request, errorType] of cases) {
    const error = errors.messages.find((m) => m.payload.request_id === request.request_id);
    assert.equal(error?.payload.error_type, errorType, JSON.stringify(error?.payload));
  }
  // The worker is still up and speaking.
  const { reply } = await bus.request('agent.tts.request', speak('Still here.', 'room-bad'), { timeoutMs: 5000 });
  assert.equal(reply.instance_id, 'tts-a');
  assert.equal(worker.child.exitCode, null);
  await errors.close();
  await dlq.close();
});
