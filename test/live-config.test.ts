/**
 * Live configuration: system.config.changed mid-session, with real nats-server, livekit-server
 * and the three workers, a user speaking in a room (the model is the scripted OpenAI-compatible
 * server). The brain's prompt and the voice worker's TTS voice change between two turns, and the
 * next turn uses them; invalid changes are refused with a system.service.error naming the
 * variable and value, and the conversation goes on with the old settings.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { dispose } from '@livekit/rtc-node';
import { connectBus, type Bus } from '@arc/bus';
import { Conversation } from '@arc/cli';
import { DEFAULT_VOICE, espeakSpeech, float32ToInt16 } from '@arc/speech';
import { collect, freePort, startLiveKitServer, startNatsServer, startScriptedOpenAIServer, startWorkerProcess, waitFor } from '@arc/testkit';
import type { Collector, LiveKitServerHandle, ManagedProcess, NatsServerHandle, ScriptedOpenAIServer } from '@arc/testkit';

let nats: NatsServerHandle;
let livekit: LiveKitServerHandle;
let model: ScriptedOpenAIServer;
let bus: Bus;
const workers: ManagedProcess[] = [];
const collectors: Collector[] = [];

before(async () => {
  nats = await startNatsServer();
  const voicePort = await freePort();
  livekit = await startLiveKitServer({ webhookUrls: [`http://127.0.0.1:${voicePort}/livekit/webhook`] });
  model = await startScriptedOpenAIServer();
  bus = await connectBus({ servers: nats.url, service: 'arc-live-config-test' });
  workers.push(
    startWorkerProcess('brain', { nats }, { OPENAI_BASE_URL: model.url, BRAIN_SYSTEM_PROMPT: 'You are the first prompt.' }),
    startWorkerProcess('tts', { nats, livekit }),
    startWorkerProcess('voice', { nats, livekit }, { VOICE_HTTP_PORT: String(voicePort), VOICE_MIN_SPEECH_MS: '120' }),
  );
  await Promise.all([workers[0]!.waitForOutput(/brain ready/, 60_000), workers[1]!.waitForOutput(/TTS worker ready/, 60_000), workers[2]!.waitForOutput(/voice worker ready/, 90_000)]);
});

after(async () => {
  await Promise.all(workers.map((w) => w.stop(10_000)));
  await Promise.all(collectors.map((c) => c.close()));
  await bus?.close(1_000);
  await dispose();
  await model?.close();
  await livekit?.stop();
  await nats?.stop();
});

const systemPromptOf = (index: number) => model.requests[index]?.body.messages?.find((m) => m.role === 'system')?.content ?? '';

test('the prompt and the voice change mid-session and the next turn uses them; invalid changes are refused and the old settings stay', { timeout: 150_000 }, async () => {
  const ttsRequests = await collect(nats.url, 'agent.tts.>');
  const errors = await collect(nats.url, 'system.service.error');
  collectors.push(ttsRequests, errors);
  const user = await Conversation.join({ livekitUrl: livekit.url, apiKey: livekit.apiKey, apiSecret: livekit.apiSecret, room: 'live-config', identity: 'live-user', answerTimeoutMs: 15_000 });
  try {
    const first = await user.ask(float32ToInt16(espeakSpeech('What is the weather like today?')));
    assert.ok(first.answer.length > 0, 'the first turn is answered');
    const turnOne = model.requests.length;
    assert.equal(systemPromptOf(turnOne - 1), 'You are the first prompt.');
    const spoken = () => ttsRequests.messages.filter((m) => /\.request$/.test(m.subject) && !m.payload.prepare);
    assert.ok(spoken().length > 0 && spoken().every((m) => m.payload.voice_id === undefined), 'the first answer in the worker default voice');
    const before = spoken().length;

    // Refused: a threshold out of range, and a variable that needs a restart; all or none.
    const refused = async (scope: { service: string }, changes: Record<string, string | number>, pattern: RegExp) => {
      const { payload } = bus.publish('system.config.changed', { change_id: `refused-${Object.keys(changes).join('-')}`, scope, changes });
      await waitFor(() => errors.messages.some((m) => m.payload.trace_id === payload.trace_id), 10_000, `the refusal of ${payload.change_id}`);
      const error = errors.messages.find((m) => m.payload.trace_id === payload.trace_id)!.payload;
      assert.equal(error.error_type, 'config_refused');
      assert.match(String(error.error_message), pattern);
    };
    await refused({ service: 'arc-scarlett-voice' }, { VOICE_TTS_VOICE: DEFAULT_VOICE, VOICE_TURN_THRESHOLD: 2 }, /VOICE_TURN_THRESHOLD="2"/);
    await refused({ service: 'arc-scarlett-voice' }, { VOICE_TTS_VOICE: 'no-such-voice' }, /VOICE_TTS_VOICE="no-such-voice" is not a voice/);
    await refused({ service: 'arc-sherlock-brain' }, { BRAIN_LOCAL_MODEL: 'gemma3-270m' }, /BRAIN_LOCAL_MODEL.*cannot change while arc-sherlock-brain runs/);

    // Applied: the brain's prompt and the voice worker's voice.
    bus.publish('system.config.changed', { change_id: 'prompt', scope: { service: 'arc-sherlock-brain' }, changes: { BRAIN_SYSTEM_PROMPT: 'You are the second prompt.' }, reason: 'test' });
    bus.publish('system.config.changed', { change_id: 'voice', scope: { service: 'arc-scarlett-voice' }, changes: { VOICE_TTS_VOICE: DEFAULT_VOICE } });
    await Promise.all([workers[0]!.waitForOutput(/"change_id":"prompt".*configuration changed/, 10_000), workers[2]!.waitForOutput(/"change_id":"voice".*configuration changed/, 10_000)]);

    const second = await user.ask(float32ToInt16(espeakSpeech('And what about tomorrow morning?')));
    assert.ok(second.answer.length > 0, 'the turn after the changes is answered');
    assert.ok(model.requests.length > turnOne, 'the brain asked the model again');
    assert.equal(systemPromptOf(model.requests.length - 1), 'You are the second prompt.', 'the next turn uses the new prompt');
    const after = spoken().slice(before);
    assert.ok(after.length > 0 && after.every((m) => m.payload.voice_id === DEFAULT_VOICE), `the next answer in the voice set live: ${JSON.stringify(after.map((m) => m.payload.voice_id))}`);
    console.log(`refusals: ${errors.messages.filter((m) => m.payload.error_type === 'config_refused').length}; voice-to-voice before ${Math.round(first.voiceToVoiceMs ?? -1)} ms, after ${Math.round(second.voiceToVoiceMs ?? -1)} ms`);
  } finally {
    await user.leave();
  }
});
