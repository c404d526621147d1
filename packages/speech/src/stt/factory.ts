import { engineKind, isDirectory, type EngineChoice, type EngineNameOf } from '../engine-choice.js';
import { MoonshineStt } from './moonshine.js';
import type { SttEngine } from './types.js';
import { WhisperOnnxStt } from './whisper.js';

/** STT engines by name (see engine-choice.ts). Whisper runs the user's own transformers.js export. */
export const SttEngines = engineKind<SttEngine>()({
  moonshine: {
    manifestEngine: 'moonshine',
    defaultModel: 'moonshine-base-en',
    load: (model, settings) => MoonshineStt.load(isDirectory(model) ? { dir: model, settings } : { model, settings }),
  },
  whisper: {
    load: (dir, settings) => WhisperOnnxStt.load({ dir, settings }),
  },
});
export type SttEngineName = EngineNameOf<typeof SttEngines>;
export type SttChoice = EngineChoice<SttEngineName>;
