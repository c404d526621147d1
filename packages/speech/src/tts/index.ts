export { PiperVoice, listVoices, DEFAULT_VOICE, type PiperVoiceConfig, type SynthesisOptions, type TtsChunk } from './piper.js';
export { EspeakPhonemizer, espeakSpeech, type EspeakOptions, type EspeakSpeechOptions } from './espeak.js';
export { splitSentences, splitClauses, MAX_SENTENCE_CHARS, type Clause } from './text.js';
export type { TtsEngine } from './types.js';
