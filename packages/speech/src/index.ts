export * from './errors.js';
export * from './audio/index.js';
export * from './vad/index.js';
export * from './stt/index.js';
export { createSession, sessionConfigFromEnv, setProviderWarning, type ExecutionProvider, type SessionConfig } from './providers.js';
export * from './tts/index.js';
export { wordErrors, corpusWer, normalizeForWer, numberToWords, type WerResult } from './eval/wer.js';
