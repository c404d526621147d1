/**
 * Settings of every process that runs speech models, read once at start and validated like
 * every other variable (a bad value exits with code 2 naming it). Engines take them as a plain
 * object, so they load the same way on the main thread, in a worker thread or in a test.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { SessionConfig } from './providers.js';

export const SpeechConfig = Type.Object({
  ORT_PROVIDERS: Type.String({
    pattern: '^(cpu|cuda)(,(cpu|cuda))*$',
    default: 'cpu',
    description: 'onnxruntime execution providers in order of preference (cpu, cuda); CUDA falls back to CPU with one warning',
  }),
  // One thread per model run: parallelism comes from the inference threads (SPEECH_THREADS), and
  // onnxruntime's own pools spin while waiting, which starves everything else on a small machine.
  ORT_INTRA_OP_THREADS: Type.Integer({ minimum: 0, maximum: 256, default: 1, description: 'threads inside one operator (0 = onnxruntime decides: one per core, spinning)' }),
  ORT_INTER_OP_THREADS: Type.Integer({ minimum: 0, maximum: 256, default: 1, description: 'threads across independent operators (0 = onnxruntime decides)' }),
  ESPEAK_NG: Type.String({ minLength: 1, default: 'espeak-ng', description: 'espeak-ng binary (Piper phonemes)' }),
  SPEECH_THREAD_NICENESS: Type.Integer({
    minimum: 0,
    maximum: 19,
    default: 10,
    description: 'scheduling priority of inference threads (Linux nice): above 0 they yield to every event loop and media thread on the machine',
  }),
  SPEECH_THREADS: Type.Integer({
    minimum: 0,
    maximum: 64,
    default: 1,
    description: 'inference threads for STT (voice worker) and TTS (TTS worker); VAD has a thread of its own; 0 = run models on the event loop (for comparison only)',
  }),
});
export type SpeechConfig = Static<typeof SpeechConfig>;

export interface SpeechSettings {
  session: SessionConfig;
  /** where model weights are stored (default: the model store, models/cache) */
  modelsDir?: string;
  espeakBinary: string;
}

export const DEFAULT_SPEECH_SETTINGS: SpeechSettings = {
  session: { providers: ['cpu'], intraOpThreads: 0, interOpThreads: 0 },
  espeakBinary: 'espeak-ng',
};

/** From a validated configuration (SpeechConfig, plus the runtime's ARC_MODELS_DIR). */
export function speechSettings(config: SpeechConfig & { ARC_MODELS_DIR?: string | undefined }): SpeechSettings {
  return {
    session: {
      providers: config.ORT_PROVIDERS.split(',') as SessionConfig['providers'],
      intraOpThreads: config.ORT_INTRA_OP_THREADS,
      interOpThreads: config.ORT_INTER_OP_THREADS,
    },
    ...(config.ARC_MODELS_DIR ? { modelsDir: config.ARC_MODELS_DIR } : {}),
    espeakBinary: config.ESPEAK_NG,
  };
}
