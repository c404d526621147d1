export { PiperVoice, listVoices, piperVoiceId, DEFAULT_VOICE, type PiperVoiceConfig } from './piper.js';
export { EspeakPhonemizer, espeakSpeech, type EspeakOptions, type EspeakSpeechOptions } from './espeak.js';
export { splitSentences, splitClauses, speakingUnits, MAX_SENTENCE_CHARS, type Clause, type SpeakingUnit } from './text.js';
export type { TtsEngine, SynthesisOptions, TtsChunk } from './types.js';
export { TtsEngines, type TtsEngineName } from './factory.js';
