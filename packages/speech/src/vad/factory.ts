import { join } from 'node:path';
import { engineKind, isDirectory, type EngineChoice, type EngineNameOf } from '../engine-choice.js';
import { SileroVad } from './silero.js';
import type { VadEngine } from './types.js';

/** VAD engines by name (see engine-choice.ts). */
export const VadEngines = engineKind<VadEngine>()({
  silero: {
    manifestEngine: 'silero-vad',
    defaultModel: 'silero-vad-v5',
    load: (model, settings) => SileroVad.load(isDirectory(model) ? { modelPath: join(model, 'silero_vad.onnx'), settings } : { model, settings }),
  },
});
export type VadEngineName = EngineNameOf<typeof VadEngines>;
export type VadChoice = EngineChoice<VadEngineName>;
