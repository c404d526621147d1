/**
 * npm run bench:turns — turn-taking through the real stack (nats-server, livekit-server, voice,
 * brain and TTS workers; the brain's model is the scripted OpenAI-compatible test server at zero
 * delay), once per end-of-turn mode: vad (the baseline, VOICE_EOU_SILENCE_MS=500) and
 * smart-turn. Scenarios come from turn-scenarios.json. It measures:
 *   - false end of turn: a sentence with a pause inside asked about in more than one request;
 *   - end-of-turn delay: end of the user's speech → the brain request on the bus;
 *   - voice-to-voice at the listener, from the end of the user's speech (espeak ends its audio
 *     with 260–390 ms of quiet; from the end of the audio, as earlier runs measured, is kept too);
 *   - barge-in latency: the user's speech starts → the agent's audio stops at the listener;
 *   - false interruptions: a backchannel or a noise burst (white noise, reversed speech, a cough,
 *     knocks) that stops the agent; and resumes.
 * Barge-in crosses LiveKit twice (the user's audio to the voice worker, the agent's silence to
 * the listener), so each mode also measures, as its same-run floor, LiveKit's one-way audio
 * latency through the same server: a tone captured by one participant → first heard by another.
 * Prints a table, writes bench-results/turns.json. BENCH_MODES=smart-turn,vad chooses modes,
 * BENCH_KINDS=barge_in,… the kinds of scenario, BENCH_ROUNDS=3 runs them all three times (more
 * trials for each p90; percentiles are by nearest rank), BENCH_WORKER_LOG=<file> keeps the
 * workers' info logs (each pause's judgment, with its probability and transcript) in that file.
 */
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AudioFrame, AudioSource, AudioStream, LocalAudioTrack, Room, RoomEvent, TrackKind, TrackPublishOptions, TrackSource, dispose, type RemoteTrack } from '@livekit/rtc-node';
import { AccessToken } from 'livekit-server-sdk';
import { parseTimestampMs, preciseNowMs } from '@arc/contracts';
import { Conversation, quietTailMs, type TalkResult } from '@arc/cli';
import { concatAudio, espeakSpeech, float32ToInt16 } from '@arc/speech';
import { REPO_ROOT, collect, freePort, percentile, startLiveKitServer, startNatsServer, startProcess, startScriptedOpenAIServer, type ManagedProcess } from '@arc/testkit';

type NoiseKind = 'white' | 'reversed' | 'cough' | 'knock';
interface Scenario {
  kind: 'complete' | 'pause' | 'barge_in' | 'backchannel' | 'noise';
  name: string;
  parts?: (string | number)[];
  noise?: NoiseKind;
  ms?: number;
}
const data = JSON.parse(readFileSync(join(REPO_ROOT, 'services/voice/bench/turn-scenarios.json'), 'utf8')) as { speeds: number[]; scenarios: Scenario[] };
const MODES = (process.env.BENCH_MODES ?? 'vad,smart-turn').split(',');
/** BENCH_KINDS=barge_in,noise runs only scenarios of those kinds */
const KINDS = process.env.BENCH_KINDS?.split(',');
const WORKER_LOG = process.env.BENCH_WORKER_LOG;
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 1));
const LONG_ANSWER = 'Here is a short story. A fox lived at the edge of a quiet wood. Every night it crept into the village to look for food. One winter the snow was so deep that it could not get back.';

const rate = (hits: number, of: number) => (of ? hits / of : NaN);
/** the target's noise bursts: 150 ms */
const SHORT_NOISE_MS = 150;

function audioOf(parts: (string | number)[], wordsPerMinute: number): Int16Array {
  return float32ToInt16(concatAudio(parts.map((part) => (typeof part === 'number' ? new Float32Array(16 * part) : espeakSpeech(part, { wordsPerMinute })))));
}

function noiseOf(kind: NoiseKind, ms: number): Int16Array {
  const samples = 16 * ms;
  if (kind === 'white') return Int16Array.from({ length: samples }, () => Math.round((Math.random() - 0.5) * 16_000));
  if (kind === 'cough') {
    // a burst that starts at once and dies away, low-passed: a cough or a bump of the microphone
    let low = 0;
    return Int16Array.from({ length: samples }, (_, i) => {
      low += 0.3 * ((Math.random() - 0.5) * 2 - low);
      return Math.round(20_000 * low * Math.min(1, i / 160) * Math.exp(-i / (16 * 50)));
    });
  }
  if (kind === 'knock') {
    // three knocks 60 ms apart, each a click dying away in 15 ms
    return Int16Array.from({ length: samples }, (_, i) => {
      const since = i % (16 * 60);
      return i < 16 * 180 ? Math.round((Math.random() - 0.5) * 24_000 * Math.exp(-since / (16 * 5))) : 0;
    });
  }
  // espeak ends its audio in a few hundred ms of quiet: reversed, that would lead the burst
  const speech = float32ToInt16(espeakSpeech('hello there, how are you', { wordsPerMinute: 200 }));
  return speech.slice(0, speech.length - 16 * quietTailMs(speech)).reverse().slice(0, samples);
}

/**
 * LiveKit's one-way audio latency through `livekit`, ms per trial: a participant captures a
 * tone after silence (a microphone's 100 ms queue and 20 ms frames, as the bench's user) → the
 * first loud 20 ms frame another participant receives.
 */
async function oneWayAudioMs(livekit: { url: string; apiKey: string; apiSecret: string }, trials = 10): Promise<number[]> {
  const join = async (identity: string) => {
    const token = new AccessToken(livekit.apiKey, livekit.apiSecret, { identity });
    token.addGrant({ roomJoin: true, room: 'transport-baseline', canPublish: true, canSubscribe: true });
    const room = new Room();
    await room.connect(livekit.url, await token.toJwt(), { autoSubscribe: true, dynacast: false });
    return room;
  };
  const receiver = await join('baseline-rx');
  const loudAt: number[] = [];
  receiver.on(RoomEvent.TrackSubscribed, (track: RemoteTrack) => {
    if (track.kind !== TrackKind.KIND_AUDIO) return;
    void (async () => {
      for await (const frame of new AudioStream(track, { sampleRate: 16_000, numChannels: 1, frameSizeMs: 20 }) as unknown as AsyncIterable<AudioFrame>) {
        let sum = 0;
        for (const v of frame.data) sum += v * v;
        if (Math.sqrt(sum / frame.data.length) >= 300) loudAt.push(performance.now());
      }
    })();
  });
  const sender = await join('baseline-tx');
  const source = new AudioSource(16_000, 1, 100);
  const options = new TrackPublishOptions();
  options.source = TrackSource.SOURCE_MICROPHONE;
  await sender.localParticipant!.publishTrack(LocalAudioTrack.createAudioTrack('tone', source), options);
  const silence = new Int16Array(320);
  const tone = Int16Array.from({ length: 320 }, (_, i) => Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 16_000)));
  const capture = (data: Int16Array, frames: number) =>
    (async () => {
      for (let i = 0; i < frames; i++) await source.captureFrame(new AudioFrame(data, 16_000, 1, 320));
    })();
  await capture(silence, 100);
  const latencies: number[] = [];
  for (let trial = 0; trial < trials; trial++) {
    const heardBefore = loudAt.length;
    const playsAt = performance.now() + source.queuedDuration;
    await capture(tone, 15);
    await capture(silence, 25);
    if (loudAt.length > heardBefore) latencies.push(loudAt[heardBefore]! - playsAt);
  }
  await sender.disconnect();
  await receiver.disconnect();
  return latencies;
}

/** When the agent stopped: its last speech frame before a gap of 400 ms after `at`. */
function stoppedAfter(result: TalkResult, at: number): number {
  let stopped = at;
  for (const t of result.speechFrameTimes.filter((time) => time >= at)) {
    if (t - stopped > 400) break;
    stopped = t;
  }
  return stopped - at;
}

interface ModeResult {
  eot_delay_ms: number[];
  v2v_ms: number[];
  /** the same turns from the end of the question's audio, its quiet tail included */
  v2v_from_audio_end_ms: number[];
  pause_trials: Record<string, { trials: number; cut: number }>;
  barge_in_ms: number[];
  /** of barge_in_ms: the user's speech starts → the voice worker publishes agent.tts.cancel */
  barge_in_cancel_ms: number[];
  /** the same-run floor: LiveKit's one-way audio latency (barge-in crosses it twice) */
  livekit_one_way_ms: number[];
  /** noise bursts of up to 150 ms (the target's); longer ones, which STT may hear words in, apart */
  false_interruption: { trials: number; interrupted: number; resumed: number };
  long_noise: { trials: number; interrupted: number; resumed: number };
  backchannel: { trials: number; interrupted: number; resumed: number };
}

async function runMode(mode: string): Promise<ModeResult> {
  const nats = await startNatsServer();
  const port = await freePort();
  const livekit = await startLiveKitServer({ webhookUrls: [`http://127.0.0.1:${port}/livekit/webhook`] });
  const oneWay = await oneWayAudioMs(livekit); // before the workers load their models
  const model = await startScriptedOpenAIServer({
    script: (request) => ({ type: 'text', text: request.lastUserMessage.toLowerCase().includes('story') ? LONG_ANSWER : 'Sure, I can help with that.' }),
  });
  const env = {
    ...process.env,
    NATS_URL: nats.url,
    LIVEKIT_URL: livekit.url,
    LIVEKIT_API_KEY: livekit.apiKey,
    LIVEKIT_API_SECRET: livekit.apiSecret,
    OPENAI_BASE_URL: model.url,
    VOICE_HTTP_PORT: String(port),
    VOICE_TURN_DETECTOR: mode,
    VOICE_EOU_SILENCE_MS: '500',
    LOG_FORMAT: 'json',
    LOG_LEVEL: WORKER_LOG ? 'info' : 'warn',
  };
  const workers: ManagedProcess[] = ['voice', 'brain', 'tts'].map((name) => startProcess(process.execPath, [join(REPO_ROOT, 'services', name, 'dist', 'main.js')], { env }));
  const [requests, ttsRequests, ttsTargeted, cancels] = await Promise.all(['agent.brain.request', 'agent.tts.request', 'agent.tts.worker.*.request', 'agent.tts.cancel'].map((s) => collect(nats.url, s)));
  const result: ModeResult = {
    eot_delay_ms: [],
    v2v_ms: [],
    v2v_from_audio_end_ms: [],
    pause_trials: {},
    barge_in_ms: [],
    barge_in_cancel_ms: [],
    livekit_one_way_ms: oneWay,
    false_interruption: { trials: 0, interrupted: 0, resumed: 0 },
    long_noise: { trials: 0, interrupted: 0, resumed: 0 },
    backchannel: { trials: 0, interrupted: 0, resumed: 0 },
  };
  const wallOffset = preciseNowMs() - performance.now();
  try {
    await new Promise((resolve) => setTimeout(resolve, 8000)); // models load
    const user = await Conversation.join({ livekitUrl: livekit.url, apiKey: livekit.apiKey, apiSecret: livekit.apiSecret, room: `turns-${mode}`, identity: 'bench-user' });
    await user.ask(audioOf(['Hello.'], 160)); // the TTS worker joins the room
    const story = audioOf(['Please tell me a story.'], 160);
    for (const speed of Array.from({ length: ROUNDS }, () => data.speeds).flat()) {
      for (const scenario of data.scenarios.filter((s) => !KINDS || KINDS.includes(s.kind))) {
        const before = requests!.messages.length;
        const cancelsBefore = cancels!.messages.length;
        if (scenario.kind === 'complete' || scenario.kind === 'pause') {
          const asked = await user.ask(audioOf(scenario.parts!, speed));
          await new Promise((resolve) => setTimeout(resolve, 300));
          const sent = requests!.messages.slice(before);
          if (scenario.kind === 'pause') {
            const trial = (result.pause_trials[scenario.name] ??= { trials: 0, cut: 0 });
            trial.trials++;
            if (sent.length > 1) trial.cut++;
          }
          if (asked.voiceToVoiceMs !== undefined && sent.length > 0) {
            result.v2v_ms.push(asked.voiceToVoiceMs);
            result.v2v_from_audio_end_ms.push(asked.voiceToVoiceMs - asked.questionQuietTailMs);
            const questionEnd = wallOffset + asked.speechFrameTimes[0]! - asked.voiceToVoiceMs;
            result.eot_delay_ms.push(parseTimestampMs(sent.at(-1)!.payload.timestamp) - questionEnd);
          }
          process.stderr.write(`${mode} ${speed} wpm ${scenario.name}: requests ${sent.length}, v2v ${Math.round(asked.voiceToVoiceMs ?? NaN)} ms\n`);
          continue;
        }
        const sound = scenario.kind === 'noise' ? noiseOf(scenario.noise!, scenario.ms!) : audioOf(scenario.parts!, speed);
        const told = await user.ask(story, { interruptWith: sound, interruptAfterMs: 1500 });
        await new Promise((resolve) => setTimeout(resolve, 500));
        const interrupted = cancels!.messages.length > cancelsBefore;
        if (scenario.kind === 'barge_in') {
          if (told.interruptedAt !== undefined && interrupted) {
            result.barge_in_ms.push(stoppedAfter(told, told.interruptedAt));
            // The story's previous answer may have been cancelled by this question: the barge-in's cancel is the first after the interruption.
            const spokenAt = wallOffset + told.interruptedAt;
            const cancel = cancels!.messages.slice(cancelsBefore).find((m) => parseTimestampMs(m.payload.timestamp) >= spokenAt);
            if (cancel) result.barge_in_cancel_ms.push(parseTimestampMs(cancel.payload.timestamp) - spokenAt);
          }
          process.stderr.write(`${mode} ${speed} wpm barge-in ${scenario.name}: cancel sent after ${Math.round(result.barge_in_cancel_ms.at(-1) ?? NaN)} ms, stopped after ${Math.round(result.barge_in_ms.at(-1) ?? NaN)} ms\n`);
          continue;
        }
        // Resumed: a sentence of the story's turn sent to TTS after the cancel.
        const storyRequest = requests!.messages[before]?.payload.request_id as string | undefined;
        const cancelAt = interrupted ? parseTimestampMs(cancels!.messages[cancelsBefore]!.payload.timestamp) : Infinity;
        const resumed =
          interrupted &&
          storyRequest !== undefined &&
          [...ttsRequests!.messages, ...ttsTargeted!.messages].some((m) => String(m.payload.request_id).startsWith(`${storyRequest}-s`) && parseTimestampMs(m.payload.timestamp) > cancelAt);
        const tally = scenario.kind !== 'noise' ? result.backchannel : scenario.ms! <= SHORT_NOISE_MS ? result.false_interruption : result.long_noise;
        tally.trials++;
        if (interrupted) tally.interrupted++;
        if (resumed) tally.resumed++;
        process.stderr.write(`${mode} ${speed} wpm ${scenario.kind} ${scenario.name}: interrupted ${interrupted}, resumed ${resumed}\n`);
      }
    }
    await user.leave();
  } finally {
    await Promise.all(workers.map((w) => w.stop(10_000)));
    if (WORKER_LOG) appendFileSync(WORKER_LOG, workers.map((w) => w.output()).join(''));
    await Promise.all([requests, ttsRequests, ttsTargeted, cancels].map((c) => c!.close()));
    await model.close();
    await livekit.stop();
    await nats.stop();
  }
  return result;
}

async function main(): Promise<void> {
  const results: Record<string, ModeResult> = {};
  for (const mode of MODES) results[mode] = await runMode(mode);
  await dispose();
  const col = (v: string) => v.padStart(14);
  const fmt = (v: number, digits = 0) => (Number.isNaN(v) ? '-' : v.toFixed(digits));
  const pct = (v: number) => (Number.isNaN(v) ? '-' : `${Math.round(v * 100)}%`);
  const rows: [string, (r: ModeResult) => string][] = [
    ['v2v median ms', (r) => fmt(percentile(r.v2v_ms, 0.5))],
    ['v2v p90 ms', (r) => fmt(percentile(r.v2v_ms, 0.9))],
    ['  from end of audio: median', (r) => fmt(percentile(r.v2v_from_audio_end_ms, 0.5))],
    ['  from end of audio: p90', (r) => fmt(percentile(r.v2v_from_audio_end_ms, 0.9))],
    ['end-of-turn median ms', (r) => fmt(percentile(r.eot_delay_ms, 0.5))],
    ['end-of-turn p90 ms', (r) => fmt(percentile(r.eot_delay_ms, 0.9))],
    ...[400, 700, 1000].map((ms): [string, (r: ModeResult) => string] => [
      `cut at ${ms} ms pause`,
      (r) => {
        const trials = Object.entries(r.pause_trials).filter(([name]) => name.endsWith(` ${ms}`));
        return pct(rate(trials.reduce((n, [, t]) => n + t.cut, 0), trials.reduce((n, [, t]) => n + t.trials, 0)));
      },
    ]),
    ['barge-in median ms', (r) => fmt(percentile(r.barge_in_ms, 0.5))],
    ['barge-in p90 ms', (r) => fmt(percentile(r.barge_in_ms, 0.9))],
    ['  speech → cancel median', (r) => fmt(percentile(r.barge_in_cancel_ms, 0.5))],
    ['  speech → cancel p90', (r) => fmt(percentile(r.barge_in_cancel_ms, 0.9))],
    ['LiveKit one-way median ms', (r) => fmt(percentile(r.livekit_one_way_ms, 0.5))],
    ['backchannel stops agent', (r) => pct(rate(r.backchannel.interrupted, r.backchannel.trials))],
    [`noise ≤ ${SHORT_NOISE_MS} ms stops agent`, (r) => pct(rate(r.false_interruption.interrupted, r.false_interruption.trials))],
    ['backchannel interrupts', (r) => pct(rate(r.backchannel.interrupted - r.backchannel.resumed, r.backchannel.trials))],
    [`noise ≤ ${SHORT_NOISE_MS} ms interrupts`, (r) => pct(rate(r.false_interruption.interrupted - r.false_interruption.resumed, r.false_interruption.trials))],
    ['longer noise interrupts', (r) => pct(rate(r.long_noise.interrupted - r.long_noise.resumed, r.long_noise.trials))],
    ['stopped, then resumed', (r) => pct(rate(r.backchannel.resumed + r.false_interruption.resumed, r.backchannel.interrupted + r.false_interruption.interrupted))],
  ];
  console.log(`${'turn-taking'.padEnd(26)}${MODES.map(col).join('')}`);
  for (const [label, value] of rows) console.log(`${label.padEnd(26)}${MODES.map((m) => col(value(results[m]!))).join('')}`);
  console.log("v2v and end of turn are measured from the end of the user's speech; 'from end of audio' includes the quiet espeak leaves after it");
  console.log("LiveKit one-way = a tone through the same livekit-server, same run: barge-in crosses it twice (the user's speech in, the agent's silence out)");
  console.log('interrupts = the answer was given up (stopped and not resumed); stopped-then-resumed counts stops by backchannels and short noise that the agent went on from');
  console.log('longer noise: reversed speech of 400 ms, in which STT may hear words ("We all have."): then it is a turn like any other');
  mkdirSync('bench-results', { recursive: true });
  writeFileSync('bench-results/turns.json', `${JSON.stringify({ at: new Date().toISOString(), modes: results }, null, 2)}\n`);
  console.log('wrote bench-results/turns.json');
}

await main();
