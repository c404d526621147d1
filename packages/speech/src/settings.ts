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
  ORT_INTRA_OP_THREADS: Type.Integer({ minimum: 0, maximum: 256, default: 0, description: 'threads inside one operator (0 = onnxruntime decides)' }),
  ORT_INTER_OP_THREADS: Type.Integer({ minimum: 0, maximum: 256, default: 0, description: 'threads across independent operators (0 = onnxruntime decides)' }),
  ESPEAK_NG: Type.String({ minLength: 1, default: 'espeak-ng', description: 'espeak-ng binary (Piper phonemes)' }),
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
