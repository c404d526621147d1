import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { AccessToken } from 'livekit-server-sdk';
import { dispose } from '@livekit/rtc-node';
import { Conversation } from '@arc/cli';
import { MoonshineStt, PiperVoice, concatAudio, espeakSpeech, float32ToInt16, int16ToFloat32, resample, wordErrors } from '@arc/speech';
import {
  collect,
  freePort,
  startLiveKitServer,
  startNatsServer,
  startScriptedOpenAIServer,
  startWorkerProcess,
  type LiveKitServerHandle,
  type ManagedProcess,
  type NatsServerHandle,
  type ScriptedOpenAIServer,
} from '@arc/testkit';

let nats: NatsServerHandle;
let livekit: LiveKitServerHandle;
let model: ScriptedOpenAIServer;
let voice: ManagedProcess;
let webhookUrl: string;
const workers: ManagedProcess[] = [];

function startBrain(): ManagedProcess {
  const brain = startWorkerProcess('brain', { nats }, { OPENAI_BASE_URL: model.url });
  workers.push(brain);
  return brain;
}

/** espeak-ng speech, 16 kHz mono Int16 — a voice unlike the agent's Piper voice. */
const speech = (text: string): Int16Array => float32ToInt16(espeakSpeech(text, { wordsPerMinute: 150 }));

/** Piper speech, 16 kHz mono Int16: a neural voice, closer to a person's for the end-of-turn model. */
async function piperSpeech(...parts: (string | number)[]): Promise<Int16Array> {
  const voice = await PiperVoice.load({});
  const pieces: Float32Array[] = [];
  for (const part of parts) {
    if (typeof part === 'number') pieces.push(new Float32Array(16 * part)); // a pause, ms
    else {
      const { audio, sampleRate } = await voice.synthesize(part);
      pieces.push(resample(int16ToFloat32(audio), sampleRate, 16_000));
    }
  }
  await voice.close();
  return float32ToInt16(concatAudio(pieces));
}

const words = (text: string) => text.toLowerCase().replace(/[^a-z' ]/g, ' ').split(/\s+/).filter(Boolean);

const ANSWERS: Record<string, string> = {};
before(async () => {
  nats = await startNatsServer();
  const port = await freePort();
  webhookUrl = `http://127.0.0.1:${port}/livekit/webhook`;
  livekit = await startLiveKitServer({ webhookUrls: [webhookUrl] });
  ANSWERS.first = 'It is sunny and warm in Paris today, with a light breeze coming from the west.';
  ANSWERS.next = 'Tomorrow will be cloudy with some rain.';
  ANSWERS.story = 'Once upon a time there was a small town by the sea. Every morning the fishermen sailed out before dawn. They came back at noon with their boats full of fish. The children ran down to the harbour to meet them. In the evening everyone gathered in the square to share the catch.';
  model = await startScriptedOpenAIServer({
    script: (request) => {
      const said = request.lastUserMessage.toLowerCase();
      // A fairy tale is told slowly, as a big model would: the brain is still at it when the user's
      // words confirm the barge-in (its three-sentence cap is reached only after about 14 s; the
      // brain's deadline, VOICE_LLM_TIMEOUT_MS, is raised above that for this stack).
      if (said.includes('fairy')) return { type: 'text', text: ANSWERS.story!, chunkDelayMs: 450 };
      const key = said.includes('weather') ? 'first' : said.includes('tomorrow') ? 'next' : said.includes('story') ? 'story' : undefined;
      return { type: 'text', text: key ? ANSWERS[key]! : 'Okay, I can help with that.' };
    },
  });
  voice = startWorkerProcess('voice', { nats, livekit }, { VOICE_HTTP_PORT: String(port), VOICE_BRAIN_TIMEOUT_MS: '6000', VOICE_LLM_TIMEOUT_MS: '30000', VOICE_MIN_SPEECH_MS: '120' });
  workers.push(voice);
  startBrain();
  const tts = startWorkerProcess('tts', { nats, livekit });
  workers.push(tts);
  await Promise.all([voice.waitForOutput(/voice worker ready/, 60_000), tts.waitForOutput(/TTS worker ready/, 60_000)]);
});

after(async () => {
  await Promise.all(workers.map((w) => w.stop(10_000)));
  await dispose();
  await model?.close();
  await livekit?.stop();
  await nats?.stop();
});

const joinRoom = (room: string, identity = "user-1") =>
  Conversation.join({ livekitUrl: livekit.url, apiKey: livekit.apiKey, apiSecret: livekit.apiSecret, room, identity, answerTimeoutMs: 20_000 });

test('webhooks: signed accepted; missing, forged, tampered and expired signatures → 401; bad JSON and unknown events handled', async () => {
  const body = JSON.stringify({ event: 'room_started', room: { name: 'hook-room', sid: 'RM_x' }, id: 'EV_1', createdAt: String(Math.floor(Date.now() / 1000)) });
  const sign = async (text: string, secret = livekit.apiSecret, ttl: number | string = '1m') => {
    const token = new AccessToken(livekit.apiKey, secret, { ttl });
    token.sha256 = createHash('sha256').update(text).digest('base64');
    return token.toJwt();
  };
  const post = (text: string, authorization?: string) =>
    fetch(webhookUrl, { method: 'POST', body: text, headers: { 'content-type': 'application/webhook+json', ...(authorization ? { authorization } : {}) } });
  assert.equal((await post(body, await sign(body))).status, 200);
  assert.equal((await post(body)).status, 401);
  assert.equal((await post(body, await sign(body, 'not-the-secret-not-the-secret-000'))).status, 401);
  assert.equal((await post(body.replace('hook-room', 'other-room'), await sign(body))).status, 401);
  // Expired a minute ago: beyond the receiver's clock tolerance (10 s).
  assert.equal((await post(body, await sign(body, livekit.apiSecret, -60))).status, 401);
  const notJson = '{"event": oops';
  assert.equal((await post(notJson, await sign(notJson))).status, 400);
  const unknown = JSON.stringify({ event: 'something_new', room: { name: 'hook-room' } });
  assert.equal((await post(unknown, await sign(unknown))).status, 200);
  const health = await fetch(webhookUrl.replace('/livekit/webhook', '/healthz'));
  assert.equal(health.status, 200);
  assert.equal(((await health.json()) as { status: string }).status, 'ok');
});

test('a spoken question is transcribed, answered by the brain and heard; the second turn carries the first', { timeout: 120_000 }, async () => {
  const requests = await collect(nats.url, 'agent.brain.request');
  const sessions = await collect(nats.url, 'agent.voice.session.>');
  const tracks = await collect(nats.url, 'agent.voice.track.>');
  const question = 'What is the weather like in Paris today, and should I take an umbrella with me?';
  const user = await joinRoom("voice-room");
  const first = await user.ask(speech(question));
  assert.ok(first.answer.length > 0, 'agent answer heard');
  const stt = await MoonshineStt.load();
  const heard = (await stt.transcribe(int16ToFloat32(first.answer))).text;
  const answerWer = wordErrors(ANSWERS.first!, heard);
  assert.ok(answerWer.wer <= 0.2, `answer WER ${(answerWer.wer * 100).toFixed(0)}%: heard "${heard}"`);
  await requests.waitForCount(1);
  const transcript = requests.messages[0]!.payload.user_input as string;
  const transcriptWer = wordErrors(question, transcript);
  assert.ok(transcriptWer.wer <= 0.15, `transcript WER ${(transcriptWer.wer * 100).toFixed(0)}%: "${transcript}"`);
  assert.ok(first.voiceToVoiceMs !== undefined);
  console.log(`turn 1: heard "${heard}", transcript "${transcript}", voice-to-voice ${Math.round(first.voiceToVoiceMs!)} ms (at the listener)`);

  const second = await user.ask(speech('And what about tomorrow?'));
  await user.leave();
  assert.ok(second.answer.length > 0, 'second answer heard');
  await requests.waitForCount(2);
  const secondRequest = requests.messages[1]!.payload;
  assert.equal(secondRequest.session_id, requests.messages[0]!.payload.session_id);
  assert.equal(secondRequest.turn_index, 1);
  assert.equal(secondRequest.context.previous_turns.length, 1);
  assert.equal(secondRequest.context.previous_turns[0].agent, ANSWERS.first);
  assert.ok(sessions.messages.some((m) => m.subject === 'agent.voice.session.started'));
  assert.ok(tracks.messages.some((m) => m.subject === 'agent.voice.track.published' && m.payload.participant_identity === 'user-1'));
  await Promise.all([requests.close(), sessions.close(), tracks.close()]);
});

test('barge-in: speech over the agent stops it (target 200 ms); a 100 ms noise stops it for a moment at most', { timeout: 120_000 }, async () => {
  const cancels = await collect(nats.url, 'agent.tts.cancel');
  const brainCancels = await collect(nats.url, 'agent.brain.cancel');
  const user = await joinRoom('barge-room', 'user-2');
  // A cough-like burst of noise: 100 ms. As a sound it may stop the agent; it holds no speech, so the agent goes on.
  const noise = new Int16Array(1600).map(() => Math.round((Math.random() - 0.5) * 16000));
  const noisy = await user.ask(speech('Please tell me a story.'), { interruptWith: noise, interruptAfterMs: 1500 });
  assert.ok(noisy.answerMs > 8000, `the story played on (${Math.round(noisy.answerMs)} ms)`);
  assert.equal(brainCancels.messages.length, 0, 'the noise did not end the answer');
  const cancelsBefore = cancels.messages.length;

  const interrupted = await user.ask(speech('Please tell me a story.'), { interruptWith: speech('Stop, wait a moment please.'), interruptAfterMs: 1500 });
  const at = interrupted.interruptedAt!;
  // When did the agent stop? The last speech frame before a gap of 400 ms after the interruption.
  const after = interrupted.speechFrameTimes.filter((t) => t >= at);
  let stoppedAt = at;
  for (const t of after) {
    if (t - stoppedAt > 400) break;
    stoppedAt = t;
  }
  console.log(`agent audio stopped ${Math.round(stoppedAt - at)} ms after the user started speaking (target 200 ms)`);
  // bench:turns measures the target (two WebRTC legs with jitter buffers, plus VAD; slower
  // when other processes load both cores). The test checks that barge-in cuts the answer
  // short — the story lasts over 15 s — and prints the latency.
  assert.ok(stoppedAt - at <= 1500, `agent kept talking ${Math.round(stoppedAt - at)} ms`);
  await cancels.waitForCount(cancelsBefore + 1);
  assert.equal(cancels.messages[cancelsBefore]!.payload.reason, 'barge_in');
  await user.leave();
  await Promise.all([cancels.close(), brainCancels.close()]);
});

test('smart turn: a 700 ms pause mid-sentence gives one turn with the whole sentence; the words before it are an interim transcript', { timeout: 120_000 }, async () => {
  const requests = await collect(nats.url, 'agent.brain.request');
  const interim = await collect(nats.url, 'agent.voice.transcript.interim');
  const question = await piperSpeech('What is the weather like in', 700, 'Paris today?');
  const user = await joinRoom('pause-room', 'user-4');
  const result = await user.ask(question);
  await user.leave();
  assert.ok(result.answer.length > 0, 'answered');
  await requests.waitForCount(1);
  const asked = requests.messages.map((m) => m.payload.user_input as string);
  assert.equal(asked.length, 1, `one turn, not cut at the pause: ${JSON.stringify(asked)}`);
  const wer = wordErrors('What is the weather like in Paris today?', asked[0]!).wer;
  assert.ok(wer <= 0.2, `the whole sentence (WER ${(wer * 100).toFixed(0)}%): "${asked[0]}"`);
  const session = requests.messages[0]!.payload.session_id;
  const before = interim.messages.filter((m) => m.payload.session_id === session).map((m) => m.payload.text as string);
  assert.ok(before.some((text) => /weather/i.test(text) && !/paris/i.test(text)), `interim transcript of the words before the pause: ${JSON.stringify(before)}`);
  await Promise.all([requests.close(), interim.close()]);
});

test('barge-in while the brain still generates: TTS and brain cancelled; the next turn\'s history holds only what was heard, interrupted', { timeout: 120_000 }, async () => {
  const requests = await collect(nats.url, 'agent.brain.request');
  const brainCancels = await collect(nats.url, 'agent.brain.cancel');
  const ttsCancels = await collect(nats.url, 'agent.tts.cancel');
  const user = await joinRoom('heard-room', 'user-5');
  await user.ask(speech('Please tell me a fairy tale.'), { interruptWith: speech('Stop, wait a moment please.'), interruptAfterMs: 1500 });
  await ttsCancels.waitForCount(1);
  await brainCancels.waitForCount(1).catch((error: Error) => {
    const said = voice.output().split('\n').filter((line) => /barge|interruption|backchannel|pause judged|transcribed/.test(line)).slice(-12);
    throw new Error(`${error.message}\nvoice worker:\n${said.join('\n')}`);
  });
  const story = requests.messages[0]!.payload;
  assert.equal(brainCancels.messages[0]!.payload.request_id, story.request_id, 'the brain is told to stop that answer');
  assert.equal(brainCancels.messages[0]!.payload.reason, 'barge_in');
  const generated = model.requests.find((r) => r.lastUserMessage.toLowerCase().includes('fairy'))!;
  await waitUntil(() => generated.abortedAt !== undefined, 5_000, 'the model call is aborted');
  // The interruption itself is a turn; then one more, to see the history.
  await requests.waitForCount(2);
  await user.ask(speech('What were you saying?'));
  await user.leave();
  await requests.waitForCount(3);
  const history = requests.messages[2]!.payload.context.previous_turns as { user: string; agent: string; interrupted?: boolean }[];
  const cut = history.find((turn) => /fairy/i.test(turn.user))!;
  assert.ok(cut, JSON.stringify(history));
  assert.equal(cut.interrupted, true);
  const heard = words(cut.agent);
  const told = words(ANSWERS.story!);
  console.log(`heard before the cut: "${cut.agent}" (${heard.length} of ${told.length} words)`);
  assert.ok(heard.length > 0 && heard.length < told.length / 2, `only the heard part: "${cut.agent}"`);
  assert.deepEqual(heard, told.slice(0, heard.length), 'the words heard are the start of the story');
  await Promise.all([requests.close(), brainCancels.close(), ttsCancels.close()]);
});

for (const [what, sound] of [
  ['a backchannel ("yeah")', () => speech('Yeah.')],
  // Reversed speech: the VAD takes it for speech (an onset of 224 ms), yet it holds no words.
  // Moonshine hears nothing in this one at any gain or padding tried; other reversed phrases it
  // turns into "All right." or "Yes" depending on the silence around them.
  ['a wordless noise burst (450 ms)', () => float32ToInt16(espeakSpeech('seven hundred', { wordsPerMinute: 200 }).reverse().slice(0, 16 * 450))],
] as const) {
  test(`${what} over the agent: it goes on from the sentence it was cut in, and the story is told whole`, { timeout: 120_000 }, async () => {
    const requests = await collect(nats.url, 'agent.brain.request');
    const brainCancels = await collect(nats.url, 'agent.brain.cancel');
    const user = await joinRoom(`resume-room-${what.length}`, `user-r${what.length}`);
    const told = await user.ask(speech('Please tell me a story.'), { interruptWith: sound(), interruptAfterMs: 2500 });
    await user.ask(speech('Thank you.'));
    await user.leave();
    await requests.waitForCount(2);
    const history = requests.messages[1]!.payload.context.previous_turns as { user: string; agent: string; interrupted?: boolean }[];
    assert.equal(requests.messages.length, 2, `no turn of its own: ${JSON.stringify(requests.messages.map((m) => m.payload.user_input))}`);
    assert.deepEqual(history.at(-1), { user: history.at(-1)!.user, agent: ANSWERS.story }, 'the whole story, not interrupted');
    assert.equal(brainCancels.messages.length, 0, 'the brain was never told to stop');
    console.log(`${what}: story heard for ${Math.round(told.answerMs)} ms`);
    assert.ok(told.answerMs > 12_000, `the story went on (${Math.round(told.answerMs)} ms heard)`);
    await Promise.all([requests.close(), brainCancels.close()]);
  });
}

async function waitUntil(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error(`timed out waiting: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test('brain worker killed → the fallback is heard and agent.voice.error published; restarted → the next turn works', { timeout: 120_000 }, async () => {
  const errors = await collect(nats.url, 'agent.voice.error');
  for (const worker of workers.filter((w) => w.child.spawnargs.some((a) => a.includes('brain')))) worker.child.kill('SIGKILL');
  const user = await joinRoom('fallback-room', 'user-3');
  const fallback = await user.ask(speech('What is the weather like in Paris today?'));
  const stt = await MoonshineStt.load();
  const heard = (await stt.transcribe(int16ToFloat32(fallback.answer))).text;
  const wer = wordErrors("Sorry, I can't answer right now. Please try again in a moment.", heard);
  assert.ok(wer.wer <= 0.2, `fallback WER ${(wer.wer * 100).toFixed(0)}%: heard "${heard}"`);
  await errors.waitForCount(1);
  assert.equal(errors.messages[0]!.payload.error_type, 'brain_timeout');

  const brain = startBrain();
  await brain.waitForOutput(/"msg":"started"/, 30_000);
  const next = await user.ask(speech('And what about tomorrow?'));
  const nextHeard = (await stt.transcribe(int16ToFloat32(next.answer))).text;
  // The point here is that the turn is answered again (accuracy is checked in the first test).
  assert.ok(wordErrors(ANSWERS.next!, nextHeard).wer <= 0.5, `after restart heard "${nextHeard}"`);
  await user.leave();
  await errors.close();
});
