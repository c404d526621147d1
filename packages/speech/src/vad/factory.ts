import { join } from 'node:path';
import { isDirectory, resolveEngineChoice, type EngineChoice, type EngineEntry } from '../engine-choice.js';
import { DEFAULT_SPEECH_SETTINGS, type SpeechSettings } from '../settings.js';
import { SileroVad } from './silero.js';
import type { VadEngine } from './types.js';

/** VAD engines by name (see engine-choice.ts). */
const engines = {
  silero: {
    manifestEngine: 'silero-vad',
    defaultModel: 'silero-vad-v5',
    load: (model, settings) => SileroVad.load(isDirectory(model) ? { modelPath: join(model, 'silero_vad.onnx'), settings } : { model, settings }),
  },
} satisfies Record<string, EngineEntry<VadEngine>>;

export const VAD_ENGINES: Record<keyof typeof engines, EngineEntry<VadEngine>> = engines;

export type VadEngineName = keyof typeof engines;
export type VadChoice = EngineChoice<VadEngineName>;

/** Loads the chosen VAD engine; throws EngineChoiceError before loading anything when the choice cannot work. */
export async function createVad(choice: VadChoice = { engine: 'silero' }, settings: SpeechSettings = DEFAULT_SPEECH_SETTINGS): Promise<VadEngine> {
  const { entry, model } = resolveEngineChoice<VadEngine, VadEngineName>(VAD_ENGINES, choice);
  return entry.load(model, settings);
}
