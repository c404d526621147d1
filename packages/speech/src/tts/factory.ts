import { resolveEngineChoice, type EngineChoice, type EngineEntry } from '../engine-choice.js';
import { DEFAULT_SPEECH_SETTINGS, type SpeechSettings } from '../settings.js';
import { DEFAULT_VOICE, PiperVoice, piperVoiceId } from './piper.js';
import type { TtsEngine } from './types.js';

/** TTS engines by name (see engine-choice.ts); a model is a voice. */
const engines = {
  piper: {
    manifestEngine: 'piper',
    defaultModel: DEFAULT_VOICE,
    modelId: piperVoiceId,
    load: (voice, settings) => PiperVoice.load({ voice, settings }),
  },
} satisfies Record<string, EngineEntry<TtsEngine>>;

export const TTS_ENGINES: Record<keyof typeof engines, EngineEntry<TtsEngine>> = engines;

export type TtsEngineName = keyof typeof engines;
export type TtsChoice = EngineChoice<TtsEngineName>;

/** Loads the chosen voice; throws EngineChoiceError before loading anything when the choice cannot work. */
export async function createTts(choice: TtsChoice = { engine: 'piper' }, settings: SpeechSettings = DEFAULT_SPEECH_SETTINGS): Promise<TtsEngine> {
  const { entry, model } = resolveEngineChoice<TtsEngine, TtsEngineName>(TTS_ENGINES, choice);
  return entry.load(model, settings);
}
