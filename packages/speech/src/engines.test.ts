// End-to-end checks of the real engines (models from `npm run models:fetch`, espeak-ng from Debian).
// Accuracy and robustness only: speed is measured by `npm run bench:speech`, never asserted here.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAudio, readWav } from './audio/wav.js';
import { int16ToFloat32, rms } from './audio/pcm.js';
import { resample } from './audio/resample.js';
import { AudioInputError, UnknownVoiceError, WavFormatError } from './errors.js';
import { corpusWer, wordErrors } from './eval/wer.js';
import { MoonshineStt } from './stt/moonshine.js';
import { PiperVoice } from './tts/piper.js';
import { SileroVad } from './vad/silero.js';
import type { VadEvent } from './vad/types.js';

const SENTENCES = [
  'The quick brown fox jumps over the lazy dog.',
  'Please call Stella and ask her to bring these things with her from the store.',
  'What time does the next train to Boston leave?',
  'I bought 12 eggs and 3 loaves of bread for 7 dollars.',
  'Can you turn off the lights in the kitchen?',
  'John and Mary flew to Paris last summer.',
  'The meeting starts at 10 in the morning on Tuesday.',
  'How much does it cost to fly from London to New York?',
  'There are 365 days in a year and 24 hours in a day.',
  'Is it going to rain tomorrow afternoon?',
  'Doctor Smith will see you in the main office now.',
  'Yesterday afternoon, after the rain had finally stopped, we walked along the river, stopped at a small cafe for coffee, and talked for hours about books, music, and our plans for the future.',
];

let dir: string;
let stt: MoonshineStt;
let tts: PiperVoice;
let vad: SileroVad;

/** Speech from espeak-ng (a different synthesizer than Piper), written at test time. */
function espeakWav(text: string, name: string): string {
  const path = join(dir, `${name}.wav`);
  execFileSync('espeak-ng', ['-v', 'en-us', '-s', '160', '-w', path, text]);
  return path;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'arc-speech-'));
  [stt, tts, vad] = await Promise.all([MoonshineStt.load(), PiperVoice.load(), SileroVad.load()]);
});

after(async () => {
  await Promise.all([stt?.close(), tts?.close(), vad?.close()]);
  rmSync(dir, { recursive: true, force: true });
});

describe('STT (Moonshine) on espeak-ng speech', () => {
  test(`word error rate over ${SENTENCES.length} sentences is at most 15%`, async (t) => {
    const pairs = [];
    for (const [i, reference] of SENTENCES.entries()) {
      const { text } = await stt.transcribe(loadAudio(espeakWav(reference, `espeak-${i}`)));
      pairs.push({ reference, hypothesis: text });
    }
    const total = corpusWer(pairs);
    const report = pairs.map((p) => `  ${wordErrors(p.reference, p.hypothesis).errors} | ${p.reference} → ${p.hypothesis}`).join('\n');
    t.diagnostic(`WER ${(total.wer * 100).toFixed(1)}% (${total.errors}/${total.referenceWords})\n${report}`);
    assert.ok(total.wer <= 0.15, `WER ${(total.wer * 100).toFixed(1)}% (${total.errors}/${total.referenceWords})\n${report}`);
  });

  test('the tokenizer decodes pieces and byte-fallback tokens', () => {
    const tok = stt.tokenizer;
    const ids = ['▁Hello', ',', '▁world'].map((p) => tok.idOf(p));
    assert.ok(ids.every((id) => id !== undefined), `pieces missing: ${ids}`);
    assert.equal(tok.decode(ids as number[]), 'Hello, world');
    // "é" = 0xC3 0xA9 as byte tokens (3 + byte value), between special tokens that are skipped.
    assert.equal(tok.decode([1, 3 + 0x63, 3 + 0xc3, 3 + 0xa9, 2]), 'cé');
  });

  test('44.1 kHz stereo 8-bit input is converted and still understood', async () => {
    const sentence = 'Please open the front door and let the dog out.';
    const original = espeakWav(sentence, 'convert');
    const baseline = wordErrors(sentence, (await stt.transcribe(loadAudio(original))).text).wer;
    const src = readWav(original);
    const mono = resample(src.samples, src.sampleRate, 44100);
    // Use the 8-bit range fully, as a recorder would; espeak-ng's quiet output would drown in quantization noise.
    const peak = mono.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    for (let i = 0; i < mono.length; i++) mono[i] = ((mono[i] as number) / peak) * 0.9;
    const data = Buffer.alloc(mono.length * 2);
    for (let i = 0; i < mono.length; i++) data[2 * i] = data[2 * i + 1] = Math.max(0, Math.min(255, Math.round((mono[i] as number) * 127 + 128)));
    const header = Buffer.alloc(44);
    header.write('RIFF', 0, 'ascii');
    header.writeUInt32LE(36 + data.length, 4);
    header.write('WAVEfmt ', 8, 'ascii');
    header.writeUInt32LE(16, 16);
    header.writeUInt16LE(1, 20);
    header.writeUInt16LE(2, 22);
    header.writeUInt32LE(44100, 24);
    header.writeUInt32LE(88200, 28);
    header.writeUInt16LE(2, 32);
    header.writeUInt16LE(8, 34);
    header.write('data', 36, 'ascii');
    header.writeUInt32LE(data.length, 40);
    const path = join(dir, 'u8-stereo-44k.wav');
    writeFileSync(path, Buffer.concat([header, data]));
    const { text } = await stt.transcribe(loadAudio(path));
    const converted = wordErrors(sentence, text).wer;
    assert.ok(converted <= Math.max(0.15, baseline), `got "${text}" (WER ${converted}, 16-bit original ${baseline})`);
  });

  test('audio longer than one Moonshine window is cut at pauses and fully transcribed', async () => {
    const parts = SENTENCES.slice(0, 6).map((sentence, i) => loadAudio(espeakWav(sentence, `long-${i}`)));
    const gap = new Float32Array(8000);
    const total = parts.reduce((n, p) => n + p.length + gap.length, 0);
    const audio = new Float32Array(total);
    let offset = 0;
    for (const p of parts) {
      audio.set(p, offset);
      offset += p.length + gap.length;
    }
    assert.ok(audio.length > 16000 * 22, `only ${(audio.length / 16000).toFixed(1)} s`);
    const { text } = await stt.transcribe(audio);
    const wer = wordErrors(SENTENCES.slice(0, 6).join(' '), text).wer;
    assert.ok(wer <= 0.15, `WER ${wer}: "${text}"`);
  });

  test('empty audio, very short audio and ten minutes of silence give empty text without hanging', async () => {
    assert.equal((await stt.transcribe(new Float32Array(0))).text, '');
    assert.equal(typeof (await stt.transcribe(new Float32Array(100).fill(0.01))).text, 'string');
    const silence = await stt.transcribe(new Float32Array(16000 * 600));
    assert.equal(silence.text, '');
    assert.equal(silence.audioMs, 600_000);
  });

  test('bad input gives typed errors', async () => {
    const broken = join(dir, 'broken.wav');
    writeFileSync(broken, Buffer.from('RIFF\x00\x00\x00\x00WAVEjunk'));
    assert.throws(() => loadAudio(broken), WavFormatError);
    await assert.rejects(stt.transcribe([1, 2, 3] as unknown as Float32Array), AudioInputError);
  });
});

describe('TTS (Piper) → STT round trip', () => {
  test('same sentences: WER at most 15%, plausible durations, not silent', async (t) => {
    const pairs = [];
    for (const reference of SENTENCES) {
      const { audio, sampleRate } = await tts.synthesize(reference);
      const seconds = audio.length / sampleRate;
      const words = reference.split(/\s+/).length;
      // Conversational English is ~2–4 words per second.
      assert.ok(seconds > words * 0.15 && seconds < words * 0.8 + 1, `${seconds.toFixed(2)} s for ${words} words: "${reference}"`);
      assert.ok(rms(audio) > 500, `RMS ${rms(audio).toFixed(0)} too low for "${reference}"`);
      const { text } = await stt.transcribe(resample(int16ToFloat32(audio), sampleRate, 16000));
      pairs.push({ reference, hypothesis: text });
    }
    const total = corpusWer(pairs);
    const report = pairs.map((p) => `  ${wordErrors(p.reference, p.hypothesis).errors} | ${p.reference} → ${p.hypothesis}`).join('\n');
    t.diagnostic(`WER ${(total.wer * 100).toFixed(1)}% (${total.errors}/${total.referenceWords})\n${report}`);
    assert.ok(total.wer <= 0.15, `WER ${(total.wer * 100).toFixed(1)}% (${total.errors}/${total.referenceWords})\n${report}`);
  });

  test('streams one chunk per sentence, in order', async () => {
    const chunks = [];
    for await (const chunk of tts.stream('First sentence here. Second one follows! Is this the third?')) chunks.push(chunk);
    assert.deepEqual(chunks.map((c) => c.index), [0, 1, 2]);
    assert.deepEqual(chunks.map((c) => c.text), ['First sentence here.', 'Second one follows!', 'Is this the third?']);
    assert.ok(chunks.every((c) => c.sampleRate === 22050 && c.audio.length > 22050 * 0.5));
    assert.ok((chunks[2]?.phonemes ?? '').endsWith('?'));
  });

  test('phoneme ids follow Piper: BOS, PAD after every phoneme, EOS; punctuation kept', async () => {
    const phonemes = await tts.phonemize('Hello, world!');
    assert.match(phonemes, /^həlˈoʊ, wˈɜːld!$/);
    const ids = tts.phonemeIds('ab');
    const map = tts.config.phoneme_id_map;
    assert.deepEqual(ids, [map['^']?.[0], map['_']?.[0], map['a']?.[0], map['_']?.[0], map['b']?.[0], map['_']?.[0], map['$']?.[0]]);
  });

  test('an abort signal stops the stream between sentences (barge-in)', async () => {
    const controller = new AbortController();
    const seen = [];
    for await (const chunk of tts.stream('One. Two. Three. Four.', { signal: controller.signal })) {
      seen.push(chunk.index);
      controller.abort();
    }
    assert.deepEqual(seen, [0]);
  });

  test('empty, emoji-only and punctuation-only text: no crash; nothing speakable → no audio', async () => {
    assert.equal((await tts.synthesize('')).audio.length, 0);
    assert.equal((await tts.synthesize('?!... ,,, ;')).audio.length, 0);
    const emoji = await tts.synthesize('😀🎉👍');
    assert.ok(emoji.audio.length >= 0);
  });

  test('a 5,000-character text is synthesized sentence by sentence', async () => {
    const sentence = 'This is a fairly long sentence that keeps going, so the text reaches five thousand characters. ';
    const text = sentence.repeat(Math.ceil(5000 / sentence.length)).slice(0, 5000);
    let chunks = 0;
    let samples = 0;
    for await (const chunk of tts.stream(text)) {
      chunks++;
      samples += chunk.audio.length;
    }
    assert.ok(chunks >= 50, `${chunks} chunks`);
    const seconds = samples / 22050;
    assert.ok(seconds > 150 && seconds < 600, `${seconds.toFixed(0)} s of audio for 5000 characters`);
  });

  test('an unknown voice is a typed error listing the known voices', async () => {
    await assert.rejects(PiperVoice.load({ voice: 'xx_XX-nobody-low' }), (e: unknown) => e instanceof UnknownVoiceError && /piper-en_US-joe-medium/.test(e.message));
  });
});

describe('VAD (Silero v5)', () => {
  test('finds speech between silences within ±100 ms', async () => {
    const speech = loadAudio(espeakWav('This is a test of the voice activity detector.', 'vad'));
    // Truth: first and last sample above -40 dBFS in the espeak output itself.
    const loud = (i: number): boolean => Math.abs(speech[i] as number) > 0.01;
    let first = 0;
    while (first < speech.length && !loud(first)) first++;
    let last = speech.length - 1;
    while (last > 0 && !loud(last)) last--;
    const lead = 1.5;
    const audio = new Float32Array(Math.round(16000 * (lead + speech.length / 16000 + 2)));
    audio.set(speech, 16000 * lead);
    const expectedStart = lead * 1000 + (first / 16000) * 1000;
    const expectedEnd = lead * 1000 + (last / 16000) * 1000;
    const segments = await vad.segments(audio, { minSilenceMs: 500 });
    assert.equal(segments.length, 1, JSON.stringify(segments));
    const [seg] = segments as [{ startMs: number; endMs: number }];
    assert.ok(Math.abs(seg.startMs - expectedStart) <= 100, `start ${seg.startMs} vs ${expectedStart.toFixed(0)}`);
    assert.ok(Math.abs(seg.endMs - expectedEnd) <= 100, `end ${seg.endMs} vs ${expectedEnd.toFixed(0)}`);
  });

  test('streaming in odd-sized chunks emits start then end events', async () => {
    const speech = loadAudio(espeakWav('Hello there.', 'vad-stream'));
    const audio = new Float32Array(16000 + speech.length + 16000);
    audio.set(speech, 16000);
    const stream = vad.stream({ minSilenceMs: 300 });
    const events = [];
    for (let i = 0; i < audio.length; i += 333) events.push(...(await stream.push(audio.subarray(i, i + 333))));
    events.push(...(await stream.flush()));
    assert.deepEqual(events.map((e) => e.type), ['speech-start', 'speech-end']);
  });

  test('a pause inside speech: pause, then resume when speech comes back, one segment end', async () => {
    const first = loadAudio(espeakWav('I would like to book a table', 'vad-pause-1'));
    const second = loadAudio(espeakWav('for four people.', 'vad-pause-2'));
    const gap = 16000 * 0.7;
    const audio = new Float32Array(8000 + first.length + gap + second.length + 32000);
    audio.set(first, 8000);
    audio.set(second, 8000 + first.length + gap);
    const stream = vad.stream({ minSilenceMs: 1500, pauseMs: 200, minSpeechMs: 120 });
    const events = [];
    for (let i = 0; i < audio.length; i += 320) events.push(...(await stream.push(audio.subarray(i, i + 320))));
    assert.deepEqual(events.map((e) => e.type), ['speech-start', 'pause', 'resume', 'pause', 'speech-end']);
    const resume = events[2] as { startMs: number };
    const resumedAt = ((8000 + first.length + gap) / 16000) * 1000;
    assert.ok(Math.abs(resume.startMs - resumedAt) < 250, `resume at ${resume.startMs} ms, speech again at ${resumedAt.toFixed(0)} ms`);
  });

  test('a gap comes before each pause, over the same speech, so work on it can start sooner', async () => {
    const first = loadAudio(espeakWav('I would like to book a table', 'vad-pause-1'));
    const second = loadAudio(espeakWav('for four people.', 'vad-pause-2'));
    const audio = new Float32Array(8000 + first.length + 11_200 + second.length + 32000);
    audio.set(first, 8000);
    audio.set(second, 8000 + first.length + 11_200);
    const stream = vad.stream({ minSilenceMs: 1500, pauseMs: 200, gapMs: 96, minSpeechMs: 120 });
    const events: VadEvent[] = [];
    for (let i = 0; i < audio.length; i += 320) events.push(...(await stream.push(audio.subarray(i, i + 320))));
    const pauses = events.flatMap((e, i) => (e.type === 'pause' ? [i] : []));
    assert.equal(pauses.length, 2);
    for (const at of pauses) {
      const gap: VadEvent | undefined = events.slice(0, at).findLast((e) => e.type === 'gap');
      assert.deepEqual(gap && { ...gap, type: 'pause' }, events[at], 'the last gap before a pause covers the same speech');
    }
    assert.equal(events.filter((e) => e.type !== 'gap').length, 5, 'gaps add events, they change none');
  });

  test('barge-in onset: a word whose first sound Silero rates low ("Stop") is caught once that sound has lasted onsetMs', async () => {
    const word = loadAudio(espeakWav('Stop, wait a moment please.', 'vad-onset'));
    const lead = 8000;
    const onsetAt = async (audio: Float32Array) => {
      const stream = vad.stream({ minSilenceMs: 300, pauseMs: 200, minSpeechMs: 250, onsetMs: 96, onsetThreshold: 0.7 });
      for (let i = 0; i < audio.length; i += 320) {
        const onset = (await stream.push(audio.subarray(i, i + 320))).find((e) => e.type === 'onset');
        if (onset) return { startMs: onset.startMs, atMs: ((i + 320) * 1000) / 16000 };
      }
      return undefined;
    };
    const audio = new Float32Array(lead + word.length + 16000);
    audio.set(word, lead);
    const wordMs = (lead * 1000) / 16000;
    const onset = await onsetAt(audio);
    assert.ok(onset, 'an onset');
    // Silero is sure only from the vowel, ~130 ms in: 96 ms of it at 0.7 would make ~230 ms.
    assert.ok(onset.atMs - wordMs <= 180, `onset ${onset.atMs - wordMs} ms into the word`);
    assert.ok(Math.abs(onset.startMs - wordMs) <= 40, `the onset starts with the word's first sound (${onset.startMs - wordMs} ms from it)`);
    const noise = new Float32Array(lead + 2400 + 16000);
    for (let i = lead; i < lead + 2400; i++) noise[i] = (Math.random() - 0.5) * 0.5;
    assert.equal(await onsetAt(noise), undefined, 'a 150 ms burst of white noise is no onset');
  });

  test('barge-in on sound: "Stop" gives a sound event 64 ms into its first sound, before Silero rates it speech; a noise burst sounds once and fades', async () => {
    const word = loadAudio(espeakWav('Stop, wait a moment please.', 'vad-sound'));
    const lead = 8000;
    const eventsOf = async (audio: Float32Array) => {
      const stream = vad.stream({ minSilenceMs: 300, pauseMs: 200, minSpeechMs: 250, onsetMs: 96, onsetThreshold: 0.7, soundOnsetMs: 64 });
      const events: { type: string; atMs: number; startMs?: number }[] = [];
      for (let i = 0; i < audio.length; i += 320) {
        for (const e of await stream.push(audio.subarray(i, i + 320))) events.push({ type: e.type, atMs: ((i + 320) * 1000) / 16000, ...('startMs' in e ? { startMs: e.startMs } : {}) });
      }
      return events;
    };
    const wordMs = (lead * 1000) / 16000;
    const audio = new Float32Array(lead + word.length + 16000);
    audio.set(word, lead);
    const events = await eventsOf(audio);
    const sound = events.find((e) => e.type === 'sound');
    const onset = events.find((e) => e.type === 'onset');
    assert.ok(sound && onset, `a sound and an onset (${events.map((e) => e.type).join(', ')})`);
    assert.ok(sound.atMs < onset.atMs, `the sound (${sound.atMs - wordMs} ms into the word) comes before the onset (${onset.atMs - wordMs} ms)`);
    assert.ok(sound.atMs - wordMs <= 110, `sound ${sound.atMs - wordMs} ms into the word`);
    assert.ok(events.some((e) => e.type === 'speech-start'), 'the word becomes speech');
    assert.ok(!events.some((e) => e.type === 'onset-dropped'), 'a word does not fade');
    // 150 ms of white noise, then 1 s of it: one sound event each, which fades; no onset, no speech
    for (const ms of [150, 1000]) {
      const noise = new Float32Array(lead + 16 * ms + 16000);
      for (let i = lead; i < lead + 16 * ms; i++) noise[i] = (Math.random() - 0.5) * 0.5;
      const heard = (await eventsOf(noise)).map((e) => e.type);
      assert.deepEqual(heard, ['sound', 'onset-dropped'], `${ms} ms of white noise`);
    }
  });

  test('silence, empty audio and ten minutes of silence contain no speech', async () => {
    assert.deepEqual(await vad.segments(new Float32Array(0)), []);
    assert.deepEqual(await vad.segments(new Float32Array(16000 * 600)), []);
  });
});
