import { basename, join } from 'node:path';
import { modelDir } from '@arc/models';
import { AudioInputError } from '../errors.js';
import { rms } from '../audio/pcm.js';
import { createSession, ort } from '../providers.js';
import { DEFAULT_SPEECH_SETTINGS, type SpeechSettings } from '../settings.js';
import { MoonshineTokenizer } from './moonshine-tokenizer.js';
import { MergedDecoder } from './merged-decoder.js';
import { onnxFromOrt } from './ort-format.js';
import type { SttEngine, TranscribeOptions, Transcript } from './types.js';

const SAMPLE_RATE = 16000;
/** Moonshine was trained on segments up to ~30 s; longer audio is cut into windows this long. */
const MAX_WINDOW_S = 20;
/** Reference decoding allows ~6 tokens per second of audio; a little slack for fast talkers. */
const TOKENS_PER_SECOND = 6.5;
const MIN_TOKENS = 8;
/** Below this RMS a window is digital silence: skipping it saves time and avoids hallucinated text. */
const SILENCE_RMS = 1e-4;
/** The encoder's convolutions need some samples; shorter input is zero-padded to this. */
const MIN_SAMPLES = SAMPLE_RATE / 4;

export interface MoonshineOptions {
  /** a Moonshine model of the manifest (default moonshine-base-en) */
  model?: string;
  /** or a directory with encoder_model.ort, decoder_model_merged.ort, tokenizer.bin */
  dir?: string;
  settings?: SpeechSettings;
  /** Where the ONNX copies of the .ort graphs are kept (default: `<dir>/onnx-cache`). */
  cacheDir?: string;
}

/** Moonshine (encoder + merged decoder with KV cache) run with onnxruntime-node, greedy decoding. */
export class MoonshineStt implements SttEngine {
  readonly sampleRate = 16000 as const;

  private constructor(
    readonly name: string,
    private readonly encoder: ort.InferenceSession,
    private readonly decoder: MergedDecoder,
    readonly tokenizer: MoonshineTokenizer,
  ) {}

  static async load(options: MoonshineOptions = {}): Promise<MoonshineStt> {
    const settings = options.settings ?? DEFAULT_SPEECH_SETTINGS;
    const dir = options.dir ?? modelDir(options.model ?? 'moonshine-base-en', undefined, settings.modelsDir);
    const tokenizer = MoonshineTokenizer.load(join(dir, 'tokenizer.bin'));
    // See ort-format.ts: the .ort graphs are re-saved as ONNX so their int8 weights are folded once.
    const cache = options.cacheDir ?? join(dir, 'onnx-cache');
    const encoder = await createSession(await onnxFromOrt(join(dir, 'encoder_model.ort'), cache), settings.session);
    const decoderPath = await onnxFromOrt(join(dir, 'decoder_model_merged.ort'), cache);
    const decoder = new MergedDecoder(await createSession(decoderPath, settings.session), decoderPath);
    const stt = new MoonshineStt(`moonshine:${basename(dir)}`, encoder, decoder, tokenizer);
    // Warm-up: the first run allocates arenas and is several times slower than later ones.
    await stt.transcribe(warmupAudio());
    return stt;
  }

  async transcribe(audio: Float32Array, options: TranscribeOptions = {}): Promise<Transcript> {
    if (!(audio instanceof Float32Array)) throw new AudioInputError('transcribe expects 16 kHz mono Float32Array audio');
    const t0 = performance.now();
    const audioMs = (audio.length / SAMPLE_RATE) * 1000;
    const texts: string[] = [];
    let encodeMs = 0;
    let decodeMs = 0;
    let tokens = 0;
    for (const window of splitWindows(audio)) {
      if (window.length === 0 || rms(window) < SILENCE_RMS) continue;
      const maxTokens = options.maxTokens ?? Math.max(MIN_TOKENS, Math.ceil((window.length / SAMPLE_RATE) * TOKENS_PER_SECOND));
      const te = performance.now();
      const hidden = await this.encode(window);
      const td = performance.now();
      const ids = await this.decoder.greedy(hidden, [MoonshineTokenizer.BOS], MoonshineTokenizer.EOS, maxTokens);
      decodeMs += performance.now() - td;
      encodeMs += td - te;
      tokens += ids.length;
      const text = this.tokenizer.decode(ids);
      if (text) texts.push(text);
    }
    return { text: texts.join(' '), audioMs, tokens, timings: { totalMs: performance.now() - t0, encodeMs, decodeMs } };
  }

  private async encode(audio: Float32Array): Promise<ort.Tensor> {
    let input = audio;
    if (input.length < MIN_SAMPLES) {
      input = new Float32Array(MIN_SAMPLES);
      input.set(audio);
    }
    const out = await this.encoder.run({ input_values: new ort.Tensor('float32', input, [1, input.length]) });
    return out['last_hidden_state'] as ort.Tensor;
  }

  async close(): Promise<void> {
    await this.encoder.release();
    await this.decoder.session.release();
  }
}

/** Cuts long audio into ≤ maxSeconds windows at the quietest 100 ms near each boundary, so words are not split. */
export function splitWindows(audio: Float32Array, maxSeconds = MAX_WINDOW_S): Float32Array[] {
  const max = maxSeconds * SAMPLE_RATE;
  if (audio.length <= max) return [audio];
  const windows: Float32Array[] = [];
  const hop = SAMPLE_RATE / 10;
  let start = 0;
  while (audio.length - start > max) {
    let cut = start + max;
    let quietest = Infinity;
    // Search the last 4 s of the window for the quietest 100 ms.
    for (let s = start + max - 4 * SAMPLE_RATE; s + hop <= start + max; s += hop / 2) {
      const e = rms(audio, s, s + hop);
      if (e < quietest) {
        quietest = e;
        cut = s + hop / 2;
      }
    }
    windows.push(audio.subarray(start, cut));
    start = cut;
  }
  windows.push(audio.subarray(start));
  return windows;
}

/** A short tone burst: enough for the warm-up to touch every kernel, not silence (which is skipped). */
function warmupAudio(): Float32Array {
  const a = new Float32Array(SAMPLE_RATE);
  for (let i = 0; i < a.length; i++) a[i] = 0.1 * Math.sin((2 * Math.PI * 220 * i) / SAMPLE_RATE);
  return a;
}
