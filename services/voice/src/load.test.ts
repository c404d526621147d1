/**
 * Load and admission through the real stack: workers at their maximum take no new room, the user
 * hears the busy notice when every worker is full, a freed worker takes the room, and four rooms
 * at once are each answered in their own room, in order, by one agent voice.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { RoomServiceClient } from 'livekit-server-sdk';
import { dispose } from '@livekit/rtc-node';
import { Conversation } from '@arc/cli';
import { SttEngines, DEFAULT_SPEECH_SETTINGS, espeakSpeech, float32ToInt16, int16ToFloat32, wordErrors, type SttEngine } from '@arc/speech';
import { collect, freePort, startLiveKitServer, startNatsServer, startScriptedOpenAIServer, startWorkerProcess, waitFor } from '@arc/testkit';
import type { Collector, LiveKitServerHandle, ManagedProcess, NatsServerHandle, ScriptedOpenAIServer } from '@arc/testkit';

const BUSY = 'All our agents are busy right now. Please try again in a moment.';
const CITIES = ['Paris', 'London', 'Madrid', 'Tokyo'];
let nats: NatsServerHandle;
let livekit: LiveKitServerHandle;
let model: ScriptedOpenAIServer;
let voicePort: number;
let stt: SttEngine;
let errors: Collector;
const workers: ManagedProcess[] = [];

function start(name: 'voice' | 'tts' | 'brain', extra: Record<string, string>): ManagedProcess {
  const worker = startWorkerProcess(name, { nats, livekit }, { VOICE_RECONCILE_INTERVAL_MS: '2000', VOICE_MIN_SPEECH_MS: '120', ...extra });
  workers.push(worker);
  return worker;
}

before(async () => {
  nats = await startNatsServer();
  voicePort = await freePort();
  livekit = await startLiveKitServer({ webhookUrls: [`http://127.0.0.1:${voicePort}/livekit/webhook`] });
  model = await startScriptedOpenAIServer({ script: (request) => ({ type: 'text', text: answerTo(request.lastUserMessage) }) });
  errors = await collect(nats.url, 'agent.voice.error');
  // One voice and one TTS worker that each take a single room; the second pair comes later.
  const voiceA = start('voice', { INSTANCE_ID: 'voice-a', VOICE_HTTP_PORT: String(voicePort), VOICE_MAX_SESSIONS: '1' });
  const ttsA = start('tts', { INSTANCE_ID: 'tts-a', TTS_MAX_ROOMS: '1' });
  const brain = start('brain', { OPENAI_BASE_URL: model.url });
  stt = await SttEngines.create({ engine: 'moonshine' }, DEFAULT_SPEECH_SETTINGS);
  await Promise.all([voiceA.waitForOutput(/voice worker ready/, 60_000), ttsA.waitForOutput(/TTS worker ready/, 60_000), brain.waitForOutput(/brain ready/, 60_000)]);
});

after(async () => {
  await Promise.all(workers.map((w) => w.stop(10_000)));
  await errors?.close();
  await stt?.close();
  await dispose();
  await model?.close();
  await livekit?.stop();
  await nats?.stop();
});

/** The scripted model's answer to what a user was heard to say. */
function answerTo(transcript: string): string {
  const said = transcript.toLowerCase();
  const city = CITIES.find((c) => said.includes(c.toLowerCase()));
  if (city) return `The sun is shining in ${city}.`;
  return said.includes('tomorrow') ? 'Tomorrow there will be heavy rain all day long.' : 'I can help with that.';
}

// Four rooms at once saturate two cores: an answer's second speaking unit can come more than the
// usual 1.5 s after its first, so the listener waits 3 s of silence before it calls an answer over.
const join = (room: string, identity: string, listenerWaitMs?: number) =>
  Conversation.join({
    livekitUrl: livekit.url,
    apiKey: livekit.apiKey,
    apiSecret: livekit.apiSecret,
    room,
    identity,
    answerTimeoutMs: 15_000,
    answerSilenceMs: 3_000,
    ...(listenerWaitMs === undefined ? {} : { listenerWaitMs }),
  });
/** The workers' log lines about a room, for a failure message. */
const logOf = (room: string) =>
  workers
    .flatMap((w) => w.output().split('\n'))
    .filter((line) => line.includes(room))
    .slice(-40)
    .join('\n');
const heard = async (audio: Int16Array) => (await stt.transcribe(int16ToFloat32(audio))).text;
const question = (text: string) => float32ToInt16(espeakSpeech(text));
const identitiesIn = async (room: string) => (await new RoomServiceClient(livekit.httpUrl, livekit.apiKey, livekit.apiSecret).listParticipants(room)).map((p) => p.identity);

let first: Conversation;
let second: Conversation;

test('every worker full: the next user hears the busy notice at once, not silence', { timeout: 90_000 }, async () => {
  first = await join('load-first', 'first-user');
  const answer = await first.ask(question('What is the weather in Paris?'));
  assert.ok(answer.answer.length > 0, 'the first room is answered');
  // voice-a and tts-a now hold their one room each. The next user is told at once.
  second = await join('load-second', 'second-user', 200); // nobody will listen: do not wait for it
  const notice = await second.listen(15_000);
  const text = await heard(notice.answer);
  assert.ok(wordErrors(BUSY, text).wer <= 0.3, `busy notice heard: "${text}"`);
  await errors.waitForCount(1, 10_000);
  assert.ok(errors.messages.some((m) => m.payload.error_type === 'all_workers_busy' && m.payload.room_name === 'load-second'));
  assert.ok(!(await identitiesIn('load-second')).some((id) => id.startsWith('arc-listener-')), 'no voice worker took the room');
});

test('a second voice and TTS worker: the waiting room goes to them, the full ones take nothing new', { timeout: 90_000 }, async () => {
  const voiceB = start('voice', { INSTANCE_ID: 'voice-b', VOICE_HTTP_PORT: String(await freePort()) });
  const ttsB = start('tts', { INSTANCE_ID: 'tts-b' });
  await Promise.all([voiceB.waitForOutput(/voice worker ready/, 60_000), ttsB.waitForOutput(/TTS worker ready/, 60_000)]);
  // The user who heard the notice is still there: the room is dispatched again, to voice-b.
  await waitFor(async () => (await identitiesIn('load-second')).includes('arc-listener-voice-b'), 30_000, 'voice-b listening in the waiting room', 500);
  await second.pause(1_000);
  const answer = await second.ask(question('What is the weather in London?'));
  assert.match(await heard(answer.answer), /london/i);
  const present = await identitiesIn('load-second');
  assert.ok(present.includes('arc-agent-tts-b'), `tts-b speaks in the new room (participants: ${present.join(', ')})`);
  assert.ok(!present.includes('arc-listener-voice-a'), 'voice-a, at its maximum, did not take it');
  await second.leave();
});

test('four rooms at once: each answered in its own room, in order, by one agent voice', { timeout: 200_000 }, async () => {
  const requests = await collect(nats.url, 'agent.brain.request');
  const sessions = await collect(nats.url, 'agent.voice.session.started');
  const users = await Promise.all(CITIES.map((city, i) => join(`load-many-${i}`, `user-${city.toLowerCase()}`)));
  // Answers are transcribed once every user is done: STT here, on this process's event loop,
  // would starve the other users' microphones of audio frames while they speak.
  // A user who hears no answer asks again, as people do: on two saturated cores the microphone's
  // audio can reach the agent so broken that speech-to-text hears no words (once "And tomorrow?"
  // arrived as 2.4 s of sound transcribed as nothing), and a turn without words asks nothing.
  const askUntilAnswered = async (user: Conversation, text: string) => {
    const first = await user.ask(question(text));
    return first.answer.length > 0 ? first : user.ask(question(text));
  };
  const answers = await Promise.all(
    users.map(async (user, i) => {
      const weather = await askUntilAnswered(user, `What is the weather in ${CITIES[i]}?`);
      const tomorrow = await askUntilAnswered(user, 'And tomorrow?');
      return { weather: weather.answer, tomorrow: tomorrow.answer };
    }),
  );
  const results = [];
  for (const answer of answers) results.push({ weather: await heard(answer.weather), tomorrow: await heard(answer.tomorrow) });
  // Under this load speech-to-text may mishear a question ("What is the weather in Tokyo?" was
  // once "What is that? We're in talking."). What is checked is routing and order: each room
  // hears the answers to its own session's questions, as they were heard, first one first.
  // A room's sessions: usually one; a listener that lost its connection is replaced by a new session.
  const roomOf = new Map(sessions.messages.map((m) => [m.payload.session_id as string, m.payload.room_name as string]));
  for (const [i, result] of results.entries()) {
    const asked = requests.messages.filter((m) => roomOf.get(m.payload.session_id as string) === `load-many-${i}`).map((m) => m.payload.user_input as string);
    assert.ok(asked.length >= 2, `room ${i} asked twice: ${asked.join(' | ')}\n${logOf(`load-many-${i}`)}`);
    const [first, last] = [answerTo(asked[0]!), answerTo(asked.at(-1)!)];
    const heardFirst = wordErrors(first, result.weather).wer;
    assert.ok(heardFirst <= 0.35, `room ${i} heard its own first answer first: "${result.weather}", expected "${first}" (its questions: ${asked.join(' | ')})`);
    // Its own city may be misheard ("Madrid" was once "my grid"); another room's city must not be heard.
    for (const city of CITIES.filter((c) => !first.includes(c))) {
      assert.doesNotMatch(result.weather, new RegExp(city, 'i'), `room ${i} heard no other room's answer: "${result.weather}"`);
    }
    const heardLast = wordErrors(last, result.tomorrow).wer;
    assert.ok(heardLast <= 0.35, `room ${i} heard its second answer second: "${result.tomorrow}", expected "${last}" (its questions: ${asked.join(' | ')})`);
    const agents = (await identitiesIn(`load-many-${i}`)).filter((id) => id.startsWith('arc-agent-'));
    assert.equal(agents.length, 1, `one agent voice in room ${i}: ${agents.join(', ')}`);
  }
  await Promise.all(users.map((user) => user.leave()));
  await first.leave();
  await requests.close();
  await sessions.close();
});
