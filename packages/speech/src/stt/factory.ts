import { isDirectory, resolveEngineChoice, type EngineChoice, type EngineEntry } from '../engine-choice.js';
import { DEFAULT_SPEECH_SETTINGS, type SpeechSettings } from '../settings.js';
import { MoonshineStt } from './moonshine.js';
import type { SttEngine } from './types.js';
import { WhisperOnnxStt } from './whisper.js';

/** STT engines by name (see engine-choice.ts). Whisper runs the user's own transformers.js export. */
const engines = {
  moonshine: {
    manifestEngine: 'moonshine',
    defaultModel: 'moonshine-base-en',
    load: (model, settings) => MoonshineStt.load(isDirectory(model) ? { dir: model, settings } : { model, settings }),
  },
  whisper: {
    load: (dir, settings) => WhisperOnnxStt.load({ dir, settings }),
  },
} satisfies Record<string, EngineEntry<SttEngine>>;

export const STT_ENGINES: Record<keyof typeof engines, EngineEntry<SttEngine>> = engines;

export type SttEngineName = keyof typeof engines;
export type SttChoice = EngineChoice<SttEngineName>;

/** Loads the chosen STT engine; throws EngineChoiceError before loading anything when the choice cannot work. */
export async function createStt(choice: SttChoice = { engine: 'moonshine' }, settings: SpeechSettings = DEFAULT_SPEECH_SETTINGS): Promise<SttEngine> {
  const { entry, model } = resolveEngineChoice<SttEngine, SttEngineName>(STT_ENGINES, choice);
  return entry.load(model, settings);
}
