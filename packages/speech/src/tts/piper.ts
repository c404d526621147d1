import { existsSync, readFileSync } from 'node:fs';
import { getModel, loadManifest, modelDir, UnknownModelError } from '@arc/models';
import { DEFAULT_SPEECH_SETTINGS, type SpeechSettings } from '../settings.js';
import { join } from 'node:path';
import { ModelLoadError, TextInputError, UnknownVoiceError } from '../errors.js';
import { createSession, ort } from '../providers.js';
import { EspeakPhonemizer } from './espeak.js';
import { float32ToInt16, int16ToFloat32 } from '../audio/pcm.js';
import { resample } from '../audio/resample.js';
import { speakingUnits, splitClauses, type SpeakingUnit } from './text.js';
import type { SynthesisOptions, TtsChunk, TtsEngine } from './types.js';

export const DEFAULT_VOICE = 'piper-en_US-joe-medium';

/** The parts of a Piper voice's .onnx.json this engine uses. */
export interface PiperVoiceConfig {
  audio: { sample_rate: number };
  espeak: { voice: string };
  inference: { noise_scale: number; length_scale: number; noise_w: number };
  phoneme_type?: string;
  phoneme_id_map: Record<string, number[]>;
  num_speakers: number;
  speaker_id_map?: Record<string, number>;
}

const PAD = '_';
const BOS = '^';
const EOS = '$';

/** A Piper (VITS) voice run with onnxruntime-node, phonemized by a resident espeak-ng. */
export class PiperVoice implements TtsEngine {
  readonly sampleRate: number;

  private constructor(
    readonly id: string,
    readonly config: PiperVoiceConfig,
    private readonly session: ort.InferenceSession,
    readonly phonemizer: EspeakPhonemizer,
  ) {
    this.sampleRate = config.audio.sample_rate;
  }

  /**
   * Loads a voice by id — a manifest model id ("piper-en_US-joe-medium") or the Piper voice name
   * ("en_US-joe-medium") — or from explicit file paths. Warms the model and espeak-ng up.
   */
  static async load(options: { voice?: string; modelPath?: string; configPath?: string; settings?: SpeechSettings } = {}): Promise<PiperVoice> {
    const settings = options.settings ?? DEFAULT_SPEECH_SETTINGS;
    let id: string;
    let modelPath: string;
    let configPath: string;
    if (options.modelPath) {
      modelPath = options.modelPath;
      configPath = options.configPath ?? `${modelPath}.json`;
      id = modelPath.split('/').pop()?.replace(/\.onnx$/, '') ?? modelPath;
    } else {
      ({ id, modelPath, configPath } = resolveVoice(options.voice ?? DEFAULT_VOICE, settings.modelsDir));
    }
    for (const p of [modelPath, configPath]) {
      if (!existsSync(p)) throw new ModelLoadError(p, 'file does not exist; run `npm run models:fetch`');
    }
    const config = parseVoiceConfig(configPath);
    const session = await createSession(modelPath, settings.session);
    const phonemizer = new EspeakPhonemizer({ voice: config.espeak.voice, binary: settings.espeakBinary });
    const voice = new PiperVoice(id, config, session, phonemizer);
    await voice.synthesize('Ready.');
    return voice;
  }

  /** Phoneme string of one sentence the way Piper builds it: clause phonemes, their punctuation, spaces between. */
  async phonemize(sentence: string): Promise<string> {
    const clauses = splitClauses(sentence);
    if (clauses.length === 0) return '';
    const phonemes = await this.phonemizer.phonemize(clauses.map((c) => c.text));
    return clauses
      .map((c, i) => `${phonemes[i] ?? ''}${c.punctuation}`)
      .filter((p) => p !== '')
      .join(' ');
  }

  /** Model input ids: BOS, then each phoneme followed by PAD, then EOS. Unknown phonemes are skipped. */
  phonemeIds(phonemes: string): number[] {
    const map = this.config.phoneme_id_map;
    const ids: number[] = [...(map[BOS] ?? []), ...(map[PAD] ?? [])];
    // Piper's map is keyed by single code points after NFD decomposition.
    for (const ch of phonemes.normalize('NFD')) {
      const mapped = map[ch];
      if (!mapped) continue;
      ids.push(...mapped, ...(map[PAD] ?? []));
    }
    ids.push(...(map[EOS] ?? []));
    return ids;
  }

  /**
   * Audio sentence by sentence: each chunk is yielded as soon as it is synthesized, so playback of
   * the first sentence overlaps synthesis of the next. Sentences with nothing speakable (emoji,
   * punctuation only) produce no chunk; text with nothing speakable produces no chunks at all.
   */
  async *stream(text: string, options: SynthesisOptions = {}): AsyncGenerator<TtsChunk> {
    if (typeof text !== 'string') throw new TextInputError(`text to synthesize must be a string, got ${typeof text}`);
    let index = 0;
    for (const unit of speakingUnits(text, options)) {
      if (options.signal?.aborted) return;
      const chunk = await this.unit(unit, options);
      if (options.signal?.aborted) return;
      if (chunk) yield { index: index++, ...chunk };
    }
  }

  /** One unit's audio (a sentence or part of one) at `options.sampleRate`; undefined when it has nothing speakable. */
  async unit(unit: SpeakingUnit, options: SynthesisOptions = {}): Promise<Omit<TtsChunk, 'index'> | undefined> {
    const t0 = performance.now();
    const phonemes = await this.phonemize(unit.text);
    const t1 = performance.now();
    // Only punctuation and spaces: nothing to say.
    if (!/[^\s,;:.!?'"()\-]/u.test(phonemes)) return undefined;
    const silence = Math.round((unit.silenceAfterMs / 1000) * this.sampleRate);
    let audio = await this.infer(this.phonemeIds(phonemes), this.speakerId(options.speaker), options, silence);
    let sampleRate = this.sampleRate;
    if (options.sampleRate && options.sampleRate !== this.sampleRate) {
      audio = float32ToInt16(resample(int16ToFloat32(audio), this.sampleRate, options.sampleRate));
      sampleRate = options.sampleRate;
    }
    return { text: unit.text, phonemes, audio, sampleRate, phonemizeMs: t1 - t0, synthesisMs: performance.now() - t1 };
  }

  /** The whole text as one buffer (for files and tests). */
  async synthesize(text: string, options: SynthesisOptions = {}): Promise<{ audio: Int16Array; sampleRate: number }> {
    const chunks: Int16Array[] = [];
    for await (const chunk of this.stream(text, options)) chunks.push(chunk.audio);
    const audio = new Int16Array(chunks.reduce((n, c) => n + c.length, 0));
    let offset = 0;
    for (const c of chunks) {
      audio.set(c, offset);
      offset += c.length;
    }
    return { audio, sampleRate: this.sampleRate };
  }

  private speakerId(speaker: number | string | undefined): number {
    if (speaker === undefined) return 0;
    const count = this.config.num_speakers;
    const id = typeof speaker === 'number' ? speaker : this.config.speaker_id_map?.[speaker];
    if (id === undefined || !Number.isInteger(id) || id < 0 || id >= count) {
      throw new TextInputError(`voice ${this.id}: unknown speaker ${JSON.stringify(speaker)} (it has ${count} speaker${count === 1 ? '' : 's'})`);
    }
    return id;
  }

  private async infer(ids: number[], speaker: number, options: SynthesisOptions, silenceSamples: number): Promise<Int16Array> {
    const inf = this.config.inference;
    const feeds: Record<string, ort.Tensor> = {
      input: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]),
      input_lengths: new ort.Tensor('int64', BigInt64Array.from([BigInt(ids.length)]), [1]),
      scales: new ort.Tensor('float32', Float32Array.from([options.noiseScale ?? inf.noise_scale, options.lengthScale ?? inf.length_scale, options.noiseW ?? inf.noise_w]), [3]),
    };
    if (this.config.num_speakers > 1) feeds['sid'] = new ort.Tensor('int64', BigInt64Array.from([BigInt(speaker)]), [1]);
    const out = await this.session.run(feeds);
    const wave = (out[this.session.outputNames[0] as string] as ort.Tensor).data as Float32Array;
    const pcm = new Int16Array(wave.length + silenceSamples);
    for (let i = 0; i < wave.length; i++) {
      const v = Math.round((wave[i] as number) * 32767);
      pcm[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
    }
    return pcm;
  }

  async close(): Promise<void> {
    await this.phonemizer.close();
    await this.session.release();
  }
}

/** Piper's own voice names ("en_US-joe-medium") are the manifest ids without "piper-". */
export function piperVoiceId(name: string): string {
  return name.startsWith('piper-') ? name : `piper-${name}`;
}

/** Voice ids are the manifest's Piper models; "en_US-joe-medium" is accepted for "piper-en_US-joe-medium". */
export function listVoices(): string[] {
  return loadManifest()
    .models.filter((m) => m.engine === 'piper')
    .map((m) => m.id);
}

function resolveVoice(voice: string, modelsDir: string | undefined): { id: string; modelPath: string; configPath: string } {
  const manifest = loadManifest();
  const candidates = [voice, `piper-${voice}`];
  for (const id of candidates) {
    let model;
    try {
      model = getModel(id, manifest);
    } catch (err) {
      if (err instanceof UnknownModelError) continue;
      throw err;
    }
    if (model.engine !== 'piper') continue;
    const onnx = model.files.find((f) => f.path.endsWith('.onnx'));
    const json = model.files.find((f) => f.path.endsWith('.onnx.json'));
    if (!onnx || !json) throw new ModelLoadError(id, 'manifest entry needs an .onnx and an .onnx.json file');
    const dir = modelDir(id, manifest, modelsDir);
    return { id, modelPath: join(dir, onnx.path), configPath: join(dir, json.path) };
  }
  throw new UnknownVoiceError(voice, listVoices());
}

function parseVoiceConfig(path: string): PiperVoiceConfig {
  let raw: PiperVoiceConfig;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8')) as PiperVoiceConfig;
  } catch (cause) {
    throw new ModelLoadError(path, `voice config is not JSON: ${(cause as Error).message}`, { cause });
  }
  const bad = (field: string): never => {
    throw new ModelLoadError(path, `voice config field ${field} is missing or invalid`);
  };
  if (!Number.isInteger(raw.audio?.sample_rate)) bad('audio.sample_rate');
  if (typeof raw.espeak?.voice !== 'string') bad('espeak.voice');
  if (typeof raw.phoneme_id_map !== 'object' || !raw.phoneme_id_map[PAD]) bad('phoneme_id_map');
  if (raw.phoneme_type && raw.phoneme_type !== 'espeak') bad(`phoneme_type (only "espeak" is supported, got "${raw.phoneme_type}")`);
  for (const k of ['noise_scale', 'length_scale', 'noise_w'] as const) if (typeof raw.inference?.[k] !== 'number') bad(`inference.${k}`);
  raw.num_speakers = Number.isInteger(raw.num_speakers) && raw.num_speakers > 0 ? raw.num_speakers : 1;
  return raw;
}
