/**
 * Smart Turn v3.2 (BSD-2, from the pipecat-ai wheel): has the user finished their turn? A
 * Whisper-Tiny encoder with a classifier, over the last 8 s of the turn's audio, 16 kHz.
 *
 * The input is prepared as its reference implementation does: the last 8 s (zero-padded at the
 * start when shorter), normalised to zero mean and unit variance, then Whisper's log-mel
 * features over an 8 s window (80 × 800). The model's output is already P(complete).
 */
import { getModel, resolveModelFile } from '@arc/models';
import { AudioInputError } from '../errors.js';
import { createSession, ort } from '../providers.js';
import { DEFAULT_SPEECH_SETTINGS, type SpeechSettings } from '../settings.js';
import { logMelSpectrogram } from '../stt/whisper.js';

export const SMART_TURN_SAMPLE_RATE = 16000;
const WINDOW_SAMPLES = 8 * SMART_TURN_SAMPLE_RATE;
const MEL_BINS = 80;

/** The model's input features for a turn's audio (16 kHz mono, any length). */
export function smartTurnFeatures(audio: Float32Array): Float32Array {
  const window = new Float64Array(WINDOW_SAMPLES);
  const tail = audio.subarray(Math.max(0, audio.length - WINDOW_SAMPLES));
  window.set(tail, WINDOW_SAMPLES - tail.length);
  let mean = 0;
  for (const v of window) mean += v;
  mean /= WINDOW_SAMPLES;
  let variance = 0;
  for (const v of window) variance += (v - mean) * (v - mean);
  const scale = 1 / Math.sqrt(variance / WINDOW_SAMPLES + 1e-7);
  const normalised = Float32Array.from(window, (v) => (v - mean) * scale);
  return logMelSpectrogram(normalised, MEL_BINS, WINDOW_SAMPLES);
}

export class SmartTurnDetector {
  private constructor(
    readonly name: string,
    private readonly session: ort.InferenceSession,
  ) {}

  /** Throws unless `model` is a smart-turn model of the manifest (a configuration check, before anything loads). */
  static check(model: string): void {
    const engine = getModel(model).engine;
    if (engine !== 'smart-turn') throw new Error(`"${model}" is a ${engine} model, not a smart-turn model`);
  }

  /** Loads `smart-turn-v3.2` from the model store (or `modelPath`). */
  static async load(options: { model?: string; modelPath?: string; settings?: SpeechSettings } = {}): Promise<SmartTurnDetector> {
    const settings = options.settings ?? DEFAULT_SPEECH_SETTINGS;
    const model = options.model ?? 'smart-turn-v3.2';
    const path = options.modelPath ?? resolveModelFile(model, 'smart-turn-v3.2-cpu.onnx', undefined, settings.modelsDir);
    // as its reference runs it: sequential, one inter-op thread
    const session = await createSession(path, { ...settings.session, interOpThreads: 1 });
    return new SmartTurnDetector(`smart-turn:${model}`, session);
  }

  /** P(the turn is complete) for the turn's audio so far, ending with the pause being judged. */
  async completeProbability(audio: Float32Array): Promise<number> {
    if (audio.length === 0) throw new AudioInputError('turn audio is empty');
    const features = smartTurnFeatures(audio);
    const out = await this.session.run({ input_features: new ort.Tensor('float32', features, [1, MEL_BINS, WINDOW_SAMPLES / 160]) });
    return ((out['logits'] as ort.Tensor).data as Float32Array)[0] as number;
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
