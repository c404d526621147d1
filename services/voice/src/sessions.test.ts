/** Voice worker robustness: silent tracks, endless speech, and many sessions in a row. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AccessToken } from 'livekit-server-sdk';
import { AudioSource, LocalAudioTrack, Room, TrackPublishOptions, TrackSource, dispose } from '@livekit/rtc-node';
import { Conversation } from '@arc/cli';
import { float32ToInt16, loadAudio } from '@arc/speech';
import { REPO_ROOT, collect, freePort, startLiveKitServer, startNatsServer, startProcess, waitFor, type LiveKitServerHandle, type ManagedProcess, type NatsServerHandle } from '@arc/testkit';

let nats: NatsServerHandle;
let livekit: LiveKitServerHandle;
let voice: ManagedProcess;
let health: string;
const dir = mkdtempSync(join(tmpdir(), 'arc-voice-sessions-'));
const MAX_TURN_MS = 4000;

before(async () => {
  nats = await startNatsServer();
  const port = await freePort();
  livekit = await startLiveKitServer({ webhookUrls: [`http://127.0.0.1:${port}/livekit/webhook`] });
  health = `http://127.0.0.1:${port}/healthz`;
  // No brain or TTS worker: these tests look at the voice worker alone (its fallback covers them).
  voice = startProcess(process.execPath, [join(REPO_ROOT, 'services', 'voice', 'dist', 'main.js')], {
    env: {
      ...process.env,
      NATS_URL: nats.url,
      LIVEKIT_URL: livekit.url,
      LIVEKIT_API_KEY: livekit.apiKey,
      LIVEKIT_API_SECRET: livekit.apiSecret,
      VOICE_HTTP_PORT: String(port),
      VOICE_MAX_TURN_MS: String(MAX_TURN_MS),
      VOICE_BRAIN_TIMEOUT_MS: '1000',
      LOG_FORMAT: 'json',
    },
  });
  await voice.waitForOutput(/voice worker ready/, 60_000);
});

after(async () => {
  await voice?.stop(10_000);
  await dispose();
  await livekit?.stop();
  await nats?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const state = async () => (await (await fetch(health)).json()) as { sessions: number; resources: number; memory_mb: number };
const options = (room: string, identity: string) => ({ livekitUrl: livekit.url, apiKey: livekit.apiKey, apiSecret: livekit.apiSecret, room, identity, listenerWaitMs: 1500 });

test('a track that never sends audio: the session starts and ends cleanly with no turns', { timeout: 60_000 }, async () => {
  const ended = await collect(nats.url, 'agent.voice.session.ended');
  const token = new AccessToken(livekit.apiKey, livekit.apiSecret, { identity: 'mute-user' });
  token.addGrant({ roomJoin: true, room: 'mute-room', canPublish: true });
  const room = new Room();
  await room.connect(livekit.url, await token.toJwt(), { autoSubscribe: false, dynacast: false });
  const track = LocalAudioTrack.createAudioTrack('mic', new AudioSource(16000, 1));
  const publishOptions = new TrackPublishOptions();
  publishOptions.source = TrackSource.SOURCE_MICROPHONE;
  await room.localParticipant!.publishTrack(track, publishOptions);
  await waitFor(async () => (await state()).sessions === 1, 10_000, 'session started');
  await new Promise((resolve) => setTimeout(resolve, 2000));
  await room.disconnect();
  await ended.waitForCount(1, 15_000);
  assert.equal(ended.messages[0]!.payload.total_turns, 0);
  assert.equal(ended.messages[0]!.payload.room_name, 'mute-room');
  await waitFor(async () => (await state()).sessions === 0, 10_000, 'session gone');
  await ended.close();
});

test(`continuous speech is cut into a turn at VOICE_MAX_TURN_MS (${MAX_TURN_MS} ms)`, { timeout: 90_000 }, async () => {
  const requests = await collect(nats.url, 'agent.brain.request');
  const wav = join(dir, 'long.wav');
  execFileSync('espeak-ng', ['-v', 'en-us', '-s', '170', '-g', '0', '-w', wav, 'and then we walked along the river and talked about the weather and the mountains '.repeat(3)]);
  const speech = float32ToInt16(loadAudio(wav, 16000));
  assert.ok(speech.length / 16000 > 2 * MAX_TURN_MS / 1000, 'the speech is longer than two maximum turns');
  const user = await Conversation.join(options('long-room', 'long-talker'));
  const startedAt = Date.now();
  await user.ask(speech);
  await requests.waitForCount(1, 20_000);
  const first = requests.messages[0]!;
  assert.ok(first.payload.user_input.split(' ').length > 5, first.payload.user_input);
  // The first turn went out while the user was still talking.
  assert.ok(Date.parse(first.payload.timestamp) - startedAt < (speech.length / 16000) * 1000, 'cut before the speech ended');
  await user.leave();
  await requests.close();
});

test('20 sessions opened and closed in a row: sessions, handles and memory return to their starting level', { timeout: 240_000 }, async () => {
  const session = async (i: number) => {
    const user = await Conversation.join(options(`churn-room-${i}`, `churn-${i}`));
    await user.leave();
    await waitFor(async () => (await state()).sessions === 0, 15_000, `session ${i} closed`);
  };
  for (let i = 0; i < 3; i++) await session(i); // warm up lazily created resources
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const before = await state();
  for (let i = 3; i < 23; i++) await session(i);
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const afterwards = await state();
  console.log(`before: ${JSON.stringify(before)}; after 20 sessions: ${JSON.stringify(afterwards)}`);
  assert.equal(afterwards.sessions, 0);
  // Tolerances: a few handles (timers, sockets in keep-alive) and 80 MB of heap/native churn.
  assert.ok(afterwards.resources <= before.resources + 5, `resources ${before.resources} → ${afterwards.resources}`);
  assert.ok(afterwards.memory_mb <= before.memory_mb + 80, `memory ${before.memory_mb} → ${afterwards.memory_mb} MB`);
});
