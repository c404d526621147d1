import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AudioInputError, ModelFilesMissingError, ModelLoadError } from '../errors.js';
import { rms } from '../audio/pcm.js';
import { Fft } from '../audio/fft.js';
import { createSession, ort } from '../providers.js';
import { DEFAULT_SPEECH_SETTINGS, type SpeechSettings } from '../settings.js';
import { MergedDecoder } from './merged-decoder.js';
import { splitWindows } from './moonshine.js';
import type { SttEngine, TranscribeOptions, Transcript } from './types.js';

const SAMPLE_RATE = 16000;
const N_FFT = 400;
const HOP = 160;
const WINDOW_SAMPLES = 30 * SAMPLE_RATE; // Whisper always sees 30 s
const SILENCE_RMS = 1e-4;

export interface WhisperOptions {
  /** A transformers.js-style Whisper export: the user's own directory (none ships with ARC). */
  dir: string;
  /** Use onnx/*_quantized.onnx instead of the float models. */
  quantized?: boolean;
  settings?: SpeechSettings;
}

/** The files the engine reads, relative to the model directory. */
export function whisperFiles(quantized = false): string[] {
  const q = quantized ? '_quantized' : '';
  return ['config.json', 'generation_config.json', 'tokenizer.json', `onnx/encoder_model${q}.onnx`, `onnx/decoder_model_merged${q}.onnx`];
}

interface GenerationConfig {
  decoder_start_token_id: number;
  eos_token_id: number;
  no_timestamps_token_id?: number;
  is_multilingual?: boolean;
  lang_to_id?: Record<string, number>;
  task_to_id?: Record<string, number>;
  suppress_tokens?: number[];
  begin_suppress_tokens?: number[];
  max_length?: number;
}

/**
 * Whisper (encoder + merged decoder, transformers.js/Optimum layout) with greedy decoding, English
 * transcription, no timestamps. Behind the same SttEngine interface as Moonshine. No Whisper
 * model can be fetched on this project's machines, so this engine has only been exercised up to
 * the missing-files check here.
 */
export class WhisperOnnxStt implements SttEngine {
  readonly sampleRate = 16000 as const;

  private constructor(
    readonly name: string,
    private readonly encoder: ort.InferenceSession,
    private readonly decoder: MergedDecoder,
    private readonly tokens: WhisperTokenizer,
    private readonly generation: GenerationConfig,
    private readonly melBins: number,
  ) {}

  static async load(options: WhisperOptions): Promise<WhisperOnnxStt> {
    const files = whisperFiles(options.quantized);
    const missing = files.filter((f) => !existsSync(join(options.dir, f)));
    if (missing.length > 0) {
      throw new ModelFilesMissingError(options.dir, missing, 'expected a transformers.js Whisper export (e.g. an onnx-community/whisper-* or Xenova/whisper-* snapshot)');
    }
    const json = <T>(f: string): T => JSON.parse(readFileSync(join(options.dir, f), 'utf8')) as T;
    const config = json<{ num_mel_bins?: number }>('config.json');
    const generation = json<GenerationConfig>('generation_config.json');
    const tokens = new WhisperTokenizer(json('tokenizer.json'));
    const session = (options.settings ?? DEFAULT_SPEECH_SETTINGS).session;
    const encoder = await createSession(join(options.dir, files[3] as string), session);
    const decoderPath = join(options.dir, files[4] as string);
    const decoder = new MergedDecoder(await createSession(decoderPath, session), decoderPath);
    const stt = new WhisperOnnxStt(`whisper:${options.dir}`, encoder, decoder, tokens, generation, config.num_mel_bins ?? 80);
    await stt.transcribe(new Float32Array(SAMPLE_RATE).map((_, i) => 0.1 * Math.sin(i / 10)));
    return stt;
  }

  async transcribe(audio: Float32Array, options: TranscribeOptions = {}): Promise<Transcript> {
    if (!(audio instanceof Float32Array)) throw new AudioInputError('transcribe expects 16 kHz mono Float32Array audio');
    const t0 = performance.now();
    const g = this.generation;
    const prompt = [g.decoder_start_token_id];
    if (g.is_multilingual) {
      const en = g.lang_to_id?.['<|en|>'];
      const transcribe = g.task_to_id?.['transcribe'];
      if (en === undefined || transcribe === undefined) throw new ModelLoadError(this.name, 'generation_config.json lacks lang_to_id["<|en|>"] or task_to_id.transcribe');
      prompt.push(en, transcribe);
    }
    if (g.no_timestamps_token_id !== undefined) prompt.push(g.no_timestamps_token_id);
    const suppress = new Set(g.suppress_tokens ?? []);
    const beginSuppress = new Set(g.begin_suppress_tokens ?? []);
    const texts: string[] = [];
    let encodeMs = 0;
    let decodeMs = 0;
    let count = 0;
    for (const window of splitWindows(audio, 30)) {
      if (window.length === 0 || rms(window) < SILENCE_RMS) continue;
      const te = performance.now();
      const features = logMelSpectrogram(window, this.melBins);
      const out = await this.encoder.run({ input_features: new ort.Tensor('float32', features, [1, this.melBins, WINDOW_SAMPLES / HOP]) });
      const td = performance.now();
      const maxTokens = options.maxTokens ?? Math.min(224, Math.ceil((window.length / SAMPLE_RATE) * 6) + 8);
      const ids = await this.decoder.greedy(out['last_hidden_state'] as ort.Tensor, prompt, g.eos_token_id, maxTokens, (step, logits) => {
        for (const id of suppress) logits[id] = -Infinity;
        if (step === 0) for (const id of beginSuppress) logits[id] = -Infinity;
      });
      encodeMs += td - te;
      decodeMs += performance.now() - td;
      count += ids.length;
      const text = this.tokens.decode(ids);
      if (text) texts.push(text);
    }
    return { text: texts.join(' '), audioMs: (audio.length / SAMPLE_RATE) * 1000, tokens: count, timings: { totalMs: performance.now() - t0, encodeMs, decodeMs } };
  }

  async close(): Promise<void> {
    await this.encoder.release();
    await this.decoder.session.release();
  }
}

/** Byte-level BPE decoding from a Hugging Face tokenizer.json (vocab + added tokens). */
class WhisperTokenizer {
  private readonly byId = new Map<number, string>();
  private readonly special = new Set<number>();
  private readonly byteOf = new Map<string, number>();

  constructor(json: { model?: { vocab?: Record<string, number> }; added_tokens?: { id: number; content: string; special?: boolean }[] }) {
    for (const [token, id] of Object.entries(json.model?.vocab ?? {})) this.byId.set(id, token);
    for (const t of json.added_tokens ?? []) {
      this.byId.set(t.id, t.content);
      if (t.special !== false) this.special.add(t.id);
    }
    // GPT-2's byte ↔ printable-character table.
    const printable = [...range(33, 126), ...range(161, 172), ...range(174, 255)];
    let extra = 0;
    for (let b = 0; b < 256; b++) {
      const ch = printable.includes(b) ? b : 256 + extra++;
      this.byteOf.set(String.fromCodePoint(ch), b);
    }
  }

  decode(ids: readonly number[]): string {
    const bytes: number[] = [];
    for (const id of ids) {
      if (this.special.has(id)) continue;
      for (const ch of this.byId.get(id) ?? '') {
        const b = this.byteOf.get(ch);
        if (b !== undefined) bytes.push(b);
      }
    }
    return Buffer.from(bytes).toString('utf8').trim();
  }
}

function range(a: number, b: number): number[] {
  return Array.from({ length: b - a + 1 }, (_, i) => a + i);
}

/**
 * Whisper's log-mel features: a 30 s window (or `windowSamples`, e.g. Smart Turn's 8 s), 25 ms
 * Hann frames every 10 ms, Slaney mel filters, log10, 8 dB range. Shorter audio is zero-padded
 * at the end. Returns [melBins][windowSamples / 160] row-major.
 */
export function logMelSpectrogram(audio: Float32Array, melBins: number, windowSamples = WINDOW_SAMPLES): Float32Array {
  const frames = windowSamples / HOP;
  const padded = new Float32Array(windowSamples + N_FFT);
  // center=True with reflect padding of N_FFT/2 on each side, as torch.stft does.
  const half = N_FFT / 2;
  const x = audio.subarray(0, windowSamples);
  const src = new Float32Array(windowSamples);
  src.set(x);
  padded.set(src, half);
  for (let i = 1; i <= half; i++) {
    padded[half - i] = src[i] as number;
    padded[half + windowSamples - 1 + i] = src[windowSamples - 1 - i] as number;
  }
  const bins = N_FFT / 2 + 1;
  const window = Float32Array.from({ length: N_FFT }, (_, n) => 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / N_FFT));
  const fft = new Fft(N_FFT);
  const filters = melFilters(melBins, bins);
  // each triangular filter is zero outside a few bins: sum only where it is not
  const first = new Int32Array(melBins);
  const last = new Int32Array(melBins);
  for (let m = 0; m < melBins; m++) {
    let k0 = 0;
    while (k0 < bins && filters[m * bins + k0] === 0) k0++;
    let k1 = bins - 1;
    while (k1 > k0 && filters[m * bins + k1] === 0) k1--;
    first[m] = k0;
    last[m] = k1;
  }
  const mel = new Float32Array(melBins * frames);
  const power = new Float32Array(bins);
  const frame = new Float32Array(N_FFT);
  // Padding makes runs of identical frames (zeros after a short Whisper utterance, a constant
  // before a short Smart Turn one): each such run's mel column is computed once.
  let leadEnd = 1;
  while (leadEnd < padded.length && padded[leadEnd] === padded[0]) leadEnd++;
  let trailStart = padded.length - 1;
  while (trailStart > 0 && padded[trailStart - 1] === padded[padded.length - 1]) trailStart--;
  const columns = new Map<number, Float32Array>();
  const column = new Float32Array(melBins);
  for (let t = 0; t < frames; t++) {
    const start = t * HOP;
    const constant = start + N_FFT <= leadEnd ? (padded[0] as number) : start >= trailStart ? (padded[padded.length - 1] as number) : undefined;
    const known = constant === undefined ? undefined : columns.get(constant);
    if (known) {
      for (let m = 0; m < melBins; m++) mel[m * frames + t] = known[m] as number;
      continue;
    }
    let energy = 0;
    for (let n = 0; n < N_FFT; n++) {
      const v = (padded[start + n] as number) * (window[n] as number);
      frame[n] = v;
      energy += v * v;
    }
    if (energy === 0) power.fill(0); // silence: skip the FFT
    else fft.power(frame, power);
    for (let m = 0; m < melBins; m++) {
      let sum = 0;
      for (let k = first[m]!; k <= last[m]!; k++) sum += (filters[m * bins + k] as number) * (power[k] as number);
      column[m] = Math.log10(Math.max(sum, 1e-10));
      mel[m * frames + t] = column[m] as number;
    }
    if (constant !== undefined) columns.set(constant, column.slice());
  }
  let max = -Infinity;
  for (const v of mel) if (v > max) max = v;
  for (let i = 0; i < mel.length; i++) mel[i] = (Math.max(mel[i] as number, max - 8) + 4) / 4;
  return mel;
}

/** librosa.filters.mel(sr=16000, n_fft=400, n_mels, htk=False, norm="slaney"). */
function melFilters(melBins: number, bins: number): Float32Array {
  const fSp = 200 / 3;
  const minLogHz = 1000;
  const minLogMel = minLogHz / fSp;
  const logStep = Math.log(6.4) / 27;
  const toMel = (f: number): number => (f < minLogHz ? f / fSp : minLogMel + Math.log(f / minLogHz) / logStep);
  const toHz = (m: number): number => (m < minLogMel ? m * fSp : minLogHz * Math.exp(logStep * (m - minLogMel)));
  const maxMel = toMel(SAMPLE_RATE / 2);
  const hz = Array.from({ length: melBins + 2 }, (_, i) => toHz((maxMel * i) / (melBins + 1)));
  const filters = new Float32Array(melBins * bins);
  for (let m = 0; m < melBins; m++) {
    const [lo, center, hi] = [hz[m] as number, hz[m + 1] as number, hz[m + 2] as number];
    const norm = 2 / (hi - lo);
    for (let k = 0; k < bins; k++) {
      const f = (k * SAMPLE_RATE) / N_FFT;
      const w = Math.max(0, Math.min((f - lo) / (center - lo), (hi - f) / (hi - center)));
      filters[m * bins + k] = w * norm;
    }
  }
  return filters;
}
