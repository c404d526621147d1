import { engineKind, type EngineChoice, type EngineNameOf } from '../engine-choice.js';
import { DEFAULT_VOICE, PiperVoice, piperVoiceId } from './piper.js';
import type { TtsEngine } from './types.js';

/** TTS engines by name (see engine-choice.ts); a model is a voice. */
export const TtsEngines = engineKind<TtsEngine>()({
  piper: {
    manifestEngine: 'piper',
    defaultModel: DEFAULT_VOICE,
    modelId: piperVoiceId,
    load: (voice, settings) => PiperVoice.load({ voice, settings }),
  },
});
export type TtsEngineName = EngineNameOf<typeof TtsEngines>;
export type TtsChoice = EngineChoice<TtsEngineName>;
