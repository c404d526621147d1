/**
 * npm run bench:e2e — 20 turns through the real stack (nats-server, livekit-server, voice, brain,
 * TTS workers; the brain's model is the scripted OpenAI-compatible test server answering at zero
 * delay). Voice-to-voice = end of the user's speech (not of its audio, which ends in quiet) →
 * first agent audio at the listener. The stages come from the events' timestamps on the bus. Prints a table, writes bench-results/e2e.json.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dispose } from '@livekit/rtc-node';
import { parseTimestampMs, preciseNowMs } from '@arc/contracts';
import { Conversation } from '@arc/cli';
import { float32ToInt16, loadAudio } from '@arc/speech';
import { REPO_ROOT, collect, freePort, percentile, startLiveKitServer, startNatsServer, startProcess, startScriptedOpenAIServer, type ManagedProcess } from '@arc/testkit';

const TURNS = Number(process.env.BENCH_TURNS ?? 20);
const EOU_MS = 500;
const HEARTBEAT_MS = 2000;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'arc-bench-e2e-'));
  const wav = join(dir, 'question.wav');
  execFileSync('espeak-ng', ['-v', 'en-us', '-s', '160', '-w', wav, 'What time is it in Paris?']);
  const question = float32ToInt16(loadAudio(wav, 16000));

  const nats = await startNatsServer();
  const port = await freePort();
  const livekit = await startLiveKitServer({ webhookUrls: [`http://127.0.0.1:${port}/livekit/webhook`] });
  const model = await startScriptedOpenAIServer({ fallback: { type: 'text', text: 'It is ten past nine in Paris. Anything else?' } });
  const env = {
    ...process.env,
    NATS_URL: nats.url,
    LIVEKIT_URL: livekit.url,
    LIVEKIT_API_KEY: livekit.apiKey,
    LIVEKIT_API_SECRET: livekit.apiSecret,
    OPENAI_BASE_URL: model.url,
    VOICE_HTTP_PORT: String(port),
    VOICE_EOU_SILENCE_MS: String(EOU_MS),
    HEARTBEAT_INTERVAL_MS: String(HEARTBEAT_MS),
    LOG_FORMAT: 'json',
    LOG_LEVEL: 'warn',
  };
  const workers: ManagedProcess[] = ['voice', 'brain', 'tts'].map((name) => startProcess(process.execPath, [join(REPO_ROOT, 'services', name, 'dist', 'main.js')], { env }));
  const subjects = ['agent.brain.request', 'agent.brain.partial', 'agent.tts.request', 'agent.tts.worker.*.request', 'agent.tts.completed', 'system.health.heartbeat'];
  const observed = await Promise.all(subjects.map((s) => collect(nats.url, s)));
  const [requests, partials, ttsQueue, ttsTargeted, completed, heartbeats] = observed;
  const rows: Record<string, number>[] = [];
  // heartbeats whose window lies inside the measured turns (not model loading, not the leaving)
  let measuredFrom = Infinity;
  let measuredTo = Infinity;
  try {
    await new Promise((resolve) => setTimeout(resolve, 8000)); // models load
    const user = await Conversation.join({ livekitUrl: livekit.url, apiKey: livekit.apiKey, apiSecret: livekit.apiSecret, room: 'bench-room', identity: 'bench-user' });
    for (let turn = 0; turn < TURNS + 1; turn++) {
      const before = requests!.messages.length;
      const result = await user.ask(question);
      if (turn === 0) measuredFrom = preciseNowMs();
      if (turn === 0 || result.voiceToVoiceMs === undefined) continue; // the first turn joins the TTS worker to the room
      const request = requests!.messages[before]?.payload;
      if (!request) continue;
      // performance.now() of the listener → wall clock, to compare with bus timestamps
      const speechEnd = preciseNowMs() - (performance.now() - (result.speechFrameTimes[0]! - result.voiceToVoiceMs));
      const requestAt = parseTimestampMs(request.timestamp);
      const partial = partials!.messages.find((m) => m.payload.request_id === request.request_id && m.payload.sequence === 0)?.payload;
      const tts = [...ttsQueue!.messages, ...ttsTargeted!.messages].map((m) => m.payload).find((p) => p.request_id === `${request.request_id}-s0`);
      const done = completed!.messages.find((m) => m.payload.request_id === `${request.request_id}-s0`)?.payload;
      if (!partial || !tts || !done) continue;
      const partialAt = parseTimestampMs(partial.timestamp);
      const ttsAt = parseTimestampMs(tts.timestamp);
      const firstAudioCaptured = ttsAt + (done.time_to_first_audio_ms ?? 0);
      const heardAt = speechEnd + result.voiceToVoiceMs;
      rows.push({
        voice_to_voice: result.voiceToVoiceMs,
        // the question's trailing silence counts toward the end-of-utterance wait, so the two
        // are reported together: user audio ends → transcript on the bus
        eou_wait_and_stt: requestAt - speechEnd,
        brain: partialAt - requestAt,
        coordinator: ttsAt - partialAt,
        tts_first_audio: firstAudioCaptured - ttsAt,
        transport: heardAt - firstAudioCaptured,
      });
      process.stderr.write(`turn ${turn}: ${Math.round(result.voiceToVoiceMs)} ms\n`);
    }
    measuredTo = preciseNowMs();
    await user.leave();
  } finally {
    await Promise.all(workers.map((w) => w.stop(10_000)));
    await Promise.all(observed.map((c) => c.close()));
    await dispose();
    await model.close();
    await livekit.stop();
    await nats.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  // Each heartbeat carries the hop p99 and event-loop lag p99 of its window; take each worker's worst window of the turns.
  const worst = new Map<string, number>();
  const worstLag = new Map<string, number>();
  for (const beat of heartbeats!.messages.map((m) => m.payload)) {
    const at = parseTimestampMs(beat.timestamp);
    if (at - HEARTBEAT_MS < measuredFrom || at > measuredTo) continue;
    if (beat.metrics.bus) worst.set(beat.service, Math.max(worst.get(beat.service) ?? 0, beat.metrics.bus.hop_p99_ms));
    if (beat.metrics.event_loop_lag_ms !== undefined) worstLag.set(beat.service, Math.max(worstLag.get(beat.service) ?? 0, beat.metrics.event_loop_lag_ms));
  }
  const busP99Sum = [...worst.values()].reduce((sum, v) => sum + v, 0);
  const stages = ['voice_to_voice', 'eou_wait_and_stt', 'brain', 'coordinator', 'tts_first_audio', 'transport'];
  console.log(`${'stage (ms)'.padEnd(22)}${'median'.padStart(9)}${'p90'.padStart(9)}`);
  const summary: Record<string, { median: number; p90: number }> = {};
  for (const stage of stages) {
    const values = rows.map((r) => r[stage]!);
    summary[stage] = { median: percentile(values, 0.5), p90: percentile(values, 0.9) };
    console.log(`${stage.padEnd(22)}${summary[stage]!.median.toFixed(0).padStart(9)}${summary[stage]!.p90.toFixed(0).padStart(9)}`);
  }
  console.log(`bus hops p99 (worst heartbeat window of the turns, per worker): ${[...worst].map(([s, v]) => `${s} ${v.toFixed(3)}`).join(', ')}; together ${busP99Sum.toFixed(3)} ms`);
  console.log(`event-loop lag p99 (worst heartbeat window of the turns, per worker): ${[...worstLag].map(([s, v]) => `${s} ${v.toFixed(1)}`).join(', ')} ms`);
  console.log(`turns measured: ${rows.length} of ${TURNS} (EOU silence ${EOU_MS} ms)`);
  mkdirSync('bench-results', { recursive: true });
  writeFileSync('bench-results/e2e.json', `${JSON.stringify({ at: new Date().toISOString(), turns: rows.length, eou_ms: EOU_MS, summary, bus_hop_p99_sum_ms: busP99Sum, bus_hop_p99_ms: Object.fromEntries(worst), event_loop_lag_p99_ms: Object.fromEntries(worstLag), rows }, null, 2)}\n`);
  console.log('wrote bench-results/e2e.json');
}

await main();
