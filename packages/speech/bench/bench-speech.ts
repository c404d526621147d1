// Speech engine benchmark: `npm run bench:speech`. Prints a table and writes bench-results/speech.json.
// Speech input is synthesized with espeak-ng at run time; models come from the model store.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MoonshineStt, PiperVoice, SileroVad, VAD_FRAME_SAMPLES, loadAudio } from '@arc/speech';
import { percentile } from '@arc/testkit';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const RUNS = 5;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

function speech(dir: string, text: string, name: string, seconds?: number): Float32Array {
  const path = join(dir, `${name}.wav`);
  execFileSync('espeak-ng', ['-v', 'en-us', '-s', '165', '-w', path, text]);
  const audio = loadAudio(path);
  if (seconds === undefined) return audio;
  // Exactly `seconds` long: cut or pad with silence, so the latency is for a known length.
  const out = new Float32Array(Math.round(seconds * 16000));
  out.set(audio.subarray(0, out.length));
  return out;
}

interface Row {
  metric: string;
  value: number;
  unit: string;
  target?: string;
  pass?: boolean;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'arc-bench-'));
  const rows: Row[] = [];
  const add = (metric: string, value: number, unit: string, max?: number): void => {
    const row: Row = { metric, value: Math.round(value * 1000) / 1000, unit };
    if (max !== undefined) {
      row.target = `≤ ${max}`;
      row.pass = value <= max;
    }
    rows.push(row);
  };
  try {
    // --- VAD: every 32 ms frame of 30 s of speech and silence, after warm-up.
    let t = performance.now();
    const vad = await SileroVad.load();
    add('VAD load + warm-up', performance.now() - t, 'ms');
    const talk = speech(dir, 'The quick brown fox jumps over the lazy dog. Please call Stella and ask her to bring these things.', 'vad');
    const vadAudio = new Float32Array(30 * 16000);
    for (let o = 0; o + talk.length < vadAudio.length; o += talk.length + 16000) vadAudio.set(talk, o);
    const state = vad.newState();
    const frameMs: number[] = [];
    for (let o = 0; o + VAD_FRAME_SAMPLES <= vadAudio.length; o += VAD_FRAME_SAMPLES) {
      const frame = vadAudio.slice(o, o + VAD_FRAME_SAMPLES);
      t = performance.now();
      await vad.probability(frame, state);
      frameMs.push(performance.now() - t);
    }
    add('VAD per 32 ms frame (mean)', frameMs.reduce((a, b) => a + b, 0) / frameMs.length, 'ms', 0.5);
    add('VAD per 32 ms frame (p95)', percentile(frameMs, 0.95), 'ms');
    await vad.close();

    // --- STT: 1 s, 3 s, 8 s utterances, median of 5.
    t = performance.now();
    const stt = await MoonshineStt.load();
    add('STT load + warm-up (Moonshine base)', performance.now() - t, 'ms');
    const utterances: [number, string][] = [
      [1, 'Turn it off.'],
      [3, 'What time does the next train to Boston leave?'],
      [8, 'Yesterday afternoon, after the rain had stopped, we walked along the river and talked about our plans for the summer.'],
    ];
    for (const [seconds, text] of utterances) {
      const audio = speech(dir, text, `stt-${seconds}`, seconds);
      const times: number[] = [];
      let transcript = '';
      for (let i = 0; i < RUNS; i++) {
        const r = await stt.transcribe(audio);
        times.push(r.timings.totalMs);
        transcript = r.text;
      }
      add(`STT latency, ${seconds} s utterance (median of ${RUNS})`, median(times), 'ms', seconds === 3 ? 300 : undefined);
      console.error(`  stt ${seconds}s: "${transcript}"`);
    }
    await stt.close();

    // --- TTS: a three-sentence answer whose first sentence has 9 words.
    t = performance.now();
    const voice = await PiperVoice.load();
    add('TTS load + warm-up (Piper joe medium)', performance.now() - t, 'ms');
    const answer = 'Sure, I can help you with that right now. Tomorrow in Paris will be sunny with a high of twenty two degrees. You might want to bring sunglasses and a light jacket for the evening.';
    const firstMs: number[] = [];
    const rtf: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      t = performance.now();
      let first: number | undefined;
      let samples = 0;
      for await (const chunk of voice.stream(answer)) {
        first ??= performance.now() - t;
        samples += chunk.audio.length;
      }
      const total = performance.now() - t;
      firstMs.push(first ?? total);
      rtf.push(total / 1000 / (samples / voice.sampleRate));
    }
    add(`TTS time to first audio, 3-sentence answer (median of ${RUNS})`, median(firstMs), 'ms', 250);
    add(`TTS real-time factor, 3-sentence answer (median of ${RUNS})`, median(rtf), 'x', 0.3);

    // --- Phonemization: one resident espeak-ng, sentence by sentence.
    const sentences = [
      'Sure, I can help you with that right now.',
      'What time does the next train to Boston leave?',
      'Doctor Smith paid 42 dollars for 1,000 apples.',
      'The meeting starts at 10 in the morning on Tuesday.',
      'You might want to bring sunglasses and a light jacket for the evening.',
    ];
    const phonemeMs: number[] = [];
    for (let i = 0; i < 20; i++) {
      for (const s of sentences) {
        t = performance.now();
        await voice.phonemize(s);
        phonemeMs.push(performance.now() - t);
      }
    }
    add('Phonemization per sentence (mean)', phonemeMs.reduce((a, b) => a + b, 0) / phonemeMs.length, 'ms', 15);
    add('Phonemization per sentence (p95)', percentile(phonemeMs, 0.95), 'ms');
    await voice.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const width = Math.max(...rows.map((r) => r.metric.length));
  console.log(`\nspeech benchmark — ${cpus().length} cores, ${cpus()[0]?.model ?? '?'}, Node ${process.version}, ORT_PROVIDERS=${process.env['ORT_PROVIDERS'] ?? 'cpu'}`);
  console.log(`${'metric'.padEnd(width)}  ${'value'.padStart(10)}  unit  target   result`);
  for (const r of rows) {
    console.log(`${r.metric.padEnd(width)}  ${r.value.toFixed(r.unit === 'x' ? 3 : 2).padStart(10)}  ${r.unit.padEnd(4)}  ${(r.target ?? '').padEnd(7)}  ${r.pass === undefined ? '' : r.pass ? 'PASS' : 'FAIL'}`);
  }
  const out = join(repoRoot, 'bench-results', 'speech.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify({ date: new Date().toISOString(), cores: cpus().length, cpu: cpus()[0]?.model, node: process.version, rows }, null, 2)}\n`);
  console.log(`\nwrote ${out}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
