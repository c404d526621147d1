/**
 * One spoken turn is one OpenTelemetry trace across the voice, brain and TTS workers, read back
 * from a real Jaeger's query API. Real nats-server, livekit-server, Jaeger and the three workers;
 * the model is the scripted OpenAI-compatible server.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { dispose } from '@livekit/rtc-node';
import { Conversation } from '@arc/cli';
import { espeakSpeech, float32ToInt16 } from '@arc/speech';
import { collect, freePort, startJaeger, startLiveKitServer, startNatsServer, startScriptedOpenAIServer, startWorkerProcess, waitFor, waitUntilReady } from '@arc/testkit';
import type { Collector, JaegerHandle, LiveKitServerHandle, ManagedProcess, NatsServerHandle, ScriptedOpenAIServer } from '@arc/testkit';

let nats: NatsServerHandle;
let livekit: LiveKitServerHandle;
let jaeger: JaegerHandle;
let model: ScriptedOpenAIServer;
let requests: Collector;
const workers: ManagedProcess[] = [];

before(async () => {
  nats = await startNatsServer();
  jaeger = await startJaeger();
  const voicePort = await freePort();
  livekit = await startLiveKitServer({ webhookUrls: [`http://127.0.0.1:${voicePort}/livekit/webhook`] });
  // One tool round: the model asks for the time in Paris, then answers from the tool's result.
  model = await startScriptedOpenAIServer({
    script: (request) =>
      request.body.messages?.some((m) => m.role === 'tool')
        ? { type: 'text', text: 'In Paris it is evening, a fine time for a walk by the river.' }
        : { type: 'tool_calls', calls: [{ name: 'current_datetime', arguments: { timezone: 'Europe/Paris' } }] },
  });
  requests = await collect(nats.url, 'agent.brain.request');
  const tracing = { OTEL_EXPORTER_OTLP_ENDPOINT: jaeger.otlpUrl };
  workers.push(
    startWorkerProcess('brain', { nats }, { ...tracing, OPENAI_BASE_URL: model.url }),
    startWorkerProcess('tts', { nats, livekit }, tracing),
    startWorkerProcess('voice', { nats, livekit }, { ...tracing, VOICE_HTTP_PORT: String(voicePort), VOICE_MIN_SPEECH_MS: '120' }),
  );
  await Promise.all([waitUntilReady('brain', workers[0]!), waitUntilReady('tts', workers[1]!), waitUntilReady('voice', workers[2]!)]);
});

after(async () => {
  await Promise.all(workers.map((w) => w.stop(10_000)));
  await requests?.close();
  await dispose();
  await model?.close();
  await livekit?.stop();
  await jaeger?.stop();
  await nats?.stop();
});

interface JaegerSpan {
  spanID: string;
  operationName: string;
  duration: number;
  startTime: number;
  processID: string;
  references: { refType: string; spanID: string }[];
}

test('one spoken turn is one trace in Jaeger with spans from the voice, brain and TTS workers', async () => {
  const user = await Conversation.join({ livekitUrl: livekit.url, apiKey: livekit.apiKey, apiSecret: livekit.apiSecret, room: 'traced', identity: 'traced-user', answerTimeoutMs: 15_000 });
  try {
    const result = await user.ask(float32ToInt16(espeakSpeech('Tell me about the evening in Paris.')));
    assert.ok(result.answer.length > 0, 'the agent answered');
  } finally {
    await user.leave();
  }
  const traceId = requests.messages[0]?.payload.trace_id as string;
  assert.match(traceId, /^[0-9a-f]{32}$/);

  let spans: JaegerSpan[] = [];
  let services: Record<string, string> = {};
  const wanted = ['voice_to_voice', 'end_of_speech_to_transcript', 'brain_total', 'llm', 'llm_first_token', 'tool_call', 'tts_synthesis', 'tts_first_audio', 'tts_playout'];
  await waitFor(
    async () => {
      const response = await fetch(`${jaeger.queryUrl}/api/traces/${traceId}`).catch(() => undefined);
      if (!response?.ok) return false;
      const body = (await response.json()) as { data: { spans: JaegerSpan[]; processes: Record<string, { serviceName: string }> }[] };
      const found = body.data[0];
      if (!found) return false;
      spans = found.spans;
      services = Object.fromEntries(Object.entries(found.processes).map(([id, p]) => [id, p.serviceName]));
      return wanted.every((name) => spans.some((s) => s.operationName === name));
    },
    20_000,
    `spans of trace ${traceId} in Jaeger`,
    250,
  ).catch(async (error: Error) => {
    const known = await (await fetch(`${jaeger.queryUrl}/api/services`)).text();
    const said = workers.map((w) => w.output().split('\n').filter((l) => /OpenTelemetry|spans|otlp/i.test(l)).join(' ')).join(' / ');
    throw new Error(`${error.message}; have ${spans.map((s) => s.operationName).join(', ')}; Jaeger knows ${known}; workers said: ${said}`);
  });
  const byName = (name: string) => spans.find((s) => s.operationName === name)!;
  assert.equal(new Set(Object.values(services)).size, 3, `spans from three services: ${Object.values(services).join(', ')}`);

  const root = byName('voice_to_voice');
  assert.equal(root.references.length, 0, 'the turn is the root');
  for (const span of spans.filter((s) => s !== root)) {
    assert.ok(span.references.some((r) => r.refType === 'CHILD_OF' && r.spanID === root.spanID), `${span.operationName} is a child of the turn`);
  }
  // Stage durations add up: speech end → transcript, then the brain, then the first audio, all
  // inside the turn's voice-to-voice time (Jaeger reports microseconds).
  const v2v = root.duration;
  const stt = byName('end_of_speech_to_transcript').duration;
  const firstAudio = byName('tts_first_audio').duration;
  assert.ok(stt + firstAudio <= v2v * 1.05 + 5_000, `STT ${stt} µs + first audio ${firstAudio} µs within voice-to-voice ${v2v} µs`);
  const brain = byName('brain_total');
  const calls = spans.filter((s) => s.operationName === 'llm');
  assert.equal(calls.length, 2, 'two model calls: the one that chose the tool, the one that answered');
  const tool = byName('tool_call');
  const [chose, answered] = calls.sort((a, b) => a.startTime - b.startTime);
  assert.ok(chose!.startTime + chose!.duration <= tool.startTime + 1_000 && tool.startTime + tool.duration <= answered!.startTime + 1_000, 'model → tool → model, in order');
  const inBrain = calls.reduce((sum, s) => sum + s.duration, 0) + tool.duration;
  assert.ok(inBrain <= brain.duration + 2_000, `model calls and the tool call (${inBrain} µs) fit inside the brain’s handling (${brain.duration} µs)`);
  // The durations of one real turn, as Jaeger reports them (for operators and the closing note).
  const table = spans.map((s) => ({ stage: s.operationName, service: services[s.processID], ms: +(s.duration / 1000).toFixed(1) })).sort((a, b) => a.stage.localeCompare(b.stage));
  console.log(`spans of trace ${traceId}:\n${table.map((r) => `  ${r.stage.padEnd(28)} ${String(r.service).padEnd(22)} ${r.ms} ms`).join('\n')}`);
  assert.ok(byName('end_of_speech_to_transcript').startTime >= root.startTime - 1_000, 'STT starts when the turn does');
});
