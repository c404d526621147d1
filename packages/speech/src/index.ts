export * from './errors.js';
export * from './audio/index.js';
export * from './vad/index.js';
export * from './stt/index.js';
export { createSession, setProviderWarning, type ExecutionProvider, type SessionConfig } from './providers.js';
export { SpeechConfig, DEFAULT_SPEECH_SETTINGS, speechSettings, type SpeechSettings } from './settings.js';
export { engineKind, type EngineChoice, type EngineEntry, type EngineKind } from './engine-choice.js';
export * from './tts/index.js';
export { wordErrors, corpusWer, normalizeForWer, numberToWords, type WerResult } from './eval/wer.js';
